// Property: `roster.groups()` after any sequence of roster changes equals the grouping derived
// from scratch (groups in name order, members in JID order, entries in no group apart), whether
// it was updated from the previous grouping or not; and every grouping handed out earlier stays
// exactly as it was, with frozen lists.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bareKeyOf } from "../../src/jid.js";
import { createRosterEditor } from "../../src/roster/editor.js";
import type { RosterGroups } from "../../src/roster/groups.js";
import type { RosterEntry, RosterItem } from "../../src/roster/model.js";
import { RosterStoreImpl } from "../../src/roster/store.js";

const RUNS = Number(process.env["GROUPS_RUNS"] ?? 200);
const JIDS = Array.from({ length: 12 }, (_, i) => `c${i}@localhost`);
const GROUPS = ["Work", "Friends", "Family", "A", "z"];

type Op =
  | { op: "push"; jid: string; groups: string[]; name: string }
  | { op: "remove"; jid: string }
  | { op: "request"; jid: string }
  | { op: "result"; jids: string[]; groups: string[] }
  | { op: "groups" };

const ops: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant("push" as const), jid: fc.constantFrom(...JIDS), groups: fc.subarray(GROUPS), name: fc.constantFrom("", "Bob", "Carol") }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("remove" as const), jid: fc.constantFrom(...JIDS) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("request" as const), jid: fc.constantFrom(...JIDS) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("result" as const), jids: fc.subarray(JIDS), groups: fc.subarray(GROUPS) }) },
    { weight: 4, arbitrary: fc.constant({ op: "groups" as const }) },
  ),
  { maxLength: 120 },
);

function item(jid: string, groups: string[], name = ""): RosterItem {
  return { jid, ...(name ? { name } : {}), groups, subscription: "both", pendingOut: false, approved: false };
}

/** The documented grouping, computed the plain way. */
function reference(entries: Iterable<RosterEntry>): { groups: Array<[string, string[]]>; ungrouped: string[] } {
  const sorted = [...entries].sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  const byGroup = new Map<string, string[]>();
  for (const entry of sorted) for (const group of new Set(entry.groups)) byGroup.set(group, [...(byGroup.get(group) ?? []), entry.jid]);
  return {
    groups: [...byGroup].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ungrouped: sorted.filter((e) => e.groups.length === 0).map((e) => e.jid),
  };
}

/** A store and its editor, with no connection (groups() needs none). */
function offlineRoster() {
  const store = new RosterStoreImpl(bareKeyOf, () => undefined);
  const editor = createRosterEditor({
    store,
    contactJid: (jid) => jid,
    requireOnline: () => undefined,
    request: () => Promise.reject(new Error("offline")),
    sendPresence: () => Promise.resolve(),
  });
  return { store, editor };
}

function shape(result: RosterGroups): { groups: Array<[string, string[]]>; ungrouped: string[] } {
  return { groups: [...result.groups].map(([g, members]) => [g, members.map((e) => e.jid)]), ungrouped: result.ungrouped.map((e) => e.jid) };
}

describe("roster.groups() (property)", () => {
  it("always equals the grouping derived from scratch, and earlier groupings never change", () => {
    fc.assert(
      fc.property(ops, (list) => {
        const { store, editor } = offlineRoster();
        store.replaceItems(JIDS.slice(0, 6).map((jid, i) => item(jid, i % 2 ? ["Work"] : [])), "0");
        const handedOut: Array<[RosterGroups, ReturnType<typeof shape>, RosterEntry[]]> = [];
        let version = 1;
        const check = () => {
          const result = editor.groups();
          const snapshot = store.getSnapshot();
          expect(shape(result)).toEqual(reference(snapshot.entries.values()));
          // The entries listed are the snapshot's own (current state, not stale copies).
          for (const members of [...result.groups.values(), result.ungrouped]) {
            expect(Object.isFrozen(members)).toBe(true);
            for (const entry of members) expect(entry).toBe(snapshot.entries.get(entry.jid));
          }
          handedOut.push([result, shape(result), [...result.groups.values()].flat()]);
        };
        for (const o of list) {
          switch (o.op) {
            case "push":
              store.applyPush(o.jid, item(o.jid, o.groups, o.name), String(version++));
              break;
            case "remove":
              store.applyPush(o.jid, undefined, String(version++));
              break;
            case "request":
              store.addRequest({ from: o.jid, receivedAt: 1 }); // rebuilds that entry (pending in)
              break;
            case "result":
              store.replaceItems(o.jids.map((jid) => item(jid, o.groups)), String(version++));
              break;
            case "groups":
              check();
              break;
          }
        }
        check();
        for (const [result, before, members] of handedOut) {
          expect(shape(result)).toEqual(before);
          expect([...result.groups.values()].flat()).toEqual(members);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("a push into a large roster updates the grouping instead of deriving it again", () => {
    const { store, editor } = offlineRoster();
    store.replaceItems(Array.from({ length: 2000 }, (_, i) => item(`c${i}@localhost`, [GROUPS[i % GROUPS.length] as string])), "1");
    const first = editor.groups();
    store.applyPush("c7@localhost", item("c7@localhost", ["Work"], "Renamed"), "2");
    const second = editor.groups();
    expect(second).not.toBe(first);
    // Groups the push did not touch are the same lists; the ones it did are new.
    const untouched = GROUPS.filter((g) => g !== "Work" && g !== GROUPS[7 % GROUPS.length]);
    for (const group of untouched) expect(second.groups.get(group)).toBe(first.groups.get(group));
    expect(second.groups.get("Work")).not.toBe(first.groups.get("Work"));
    expect(second.groups.get("Work")?.find((e) => e.jid === "c7@localhost")?.name).toBe("Renamed");
    expect(first.groups.get("Work")?.some((e) => e.jid === "c7@localhost")).toBe(false);
    // A snapshot that changed elsewhere only (the blocklist) has the same grouping.
    const before = store.getSnapshot();
    store.updateBlocked({ replace: ["spammer@localhost"] });
    expect(store.getSnapshot()).not.toBe(before);
    expect(editor.groups()).toBe(second);
  });
});
