/**
 * The observable roster: the server's roster items plus the pending-in requests the SDK tracks.
 * Store contract as in nanostores/Svelte: `getSnapshot` returns the same frozen object until
 * something changes, `subscribe` calls at once and on change, `listen` only on change. Every
 * method is an arrow property, so `useSyncExternalStore(roster.listen, roster.getSnapshot)` works.
 */
import type { CachedRoster, PreApprovalIntent, RosterMutation } from "../storage/types.js";
import { Listeners } from "../observable.js";
import { detach } from "../detach.js";
import { SnapshotMapWriter } from "../snapshot-map.js";
import { sealItems } from "../storage/sealed-items.js";
import { frozenGroups, isRosterEntry, rosterEntry, type RosterEntry, type RosterItem } from "./model.js";

/** An unanswered request from a contact to see our presence (RFC 6121 §3.1.3). */
export interface SubscriptionRequest {
  /** Normalised bare JID of the requester. */
  readonly from: string;
  /** The `<status/>` the requester attached: untrusted text, shown as such. */
  readonly status?: string;
  /** When the SDK first saw the request in this process (ms since the epoch). */
  readonly receivedAt: number;
}

/** An immutable view of the roster at one moment. */
export interface RosterSnapshot {
  /** True once the server's roster has been received in the current session. */
  readonly ready: boolean;
  /**
   * Where the entries come from: `"cache"` (stored by an earlier run, not yet confirmed) or
   * `"server"` (a roster result of this process, kept current by pushes).
   */
  readonly source: "cache" | "server";
  /** The roster version (RFC 6121 §2.6) of the last result or push, when the server sends one. */
  readonly version?: string;
  /** Roster entries by normalised bare JID. */
  readonly entries: ReadonlyMap<string, RosterEntry>;
  /** Pending-in requests by normalised bare JID, including from JIDs not in the roster. */
  readonly requests: ReadonlyMap<string, SubscriptionRequest>;
  /** JIDs on our blocklist (XEP-0191), when the server supports blocking. */
  readonly blocked: ReadonlySet<string>;
  /** Our pre-approval intents (RFC 6121 §3.4) by JID: the SDK's own record, since servers rarely report `approved`. */
  readonly preApprovals: ReadonlyMap<string, PreApprovalIntent>;
}

/** A listener of the roster store. */
export type RosterListener = (snapshot: RosterSnapshot) => void;

/** The read side of the roster, as the app sees it. */
export interface RosterStore {
  /** The current snapshot; the same object until something changes. */
  readonly getSnapshot: () => RosterSnapshot;
  /** Calls `listener` now and after every change; returns the function that stops it. */
  readonly subscribe: (listener: RosterListener) => () => void;
  /** Calls `listener` after every change (not now); returns the function that stops it. */
  readonly listen: (listener: RosterListener) => () => void;
  /** The entry for a JID (any form; compared in normalised bare form), or `undefined`. */
  readonly get: (jid: string) => RosterEntry | undefined;
}

/** What a write to the store changed, for the client to turn into events. */
export interface ItemChange {
  jid: string;
  before: RosterItem | undefined;
  after: RosterItem | undefined;
}

/**
 * The store with its write side, used by the client only. `normalise` maps app input to the
 * key form; `onListenerError` receives errors thrown by listeners (they never stop the others).
 */
