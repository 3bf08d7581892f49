// The roster store contract (nanostores/Svelte; useSyncExternalStore-safe).
import { describe, expect, it } from "vitest";
import { bareKeyOf } from "../../src/jid.js";
import type { RosterItem } from "../../src/roster/model.js";
import { RosterStoreImpl, type RosterSnapshot } from "../../src/roster/store.js";
import type { RosterMutation } from "../../src/storage/types.js";

const bob: RosterItem = { jid: "bob@localhost", groups: ["Friends"], subscription: "to", pendingOut: false, approved: false };

function store(errors: unknown[] = []) {
  return new RosterStoreImpl(bareKeyOf, (e) => void errors.push(e));
}

describe("RosterStore", () => {
  it("returns the same frozen snapshot until something changes", () => {
    const s = store();
    const first = s.getSnapshot();
    expect(s.getSnapshot()).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    s.applyPush(bob.jid, bob, "1");
    const second = s.getSnapshot();
    expect(second).not.toBe(first);
    expect(first.entries.size).toBe(0); // old snapshots are never mutated
    expect(second.entries.get("bob@localhost")).toMatchObject({ subscription: "to", pendingIn: false, state: "To" });
    s.applyPush(bob.jid, { ...bob, groups: ["Friends"] }, "1");
    expect(s.getSnapshot()).toBe(second); // equal content is no change
  });

  it("keeps unchanged entries identical across snapshots", () => {
    const s = store();
    s.replaceItems([bob, { ...bob, jid: "carol@localhost" }], "1");
    const before = s.getSnapshot().entries.get("bob@localhost");
    s.applyPush("carol@localhost", undefined, "2");
    expect(s.getSnapshot().entries.get("bob@localhost")).toBe(before);
  });

  it("subscribe() calls at once and on change; listen() only on change; both unsubscribe", () => {
    const s = store();
    const sub: RosterSnapshot[] = [];
    const lis: RosterSnapshot[] = [];
    const { subscribe, listen, getSnapshot, get } = s; // unbound use must work
    const stopSub = subscribe((snap) => sub.push(snap));
    const stopLis = listen((snap) => lis.push(snap));
    expect(sub).toEqual([getSnapshot()]);
    expect(lis).toEqual([]);
    s.applyPush(bob.jid, bob, "1");
    expect(sub).toHaveLength(2);
    expect(lis).toEqual([getSnapshot()]);
    expect(get("BOB@localhost/x")?.jid).toBe("bob@localhost");
    stopSub();
    stopLis();
    s.applyPush(bob.jid, undefined, "2");
    expect(sub).toHaveLength(2);
    expect(lis).toHaveLength(1);
  });

  it("notifies once per batch, and a throwing listener neither stops others nor the write", () => {
    const errors: unknown[] = [];
    const s = store(errors);
    let calls = 0;
    s.listen(() => {
      throw new Error("boom");
    });
    s.listen(() => calls++);
    s.replaceItems([bob, { ...bob, jid: "carol@localhost" }], "1");
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
    expect(s.getSnapshot().entries.size).toBe(2);
  });

  it("tracks pending-in requests apart from the roster and folds them into the entry state", () => {
    const s = store();
    expect(s.addRequest({ from: "carol@localhost", receivedAt: 1 })).toBe(true);
    expect(s.addRequest({ from: "carol@localhost", receivedAt: 2 })).toBe(false);
    expect(s.getSnapshot().requests.get("carol@localhost")?.receivedAt).toBe(1);
    expect(s.getSnapshot().entries.size).toBe(0);
    s.addRequest({ from: "bob@localhost", receivedAt: 3 });
    s.applyPush(bob.jid, bob, undefined);
    expect(s.get("bob@localhost")).toMatchObject({ pendingIn: true, state: "To + Pending In" });
    s.removeRequest("bob@localhost");
    expect(s.get("bob@localhost")?.state).toBe("To");
  });

  it("a full roster result replaces everything and reports what changed", () => {
    const s = store();
    s.replaceItems([bob, { ...bob, jid: "carol@localhost" }], "1");
    const changes = s.replaceItems([{ ...bob, subscription: "both" }], "2");
    expect(changes.map((c) => [c.jid, c.before?.subscription, c.after?.subscription])).toEqual([
      ["carol@localhost", "to", undefined],
      ["bob@localhost", "to", "both"],
    ]);
    expect([...s.getSnapshot().entries.keys()]).toEqual(["bob@localhost"]);
    expect(s.getSnapshot().version).toBe("2");
  });

  it.each([
    ["nothing pending", false],
    ["a request pending from bob", true],
  ])("a first roster that repeats a JID keeps the last item at the first one's place, one change each (%s)", (_, pending) => {
    const s = store();
    if (pending) s.addRequest({ from: bob.jid, receivedAt: 1 });
    const carol = { ...bob, jid: "carol@localhost" };
    const changes = s.replaceItems([bob, carol, { ...bob, subscription: "both" }, carol], "1");
    expect([...s.getSnapshot().entries.entries()].map(([jid, e]) => [jid, e.subscription, e.pendingIn])).toEqual([
      ["bob@localhost", "both", pending],
      ["carol@localhost", "to", false],
    ]);
    expect(changes.map((c) => [c.jid, c.before, c.after?.subscription])).toEqual([
      ["bob@localhost", undefined, "both"],
      ["carol@localhost", undefined, "to"],
    ]);
  });
});

