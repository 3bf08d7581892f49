/**
 * The default roster cache: in process memory, gone on exit. Every load returns a fresh copy, and
 * saves copy what they keep, so callers can never change stored data by reference.
 */
import { applyMutation, type CachedRoster, type RosterStorage } from "./types.js";
import { checkAccount, checkMutation, parseCachedRoster } from "./validate.js";

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
  const caches = new Map<string, CachedRoster>();
  for (const [account, value] of Object.entries(seed)) {
    const roster = parseCachedRoster(value as unknown);
    if (roster !== undefined) caches.set(account, roster);
  }
  return {
    load: async (account) => {
      const cached = caches.get(checkAccount(account));
      return cached && structuredClone(cached);
    },
    save: async (account, mutation) => {
      const key = checkAccount(account);
      // applyMutation rebuilds what it takes from the mutation, so nothing here aliases the caller's objects.
      caches.set(key, applyMutation(caches.get(key), checkMutation(mutation)));
    },
    clear: async (account) => {
      caches.delete(checkAccount(account));
    },
  };
}
