// The client driven by in-process stanzas: edge cases a real server does not produce on demand
// (forged pushes, either stanza order, stale notices, throwing app code). Every behaviour here
// is also exercised against the real Prosody in test/integration.
import { describe, expect, it } from "vitest";
import { createPresenceClient, isPresenceError, type ClientEvents } from "../../src/index.js";
import { FakeXmpp } from "../support/fake-xmpp.js";
import { startedFake, tick } from "../support/fake-client.js";

const BOB = "bob@localhost";
const push = (item: string, from?: string, id = "push1") =>
  `<iq type="set" id="${id}"${from === undefined ? "" : ` from="${from}"`}><query xmlns="jabber:iq:roster" ver="7">${item}</query></iq>`;
const presence = (type: string, from = BOB, extra = "") => `<presence type="${type}" from="${from}" to="alice@localhost/desk">${extra}</presence>`;

function events(client: ReturnType<typeof createPresenceClient>) {
  const seen: Array<[keyof ClientEvents, unknown[]]> = [];
  for (const name of ["subscription:request", "subscription:approved", "subscription:denied", "subscription:unsubscribed", "subscription:withdrawn", "subscription:auto-reply", "roster:rejected-push"] as const) {
    client.on(name, (...args: unknown[]) => void seen.push([name, args]));
  }
  return seen;
}

