/**
 * A roster cache kept as two records, for backends where a write costs the whole record it
 * writes (IndexedDB clones it, localStorage stringifies it): the *base*, the items as of the
 * last whole roster, and a small *head*: the version, requests and pre-approvals, and the item
 * changes since the base (one per JID). A roster push rewrites only the head, so its cost does
 * not grow with the roster; once the head logs {@link MAX_LOGGED_CHANGES} JIDs, the next push
 * to a new JID folds the log into a new base (a whole-roster write every so many pushes).
 * bench/storage-push.ts measures it: one record of 100 000 items made every IndexedDB push cost
 * 313 ms against 1.7 ms into 100 items.
 *
 * The head names its base by a random id, so a head and a base from different writes never
 * combine (e.g. a torn pair of localStorage writes): such a cache reads as absent.
 */
import type { RosterItem } from "../roster/model.js";
import type { SubscriptionRequest } from "../roster/store.js";
import { applyMutation, type CachedRoster, type PreApprovalIntent, type RosterMutation } from "./types.js";
import { isRecord, parseCachedRoster, parseMutation } from "./validate.js";

/** The format of a head; any other reads as no cache. */
export const HEAD_FORMAT_VERSION = 2;

/** How many JIDs the head logs before a push folds the log into the base. */
export const MAX_LOGGED_CHANGES = 256;

/**
 * An item as pushed since the base: `item` undefined = removed. `moved`: it was removed and then
 * pushed again, so it goes to the end of the list, as applyMutation puts it.
 */
export interface LoggedChange {
  readonly jid: string;
  readonly item: RosterItem | undefined;
  readonly moved?: true;
}

/** The small record: everything but the base's items. */
export interface CacheHead {
  readonly formatVersion: number;
  /** The id of the base these changes apply to. */
  readonly baseId: string;
  readonly version: string | undefined;
  readonly requests: readonly SubscriptionRequest[];
  readonly preApprovals: readonly PreApprovalIntent[];
  /** Item changes since the base, one per JID, in the order of their first change. */
  readonly changes: readonly LoggedChange[];
}

/** The large record: the items as of a whole roster (or of the last fold). */
export interface CacheBase {
  readonly id: string;
  readonly items: readonly RosterItem[];
}

/** What one mutation writes: the head, and the base if it changed. */
export interface LoggedWrite {
  readonly head: CacheHead;
  readonly base?: CacheBase;
}

function newBaseId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** A stored head rebuilt and checked, or `undefined` (absent, another format, any bad field). */
export function parseHead(value: unknown): CacheHead | undefined {
  if (!isRecord(value) || value["formatVersion"] !== HEAD_FORMAT_VERSION) return undefined;
  const { baseId, changes } = value;
  if (typeof baseId !== "string" || !Array.isArray(changes)) return undefined;
  // The version, requests and pre-approvals are checked as a cache with no items.
  const rest = parseCachedRoster({ version: value["version"], items: [], requests: value["requests"], preApprovals: value["preApprovals"] });
  if (rest === undefined) return undefined;
  const logged: LoggedChange[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < changes.length; i++) {
    const change: unknown = changes[i];
    if (!isRecord(change)) return undefined;
    const parsed = parseMutation({ kind: "item", jid: change["jid"], item: change["item"], version: undefined });
    const moved = change["moved"];
    if (parsed?.kind !== "item" || seen.has(parsed.jid) || (moved !== undefined && moved !== true)) return undefined;
    seen.add(parsed.jid);
    logged.push(moved ? { jid: parsed.jid, item: parsed.item, moved } : { jid: parsed.jid, item: parsed.item });
  }
  return { formatVersion: HEAD_FORMAT_VERSION, baseId, version: rest.version, requests: rest.requests, preApprovals: rest.preApprovals, changes: logged };
}

/**
 * The base's items with the logged changes applied, in applyMutation's order: a changed item in
 * its place, a removed one dropped, a new or moved one appended in log order.
 */
function withChanges(items: readonly RosterItem[], changes: readonly LoggedChange[]): RosterItem[] {
  if (changes.length === 0) return items as RosterItem[];
  const out: Array<RosterItem | undefined> = [...items];
  const at = new Map<string, number>();
  for (let i = 0; i < items.length; i++) at.set((items[i] as RosterItem).jid, i);
  for (const { jid, item, moved } of changes) {
    const index = at.get(jid);
    if (index !== undefined && !moved) {
      out[index] = item;
      continue;
    }
    if (index !== undefined) out[index] = undefined;
    if (item !== undefined) out.push(item);
  }
  return out.filter((item): item is RosterItem => item !== undefined);
}

