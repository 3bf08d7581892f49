// RFC 6121 §2.6 roster versioning with a cache, and §3.4 pre-approval intents, driven by
// in-process stanzas (the fake server advertises the features each case needs).
import { describe, expect, it } from "vitest";
import { createPresenceClient, memoryStorage, type CachedRoster } from "../../src/index.js";
import { FakeXmpp } from "../support/fake-xmpp.js";
import { startedFake, tick } from "../support/fake-client.js";

const ROSTERVER = "urn:xmpp:features:rosterver";
const PREAPPROVAL = "urn:xmpp:features:pre-approval";
const ALICE = "alice@localhost";
const bob = { jid: "bob@localhost", groups: ["Friends"], subscription: "both" as const, pendingOut: false, approved: false };
const cache = (version: string | undefined, items = [bob]): CachedRoster => ({ version, items, requests: [{ from: "carol@localhost", receivedAt: 1 }], preApprovals: [] });

async function starting(features: string[], storage = memoryStorage()) {
  const xmpp = new FakeXmpp();
  for (const ns of features) xmpp.advertised.add(ns);
  const client = createPresenceClient({ xmpp, storage });
  const started = client.start();
  await tick();
  return { xmpp, client, started, storage };
}

describe("RFC 6121 §2.6 roster versioning", () => {
  it("§2.6.3 sends the cached version; an empty result confirms the cache", async () => {
    const { xmpp, client, started } = await starting([ROSTERVER], memoryStorage({ [ALICE]: cache("7") }));
    expect(xmpp.sent[0]!.getChild("query")!.attrs["ver"]).toBe("7");
    expect(client.roster.getSnapshot()).toMatchObject({ ready: false, source: "cache", version: "7" });
    expect(client.roster.get("bob@localhost")?.state).toBe("Both");
    expect(client.roster.getSnapshot().requests.has("carol@localhost")).toBe(true); // pending-in kept
    xmpp.answer(`<iq type="result"/>`);
    await started;
    expect(client.roster.getSnapshot()).toMatchObject({ ready: true, source: "server", version: "7" });
    expect(client.roster.getSnapshot().entries.size).toBe(1);
  });

  it("§2.6.3 a full result replaces the cache, and pushes persist with their version", async () => {
    const storage = memoryStorage({ [ALICE]: cache("7") });
    const { xmpp, client, started } = await starting([ROSTERVER], storage);
    xmpp.answerRoster(`<item jid="dave@localhost" subscription="to"/>`, "9");
    await started;
    expect([...client.roster.getSnapshot().entries.keys()]).toEqual(["dave@localhost"]);
    await xmpp.receive(`<iq type="set" id="p"><query xmlns="jabber:iq:roster" ver="10"><item jid="erin@localhost"/></query></iq>`);
    await client.flushStorage();
    const stored = await storage.load(ALICE);
    expect(stored?.version).toBe("10");
    expect(stored?.items.map((i) => i.jid).sort()).toEqual(["dave@localhost", "erin@localhost"]);
  });

  it("§2.6.2 never sends ver without the feature (V-03), and bootstraps with ver='' (V-04)", async () => {
    const without = await starting([], memoryStorage({ [ALICE]: cache("7") }));
    expect(without.xmpp.sent[0]!.getChild("query")!.attrs["ver"]).toBeUndefined();
    const fresh = await starting([ROSTERVER]);
    expect(fresh.xmpp.sent[0]!.getChild("query")!.attrs["ver"]).toBe("");
  });

  it("fetches an empty roster whole, so Prosody's shared ver='1' cannot hide the first contact", async () => {
    const { xmpp } = await starting([ROSTERVER], memoryStorage({ [ALICE]: cache("1", []) }));
    expect(xmpp.sent[0]!.getChild("query")!.attrs["ver"]).toBe("");
  });

  it("a corrupt cache is discarded: full fetch, no crash", async () => {
    const broken = { version: "7", items: [{ jid: "x@l", subscription: "bogus", groups: "no" }], requests: [], preApprovals: [] };
    const { xmpp, client, started } = await starting([ROSTERVER], memoryStorage({ [ALICE]: broken as never }));
    expect(xmpp.sent[0]!.getChild("query")!.attrs["ver"]).toBe("");
    expect(client.roster.getSnapshot().entries.size).toBe(0);
    xmpp.answerRoster("", "1");
    await started;
    expect(client.roster.getSnapshot().ready).toBe(true);
  });
});

describe("RFC 6121 §3.4 pre-approval", () => {
  it("without server support: subscribe({ preApprove }) sends no pre-approval, and approves their request itself", async () => {
    const { client, xmpp } = await startedFake();
    await client.subscribe("bob@localhost", { preApprove: true });
    expect(xmpp.sent.slice(2).map((el) => el.attrs["type"])).toEqual(["subscribe"]); // §3.4.1: MUST NOT send it
    expect(client.roster.getSnapshot().preApprovals.has("bob@localhost")).toBe(true);
    await xmpp.receive(`<presence type="subscribe" from="bob@localhost"/>`); // policy is "manual"
    await tick();
    expect(xmpp.sentOf("presence", "subscribed").map((el) => el.attrs["to"])).toEqual(["bob@localhost"]);
    expect(client.roster.getSnapshot().requests.size).toBe(0);
  });

  it("with server support: approve() without a request sends the pre-approval and records it", async () => {
    const { client, xmpp } = await startedFake({ features: [PREAPPROVAL] });
    expect(client.supportsPreApproval).toBe(true);
    await client.approve("bob@localhost");
    expect(xmpp.sentOf("presence", "subscribed").map((el) => el.attrs["to"])).toEqual(["bob@localhost"]);
    expect(client.roster.getSnapshot().preApprovals.get("bob@localhost")?.expiresAt).toBeGreaterThan(Date.now());
    await client.deny("bob@localhost"); // cancels it (§3.4: unsubscribed)
    expect(client.roster.getSnapshot().preApprovals.size).toBe(0);
  });

  it("an expired intent no longer approves", async () => {
    const xmpp = new FakeXmpp();
    const client = createPresenceClient({ xmpp, preApprovalTtlMs: -1 });
    const started = client.start();
    await tick();
    xmpp.answerRoster();
    await started;
    await client.subscribe("bob@localhost", { preApprove: true });
    await xmpp.receive(`<presence type="subscribe" from="bob@localhost"/>`);
    await tick();
    expect(xmpp.sentOf("presence", "subscribed")).toHaveLength(0);
    expect(client.roster.getSnapshot().requests.has("bob@localhost")).toBe(true);
  });
});
