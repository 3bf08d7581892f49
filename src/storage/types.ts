/**
 * The roster-cache contract (RFC 6121 §2.6, XEP-0237): what a storage adapter keeps per account,
 * the mutations the client writes, and {@link applyMutation}, the one pure function every adapter
 * uses to turn a mutation into the next cached roster.
 */
import type { RosterItem } from "../roster/model.js";
import type { SubscriptionRequest } from "../roster/store.js";
import { checkMutation } from "./validate.js";

/**
 * A local pre-approval the user asked for (RFC 6121 §3.4, XEP-0379 §3.4). Kept locally because
 * Prosody never reports `approved="true"` and ejabberd has no pre-approval at all.
 */
export interface PreApprovalIntent {
  /** Normalised bare JID of the contact. */
  readonly jid: string;
  /** When the user pre-approved (ms since the epoch). */
  readonly createdAt: number;
  /** When the intent lapses (ms since the epoch); absent = until cancelled. */
  readonly expiresAt?: number;
}

/** What is cached for one account: the roster at a version, plus the SDK's own facts. */
export interface CachedRoster {
  /**
   * The roster version (RFC 6121 §2.6) the items are at. `undefined` = unversioned: the next
   * login bootstraps with `ver=""` (V-04, V-08).
   */
  readonly version: string | undefined;
  /** The server's roster items, keyed by `jid` (no duplicates). */
  readonly items: readonly RosterItem[];
  /** Pending-in subscription requests, keyed by `from` (no duplicates). */
  readonly requests: readonly SubscriptionRequest[];
  /** Local pre-approval intents, keyed by `jid` (no duplicates). */
  readonly preApprovals: readonly PreApprovalIntent[];
}

/**
 * One change to an account's cache. Every `item` mutation carries the version of the push that
 * caused it, so the item and the version are persisted together (RFC 6121 §2.6.3, V-07).
 */
export type RosterMutation =
  /** A full roster result (RFC 6121 §2.1.4, §2.6.3 case a): replaces everything. */
  | { readonly kind: "replace"; readonly roster: CachedRoster }
  /** One roster push (§2.1.6): `item` undefined = removed; `version` undefined = the push had none. */
  | {
      readonly kind: "item";
      readonly jid: string;
      readonly item: RosterItem | undefined;
      readonly version: string | undefined;
    }
  /** A pending-in request recorded (§3.1.3) or answered/withdrawn (`request` undefined). */
  | { readonly kind: "request"; readonly jid: string; readonly request: SubscriptionRequest | undefined }
  /** A local pre-approval recorded or cancelled (`intent` undefined). */
  | { readonly kind: "pre-approval"; readonly jid: string; readonly intent: PreApprovalIntent | undefined };

/**
 * A place to keep roster caches, several accounts per store. Methods are arrow properties, safe
 * to call unbound. Apps can supply their own (e.g. an encrypted one, V-10); {@link applyMutation}
 * and {@link parseCachedRoster} do the shared work.
 *
 * @example
 * ```ts
 * const storage = memoryStorage();
 * await storage.save("alice@example.com", { kind: "replace", roster: { version: "7", items, requests: [], preApprovals: [] } });
 * (await storage.load("alice@example.com"))?.version; // "7"
 * ```
 */
export interface RosterStorage {
  /**
   * The cache of `account` (a normalised bare JID). Resolves to `undefined` when nothing is
   * stored, or when what is stored is corrupt, unreadable or of the wrong shape: bad data never
   * rejects. Rejects only for a bad `account` argument or when the backend itself fails (I/O).
   */
  readonly load: (account: string) => Promise<CachedRoster | undefined>;
  /**
   * Applies `mutation` to the cache of `account`; resolves once it is persisted. Rejects with a
   * `PresenceError` (`invalid-argument` / `invalid-jid`) before writing anything when the
   * mutation or account is malformed, or with the backend's error when the write fails.
   */
  readonly save: (account: string, mutation: RosterMutation) => Promise<void>;
  /** Forgets the cache of `account`; resolves once it is gone (also when there was none). */
  readonly clear: (account: string) => Promise<void>;
}

const EMPTY: CachedRoster = { version: undefined, items: [], requests: [], preApprovals: [] };

/**
 * The cache after `mutation`: pure, never modifies its inputs. Throws a `PresenceError`
 * (`invalid-argument`) for a malformed mutation. Parts taken from the mutation are copied (extra
 * properties, such as a `RosterEntry`'s `pendingIn`/`state`, are dropped); untouched parts are
 * shared with `cached`.
 *
 * Two rules keep a cache from claiming a version it does not have:
 * - An `item` mutation with no cache to apply to yields an **unversioned** cache: one push is
 *   not the whole roster at that version (e.g. a push that arrives before the roster result, V-11).
 * - A `replace` with **no items** is stored unversioned: Prosody 0.12 reports `ver="1"` both for a
 *   fresh account's empty roster and after its first change, so a cached empty roster at "1"
 *   would hide the first contact forever. Re-fetching an empty roster costs nothing.
 *
 * The client must still pass a push's version only when the cache was in sync when the push
 * arrived (after this session's roster result or empty result); otherwise pass `undefined`.
 *
 * @example
 * ```ts
 * const next = applyMutation(cached, { kind: "item", jid: "bob@example.com", item: undefined, version: "12" });
 * ```
 */
export function applyMutation(cached: CachedRoster | undefined, mutation: RosterMutation): CachedRoster {
  const m = checkMutation(mutation);
  const base = cached ?? EMPTY;
  switch (m.kind) {
    case "replace":
      return m.roster.items.length === 0 ? { ...m.roster, version: undefined } : m.roster;
    case "item":
      return {
        ...base,
        version: cached === undefined ? undefined : m.version,
        items: upsert(base.items, m.jid, m.item, (item) => item.jid),
      };
    case "request":
      return { ...base, requests: upsert(base.requests, m.jid, m.request, (request) => request.from) };
    case "pre-approval":
      return { ...base, preApprovals: upsert(base.preApprovals, m.jid, m.intent, (intent) => intent.jid) };
  }
}

// Replaces the entry with key `jid` in place (order is kept), appends a new one, or removes it.
function upsert<T>(list: readonly T[], jid: string, value: T | undefined, keyOf: (value: T) => string): T[] {
  const index = list.findIndex((entry) => keyOf(entry) === jid);
  if (index === -1) return value === undefined ? [...list] : [...list, value];
  const next = [...list];
  if (value === undefined) next.splice(index, 1);
  else next[index] = value;
  return next;
}
