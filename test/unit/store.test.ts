// The roster store contract (nanostores/Svelte; useSyncExternalStore-safe).
import { describe, expect, it } from "vitest";
import { bareKeyOf } from "../../src/jid.js";
import type { RosterItem } from "../../src/roster/model.js";
import { RosterStoreImpl, type RosterSnapshot } from "../../src/roster/store.js";

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
});
