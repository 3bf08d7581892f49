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
import type { RosterItem } from "../roster/model.js";
import type { SubscriptionRequest } from "../roster/store.js";
import type { CachedRoster, PreApprovalIntent, RosterMutation, RosterStorage } from "./types.js";
import { isSealedItems } from "./sealed-items.js";
import { checkAccount, checkMutation, parseCachedRoster } from "./validate.js";

/** One account's cache, keyed. Map order is the arrays' order: in place on update, appended when new. */
interface KeyedCache {
  version: string | undefined;
  readonly items: Map<string, RosterItem>;
  readonly requests: Map<string, SubscriptionRequest>;
  readonly preApprovals: Map<string, PreApprovalIntent>;
}

function keyed(roster: CachedRoster): KeyedCache {
  // A loop, not new Map(items.map(…)): no [jid, item] pair per item of a large roster.
  const items = new Map<string, RosterItem>();
  for (const item of roster.items) items.set(item.jid, item);
  return {
    // Same rule as applyMutation: an empty roster is stored unversioned (Prosody's shared ver="1").
    version: roster.items.length === 0 ? undefined : roster.version,
    items,
    requests: new Map(roster.requests.map((request) => [request.from, request])),
    preApprovals: new Map(roster.preApprovals.map((intent) => [intent.jid, intent])),
  };
}

function set<T>(map: Map<string, T>, jid: string, value: T | undefined): void {
  if (value === undefined) map.delete(jid);
  else map.set(jid, value);
}

/**
 * Applies a checked mutation in place: the same result as `applyMutation` (the storage contract
 * tests hold every adapter to it), without copying the untouched parts.
 */
function apply(cache: KeyedCache | undefined, m: RosterMutation): KeyedCache {
  if (m.kind === "replace") return keyed(m.roster);
  // A mutation with no cache to apply to starts an unversioned one: one push is not the roster.
  const target = cache ?? keyed({ version: undefined, items: [], requests: [], preApprovals: [] });
  switch (m.kind) {
    case "item":
      target.version = cache === undefined ? undefined : m.version;
      set(target.items, m.jid, m.item);
      break;
    case "request":
      set(target.requests, m.jid, m.request);
      break;
    case "pre-approval":
      set(target.preApprovals, m.jid, m.intent);
      break;
  }
  return target;
}

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
      return (
        cached &&
        parseCachedRoster({
          version: cached.version,
          items: [...cached.items.values()],
          requests: [...cached.requests.values()],
          preApprovals: [...cached.preApprovals.values()],
        })
      );
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