describe("RosterStore: a whole roster result into a roster already held", () => {
  const carol: RosterItem = { ...bob, jid: "carol@localhost", groups: [] };
  const dave: RosterItem = { ...bob, jid: "dave@localhost", subscription: "both" };

  it("keeps unchanged entries as they were, and reports removals first, then writes in the result's order", () => {
    const s = store();
    s.replaceItems([bob, carol, dave], "1");
    const before = s.getSnapshot();
    const erin: RosterItem = { ...bob, jid: "erin@localhost" };
    const changes = s.replaceItems([{ ...dave, name: "Dave" }, erin, { ...bob }], "2"); // carol gone
    expect(changes.map((c) => [c.jid, c.before?.name, c.after?.name ?? (c.after ? "-" : "removed")])).toEqual([
      ["carol@localhost", undefined, "removed"],
      ["dave@localhost", undefined, "Dave"],
      ["erin@localhost", undefined, "-"],
    ]);
    const after = s.getSnapshot();
    expect(after.entries.get(bob.jid)).toBe(before.entries.get(bob.jid)); // the same item: untouched
    expect([...after.entries.keys()]).toEqual(["bob@localhost", "dave@localhost", "erin@localhost"]);
    expect(after.version).toBe("2");
    // An unchanged roster again: nothing to report, the snapshot's entries as they were.
    expect(s.replaceItems([{ ...bob }, { ...dave, name: "Dave" }, { ...erin }], "2")).toEqual([]);
    expect(s.getSnapshot().entries).toBe(after.entries);
  });

  it("writes the cache again only when the roster or its version changed", () => {
    const mutations: RosterMutation[] = [];
    const s = new RosterStoreImpl(bareKeyOf, () => undefined, (m) => void mutations.push(m));
    const replaces = () => mutations.filter((m) => m.kind === "replace").length;
    s.replaceItems([bob, carol], "1");
    expect(replaces()).toBe(1);
    s.replaceItems([{ ...bob }, { ...carol }], "1"); // the same roster again
    expect(replaces()).toBe(1);
    s.replaceItems([{ ...bob }, { ...carol }], "2"); // a new version only
    s.replaceItems([{ ...bob }], "2"); // carol gone
    expect(replaces()).toBe(3);
    const last = mutations.at(-1);
    expect(last?.kind === "replace" && [last.roster.version, last.roster.items.map((i) => i.jid)]).toEqual(["2", [bob.jid]]);
  });

  it("a result that names every held JID and more drops nothing; one that repeats a JID keeps its last item", () => {
    const s = store();
    s.replaceItems([bob, carol], "1");
    const grown = s.replaceItems([bob, carol, dave], "2");
    expect(grown.map((c) => [c.jid, c.before, c.after?.jid])).toEqual([["dave@localhost", undefined, "dave@localhost"]]);
    const repeated = s.replaceItems([{ ...bob, name: "first" }, carol, { ...bob, name: "last" }], "3"); // dave gone
    expect(repeated.map((c) => [c.jid, c.after?.name ?? null])).toEqual([
      ["dave@localhost", null],
      ["bob@localhost", "last"],
    ]);
    expect([...s.getSnapshot().entries.values()].map((e) => [e.jid, e.name])).toEqual([
      ["bob@localhost", "last"],
      ["carol@localhost", undefined],
    ]);
  });
});

