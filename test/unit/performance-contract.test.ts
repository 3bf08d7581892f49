// What the benchmark (npm run bench) relies on, checked for correctness here: notifications of a
// presence flood are coalesced per synchronous run, and roster snapshots share structure (a push
// into a large roster hands out a new snapshot without copying, and old snapshots never change).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bareKeyOf } from "../../src/jid.js";
import { PresenceStoreImpl } from "../../src/presence/store.js";
import { PresenceTracker } from "../../src/presence/tracker.js";
import type { RosterEntry, RosterItem } from "../../src/roster/model.js";
import { RosterStoreImpl } from "../../src/roster/store.js";
import { parse } from "../support/fake-xmpp.js";

const item = (jid: string, subscription: RosterItem["subscription"] = "both", name?: string): RosterItem => ({
  jid,
  ...(name === undefined ? {} : { name }),
  groups: [],
  subscription,
  pendingOut: false,
  approved: false,
});

describe("presence flood notifications", () => {
  it("notifies once for the stanzas handled in one synchronous run, with the final state", async () => {
    const roster = new RosterStoreImpl(bareKeyOf, () => undefined);
    roster.replaceItems(Array.from({ length: 50 }, (_, i) => item(`c${i}@x`)), undefined);
    const presence = new PresenceStoreImpl();
    const tracker = new PresenceTracker(presence, roster, () => "me@x/a");
    const seen: number[] = [];
    presence.listen((snapshot) => seen.push([...snapshot.contacts.values()].filter((c) => c.available).length));
    for (let i = 0; i < 200; i++) tracker.onStanza(parse(`<presence from="c${i % 50}@x/r${i % 3}"><priority>${i}</priority></presence>`));
    expect(seen).toEqual([]); // held until the run ends
    expect(presence.getSnapshot().contacts.size).toBe(50); // …but the state is current at once
    await Promise.resolve();
    expect(seen).toEqual([50]);
    tracker.onStanza(parse(`<presence from="c0@x/r0" type="unavailable"/>`));
    await Promise.resolve();
    expect(seen).toHaveLength(2);
  });
});

describe("roster snapshots share structure", () => {
  it("a push into a large roster keeps old snapshots and unchanged entries as they were", () => {
    const store = new RosterStoreImpl(bareKeyOf, () => undefined);
    store.replaceItems(Array.from({ length: 5000 }, (_, i) => item(`c${i}@x`)), "1");
    const before = store.getSnapshot();
    const untouched = before.entries.get("c1@x");
    store.applyPush("c0@x", item("c0@x", "to"), "2");
    const after = store.getSnapshot();
    expect(after).not.toBe(before);
    expect(before.entries.get("c0@x")?.subscription).toBe("both");
    expect(after.entries.get("c0@x")?.subscription).toBe("to");
    expect(after.entries.get("c1@x")).toBe(untouched);
    expect(after.entries.size).toBe(5000);
  });

  it("every snapshot equals the roster at its moment, whatever the order of writes", () => {
    const jids = ["a@x", "b@x", "c@x", "d@x", "e@x"];
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), jid: fc.constantFrom(...jids), sub: fc.constantFrom("none", "to", "from", "both" as const), name: fc.option(fc.constantFrom("A", "B")) }),
      fc.record({ kind: fc.constant("remove" as const), jid: fc.constantFrom(...jids) }),
      fc.record({ kind: fc.constant("request" as const), jid: fc.constantFrom(...jids) }),
      fc.record({ kind: fc.constant("answer" as const), jid: fc.constantFrom(...jids) }),
      fc.record({ kind: fc.constant("replace" as const), keep: fc.subarray(jids) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const store = new RosterStoreImpl(bareKeyOf, () => undefined);
        const model = new Map<string, RosterItem>();
        const requests = new Set<string>();
        const taken: Array<{ snapshot: ReturnType<typeof store.getSnapshot>; entries: Map<string, RosterEntry>; requests: string[] }> = [];
        for (const o of ops) {
          if (o.kind === "push") {
            const next = item(o.jid, o.sub, o.name ?? undefined);
            store.applyPush(o.jid, next, undefined);
            model.set(o.jid, next);
          } else if (o.kind === "remove") {
            store.applyPush(o.jid, undefined, undefined);
            model.delete(o.jid);
          } else if (o.kind === "request") {
            store.addRequest({ from: o.jid, receivedAt: 1 });
            requests.add(o.jid);
          } else if (o.kind === "answer") {
            store.removeRequest(o.jid);
            requests.delete(o.jid);
          } else {
            const items = o.keep.map((jid) => model.get(jid) ?? item(jid));
            store.replaceItems(items, undefined);
            model.clear();
            for (const i of items) model.set(i.jid, i);
          }
          const snapshot = store.getSnapshot();
          taken.push({ snapshot, entries: new Map(snapshot.entries), requests: [...snapshot.requests.keys()].sort() });
          expect([...snapshot.entries.keys()].sort()).toEqual([...model.keys()].sort());
          for (const [jid, i] of model) expect(snapshot.entries.get(jid)).toMatchObject({ ...i, pendingIn: requests.has(jid) });
          expect([...snapshot.requests.keys()].sort()).toEqual([...requests].sort());
        }
        // Old snapshots never change.
        for (const t of taken) {
          expect(new Map(t.snapshot.entries)).toEqual(t.entries);
          expect([...t.snapshot.requests.keys()].sort()).toEqual(t.requests);
          expect(t.snapshot.entries.size).toBe(t.entries.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("roster result: one object per item", () => {
  it("keeps each parsed item of a first roster as its entry, frozen, with its state; events still get plain items", async () => {
    const { parseRosterQuery } = await import("../../src/roster/codec.js");
    const items = parseRosterQuery(
      parse(`<query xmlns="jabber:iq:roster"><item jid="a@x" subscription="both" name="A"/><item jid="b@x" ask="subscribe"/></query>`),
      true, // a first roster becomes the whole roster (client.ts #fetchRoster)
    );
    const store = new RosterStoreImpl(bareKeyOf, () => undefined);
    const changes = store.replaceItems(items, undefined);
    expect(store.get("a@x")).toBe(items[0]);
    expect(store.get("b@x")).toBe(items[1]);
    expect(Object.isFrozen(store.get("a@x"))).toBe(true);
    expect(store.get("b@x")).toMatchObject({ state: "None + Pending Out", pendingIn: false });
    expect(changes.map((c) => c.after)).toEqual([
      { jid: "a@x", name: "A", groups: [], subscription: "both", pendingOut: false, approved: false },
      { jid: "b@x", groups: [], subscription: "none", pendingOut: true, approved: false },
    ]);
    // A request known before the roster: that entry is built anew, with the request in it.
    const withRequest = new RosterStoreImpl(bareKeyOf, () => undefined);
    withRequest.addRequest({ from: "b@x", receivedAt: 1 });
    withRequest.replaceItems(items, undefined);
    expect(withRequest.get("b@x")).not.toBe(items[1]);
    expect(withRequest.get("b@x")).toMatchObject({ pendingIn: true, state: "None + Pending Out + Pending In" });
  });
});
