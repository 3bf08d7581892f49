// A server too busy to close a connection, for real (src/socket-guard.ts): the test's own server
// is frozen (SIGSTOP) under a connected client, the client stops (xmpp.js gives up on the close
// after `timeoutMs`), and then the server is killed, so the kernel resets the connection it never
// read the close from. Over TCP and over WebSocket, that reset must not become an uncaught
// exception. Over TCP it did before the guard (xmpp.js had removed its socket listeners); over
// WebSocket the `ws` library turns it into a close, so that case guards against a regression. A
// server of its own: the project's shared one must not be frozen.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPresenceClient } from "../../src/index.js";
import { startTestServer, type XmppTestAccount, type XmppTestServer } from "../../src/testing/server.js";
import { server as shared } from "../support/server.js";
import { uncaughtDuring } from "../support/uncaught.js";

let own: XmppTestServer;

beforeAll(async () => {
  own = await startTestServer(shared.kind);
}, 60_000);

afterAll(async () => {
  await own?.stop();
});

describe(`a frozen ${shared.kind} under a connected client`, () => {
  it.each(["tcp", "websocket"] as const)("over %s: stop() resolves, and the reset when the server dies is not an uncaught exception", async (transport) => {
    if (!own.running) await own.restart();
    // An account of this server run: ejabberd loses what changed in the last ~2 s when killed.
    const [alice] = (await own.createAccounts(1, "frozen")) as [XmppTestAccount];
    const client = createPresenceClient({
      service: transport === "tcp" ? own.service : own.websocketService,
      domain: own.domain,
      username: alice.username,
      password: alice.password,
      saslMechanism: "PLAIN",
      timeoutMs: 300,
    });
    const errors: Error[] = [];
    client.on("error", (error) => void errors.push(error));
    await client.start();
    expect(client.online).toBe(true);

    process.kill(own.pid, "SIGSTOP");
    const stopping = performance.now();
    const uncaught = await uncaughtDuring(async () => {
      await client.stop(); // the server reads nothing: xmpp.js gives up on the close
      expect(performance.now() - stopping).toBeLessThan(5_000);
      own.kill(); // SIGKILL: the kernel resets the connection with our close unread
    }, 500);
    expect(uncaught).toEqual([]);
    expect(errors).toEqual([]);
    expect(client.online).toBe(false);
  }, 60_000);
});