describe("RosterStore: a cached roster", () => {
  it("loads with its requests and pre-approvals folded into the entries, not ready until the server answers", () => {
    const s = store();
    const carol: RosterItem = { ...bob, jid: "carol@localhost", subscription: "none" };
    const dave: RosterItem = { ...bob, jid: "dave@localhost", subscription: "to" };
    s.loadCache({
      version: "4",
      items: [bob, carol, dave],
      requests: [{ from: carol.jid, receivedAt: 1 }],
      preApprovals: [{ jid: dave.jid, createdAt: 1 }],
    });
    const snapshot = s.getSnapshot();
    expect([snapshot.ready, snapshot.source, snapshot.version]).toEqual([false, "cache", "4"]);
    expect([...snapshot.entries.values()].map((e) => [e.jid, e.pendingIn, e.approved, e.state])).toEqual([
      ["bob@localhost", false, false, "To"],
      ["carol@localhost", true, false, "None + Pending In"],
      ["dave@localhost", false, true, "To"],
    ]);
    expect(s.item(dave.jid)?.approved).toBe(false); // the cached item as stored; the intent is ours
    s.confirmCache();
    expect([s.getSnapshot().ready, s.getSnapshot().source]).toEqual([true, "server"]);
  });
});

describe("RosterStore internals behind the snapshots", () => {
  it("a pre-approval intent changes the entry's approved, never the server item or what is cached", () => {
    const mutations: RosterMutation[] = [];
    const s = new RosterStoreImpl(bareKeyOf, () => undefined, (m) => void mutations.push(m));
    s.replaceItems([bob], "1");
    s.setPreApproval(bob.jid, { jid: bob.jid, createdAt: 1 });
    expect(s.get(bob.jid)?.approved).toBe(true); // the entry: our intent counts
    expect(s.item(bob.jid)).toEqual(bob); // the server's item: approved as the server said
    // A full result re-persists the items: the server's `approved`, not the intent's.
    s.replaceItems([bob, { ...bob, jid: "carol@localhost" }], "2");
    const replace = mutations.filter((m) => m.kind === "replace").at(-1);
    expect(replace?.kind === "replace" && replace.roster.items.find((i) => i.jid === bob.jid)?.approved).toBe(false);
    // A push while the intent holds: the change carries plain items.
    const change = s.applyPush(bob.jid, { ...bob, subscription: "both" }, "3");
    expect(change?.before).toEqual(bob);
    expect(change?.after).toEqual({ ...bob, subscription: "both" });
    expect(s.get(bob.jid)).toMatchObject({ subscription: "both", approved: true });
    s.setPreApproval(bob.jid, undefined);
    expect(s.get(bob.jid)?.approved).toBe(false);
    // Without an intent the entry stands for the item again (item() may hand out the entry).
    expect(s.item(bob.jid)).toMatchObject({ ...bob, subscription: "both" });
    expect(s.item(bob.jid)).toBe(s.get(bob.jid));
  });

  it("the snapshot of a whole roster result shares the live map until the next change, which leaves it as it was", () => {
    const s = store();
    const items = Array.from({ length: 200 }, (_, i) => ({ ...bob, jid: `c${i}@localhost` }));
    s.replaceItems(items, "1");
    const loaded = s.getSnapshot();
    const entries = [...loaded.entries];
    s.applyPush("c0@localhost", undefined, "2");
    s.applyPush("new@localhost", { ...bob, jid: "new@localhost" }, "3");
    const after = s.getSnapshot();
    expect([...loaded.entries]).toEqual(entries); // the first snapshot did not see the writes
    expect(loaded.entries.has("c0@localhost")).toBe(true);
    expect(loaded.entries.has("new@localhost")).toBe(false);
    expect(after.entries.has("c0@localhost")).toBe(false);
    expect(after.entries.get("new@localhost")?.jid).toBe("new@localhost");
    expect(after.entries.size).toBe(200);
  });
});

describe("RosterStore snapshots iterated lazily", () => {
  it("an iteration paused across a write still yields the snapshot's own entries", () => {
    const s = new RosterStoreImpl(bareKeyOf, () => undefined);
    s.replaceItems(Array.from({ length: 100 }, (_, i) => ({ ...bob, jid: `c${i}@localhost` })), "1");
    const iterator = s.getSnapshot().entries.keys();
    const seen = [iterator.next().value, iterator.next().value];
    // Writes while the iteration is paused (the snapshot shares the live map until now).
    s.applyPush("c50@localhost", undefined, "2");
    s.applyPush("new@localhost", { ...bob, jid: "new@localhost" }, "3");
    for (let step = iterator.next(); !step.done; step = iterator.next()) seen.push(step.value);
    expect(seen).toHaveLength(100);
    expect(new Set(seen)).toEqual(new Set(Array.from({ length: 100 }, (_, i) => `c${i}@localhost`)));
  });
});

