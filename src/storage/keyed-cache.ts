/**
 * One account's roster cache held as maps keyed by JID, so that a roster push, a request or a
 * pre-approval costs O(1) to apply, whatever the roster's size (`CachedRoster`'s arrays would be
 * searched and copied on every push). Used by `memoryStorage` and by `fileStorage` (its
 * committed state, and the replay of its appended log).
 */
import type { RosterItem } from "../roster/model.js";
import type { SubscriptionRequest } from "../roster/store.js";
import type { CachedRoster, PreApprovalIntent, RosterMutation } from "./types.js";

/** One account's cache, keyed. Map order is the arrays' order: in place on update, appended when new. */
export interface KeyedCache {
  version: string | undefined;
  readonly items: Map<string, RosterItem>;
  readonly requests: Map<string, SubscriptionRequest>;
  readonly preApprovals: Map<string, PreApprovalIntent>;
}

export function keyed(roster: CachedRoster): KeyedCache {
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
export function apply(cache: KeyedCache | undefined, m: RosterMutation): KeyedCache {
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

/** The cache as a `CachedRoster` (arrays in the maps' order), sharing the stored objects. */
export function unkeyed(cache: KeyedCache): CachedRoster {
  return {
    version: cache.version,
    items: [...cache.items.values()],
    requests: [...cache.requests.values()],
    preApprovals: [...cache.preApprovals.values()],
  };
}