/**
 * The cache the two stored records make, or `undefined` when either is absent or malformed, or
 * when they are not a pair. Everything is validated as `parseCachedRoster` does, and rebuilt.
 * A valid base is added to `trusted`, if given: the adapter has now read it whole.
 */
export function readLoggedCache(headValue: unknown, baseValue: unknown, trusted?: TrustedBases): CachedRoster | undefined {
  const head = parseHead(headValue);
  if (head === undefined || !isRecord(baseValue) || baseValue["id"] !== head.baseId) return undefined;
  const base = parseCachedRoster({ version: undefined, items: baseValue["items"], requests: [], preApprovals: [] });
  if (base === undefined) return undefined;
  trusted?.add(head.baseId);
  // Both parts are checked and rebuilt now, and merging by JID keeps the items' JIDs unique.
  return { version: head.version, items: withChanges(base.items, head.changes), requests: head.requests, preApprovals: head.preApprovals };
}

/**
 * Whether applying `mutation` to `head` needs the stored base: when the head names a base this
 * adapter has not seen valid yet (`trusted`: read whole once, so that a cache whose base is
 * corrupt is replaced, as any corrupt cache is, and not logged onto), and for a push to a JID
 * the full log does not hold yet (the fold; `maxLogged`: tests only). Backends read the base only then.
 */
export function needsBase(head: CacheHead | undefined, mutation: RosterMutation, trusted: TrustedBases, maxLogged = MAX_LOGGED_CHANGES): boolean {
  return head !== undefined && mutation.kind !== "replace" && (!trusted.has(head.baseId) || foldDue(head, mutation, maxLogged));
}

// A push to a JID the full log does not hold yet.
function foldDue(head: CacheHead, m: RosterMutation, maxLogged: number): boolean {
  return m.kind === "item" && head.changes.length >= maxLogged && !head.changes.some((change) => change.jid === m.jid);
}

/**
 * The ids of bases an adapter wrote, or read whole and found valid: a push onto one of them
 * need not read it (see needsBase). A handful at most (one per account, and those of other
 * tabs' folds): past 16, all are forgotten.
 */
export class TrustedBases {
  readonly #ids = new Set<string>();

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    if (this.#ids.size >= 16) this.#ids.clear();
    this.#ids.add(id);
  }
}

/** The records for a whole cache: a new base, and a head with nothing logged. */
function whole(cached: CachedRoster): LoggedWrite {
  const id = newBaseId();
  const { version, items, requests, preApprovals } = cached;
  return { head: { formatVersion: HEAD_FORMAT_VERSION, baseId: id, version, requests, preApprovals, changes: [] }, base: { id, items } };
}

/**
 * What to write for `m` (a mutation as `checkMutation` returned it), given the stored head
 * (parsed; `undefined` when there is no valid cache) and, when {@link needsBase} says so, the
 * stored base (`base.value`). Same results as {@link applyMutation} on the cache the records
 * make, a corrupt one counting as none (an empty roster is stored unversioned; a push with no
 * cache starts an unversioned one). After the write, the head's base is a valid one.
 * `maxLogged` (tests only) is the log's length before a fold, as for {@link needsBase}.
 */
export function logMutation(head: CacheHead | undefined, m: RosterMutation, base?: { value: unknown }, maxLogged = MAX_LOGGED_CHANGES): LoggedWrite {
  // A whole roster as it is (checkMutation copied it already); applyMutation would copy it again.
  if (m.kind === "replace") return whole(m.roster.items.length === 0 ? { ...m.roster, version: undefined } : m.roster);
  if (head === undefined) return whole(applyMutation(undefined, m));
  if (base !== undefined) {
    const cached = readLoggedCache(head, base.value);
    if (cached === undefined) return whole(applyMutation(undefined, m)); // corrupt: as if none
    if (foldDue(head, m, maxLogged)) return whole(applyMutation(cached, m)); // the fold
  }
  if (m.kind === "item") {
    const changes = [...head.changes];
    const index = changes.findIndex((change) => change.jid === m.jid);
    const logged = changes[index];
    if (logged === undefined) {
      changes.push({ jid: m.jid, item: m.item });
    } else if (logged.item === undefined && m.item !== undefined) {
      changes.splice(index, 1); // removed, now back: at the end, as applyMutation appends it
      changes.push({ jid: m.jid, item: m.item, moved: true });
    } else {
      changes[index] = logged.moved ? { jid: m.jid, item: m.item, moved: true } : { jid: m.jid, item: m.item };
    }
    return { head: { ...head, version: m.version, changes } };
  }
  // Requests and pre-approvals live in the head: the items play no part.
  const next = applyMutation({ version: head.version, items: [], requests: head.requests, preApprovals: head.preApprovals }, m);
  return { head: { ...head, requests: next.requests, preApprovals: next.preApprovals } };
}
