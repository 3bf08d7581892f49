// A server too busy to close a connection properly (src/socket-guard.ts): xmpp.js gives up on
// the socket after its timeout and removes its listeners; a reset the server sends afterwards
// must not become an uncaught exception. And a server that never answers makes start() fail
// with an error that says why.
import { EventEmitter } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createPresenceClient, isPresenceError, type PresenceClient } from "../../src/index.js";
import { installSocketGuard } from "../../src/socket-guard.js";
import type { XmppClientLike } from "../../src/xmpp.js";
import { startStub } from "../support/stub-server.js";
import { uncaughtDuring } from "../support/uncaught.js";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f().catch(() => undefined)));
});

function client(service: string): PresenceClient {
  const created = createPresenceClient({ service, domain: "localhost", username: "alice", password: "pw", saslMechanism: "PLAIN", timeoutMs: 100 });
  cleanup.push(() => created.stop());
  return created;
}

describe("a server that does not close the connection in time", () => {
  it("stop() resolves, and a reset arriving after it is not an uncaught exception", async () => {
    const stub = await startStub({ unresponsiveClose: true });
    cleanup.push(() => stub.close());
    const alice = client(stub.service);
    const errors: Error[] = [];
    alice.on("error", (error) => void errors.push(error));
    await alice.start();
    const started = performance.now();
    await alice.stop(); // </stream:stream> unanswered, then FIN unanswered: 2 × timeoutMs
    expect(performance.now() - started).toBeLessThan(2_000);
    const serverSide = stub.sockets[0] as Socket;
    expect(serverSide.destroyed).toBe(false); // the server still holds it half-open

    const uncaught = await uncaughtDuring(async () => {
      serverSide.resetAndDestroy();
    });
    expect(uncaught).toEqual([]);
    expect(errors).toEqual([]); // a stopped client reports nothing
  });

  it("a client that gave up on the socket destroys it instead of leaving it half-open", async () => {
    const stub = await startStub({ unresponsiveClose: true });
    cleanup.push(() => stub.close());
    const alice = client(stub.service);
    await alice.start();
    const socket = alice.xmpp.socket as Socket;
    await alice.stop();
    expect(socket.destroyed).toBe(true);
    // The server sees the connection end (a FIN, then the close the destroy makes).
    const serverSide = stub.sockets[0] as Socket;
    await expect.poll(() => serverSide.readableEnded).toBe(true);
  });
});

describe("a server that never answers the stream header", () => {
  it("start() fails with connection-failed naming the timeout, and the process stays up", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    cleanup.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const { port } = silent.address() as { port: number };
    const alice = client(`xmpp://127.0.0.1:${port}`);

    let failure: unknown;
    const uncaught = await uncaughtDuring(async () => {
      failure = await alice.start().catch((error: unknown) => error);
      for (const socket of sockets) socket.resetAndDestroy();
    });
    expect(isPresenceError(failure) && failure.code).toBe("connection-failed");
    expect((failure as Error).message).toBe("Could not start: TimeoutError");
    expect(uncaught).toEqual([]);
    expect(alice.online).toBe(false);
  });

  it("timeoutMs must be a positive integer", () => {
    expect(() => createPresenceClient({ service: "xmpp://127.0.0.1:1", username: "a", password: "b", timeoutMs: 0 })).toThrow(/timeoutMs must be a positive integer/);
  });
});

describe("installSocketGuard on either transport's socket", () => {
  /** An xmpp.js-like emitter whose `socket` the test swaps, as connect() does. */
  function fakeXmpp(): EventEmitter & { socket: unknown } {
    return Object.assign(new EventEmitter(), { socket: undefined as unknown });
  }

  it("the WebSocket transport's wrapper (an emitter with no destroy): a late error is heard, not thrown", () => {
    const xmpp = fakeXmpp();
    installSocketGuard(xmpp as unknown as XmppClientLike);
    const wrapper = new EventEmitter(); // @xmpp/websocket's Socket: events, end(), no destroy()
    xmpp.socket = wrapper;
    xmpp.emit("connect");
    xmpp.socket = null; // xmpp.js detached it (its own listeners gone)
    xmpp.emit("disconnect");
    expect(() => wrapper.emit("error", new Error("WebSocket ECONNERROR"))).not.toThrow();
  });

  it("a TCP socket still open at 'disconnect' is destroyed; one already closed is left alone", () => {
    const xmpp = fakeXmpp();
    installSocketGuard(xmpp as unknown as XmppClientLike);
    const open = Object.assign(new EventEmitter(), { destroyed: false, destroy() { this.destroyed = true; } });
    xmpp.socket = open;
    xmpp.emit("connect");
    xmpp.emit("disconnect");
    expect(open.destroyed).toBe(true);

    let destroyCalls = 0;
    const closed = Object.assign(new EventEmitter(), { destroyed: true, destroy() { destroyCalls++; } });
    xmpp.socket = closed;
    xmpp.emit("connect");
    xmpp.emit("disconnect");
    expect(destroyCalls).toBe(0);
    expect(() => closed.emit("error", new Error("read ECONNRESET"))).not.toThrow();
  });

  it("each reconnection's socket gets its own listener, once", () => {
    const xmpp = fakeXmpp();
    installSocketGuard(xmpp as unknown as XmppClientLike);
    const sockets = [new EventEmitter(), new EventEmitter()];
    for (const socket of sockets) {
      xmpp.socket = socket;
      xmpp.emit("connect");
      xmpp.emit("connect"); // the same socket again: no second listener
      xmpp.emit("disconnect");
    }
    expect(sockets.map((socket) => socket.listenerCount("error"))).toEqual([1, 1]);
  });
});