describe("RosterStore entries are immutable all the way down", () => {
  it("freezes every entry's group list, from a result, a push and a cache load alike", () => {
    const s = store();
    const two = () => ({ ...bob, groups: ["Friends", "Work"] });
    const cached = { ...two(), jid: "cached@localhost" };
    s.loadCache({ version: "1", items: [cached], requests: [], preApprovals: [] });
    expect(Object.isFrozen(cached.groups)).toBe(false); // copied, not frozen under the storage's feet
    expect(Object.isFrozen(s.get(cached.jid)?.groups)).toBe(true);
    s.replaceItems([{ ...two(), jid: "result@localhost" }, { ...bob, jid: "one@localhost" }], "2");
    s.applyPush("pushed@localhost", { ...two(), jid: "pushed@localhost" }, "3");
    s.addRequest({ from: "pushed@localhost", receivedAt: 1 }); // rebuilds that entry
    s.setPreApproval("result@localhost", { jid: "result@localhost", createdAt: 1 }); // an item kept apart
    const entries = [...s.getSnapshot().entries.values()];
    expect(entries.map((e) => e.jid).sort()).toEqual(["one@localhost", "pushed@localhost", "result@localhost"]);
    for (const entry of entries) {
      expect(Object.isFrozen(entry)).toBe(true);
      expect(Object.isFrozen(entry.groups)).toBe(true);
      expect(() => (entry.groups as string[]).push("Hacked")).toThrow(TypeError);
    }
    expect(Object.isFrozen(s.item("result@localhost"))).toBe(true); // the server's item, apart from its entry
    expect(s.get("result@localhost")?.groups).toEqual(["Friends", "Work"]);
  });

  it("loads a cache's one-group lists as one frozen list per group name, leaving the cache's arrays alone", () => {
    const s = store();
    const items: RosterItem[] = ["a", "b", "c"].map((local) => ({ ...bob, jid: `${local}@localhost`, groups: ["Friends"] }));
    items.push({ ...bob, jid: "d@localhost", groups: ["Work"] }, { ...bob, jid: "e@localhost", groups: ["Friends", "Work"] });
    s.loadCache({ version: "1", items, requests: [], preApprovals: [] });
    const groupsOf = (jid: string) => s.get(jid)?.groups;
    expect(groupsOf("a@localhost")).toEqual(["Friends"]);
    expect(groupsOf("a@localhost")).toBe(groupsOf("b@localhost")); // one list for the name
    expect(groupsOf("a@localhost")).toBe(groupsOf("c@localhost"));
    expect(groupsOf("d@localhost")).toEqual(["Work"]);
    expect(groupsOf("e@localhost")).toEqual(["Friends", "Work"]);
    expect(Object.isFrozen(groupsOf("a@localhost"))).toBe(true);
    expect(items.every((item) => !Object.isFrozen(item.groups))).toBe(true); // the cache's own arrays
    (items[0]?.groups as string[]).push("Changed");
    expect(groupsOf("a@localhost")).toEqual(["Friends"]);
  });

  it("hands the cache a whole roster as a frozen list of its frozen items", () => {
    const mutations: RosterMutation[] = [];
    const s = new RosterStoreImpl(bareKeyOf, () => undefined, (m) => void mutations.push(m));
    s.setPreApproval(bob.jid, { jid: bob.jid, createdAt: 1 });
    s.replaceItems([bob, { ...bob, jid: "carol@localhost", groups: ["A", "B"] }], "1");
    const replace = mutations.find((m) => m.kind === "replace");
    if (replace?.kind !== "replace") throw new Error("no replace mutation");
    expect(Object.isFrozen(replace.roster.items)).toBe(true);
    expect(replace.roster.items.every((item) => Object.isFrozen(item) && Object.isFrozen(item.groups))).toBe(true);
    expect(replace.roster.items.find((i) => i.jid === bob.jid)?.approved).toBe(false); // the server's item, not the entry
  });
});
