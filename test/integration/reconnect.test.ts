// A connection that drops under the client: XEP-0198 resumption keeps the session; a fresh
// session re-fetches the roster (RFC 6121 §2.2) and gets pending requests re-delivered (§3.1.3)
// without duplicating them. Real Prosody; the socket is destroyed without a clean close.
import { describe, expect, it, vi } from "vitest";
import type { PresenceClient } from "../../src/index.js";
import { freshAccounts, localRoster, online, record, serverRoster, stateIn, server } from "../support/server.js";

function dropSocket(client: PresenceClient): void {
  (client.xmpp.socket as { destroy(): void }).destroy();
}

describe(`reconnect on ${server.kind}`, () => {
  it("XEP-0198 resume after a dropped socket: roster kept, no re-fetch, the handshake goes on", async () => {
    const [a, b] = await freshAccounts(2, "resume");
    const alice = await online(a!, { autoReply: "all" });
    const bob = await online(b!);
    await bob.subscribe(a!.jid);
    await expect.poll(() => stateIn(bob, a!.jid)).toBe("To");
    const aliceSaw: string[] = [];
    alice.on("offline", () => aliceSaw.push("offline"));
    alice.on("online", () => aliceSaw.push("online"));
    const sentBefore: string[] = [];
    alice.xmpp.on("send", (el: { name: string; getChild(n: string, ns: string): unknown }) => {
      if (el.name === "iq" && el.getChild("query", "jabber:iq:roster")) sentBefore.push("roster-get");
    });

    dropSocket(alice);
    await expect.poll(() => aliceSaw, { timeout: 10_000 }).toEqual(["offline", "online"]);
    expect(alice.online).toBe(true);
    expect(sentBefore).toEqual([]); // resumed: nothing to fetch again
    expect(stateIn(alice, b!.jid)).toBe("From");

    await alice.subscribe(b!.jid);
    await expect.poll(() => bob.roster.getSnapshot().requests.has(a!.jid)).toBe(true);
    await bob.approve(a!.jid);
    await expect.poll(() => bob.roster.getSnapshot().requests.size).toBe(0);
    await expect.poll(() => stateIn(alice, b!.jid)).toBe("Both");
    expect(localRoster(alice)).toEqual(await serverRoster(alice));
  });

  it("XEP-0198 resume: contacts' presence shows unavailable while disconnected and comes back on resume", async () => {
    const [a, b] = await freshAccounts(2, "resumepres");
    const alice = await online(a!, { autoReply: "all" });
    const bob = await online(b!, { autoReply: "all", presence: { show: "chat", status: "here" } });
    await alice.subscribe(b!.jid);
    await expect.poll(() => alice.presence.best(b!.jid)?.show).toBe("chat");
    const seen: string[] = [];
    alice.presence.listen((s) => seen.push(s.contacts.get(b!.jid)?.best?.show ?? "unknown"));
    const back = new Promise<void>((resolve) => alice.once("online", () => resolve()));

    dropSocket(alice);
    await back;
    // Told at the drop, and again when the session is back (restored on resume; on a slow machine
    // the resume can fail, and then the server's probes bring it back).
    expect(seen[0]).toBe("unknown");
    await expect.poll(() => alice.presence.best(b!.jid)).toMatchObject({ show: "chat", status: "here" });
    // Listeners hear of it when the notification window (16 ms) is up, maybe after the poll.
    await expect.poll(() => seen.at(-1)).toBe("chat");
    expect(bob.online).toBe(true);
  });

  it("§2.2 a new session after a failed resume re-fetches the roster and keeps one copy of each pending request", async () => {
    const [a, b] = await freshAccounts(2, "newsession");
    const alice = await online(a!);
    const bob = await online(b!);
    const bobSaw = record(bob);
    await alice.subscribe(b!.jid);
    await expect.poll(() => bob.roster.getSnapshot().requests.size).toBe(1);
    const onlineAgain = new Promise<void>((resolve) => bob.once("online", () => resolve()));

    // Make the resumption id unknown to the server, so the resume fails (<failed/>) and xmpp.js
    // starts a new session, as after a server restart.
    const sm = bob.xmpp.streamManagement as unknown as { id: string };
    sm.id = `unknown-${sm.id}`;
    dropSocket(bob);
    await onlineAgain;
    expect(bob.roster.getSnapshot().ready).toBe(true);
    // The server re-delivers the request at the new initial presence; it stays one request.
    await new Promise((r) => setTimeout(r, 300));
    expect(bob.roster.getSnapshot().requests.size).toBe(1);
    expect(bobSaw["subscription:request"]).toHaveLength(1);
    await bob.approve(a!.jid);
    await expect.poll(() => stateIn(alice, b!.jid)).toBe("To");
    expect(localRoster(bob)).toEqual(await serverRoster(bob));
  });

  it("stop() leaves no timer armed: a bot that has stopped can exit at once", async () => {
    const [a] = await freshAccounts(1, "stoptimer");
    const alice = await online(a!);
    const reconnecting: unknown[] = [];
    alice.xmpp.on("reconnecting", () => reconnecting.push(1));
    // Every timer armed while stop() runs must be cleared (or have fired) when it resolves:
    // xmpp.js' stop() goes through 'disconnect', where @xmpp/reconnect arms a 1 s timer that
    // would keep the process, and this client, alive for that second.
    const armed = new Map<unknown, number>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const spySet = vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number, ...args: unknown[]) => {
      const handle = realSet(() => {
        armed.delete(handle);
        fn(...(args as []));
      }, ms);
      armed.set(handle, ms ?? 0);
      return handle;
    }) as typeof setTimeout);
    const spyClear = vi.spyOn(globalThis, "clearTimeout").mockImplementation(((handle?: Parameters<typeof clearTimeout>[0]) => {
      armed.delete(handle);
      realClear(handle);
    }) as typeof clearTimeout);
    try {
      await alice.stop();
    } finally {
      spySet.mockRestore();
      spyClear.mockRestore();
    }
    expect([...armed.values()]).toEqual([]);
    expect(alice.xmpp.status).toBe("offline");
    await new Promise((r) => setTimeout(r, 1200));
    expect(reconnecting).toEqual([]);
  });
});
