// Property: a whole roster result into a roster already held (a re-fetch, RFC 6121 §2.1.4) ends
// with exactly the result's items, and reports exactly what changed: removals first (in the held
// order), then the items that are new or differ, in the result's order. Results come in the held
// order (the store walks both lists side by side, RosterStoreImpl.#changedInStep) as often as in
// another order, with items added, dropped or repeated (the general way): both must agree.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bareKeyOf } from "../../src/jid.js";
import type { RosterItem } from "../../src/roster/model.js";
import { RosterStoreImpl, type ItemChange } from "../../src/roster/store.js";

const RUNS = Number(process.env["REFETCH_RUNS"] ?? 300);
const JIDS = Array.from({ length: 12 }, (_, i) => `c${i}@localhost`);

const fields = fc.record({
  name: fc.option(fc.constantFrom("Ann", "Bo", "Cy"), { nil: undefined }),
  // Two lists that differ only in their last group: a compare that stops one short misses it.
  groups: fc.constantFrom<string[]>([], ["Work"], ["Friends", "Work"], ["Friends", "Family"]),
  subscription: fc.constantFrom("none" as const, "to" as const, "from" as const, "both" as const),
  pendingOut: fc.boolean(),
  approved: fc.boolean(),
});
type Fields = typeof fields extends fc.Arbitrary<infer T> ? T : never;

function item(jid: string, f: Fields): RosterItem {
  // §2.1.2.2: a pending request out only while we have no subscription to them.
  const pendingOut = f.pendingOut && (f.subscription === "none" || f.subscription === "from");
  return { jid, ...(f.name === undefined ? {} : { name: f.name }), groups: f.groups, subscription: f.subscription, pendingOut, approved: f.approved };
}

/** The fields a change or snapshot compares on. */
function shape(i: RosterItem | undefined) {
  return i && { jid: i.jid, name: i.name, groups: [...i.groups], subscription: i.subscription, pendingOut: i.pendingOut, approved: i.approved };
}

function same(a: RosterItem, b: RosterItem): boolean {
  return JSON.stringify(shape(a)) === JSON.stringify(shape(b));
}

/** What replaceItems must report, worked out from the two lists alone. */
function expectedChanges(held: RosterItem[], result: RosterItem[]) {
  const last = new Map(result.map((i) => [i.jid, i])); // a repeated JID: its last item, first place
  const before = new Map(held.map((i) => [i.jid, i]));
  const removed = held.filter((i) => !last.has(i.jid)).map((i) => ({ jid: i.jid, before: shape(i), after: undefined }));
  const written = [...last.values()]
    .filter((i) => before.get(i.jid) === undefined || !same(before.get(i.jid) as RosterItem, i))
    .map((i) => ({ jid: i.jid, before: shape(before.get(i.jid)), after: shape(i) }));
  return [...removed, ...written];
}

const scenario = fc
  .record({
    count: fc.integer({ min: 1, max: JIDS.length }),
    held: fc.array(fields, { minLength: JIDS.length, maxLength: JIDS.length }),
    next: fc.array(fields, { minLength: JIDS.length, maxLength: JIDS.length }),
    // Per held item: kept as it was, or changed (new fields).
    changed: fc.array(fc.boolean(), { minLength: JIDS.length, maxLength: JIDS.length }),
    // The held order (most runs), or another: shuffled, one dropped, one added, one replaced by
    // another JID (as many items as held), one repeated.
    order: fc.constantFrom("same", "same", "same", "shuffled", "dropped", "added", "replaced", "repeated"),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .map(({ count, held, next, changed, order, seed }) => {
    const heldItems = JIDS.slice(0, count).map((jid, i) => item(jid, held[i] as Fields));
    let result = heldItems.map((h, i) => (changed[i] ? item(h.jid, next[i] as Fields) : { ...h, groups: [...h.groups] }));
    if (order === "shuffled") result = result.map((r, i) => [(seed * (i + 7)) % 101, r] as const).sort((a, b) => a[0] - b[0]).map(([, r]) => r);
    if (order === "dropped") result.splice(seed % result.length, 1);
    if (order === "added" && count < JIDS.length) result.splice(seed % (result.length + 1), 0, item(JIDS[count] as string, next[count] as Fields));
    if (order === "replaced" && count < JIDS.length) result.splice(seed % result.length, 1, item(JIDS[count] as string, next[count] as Fields));
    if (order === "repeated") result.push(item((result[seed % result.length] as RosterItem).jid, next[0] as Fields));
    return { heldItems, result, order };
  });

describe("RosterStore: a re-fetched roster (property)", () => {
  it("ends with the result's items and reports exactly what changed, in the held order or any other", () => {
    fc.assert(
      fc.property(scenario, ({ heldItems, result }) => {
        const store = new RosterStoreImpl(bareKeyOf, (error) => {
          throw error;
        });
        store.replaceItems(heldItems, "1");
        const before = store.getSnapshot();
        const changes: ItemChange[] = store.replaceItems(result, "2");
        expect(changes.map((c) => ({ jid: c.jid, before: shape(c.before), after: shape(c.after) }))).toEqual(expectedChanges(heldItems, result));
        const after = store.getSnapshot();
        const last = new Map(result.map((i) => [i.jid, i]));
        expect([...after.entries.values()].map((e) => shape(store.item(e.jid)))).toEqual(
          // Held JIDs keep their place; new ones follow in the result's order.
          [...[...before.entries.keys()].filter((jid) => last.has(jid)), ...[...last.keys()].filter((jid) => !before.entries.has(jid))].map((jid) =>
            shape(last.get(jid)),
          ),
        );
        // An entry whose item did not change is the same object as before (nothing rewritten).
        for (const [jid, entry] of after.entries) {
          const was = before.entries.get(jid);
          if (was !== undefined && same(was, last.get(jid) as RosterItem)) expect(entry).toBe(was);
        }
        expect(after.version).toBe("2");
        expect(after.ready).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
