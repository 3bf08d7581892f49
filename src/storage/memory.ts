/**
 * The default roster cache: in process memory, gone on exit. Every load returns a fresh copy, and
 * saves copy what they keep, so callers can never change stored data by reference. The one
 * exception is a whole roster the client's own store writes: its items are sealed (frozen, and
 * built by the store; see sealed-items), so they are kept as they are, not validated and copied.
 *
 * Each account's cache is kept as maps keyed by JID, so a roster push, a request or a
 * pre-approval costs O(1) to save, whatever the roster's size (an array, as `CachedRoster`
 * has it, would be searched and copied on every push: 6.4 ms per push into a 100 000-contact
 * roster before, see bench/results.md). Loads, which happen once per process, build the arrays.
 */
import { apply, keyed, unkeyed, type KeyedCache } from "./keyed-cache.js";
import type { CachedRoster, RosterMutation, RosterStorage } from "./types.js";
import { isSealedItems } from "./sealed-items.js";
import { checkAccount, checkMutation, parseCachedRoster } from "./validate.js";

/**
 * `mutation` checked as `checkMutation` does, except that the items of a whole roster the
 * client's store sealed are taken as they are: the store made them frozen, they cannot change.
 * Everything else in that roster (version, requests, pre-approvals) is still checked and copied.
 */
function checkSaved(mutation: RosterMutation): RosterMutation {
  const items: unknown = (mutation as { roster?: { items?: unknown } } | null)?.roster?.items;
  if (mutation?.kind !== "replace" || !isSealedItems(items)) return checkMutation(mutation);
  const rest = checkMutation({ kind: "replace", roster: { ...mutation.roster, items: [] } }) as typeof mutation;
  return { kind: "replace", roster: { ...rest.roster, items } };
}

/**
 * A {@link RosterStorage} in memory. `seed` pre-fills caches by account (handy in tests, e.g. to
 * start from a roster cached at version "7"); each seeded cache is validated like stored data, so
 * a malformed one loads as `undefined`.
 *
 * @example
 * ```ts
 * const storage = memoryStorage({ "alice@example.com": { version: "7", items: [], requests: [], preApprovals: [] } });
 * ```
 */
export function memoryStorage(seed: Readonly<Record<string, CachedRoster>> = {}): RosterStorage {
  const caches = new Map<string, KeyedCache>();
  for (const [account, value] of Object.entries(seed)) {
    const roster = parseCachedRoster(value as unknown);
    // A seed is stored as given (a seeded empty roster keeps its version, like a stored one).
    if (roster !== undefined) caches.set(account, { ...keyed(roster), version: roster.version });
  }
  return {
    load: async (account) => {
      const cached = caches.get(checkAccount(account));
      // Rebuilt, not cloned: fresh objects of the known fields only (a sealed roster's items are
      // the store's entries, with their `pendingIn` and `state`), as every other adapter returns.
      return cached && parseCachedRoster(unkeyed(cached));
    },
    save: async (account, mutation) => {
      const key = checkAccount(account);
      // checkMutation rebuilds what it returns, so nothing kept here aliases the caller's objects
      // (but the sealed items of the client's own roster, which nobody can change: checkSaved).
      caches.set(key, apply(caches.get(key), checkSaved(mutation)));
    },
    clear: async (account) => {
      caches.delete(checkAccount(account));
    },
  };
}