export class RosterStoreImpl implements RosterStore {
  // The maps below are live; snapshots see them through SnapshotMapWriters, which share
  // structure between snapshots, so a change costs O(1) amortised instead of a copy of the
  // roster (a push into a 100 000-contact roster costs what it costs in a 100-contact one).
  //
  // The server's items are not kept in a map of their own: an entry holds every field of its
  // item, so the entry is the item (its extra `pendingIn`/`state` fields are ignored where an
  // item is expected), except where a pre-approval intent makes the entry's `approved` differ:
  // those few items are kept in `#itemsApart`. One map and one object per contact instead of
  // two of each: a quarter less work for a 100 000-item roster result.
  readonly #itemsApart = new Map<string, RosterItem>();
  readonly #requests = new Map<string, SubscriptionRequest>();
  readonly #entries = new Map<string, RosterEntry>();
  readonly #preApprovals = new Map<string, PreApprovalIntent>();
  // Copy on write: the snapshot after a roster result shares the map instead of copying it.
  // With a change log: roster.groups() is updated from the changes between snapshots.
  readonly #entriesOut = new SnapshotMapWriter(this.#entries, true, true);
  readonly #requestsOut = new SnapshotMapWriter(this.#requests);
  readonly #preApprovalsOut = new SnapshotMapWriter(this.#preApprovals);
  // Replaced (never mutated) on change, so the snapshot's copy is made once per change.
  #blocked: ReadonlySet<string> = new Set<string>();
  #blockedOut: ReadonlySet<string> | undefined;
  #source: "cache" | "server" = "server";
  #ready = false;
  #version: string | undefined;
  #snapshot: RosterSnapshot | undefined;
  readonly #notify = new Listeners<RosterSnapshot>(
    () => this.getSnapshot(),
    (error) => this.onListenerError(error),
  );

  constructor(
    private readonly normalise: (jid: string) => string | undefined,
    private readonly onListenerError: (error: unknown) => void,
    /** Told of every change worth persisting (the roster cache, RFC 6121 §2.6). */
    private readonly onMutation: (mutation: RosterMutation) => void = () => undefined,
    /** The listeners' notification window, ms (see `Listeners.defer`). */
    notificationWindowMs = 0,
  ) {
    this.#notify.windowMs = notificationWindowMs;
  }

  readonly getSnapshot = (): RosterSnapshot => {
    if (this.#snapshot === undefined) {
      const snapshot: RosterSnapshot = {
        ready: this.#ready,
        source: this.#source,
        ...(this.#version === undefined ? {} : { version: this.#version }),
        entries: this.#entriesOut.snapshot(),
        requests: this.#requestsOut.snapshot(),
        blocked: (this.#blockedOut ??= new Set(this.#blocked)),
        preApprovals: this.#preApprovalsOut.snapshot(),
      };
      this.#snapshot = Object.freeze(snapshot);
    }
    return this.#snapshot;
  };

  readonly listen = this.#notify.listen;
  readonly subscribe = this.#notify.subscribe;

  readonly get = (jid: string): RosterEntry | undefined => {
    // Keys are normalised, so a key found as given needs no normalising (the usual case).
    const direct = this.#entries.get(jid);
    if (direct !== undefined) return direct;
    const key = this.normalise(jid);
    return key === undefined || key === jid ? undefined : this.#entries.get(key);
  };

  /** The pending-in request from a JID (normalised key). */
  request(jid: string): SubscriptionRequest | undefined {
    return this.#requests.get(jid);
  }

  /** How many pending-in requests there are. */
  requestCount(): number {
    return this.#requests.size;
  }

  /**
   * The server item for a JID (normalised key). It may be the entry itself (see `#itemsApart`):
   * read its item fields only.
   */
  item(jid: string): RosterItem | undefined {
    return (this.#itemsApart.size === 0 ? undefined : this.#itemsApart.get(jid)) ?? this.#entries.get(jid);
  }

  /** Runs `fn` and notifies listeners once if anything changed. Nested calls notify once. */
  batch<T>(fn: () => T): T {
    return this.#notify.batch(fn);
  }

  /**
   * Holds listener notifications until the current synchronous run of code ends (a microtask),
   * or until the notification window is up, so the roster pushes or requests of one parsed
   * chunk, or of a burst of WebSocket messages in a browser, notify once (see `Listeners.defer`).
   */
  deferNotifications(): void {
    this.#notify.defer();
  }

  /** Tells listeners now of changes {@link deferNotifications} holds. */
  flushNotifications(): void {
    this.#notify.flush();
  }

  /**
   * Replaces every item with a full roster result (RFC 6121 §2.1.4); returns what changed.
   * `reportFirst: false` leaves out the changes of a first roster (the store held no item), where
   * every item is new: the caller knows nothing needs them, and at 100 000 items they are 100 000
   * objects made for nobody.
   */
  replaceItems(items: readonly RosterItem[], version: string | undefined, reportFirst = true): ItemChange[] {
    return this.batch(() => {
      const changes: ItemChange[] = [];
      if (this.#entries.size === 0) {
        this.#firstItems(items, reportFirst ? changes : undefined);
        this.#setVersion(version);
        this.#setSource("server");
        this.#setReady(true);
        this.onMutation({ kind: "replace", roster: this.#cached() });
        return changes;
      }
      const inStep = this.#changedInStep(items);
      if (inStep !== undefined) {
        for (const item of inStep) {
          const change = this.#setItem(item.jid, item, true);
          if (change) changes.push(change);
        }
        return this.#replaced(changes, version);
      }
      // Written in the result's order, then what it does not name is dropped (reported first).
      // Nothing to drop when it names as many JIDs as the store now holds (all of them): no scan
      // of the roster for the usual re-fetch of an unchanged one.
      const named = new Set<string>();
      for (const item of items) named.add(item.jid);
      // A JID the result repeats: its last item, at its first place (as a map of the result).
      const unique = named.size === items.length ? items : [...new Map(items.map((item) => [item.jid, item])).values()];
      const written: ItemChange[] = [];
      for (const item of unique) {
        const change = this.#setItem(item.jid, item, true);
        if (change) written.push(change);
      }
      if (this.#entries.size !== named.size) {
        for (const jid of [...this.#entries.keys()]) {
          const change = named.has(jid) ? undefined : this.#setItem(jid, undefined);
          if (change) changes.push(change);
        }
      }
      for (const change of written) changes.push(change);
      return this.#replaced(changes, version);
    });
  }

  /** The end of {@link replaceItems} into a held roster: version, source, ready, the cache. */
  #replaced(changes: ItemChange[], version: string | undefined): ItemChange[] {
    // The same roster at the same version: the cache holds it already (no 100k-item rewrite).
    const same = changes.length === 0 && version === this.#version;
    this.#setVersion(version);
    this.#setSource("server");
    this.#setReady(true);
    if (!same) this.onMutation({ kind: "replace", roster: this.#cached() });
    return changes;
  }

  /**
   * When `items` names exactly the held JIDs in the held order, the items that differ from what
   * is held; otherwise `undefined`. Servers list a roster the same way on every fetch while it is
   * unchanged, and ejabberd 23.01 keeps its order through a rename too (Prosody 0.12 listed a
   * 500-item roster in another order from its 22nd item after one). The two lists are walked side by side: no hash lookup per item
   * and no set of the result's JIDs, which were most of a re-fetch's cost in the store (reading
   * 100 000 entries in the map's own order keeps to memory read in sequence). Nothing is written,
   * so a result in another order costs a walk up to its first difference before the general way.
   */
  #changedInStep(items: readonly RosterItem[]): RosterItem[] | undefined {
    // Items kept apart from their entries (see #writeEntry) are compared through item(): not here.
    if (items.length !== this.#entries.size || this.#itemsApart.size > 0) return undefined;
    const changed: RosterItem[] = [];
    let index = 0;
    for (const [jid, entry] of this.#entries) {
      const item = items[index++] as RosterItem;
      if (item.jid !== jid) return undefined;
      if (!sameItem(entry, item)) changed.push(item);
    }
    return changed;
  }

  /**
   * The first roster of a session (the store holds no item): every item is new, so there is
   * nothing to remove or compare, and no second map of the result is needed. A JID the result
   * repeats ends as it would through a Map: the last item wins, at the first one's place.
   */
  #firstItems(items: readonly RosterItem[], changes: ItemChange[] | undefined): void {
    let byJid: Map<string, ItemChange> | undefined; // only built if the result repeats a JID
    // Usually nothing is pending or pre-approved yet: every entry is its item plus two fields.
    const plain = this.#requests.size === 0 && this.#preApprovals.size === 0;
    const entries = this.#entries;
    // Items that are not entries yet (a cache's): their one-group lists shared per name.
    const sharedGroups = new Map<string, readonly string[]>();
    this.#entriesOut.beforeWrite();
    for (const item of items) {
      const { jid } = item;
      let isNew: boolean;
      if (plain) {
        // A roster result's items are entries with nothing pending in already (parseRosterQuery).
        // One hash lookup per item: a repeated JID shows as a map that did not grow, and the
        // last item has then replaced the first in place, as #writeEntry would have.
        const size = entries.size;
        entries.set(jid, isRosterEntry(item) && !item.pendingIn ? item : entryOf(item, false, item.approved, sharedGroups));
        isNew = entries.size > size;
      } else {
        isNew = !entries.has(jid);
        if (!isNew && sameItem(this.item(jid), item)) continue;
        this.#writeEntry(jid, item);
      }
      if (changes === undefined) continue;
      if (isNew) {
        changes.push({ jid, before: undefined, after: plainItem(item) });
      } else {
        byJid ??= new Map(changes.map((change) => [change.jid, change]));
        (byJid.get(jid) as ItemChange).after = plainItem(item);
      }
    }
    this.#entriesOut.markAll();
    this.#touch();
  }

  /** Fills the store from a cache (RFC 6121 §2.6): `source: "cache"`, not ready until the server answers. */
  loadCache(cached: CachedRoster): void {
    this.batch(() => {
      // Into an empty store (the usual case: a cache loads before the first roster), the first
      // roster's path: no lookup, comparison or change record per item of a large cache.
      if (this.#entries.size === 0) this.#firstItems(cached.items, undefined);
      else for (const item of cached.items) this.#setItem(item.jid, item);
      for (const request of cached.requests) if (!this.#requests.has(request.from)) this.#requests.set(request.from, request);
      for (const request of cached.requests) this.#requestsOut.mark(request.from);
      for (const intent of cached.preApprovals) {
        this.#preApprovals.set(intent.jid, intent);
        this.#preApprovalsOut.mark(intent.jid);
      }
      for (const jid of [...cached.requests.map((r) => r.from), ...cached.preApprovals.map((i) => i.jid)]) this.#refreshEntry(jid);
      this.#setVersion(cached.version);
      this.#setSource("cache");
      this.#touch();
    });
  }

  /** The server answered "your version is current" (§2.6.3): the cached entries are confirmed. */
  confirmCache(): void {
    this.batch(() => {
      this.#setSource("server");
      this.#setReady(true);
    });
  }

  /** The pre-approval intent for a JID (normalised key). */
  preApproval(jid: string): PreApprovalIntent | undefined {
    return this.#preApprovals.get(jid);
  }

  /** Records or (with `undefined`) forgets a pre-approval intent. */
  setPreApproval(jid: string, intent: PreApprovalIntent | undefined): void {
    if (intent === undefined && !this.#preApprovals.has(jid)) return;
    this.batch(() => {
      if (intent === undefined) this.#preApprovals.delete(jid);
      else this.#preApprovals.set(jid, intent);
      this.#preApprovalsOut.mark(jid);
      this.#touch();
      this.#refreshEntry(jid);
    });
    this.onMutation({ kind: "pre-approval", jid, intent });
  }

  #cached(): CachedRoster {
    // Entries stand for their items (storage keeps an item's known fields only), except those apart.
    const items: RosterItem[] = [...this.#entries.values()];
    if (this.#itemsApart.size > 0) for (let i = 0; i < items.length; i++) items[i] = this.item((items[i] as RosterItem).jid) as RosterItem;
    return {
      version: this.#version,
      // Every item here is frozen (entries, and the items apart): the list can be sealed.
      items: sealItems(items),
      requests: [...this.#requests.values()],
      preApprovals: [...this.#preApprovals.values()],
    };
  }

  #setSource(source: "cache" | "server"): void {
    if (this.#source === source) return;
    this.#source = source;
    this.#touch();
  }

  /** Applies one roster push (§2.1.6): an item, or `undefined` for a removal. */
  applyPush(jid: string, item: RosterItem | undefined, version: string | undefined): ItemChange | undefined {
    const change = this.batch(() => {
      const change = this.#setItem(jid, item);
      if (version !== undefined) this.#setVersion(version);
      return change;
    });
    // Item and version persist together (V-07). A push before this session's result is not
    // known to sit on the cached version, so it leaves the cache unversioned.
    const persistVersion = this.#source === "server" && this.#ready ? version : undefined;
    if (change || version !== undefined) this.onMutation({ kind: "item", jid, item, version: persistVersion });
    return change;
  }

  /** Records a pending-in request; returns false when one from that JID is already pending. */
  addRequest(request: SubscriptionRequest): boolean {
    if (this.#requests.has(request.from)) return false;
    this.batch(() => {
      this.#requests.set(request.from, request);
      this.#requestsOut.mark(request.from);
      this.#touch();
      this.#refreshEntry(request.from);
    });
    this.onMutation({ kind: "request", jid: request.from, request });
    return true;
  }

  /** Forgets the pending-in request from a JID; returns the removed request. */
  removeRequest(jid: string): SubscriptionRequest | undefined {
    const request = this.#requests.get(jid);
    if (request === undefined) return undefined;
    this.batch(() => {
      this.#requests.delete(jid);
      this.#requestsOut.mark(jid);
      this.#touch();
      this.#refreshEntry(jid);
    });
    this.onMutation({ kind: "request", jid, request: undefined });
    return request;
  }

  /** Replaces the blocklist (XEP-0191 §3.2), or adds/removes JIDs from it (§3.3–§3.4 pushes). */
  updateBlocked(change: { replace?: readonly string[]; add?: readonly string[]; remove?: readonly string[] | "all" }): void {
    this.batch(() => {
      const next = new Set(change.replace ?? this.#blocked);
      for (const jid of change.add ?? []) next.add(jid);
      if (change.remove === "all") next.clear();
      else for (const jid of change.remove ?? []) next.delete(jid);
      if (next.size === this.#blocked.size && [...next].every((jid) => this.#blocked.has(jid))) return;
      this.#blocked = next;
      this.#blockedOut = undefined;
      this.#touch();
    });
  }

  /** Whether a JID is blocked. */
  isBlocked(jid: string): boolean {
    return this.#blocked.has(jid);
  }

  /** Marks the roster as not (yet) reflecting the server, e.g. while reconnecting. */
  setReady(ready: boolean): void {
    this.batch(() => this.#setReady(ready));
  }

  #setReady(ready: boolean): void {
    if (this.#ready === ready) return;
    this.#ready = ready;
    this.#touch();
  }

  #setVersion(version: string | undefined): void {
    if (this.#version === version) return;
    this.#version = version;
    this.#touch();
  }

  /**
   * Writes the item of `jid`; returns the change, or `undefined` when it is the same. `copy`: the
   * item's JID and name may be views into a parsed roster result (parseRosterQuery), so what is
   * kept is copied first (see detach), and only for an item that changed: an unchanged one is
   * dropped with its result.
   */
  #setItem(jid: string, item: RosterItem | undefined, copy = false): ItemChange | undefined {
    const stored = this.item(jid);
    if (sameItem(stored, item)) return undefined; // redundant pushes are normal (Prosody, ejabberd)
    if (copy && item !== undefined) {
      item = itemOf(item, true);
      jid = item.jid;
    }
    // A pending-in request lives on after the item goes: a requester need not be in the roster.
    this.#writeEntry(jid, item);
    // Events carry items as the server sent them, not the entry that stood for one.
    return { jid, before: stored && itemOf(stored), after: item && plainItem(item) };
  }

  /** Rebuilds the entry of `jid` from its stored item (after its request or pre-approval changed). */
  #refreshEntry(jid: string): void {
    this.#writeEntry(jid, this.item(jid));
  }

  /** Makes `item` the item of `jid` (`undefined`: it has none) and rebuilds the entry. */
  #writeEntry(jid: string, item: RosterItem | undefined): void {
    if (item === undefined) {
      if (this.#itemsApart.size > 0) this.#itemsApart.delete(jid);
      if (this.#entries.has(jid)) {
        this.#entriesOut.beforeWrite();
        this.#entries.delete(jid);
        this.#entriesOut.mark(jid);
        this.#touch();
      }
      return;
    }
    const pendingIn = this.#requests.has(jid);
    const approved = item.approved || this.#preApprovals.has(jid);
    const entry = entryOf(item, pendingIn, approved);
    // Kept frozen, with the entry's frozen group list (rosterEntry), like the entries themselves.
    if (approved !== item.approved) this.#itemsApart.set(jid, Object.freeze({ ...itemOf(item), groups: entry.groups }));
    else if (this.#itemsApart.size > 0) this.#itemsApart.delete(jid);
    this.#entriesOut.beforeWrite();
    this.#entries.set(jid, entry);
    this.#entriesOut.mark(jid);
    this.#touch();
  }

  #touch(): void {
    this.#snapshot = undefined;
    this.#notify.changed();
  }

}

/** The entry for `item` with what the store knows beyond it. */
function entryOf(item: RosterItem, pendingIn: boolean, approved: boolean, sharedGroups?: Map<string, readonly string[]>): RosterEntry {
  // Not on the first roster's path (its items are the codec's entries): the check costs there.
  return rosterEntry(item.jid, item.name, frozenGroups(item.groups, sharedGroups), item.subscription, item.pendingOut, approved, pendingIn);
}

/** `item` as an item only: a roster result's items are entries too (parseRosterQuery). */
function plainItem(item: RosterItem): RosterItem {
  return isRosterEntry(item) ? itemOf(item) : item;
}

/**
 * Just the item fields of `item` (which may be an entry standing for its item). `copy`: its JID
 * and name copied out of the string they may be cut from (see detach).
 */
function itemOf(item: RosterItem, copy = false): RosterItem {
  const { name, groups, subscription, pendingOut, approved } = item;
  const jid = copy ? detach(item.jid) : item.jid;
  return name === undefined ? { jid, groups, subscription, pendingOut, approved } : { jid, name: copy ? detach(name) : name, groups, subscription, pendingOut, approved };
}

function sameItem(a: RosterItem | undefined, b: RosterItem | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (
    a.jid !== b.jid ||
    a.name !== b.name ||
    a.subscription !== b.subscription ||
    a.pendingOut !== b.pendingOut ||
    a.approved !== b.approved ||
    a.groups.length !== b.groups.length
  ) {
    return false;
  }
  // A loop, not every() with a closure: a re-fetch compares every item (see #changedInStep).
  for (let i = 0; i < a.groups.length; i++) if (a.groups[i] !== b.groups[i]) return false;
  return true;
}
