// Smoke test of the test harness itself: the Prosody started by test/global-setup.ts accepts
// accounts created from a worker, logins over TCP (PLAIN and SCRAM-SHA-1) and over WebSocket.
import { client } from "@xmpp/client";
import { WebSocket as NodeWebSocket } from "ws";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ProsodyAccount } from "../../src/testing/prosody.js";
import { freshAccounts, server as prosody } from "../support/server.js";

// Node 20 has no global WebSocket (@xmpp/websocket uses the global one).
(globalThis as { WebSocket?: unknown }).WebSocket ??= NodeWebSocket;


/** The part of an `@xmpp/client` entity this test uses (xmpp.js 0.14 ships no types). */
interface Address {
  resource: string;
  bare(): Address;
  toString(): string;
}
interface Client {
  jid: Address | null;
  start(): Promise<Address>;
  stop(): Promise<unknown>;
  on(event: "error", listener: (error: unknown) => void): unknown;
}
const clients: Client[] = [];

function connect(account: ProsodyAccount, options: { websocket?: boolean; plain?: boolean } = {}): Client {
  const xmpp = client({
    service: options.websocket === true ? prosody.websocketService : prosody.service,
    domain: prosody.domain,
    username: account.username,
    password: account.password,
    ...(options.plain === true && {
      credentials: (auth: (creds: { username: string; password: string }, mechanism: string) => Promise<void>) =>
        auth({ username: account.username, password: account.password }, "PLAIN"),
    }),
  }) as Client;
  xmpp.on("error", () => {
    // Failures surface through start(); avoid unhandled "error" events.
  });
  clients.push(xmpp);
  return xmpp;
}

let alice: ProsodyAccount;
let bob: ProsodyAccount;

beforeAll(async () => {
  const accounts = await freshAccounts(2, "harness");
  [alice, bob] = accounts as [ProsodyAccount, ProsodyAccount];
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((xmpp) => xmpp.stop().catch(() => {})));
});

describe(`${prosody.kind} test harness`, () => {
  it("provides a loopback server", () => {
    expect(prosody.service).toBe(`xmpp://127.0.0.1:${prosody.c2sPort}`);
    expect(prosody.websocketService).toBe(`ws://127.0.0.1:${prosody.httpPort}/xmpp-websocket`);
    if (prosody.kind === "prosody") expect(prosody.configPath.startsWith(prosody.dir)).toBe(true);
    else expect(prosody.apiUrl).toBe(`http://127.0.0.1:${prosody.httpPort}/api`);
  });

  it("logs two accounts in over TCP with PLAIN", async () => {
    const a = connect(alice, { plain: true });
    const b = connect(bob, { plain: true });
    const [jidA, jidB] = await Promise.all([a.start(), b.start()]);
    expect(jidA.bare().toString()).toBe(`${alice.username}@${prosody.domain}`);
    expect(jidB.bare().toString()).toBe(`${bob.username}@${prosody.domain}`);
    expect(a.jid?.bare().toString()).toBe(alice.jid);
    expect(b.jid?.resource).toBeTruthy();
  });

  it("logs in over TCP with SCRAM-SHA-1 (the default)", async () => {
    const a = connect(alice);
    const address = await a.start();
    expect(address.bare().toString()).toBe(alice.jid);
  });

  it("logs in over WebSocket", async () => {
    const b = connect(bob, { websocket: true });
    const address = await b.start();
    expect(address.bare().toString()).toBe(bob.jid);
  });

  it("rejects a wrong password", async () => {
    const a = connect({ ...alice, password: `${alice.password}-wrong` }, { plain: true });
    await expect(a.start()).rejects.toThrow(/not-authorized/);
  });
});
