// RFC 6121 §2.1.6 and the session rules, against the real Prosody: forged pushes routed through
// the server, the WebSocket transport, wrapping an app's own xmpp.js client, and clean stops.
import { client as xmppClient } from "@xmpp/client";
import { describe, expect, it } from "vitest";
import { createPresenceClient, isPresenceError, type XmppClientLike } from "../../src/index.js";
import { xml } from "../../src/xmpp.js";
import { freshAccounts, localRoster, online, presenceClient, server, record, serverRoster, stateIn } from "../support/server.js";

describe(`RFC 6121 §2.1.6 roster push authorisation on ${server.kind}`, () => {
  it("§2.1.6 a roster push sent by another account through the server is refused and changes nothing", async () => {
    const [a, b, m] = await freshAccounts(3, "spoof");
    const alice = await online(a!);
    const bob = await online(b!);
    await alice.subscribe(b!.jid);
    await expect.poll(() => bob.roster.getSnapshot().requests.has(a!.jid)).toBe(true);
    await bob.approve(a!.jid);
    await expect.poll(() => stateIn(alice, b!.jid)).toBe("To");
    const mallory = await online(m!);
    const aliceSaw = record(alice);
    const before = alice.roster.getSnapshot();

    const forged = xml(
      "iq",
      { type: "set", to: alice.jid! },
      xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: m!.jid, name: "Mom", subscription: "both" })),
    );
    const answer = await mallory.xmpp.iqCaller.request(forged).catch((e: unknown) => e);
    expect((answer as { condition?: string }).condition).toBe("service-unavailable");
    const removal = xml("iq", { type: "set", to: alice.jid! }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: b!.jid, subscription: "remove" })));
    await mallory.xmpp.iqCaller.request(removal).catch(() => undefined);

    expect(alice.roster.getSnapshot()).toBe(before);
    expect(aliceSaw["roster:rejected-push"]?.map(([push]) => push.reason)).toEqual(["unauthorized-sender", "unauthorized-sender"]);
    expect(aliceSaw["roster:rejected-push"]?.[0]?.[0].from).toBe(mallory.jid);
    expect(localRoster(alice)).toEqual(await serverRoster(alice));
  });
});

describe(`transports and lifecycle on ${server.kind}`, () => {
  it("§3.1 the handshake works over WebSocket (the browser transport)", async () => {
    const [a, b] = await freshAccounts(2, "ws");
    const alice = await online(a!, { websocket: true, autoReply: "reverse" });
    const bob = await online(b!, { websocket: true, autoReply: "mutual" });
    await alice.subscribe(b!.jid);
    await expect.poll(() => [stateIn(alice, b!.jid), stateIn(bob, a!.jid)]).toEqual(["Both", "Both"]);
    expect(localRoster(alice)).toEqual(await serverRoster(alice));
    expect(localRoster(bob)).toEqual(await serverRoster(bob));
  });

  it("wraps an xmpp.js client the app configured itself ({ xmpp })", async () => {
    const [a, b] = await freshAccounts(2, "wrap");
    const xmpp = xmppClient({
      service: server.service,
      domain: server.domain,
      username: a!.username,
      password: a!.password,
    }) as XmppClientLike;
    const alice = createPresenceClient({ xmpp, autoReply: "all" });
    alice.on("error", (e) => {
      throw e;
    });
    await alice.start();
    expect(alice.jid?.startsWith(`${a!.jid}/`)).toBe(true);
    const bob = await online(b!);
    await bob.subscribe(a!.jid);
    await expect.poll(() => stateIn(bob, a!.jid)).toBe("To");
    await alice.stop();
  });

  it("start() with a wrong password rejects with connection-failed (not-authorized)", async () => {
    const [a] = await freshAccounts(1, "badpw");
    const client = presenceClient({ ...a!, password: "wrong" });
    const error = await client.start().catch((e: unknown) => e);
    expect(isPresenceError(error) && error.code).toBe("connection-failed");
    expect(String((error as Error).message)).toMatch(/not-authorized/);
  });

  it("XEP-0198: the client acknowledges every stanza it handled, IQ replies included (xmpp.js 0.14 counter bug)", async () => {
    const [a] = await freshAccounts(1, "sm");
    // Counts stanzas received after <enabled/> and records the last <a h=…/> the client sent.
    const watch = (xmpp: XmppClientLike) => {
      const seen = { received: 0, lastAck: -1, receivedAtAck: -1, enabled: false };
      xmpp.on("element", (el: { name: string; attrs: Record<string, string> }) => {
        if (el.name === "enabled") seen.enabled = true;
        else if (seen.enabled && ["iq", "presence", "message"].includes(el.name)) seen.received++;
      });
      xmpp.on("send", (el: { name: string; attrs: Record<string, string> }) => {
        if (el.name === "a" && el.attrs["xmlns"] === "urn:xmpp:sm:3") {
          seen.lastAck = Number(el.attrs["h"]);
          seen.receivedAtAck = seen.received;
        }
      });
      return seen;
    };
    const traffic = async (xmpp: XmppClientLike) => {
      await expect.poll(() => xmpp.streamManagement?.enabled).toBe(true);
      await xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      await xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    };

    // Plain xmpp.js: the ping results are consumed uncounted, so the final ack is too low and the
    // server would re-deliver stanzas the client already had. This half proves the check can fail.
    const raw = xmppClient({ service: server.service, domain: server.domain, username: a!.username, password: a!.password }) as XmppClientLike;
    raw.on("error", () => undefined);
    const rawSeen = watch(raw);
    await raw.start();
    await traffic(raw);
    await raw.stop();
    expect(rawSeen.receivedAtAck).toBeGreaterThanOrEqual(2);
    expect(rawSeen.lastAck).toBeLessThan(rawSeen.receivedAtAck);

    // With the SDK: the same traffic, and the final ack (sent on stop) covers every stanza.
    const client = presenceClient(a!);
    const seen = watch(client.xmpp);
    await client.start();
    await traffic(client.xmpp);
    await client.stop();
    expect(seen.receivedAtAck).toBeGreaterThanOrEqual(3);
    expect(seen.lastAck).toBe(seen.receivedAtAck);
  });
});