describe("session start (RFC 6121 §2.2, §4.2.1)", () => {
  it("requests the roster first and sends initial presence only after the result", async () => {
    const xmpp = new FakeXmpp();
    const client = createPresenceClient({ xmpp });
    const started = client.start();
    await tick();
    expect(xmpp.sent.map((el) => el.name)).toEqual(["iq"]);
    expect(xmpp.sent[0]!.getChild("query", "jabber:iq:roster")!.getChildElements()).toHaveLength(0); // §2.1.3
    expect(xmpp.sent[0]!.attrs["to"]).toBeUndefined(); // RFC 6120 §8.1.1.1
    xmpp.answerRoster(`<item jid="Bob@LocalHost" subscription="both" name="Bob"><group>Friends</group></item>`);
    await started;
    expect(xmpp.sent.map((el) => el.name)).toEqual(["iq", "presence"]);
    expect(xmpp.sent[1]!.attrs).toEqual({});
    expect(client.jid).toBe("alice@localhost/desk");
    const snapshot = client.roster.getSnapshot();
    expect(snapshot.ready).toBe(true);
    expect(snapshot.entries.get(BOB)).toMatchObject({ jid: BOB, name: "Bob", groups: ["Friends"], subscription: "both", state: "Both" });
  });

  it("uses unguessable ids for the roster request (SEC-02)", async () => {
    const { xmpp } = await startedFake();
    expect(xmpp.sent[0]!.attrs["id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a roster result from another sender (IQ reply spoofing)", async () => {
    const xmpp = new FakeXmpp();
    const client = createPresenceClient({ xmpp });
    const started = client.start();
    await tick();
    xmpp.answer(`<iq type="result" from="mallory@localhost/x"><query xmlns="jabber:iq:roster"><item jid="mallory@localhost" name="Mom" subscription="both"/></query></iq>`);
    await expect(started).rejects.toMatchObject({ code: "spoofed-reply" });
    expect(client.roster.getSnapshot().entries.size).toBe(0);
    expect(xmpp.sentOf("presence")).toHaveLength(0);
  });
});

describe("roster pushes (RFC 6121 §2.1.6)", () => {
  const item = `<item jid="${BOB}" subscription="to" name="Bob"/>`;

  it.each([
    ["no from (Prosody)", undefined],
    ["our bare JID (ejabberd)", "alice@localhost"],
    ["our bare JID in other case", "Alice@LOCALHOST"],
  ])("accepts a push from %s", async (_name, from) => {
    const { client, xmpp } = await startedFake();
    const reply = await xmpp.receive(push(item, from));
    expect(reply!.attrs["type"]).toBe("result");
    expect(client.roster.get(BOB)?.subscription).toBe("to");
  });

  it.each([
    ["our own full JID", "alice@localhost/desk"],
    ["another resource of ours", "alice@localhost/phone"],
    ["the server domain", "localhost"],
    ["another user", "mallory@localhost"],
    ["another user's full JID", "mallory@evil.example/x"],
  ])("refuses a push from %s with service-unavailable and changes nothing", async (_name, from) => {
    const { client, xmpp } = await startedFake({ items: `<item jid="${BOB}" subscription="both" name="Bob"/>` });
    const before = client.roster.getSnapshot();
    const seen = events(client);
    const reply = await xmpp.receive(push(`<item jid="${BOB}" subscription="remove"/>`, from));
    expect(reply!.attrs["type"]).toBe("error");
    expect(reply!.getChild("error")!.getChild("service-unavailable")).toBeDefined();
    expect(client.roster.getSnapshot()).toBe(before);
    expect(seen).toEqual([["roster:rejected-push", [{ from, reason: "unauthorized-sender" }]]]);
  });

  it.each([
    ["zero items", ""],
    ["two items", `${item}<item jid="carol@localhost"/>`],
    ["an item without jid", `<item subscription="both"/>`],
    ["an unknown subscription value", `<item jid="${BOB}" subscription="pending"/>`],
  ])("refuses a push with %s with bad-request and changes nothing", async (_name, items) => {
    const { client, xmpp } = await startedFake();
    const before = client.roster.getSnapshot();
    const reply = await xmpp.receive(push(items));
    expect(reply!.getChild("error")!.getChild("bad-request")).toBeDefined();
    expect(client.roster.getSnapshot()).toBe(before);
  });

  it("applies a removal, and a duplicate push changes nothing and notifies no one", async () => {
    const { client, xmpp } = await startedFake({ items: item, ver: "7" });
    let calls = 0;
    client.roster.listen(() => calls++);
    await xmpp.receive(push(item));
    expect(calls).toBe(0);
    await xmpp.receive(push(`<item jid="${BOB}" subscription="remove"/>`));
    expect(calls).toBe(1);
    expect(client.roster.get(BOB)).toBeUndefined();
    expect(client.roster.getSnapshot().version).toBe("7");
  });

  it("keys JIDs in normalised bare form", async () => {
    const { client, xmpp } = await startedFake();
    await xmpp.receive(push(`<item jid="Bob@LocalHost" subscription="from"/>`));
    expect([...client.roster.getSnapshot().entries.keys()]).toEqual([BOB]);
    expect(client.roster.get("BOB@localhost/phone")?.subscription).toBe("from");
  });
});

describe("answers from contacts, in either order (RFC 6121 §3.1.6, §3.2.3)", () => {
  const npo = `<item jid="${BOB}" subscription="none" ask="subscribe"/>`;

  it("approval: one 'approved' event whether the push or the presence comes first", async () => {
    for (const order of ["presence-first", "push-first"] as const) {
      const { client, xmpp } = await startedFake({ items: npo });
      const seen = events(client);
      const steps = [() => xmpp.receive(presence("subscribed")), () => xmpp.receive(push(`<item jid="${BOB}" subscription="to"/>`))];
      if (order === "push-first") steps.reverse();
      for (const step of steps) await step();
      expect(seen, order).toEqual([["subscription:approved", [BOB]]]);
      expect(client.roster.get(BOB)?.state).toBe("To");
      expect(xmpp.sentOf("presence", "subscribe")).toHaveLength(0); // no RFC 3921 "ack" (App. E)
    }
  });

  it("denial: one 'denied' event whether the push or the presence comes first", async () => {
    for (const order of ["presence-first", "push-first"] as const) {
      const { client, xmpp } = await startedFake({ items: npo });
      const seen = events(client);
      const steps = [() => xmpp.receive(presence("unsubscribed")), () => xmpp.receive(push(`<item jid="${BOB}" subscription="none"/>`))];
      if (order === "push-first") steps.reverse();
      for (const step of steps) await step();
      expect(seen, order).toEqual([["subscription:denied", [BOB]]]);
      expect(client.roster.get(BOB)?.state).toBe("None");
    }
  });

  it("a contact unsubscribing from us: one 'unsubscribed' event in either order", async () => {
    for (const order of ["presence-first", "push-first"] as const) {
      const { client, xmpp } = await startedFake({ items: `<item jid="${BOB}" subscription="both"/>` });
      const seen = events(client);
      const steps = [() => xmpp.receive(presence("unsubscribe")), () => xmpp.receive(push(`<item jid="${BOB}" subscription="to"/>`))];
      if (order === "push-first") steps.reverse();
      for (const step of steps) await step();
      expect(seen, order).toEqual([["subscription:unsubscribed", [BOB]]]);
    }
  });

  it("our own unsubscribe is not reported as a denial", async () => {
    const { client, xmpp } = await startedFake({ items: `<item jid="${BOB}" subscription="to"/>` });
    const seen = events(client);
    await client.unsubscribe(BOB);
    await xmpp.receive(push(`<item jid="${BOB}" subscription="none"/>`));
    expect(seen).toEqual([]);
    expect(xmpp.sentOf("presence", "unsubscribe")[0]!.attrs["to"]).toBe(BOB);
  });

  it("ignores stale or unsolicited answers (A.3.3/A.3.4 'SHOULD NOT deliver')", async () => {
    const { client, xmpp } = await startedFake({ items: `<item jid="${BOB}" subscription="none"/>` });
    const before = client.roster.getSnapshot();
    const seen = events(client);
    await xmpp.receive(presence("subscribed"));
    await xmpp.receive(presence("unsubscribed"));
    await xmpp.receive(presence("subscribed", "stranger@localhost"));
    expect(seen).toEqual([]);
    expect(client.roster.getSnapshot()).toBe(before);
    expect(xmpp.sent.length).toBe(2); // roster get + initial presence only
  });
});

describe("inbound requests (RFC 6121 §3.1.3)", () => {
  it("records a request once, however often it is re-delivered, with its status sanitised", async () => {
    const { client, xmpp } = await startedFake();
    const seen = events(client);
    const hostile = `hi\u202Eevil\u0007${"x".repeat(5000)}`;
    await xmpp.receive(presence("subscribe", "Carol@LocalHost/phone", `<status>${hostile}</status>`));
    await xmpp.receive(presence("subscribe", "carol@localhost"));
    expect(seen).toHaveLength(1);
    const request = client.roster.getSnapshot().requests.get("carol@localhost")!;
    expect(request.from).toBe("carol@localhost");
    expect(request.status!.startsWith("hievil")).toBe(true);
    expect(request.status!.length).toBe(1024);
    expect(client.roster.getSnapshot().entries.size).toBe(0); // §3.1.3: no roster item for a requester
  });

  it("ignores requests from our own account and from the server", async () => {
    const { client, xmpp } = await startedFake();
    await xmpp.receive(presence("subscribe", "alice@localhost/phone"));
    await xmpp.receive(presence("subscribe", "localhost"));
    expect(client.roster.getSnapshot().requests.size).toBe(0);
  });

  it("clears a request when the contact withdraws it, and when a push shows it granted", async () => {
    const { client, xmpp } = await startedFake();
    const seen = events(client);
    await xmpp.receive(presence("subscribe", "carol@localhost"));
    await xmpp.receive(presence("unsubscribe", "carol@localhost"));
    expect(client.roster.getSnapshot().requests.size).toBe(0);
    expect(seen.map(([name]) => name)).toEqual(["subscription:request", "subscription:withdrawn"]);
    await xmpp.receive(presence("subscribe", BOB));
    await xmpp.receive(push(`<item jid="${BOB}" subscription="from"/>`)); // approved by another resource
    expect(client.roster.getSnapshot().requests.size).toBe(0);
  });

  it("approve() sends subscribed, clears the request, and subscribes back only when asked and needed", async () => {
    const { client, xmpp } = await startedFake();
    await xmpp.receive(presence("subscribe", BOB));
    await client.approve(BOB, { subscribeBack: true });
    expect(xmpp.sent.slice(2).map((el) => [el.attrs["type"], el.attrs["to"]])).toEqual([
      ["subscribed", BOB],
      ["subscribe", BOB],
    ]);
    expect(client.roster.getSnapshot().requests.size).toBe(0);
    // ids are fresh, never copied from the request (§3.1.4)
    expect(new Set(xmpp.sent.slice(2).map((el) => el.attrs["id"])).size).toBe(2);
  });

  it("deny() refuses a request; it will not take away a granted subscription", async () => {
    const { client, xmpp } = await startedFake({ items: `<item jid="${BOB}" subscription="from"/>` });
    await expect(client.deny(BOB)).rejects.toMatchObject({ code: "invalid-state" });
    await xmpp.receive(presence("subscribe", "carol@localhost"));
    await client.deny("carol@localhost");
    expect(xmpp.sentOf("presence", "unsubscribed").map((el) => el.attrs["to"])).toEqual(["carol@localhost"]);
    expect(client.roster.getSnapshot().requests.size).toBe(0);
  });

  it("approve() without a request needs server pre-approval support (§3.4)", async () => {
    const { client, xmpp } = await startedFake();
    await expect(client.approve(BOB)).rejects.toMatchObject({ code: "feature-not-supported" });
    expect(xmpp.sentOf("presence", "subscribed")).toHaveLength(0);
  });
});

describe("auto-reply policies", () => {
  it("'reverse' approves a contact we asked (pending out) or see (to), not a bare 'none' item", async () => {
    const { xmpp } = await startedFake({
      autoReply: "reverse",
      items: `<item jid="asked@localhost" subscription="none" ask="subscribe"/><item jid="seen@localhost" subscription="to"/><item jid="known@localhost" subscription="none"/>`,
    });
    for (const jid of ["asked@localhost", "seen@localhost", "known@localhost", "stranger@localhost"]) {
      await xmpp.receive(presence("subscribe", jid));
    }
    await tick();
    expect(xmpp.sentOf("presence", "subscribed").map((el) => el.attrs["to"])).toEqual(["asked@localhost", "seen@localhost"]);
  });

  it("'mutual' approves and subscribes back; a function policy may be async and may deny", async () => {
    const { client, xmpp } = await startedFake({ autoReply: "mutual" });
    await xmpp.receive(presence("subscribe", BOB));
    await tick();
    expect(xmpp.sent.slice(2).map((el) => el.attrs["type"])).toEqual(["subscribed", "subscribe"]);
    client.autoReply(async (request) => (request.from.startsWith("spam") ? "deny" : undefined));
    await xmpp.receive(presence("subscribe", "spam@localhost"));
    await xmpp.receive(presence("subscribe", "carol@localhost"));
    await tick();
    expect(xmpp.sentOf("presence", "unsubscribed").map((el) => el.attrs["to"])).toEqual(["spam@localhost"]);
    expect(client.roster.getSnapshot().requests.has("carol@localhost")).toBe(true);
  });

  it("the function returned by autoReply() restores the previous policy", async () => {
    const { client } = await startedFake();
    const restore = client.autoReply("all");
    expect(client.autoReplyPolicy).toBe("all");
    restore();
    expect(client.autoReplyPolicy).toBe("manual");
    expect(() => client.autoReply("sometimes" as never)).toThrow(expect.objectContaining({ code: "invalid-argument" }));
  });

  it("a throwing policy or listener is reported and never breaks stanza processing", async () => {
    const errors: Error[] = [];
    const { client, xmpp } = await startedFake({ errors, autoReply: () => { throw new Error("policy bug"); } });
    client.roster.listen(() => { throw new Error("listener bug"); });
    let second = 0;
    client.roster.listen(() => second++);
    await xmpp.receive(presence("subscribe", BOB));
    await xmpp.receive(push(`<item jid="carol@localhost" subscription="to"/>`));
    await tick();
    expect(client.roster.get("carol@localhost")?.subscription).toBe("to");
    expect(client.roster.getSnapshot().requests.has(BOB)).toBe(true);
    expect(second).toBe(2);
    expect(errors.map((e) => e.message)).toEqual(expect.arrayContaining(["policy bug", "listener bug"]));
  });
});

describe("bad input", () => {
  it.each(["", "bob@", "@localhost", "bob@localhost/", "a b@localhost", "bob@@localhost", "bob@local..host", 42, null])(
    "rejects the JID %j with invalid-jid and sends nothing",
    async (jid) => {
      const { client, xmpp } = await startedFake();
      const count = xmpp.sent.length;
      for (const call of [client.subscribe, client.approve, client.deny, client.unsubscribe, client.revoke]) {
        const error = await call.call(client, jid as string).catch((e: unknown) => e);
        expect(isPresenceError(error) && error.code).toBe("invalid-jid");
      }
      expect(xmpp.sent.length).toBe(count);
    },
  );

  it("refuses our own JID as a contact", async () => {
    const { client } = await startedFake();
    await expect(client.subscribe("Alice@localhost")).rejects.toMatchObject({ code: "invalid-jid" });
  });

  it("rejects calls before start() and after stop() with not-connected, sending nothing", async () => {
    const xmpp = new FakeXmpp();
    const client = createPresenceClient({ xmpp });
    await expect(client.subscribe(BOB)).rejects.toMatchObject({ code: "not-connected" });
    const { client: started, xmpp: x2 } = await startedFake();
    await started.stop();
    const count = x2.sent.length;
    await expect(started.approve(BOB)).rejects.toMatchObject({ code: "not-connected" });
    expect(x2.sent.length).toBe(count);
    expect(xmpp.sent).toHaveLength(0);
  });

  it("rejects bad options with invalid-argument", () => {
    expect(() => createPresenceClient({ service: "", username: "a", password: "b" })).toThrow(expect.objectContaining({ code: "invalid-argument" }));
    expect(() => createPresenceClient({ xmpp: new FakeXmpp(), autoReply: "yes" as never })).toThrow(expect.objectContaining({ code: "invalid-argument" }));
  });
});

describe("roster notifications are coalesced per socket read", () => {
  it("calls roster listeners once for the pushes and requests handled in one synchronous run, with the last state", async () => {
    const { client, xmpp } = await startedFake();
    const seen: Array<{ entries: number; requests: number }> = [];
    client.roster.listen((snapshot) => seen.push({ entries: snapshot.entries.size, requests: snapshot.requests.size }));
    const changes: string[] = [];
    client.on("roster:change", ({ jid }) => void changes.push(jid));
    // One socket read's worth: xmpp.js hands these to the SDK one after another, synchronously.
    for (let i = 0; i < 20; i++) void xmpp.receive(push(`<item jid="c${i}@localhost" subscription="none"/>`, undefined, `p${i}`));
    for (let i = 0; i < 5; i++) void xmpp.receive(presence("subscribe", `r${i}@localhost`));
    expect(seen).toEqual([]); // listeners wait for the end of the run…
    expect(client.roster.getSnapshot().entries.size).toBe(20); // …the state and the events do not
    expect(changes).toHaveLength(20);
    await tick();
    expect(seen).toEqual([{ entries: 20, requests: 5 }]);
    void xmpp.receive(push(`<item jid="c0@localhost" subscription="remove"/>`, undefined, "p-last"));
    await tick();
    expect(seen).toEqual([{ entries: 20, requests: 5 }, { entries: 19, requests: 5 }]);
  });
});

// The first roster of a session reports its items as changes only when something needs them
// (#newItemsMatter); these are the things that do.
describe("first roster of a session", () => {
  const BOB_ITEM = `<item jid="${BOB}" subscription="from"/>`;

  async function beforeRoster() {
    const xmpp = new FakeXmpp();
    const client = createPresenceClient({ xmpp });
    client.on("error", () => undefined);
    const started = client.start();
    await tick();
    return { client, xmpp, started };
  }

  it("reports every item to a roster:change listener", async () => {
    const { client, xmpp, started } = await beforeRoster();
    const changes: unknown[] = [];
    client.on("roster:change", (change) => void changes.push(change));
    xmpp.answerRoster(`${BOB_ITEM}<item jid="carol@localhost" subscription="to"/>`);
    await started;
    // Items as the server sent them (no entry fields such as pendingIn or state).
    const item = { groups: [], pendingOut: false, approved: false };
    expect(changes).toEqual([
      { jid: BOB, before: undefined, after: { jid: BOB, subscription: "from", ...item } },
      { jid: "carol@localhost", before: undefined, after: { jid: "carol@localhost", subscription: "to", ...item } },
    ]);
  });

  it("promotes presence held for a non-contact when the first roster lists it", async () => {
    const { client, xmpp, started } = await beforeRoster();
    await xmpp.receive(`<presence from="${BOB}/phone" to="alice@localhost/desk"/>`);
    expect(client.presence.getSnapshot().others.has(BOB)).toBe(true);
    xmpp.answerRoster(BOB_ITEM);
    await started;
    expect(client.presence.getSnapshot().others.has(BOB)).toBe(false);
    expect(client.presence.getSnapshot().contacts.get(BOB)?.available).toBe(true);
  });

  it("settles a request that came before the first roster when the roster shows it granted", async () => {
    const { client, xmpp, started } = await beforeRoster();
    await xmpp.receive(presence("subscribe"));
    expect(client.roster.getSnapshot().requests.has(BOB)).toBe(true);
    xmpp.answerRoster(BOB_ITEM);
    await started;
    expect(client.roster.getSnapshot().requests.has(BOB)).toBe(false);
  });
});

describe("presence after the roster changes", () => {
  it("holds presence from a removed contact as a non-contact's, not under contacts", async () => {
    const { client, xmpp } = await startedFake({ items: `<item jid="${BOB}" subscription="both"/>` });
    await xmpp.receive(`<presence from="${BOB}/phone" to="alice@localhost/desk"/>`);
    expect(client.presence.getSnapshot().contacts.get(BOB)?.available).toBe(true);
    await xmpp.receive(push(`<item jid="${BOB}" subscription="remove"/>`));
    expect(client.presence.getSnapshot().contacts.has(BOB)).toBe(false);
    await xmpp.receive(`<presence from="${BOB}/laptop" to="alice@localhost/desk"/>`);
    const snapshot = client.presence.getSnapshot();
    expect(snapshot.contacts.has(BOB)).toBe(false);
    expect(snapshot.others.get(BOB)?.best?.resource).toBe("laptop");
  });
});
