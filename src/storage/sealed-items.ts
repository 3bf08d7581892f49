/**
 * The item lists of whole-roster cache writes (`replace` mutations) that the roster store makes
 * itself, sealed. The store's entries are frozen when made, with their group lists (see
 * `rosterEntry`), and the store freezes each list it seals: such a list and everything in it can
 * never change, and holds only items the store built from the server's roster. `memoryStorage`
 * keeps a sealed list's items by reference instead of validating and copying each one: at
 * 100 000 items the copy held ~240 B more per item and kept the main thread busy for a quarter
 * of a second after every roster load (bench/results.md, issue 6, eighth pass).
 *
 * A WeakSet, not a mark on the list: nobody outside the store can seal a list of their own, so a
 * storage caller cannot slip unchecked items past validation.
 */
import type { RosterItem } from "../roster/model.js";

const sealed = new WeakSet<readonly RosterItem[]>();

/** Freezes `items` (the store's own frozen entries) and seals the list. */
export function sealItems(items: RosterItem[]): readonly RosterItem[] {
  Object.freeze(items);
  sealed.add(items);
  return items;
}

/** Whether `items` is a list {@link sealItems} sealed. */
export function isSealedItems(items: unknown): items is readonly RosterItem[] {
  return sealed.has(items as readonly RosterItem[]); // false for anything else, never a throw
}
