/**
 * The observable presence of roster contacts, of other entities we talk to, and of our own
 * other resources, per resource. Same store contract as the roster store: `getSnapshot` returns
 * the same frozen object until something changes, `subscribe` calls at once and on change,
 * `listen` only on change, and every method is an arrow property, so
 * `useSyncExternalStore(presence.listen, presence.getSnapshot)` works.
 *
 * Each stanza costs O(resources of that entity), not O(contacts): per-entity records are
 * replaced only when they change (so unchanged ones stay identical across snapshots), and the
 * snapshot maps are {@link SnapshotMap}s that share structure with the previous snapshot.
 */
import { PresenceError, PresenceErrorCode } from "../errors.js";
import { Listeners } from "../observable.js";
import { bareKey } from "../bare-key.js";
import { detach } from "../detach.js";
import { bestResource, type ParsedPresence, type ResourcePresence } from "./model.js";
import { SnapshotMapWriter } from "../snapshot-map.js";
import { ResourceMap } from "./resource-map.js";

/**
 * Where a presence belongs, as the client decides it: a roster contact, another entity
 * (directed presence, a conversation partner: RFC 6121 §4.2.4 / rfc6121-client P-03), or one
 * of our own resources (§4.2.2, P-02).
 */
export const PresenceKind = {
  Contact: "contact",
  Other: "other",
  Own: "own",
} as const;
/** One of the {@link PresenceKind} values. */
export type PresenceKind = (typeof PresenceKind)[keyof typeof PresenceKind];

/**
 * What we know of one entity's presence. An entity we have heard nothing from has no record
 * at all ("unknown"); a record with no resources means it told us it is offline.
 */
export interface ContactPresence {
  /** Normalised bare JID. */
  readonly jid: string;
  /**
   * Its available resources by resourcepart (`""` for presence from the bare JID). A read-only
   * map that never changes (an array underneath, not a `Map` instance: copy with `new Map(...)`
   * when a real one is needed).
   */
  readonly resources: ReadonlyMap<string, ResourcePresence>;
  /** The resource {@link bestResource} picks; absent when none is available. */
  readonly best?: ResourcePresence;
  /** True when at least one resource is available. */
  readonly available: boolean;
}

/**
 * An immutable view of all presence at one moment. `contacts` and `others` are read-only maps
 * that share structure between snapshots (not `Map` instances: copy with `new Map(...)` when a
 * real one is needed); their iteration order carries no meaning.
 */
export interface PresenceSnapshot {
  /** Roster contacts by normalised bare JID. */
  readonly contacts: ReadonlyMap<string, ContactPresence>;
  /**
   * Entities outside the roster by normalised bare JID, at most `maxOthers` of them: the least
   * recently updated is forgotten first.
   */
  readonly others: ReadonlyMap<string, ContactPresence>;
  /** Our own other resources by resourcepart (RFC 6121 §4.2.2: the server reflects our presence). */
  readonly own: ReadonlyMap<string, ResourcePresence>;
}

/** A listener of the presence store. */
export type PresenceListener = (snapshot: PresenceSnapshot) => void;

/**
 * The read side of presence, as the app sees it.
 *
 * @example
 * ```tsx
 * const snapshot = useSyncExternalStore(client.presence.listen, client.presence.getSnapshot);
 * const bob = snapshot.contacts.get("bob@example.com");
 * bob?.available ? bob.best?.show : "offline";
 * ```
 */
export interface PresenceStore {
  /** The current snapshot; the same object until something changes. */
  readonly getSnapshot: () => PresenceSnapshot;
  /** Calls `listener` now and after every change; returns the function that stops it. */
  readonly subscribe: (listener: PresenceListener) => () => void;
  /** Calls `listener` after every change (not now); returns the function that stops it. */
  readonly listen: (listener: PresenceListener) => () => void;
  /**
   * The available resources of a contact or other entity (JID in any form; compared in
   * normalised bare form): an empty map when it said it is offline, `undefined` when unknown.
   */
  readonly get: (jid: string) => ReadonlyMap<string, ResourcePresence> | undefined;
  /** The best resource ({@link bestResource}) of a contact or other entity, or `undefined`. */
  readonly best: (jid: string) => ResourcePresence | undefined;
}

/** Options of {@link PresenceStoreImpl}. */
export interface PresenceStoreOptions {
  /** How many non-roster entities to remember (least recently updated go first; 0 keeps none). Default 500. */
  maxOthers?: number;
  /** Receives errors thrown by listeners (they never stop the others). Default: `console.error`. */
  onListenerError?: (error: unknown) => void;
  /** The listeners' notification window, ms (see `Listeners.defer`). Default 0. */
  notificationWindowMs?: number;
}

/** The default of {@link PresenceStoreOptions.maxOthers}. */
export const DEFAULT_MAX_OTHERS = 500;

const NO_RESOURCES = ResourceMap.EMPTY;

/**
 * The store with its write side, used by the client only. Write methods return whether
 * anything changed; listeners hear of it once per write (or once per {@link batch}).
 */
export class PresenceStoreImpl implements PresenceStore {
  // Records are frozen and replaced on change; `#others` is kept in least-recently-updated
  // order (Map insertion order, re-inserted on update) so eviction is O(1).
  readonly #contacts = new Map<string, ContactPresence>();
  readonly #others = new Map<string, ContactPresence>();
  #own: ResourceMap = NO_RESOURCES;
  readonly #contactsOut = new SnapshotMapWriter(this.#contacts);
  readonly #othersOut = new SnapshotMapWriter(this.#others);
  readonly #maxOthers: number;
  readonly #onListenerError: (error: unknown) => void;
  readonly #notify = new Listeners<PresenceSnapshot>(
    () => this.getSnapshot(),
    (error) => this.#onListenerError(error),
  );
  #snapshot: PresenceSnapshot | undefined;

  constructor(options: PresenceStoreOptions = {}) {
    const { maxOthers = DEFAULT_MAX_OTHERS, onListenerError = (error) => console.error(error), notificationWindowMs = 0 } = options;
    this.#notify.windowMs = notificationWindowMs;
    if (!Number.isSafeInteger(maxOthers) || maxOthers < 0) {
      throw new PresenceError(PresenceErrorCode.InvalidArgument, `maxOthers must be a non-negative integer, not ${maxOthers}`);
    }
    this.#maxOthers = maxOthers;
    this.#onListenerError = onListenerError;
  }

  readonly getSnapshot = (): PresenceSnapshot => {
    this.#snapshot ??= Object.freeze({
      contacts: this.#contactsOut.snapshot(),
      others: this.#othersOut.snapshot(),
      own: this.#own,
    });
    return this.#snapshot;
  };

  readonly listen = this.#notify.listen;
  readonly subscribe = this.#notify.subscribe;

  readonly get = (jid: string): ReadonlyMap<string, ResourcePresence> | undefined => this.#find(jid)?.resources;

  readonly best = (jid: string): ResourcePresence | undefined => this.#find(jid)?.best;

  /**
   * {@link apply} for an entity whose presence is on record as a roster contact's, or
   * `undefined` (nothing done) when it is not. Most stanzas of a presence flood come this way:
   * one lookup both answers whether the record is there and gives the record to update.
   */
  applyToContact(parsed: ParsedPresence): boolean | undefined {
    const current = this.#contacts.get(parsed.bare);
    return current === undefined ? undefined : this.#update(parsed, PresenceKind.Contact, current, undefined);
  }

  /** Runs `fn` and notifies listeners once if anything changed. Nested calls notify once. */
  batch<T>(fn: () => T): T {
    return this.#notify.batch(fn);
  }

  /**
   * Holds listener notifications until the current synchronous run of code ends (a microtask),
   * or until the notification window is up, so the presences of one parsed chunk, or of a burst
   * of WebSocket messages in a browser, notify once (see `Listeners.defer`).
   */
  deferNotifications(): void {
    this.#notify.defer();
  }

  /** Tells listeners now of changes {@link deferNotifications} holds. */
  flushNotifications(): void {
    this.#notify.flush();
  }

  /**
   * Applies one parsed presence (RFC 6121 §4.4.2, §4.5.2) to a contact, another entity or our
   * own resources, as the client classified it. An `available` presence sets that resource; an
   * `unavailable` one from a full JID removes that resource; an `unavailable` from a *bare* JID
   * removes all the entity's resources (§4.5.4, P-07). A presence that repeats the resource's
   * show, status and priority changes nothing (XEP-0198 replays are idempotent, P-14).
   *
   * The store applies whatever it is given: the client must itself drop the bare-JID
   * `unavailable` a server may send to acknowledge our `subscribe` (§3.1.3 #3; Prosody does),
   * which is not presence information (S-06).
   *
   * A contact or other entity moves to `kind` if it was recorded under the other kind.
   */
  apply(parsed: ParsedPresence, kind: PresenceKind): boolean {
    if (kind === PresenceKind.Own) {
      const next = nextResources(this.#own, parsed);
      if (next === this.#own) return false;
      return this.batch(() => {
        this.#own = next;
        this.#touch();
        return true;
      });
    }
    const key = parsed.bare;
    if (kind === PresenceKind.Other && this.#maxOthers === 0) return this.clearContact(key); // nothing kept
    const here = kind === PresenceKind.Contact ? this.#contacts : this.#others;
    const there = kind === PresenceKind.Contact ? this.#others : this.#contacts;
    const current = here.get(key);
    return this.#update(parsed, kind, current, current === undefined ? there.get(key) : undefined);
  }

  /**
   * Applies `parsed` to the record of its entity held as `kind` (`current`), or to the one held
   * as the other kind (`moving`, which moves over), or to none.
   */
  #update(
    parsed: ParsedPresence,
    kind: Exclude<PresenceKind, typeof PresenceKind.Own>,
    current: ContactPresence | undefined,
    moving: ContactPresence | undefined,
  ): boolean {
    const key = parsed.bare;
    const before = current ?? moving;
    // Every record's resources come from contactPresence(), so they are ResourceMaps.
    const resources = nextResources(before?.resources as ResourceMap | undefined, parsed);
    if (moving === undefined && before !== undefined && resources === before.resources) {
      if (kind === PresenceKind.Other) this.#setOther(before); // still counts as recent use
      return false;
    }
    this.#notify.hold();
    try {
      // Held as the other kind until now: it moves over.
      if (moving !== undefined) this.#delete(key, kind === PresenceKind.Contact ? this.#others : this.#contacts);
      // A key new to the store is copied (see detach); a known one reuses the stored copy.
      const record =
        before !== undefined && resources === before.resources ? before : contactPresence(before?.jid ?? detach(key), resources);
      if (kind === PresenceKind.Contact) this.#setContact(record);
      else this.#setOther(record);
      this.#touch();
      return true;
    } finally {
      this.#notify.release();
    }
  }

  /**
   * Forgets a contact's (or other entity's) presence at once: after we send `unsubscribe`, or
   * get the push it causes, all presence from them is "null and void" (RFC 6121 §3.3.3, S-17).
   * Its state becomes unknown, not offline.
   */
  clearContact(jid: string): boolean {
    const key = this.#key(jid);
    if (key === undefined) return false;
    return this.batch(() => {
      const removed = this.#delete(key, this.#contacts) || this.#delete(key, this.#others);
      if (removed) this.#touch();
      return removed;
    });
  }

  /**
   * Forgets all presence, our own resources' included, notifying listeners once: when the
   * session ends without resumption, or after we sent `unavailable` (P-13). Everyone is
   * unknown, so unavailable, until the next session's presence arrives.
   */
  clearAll(): boolean {
    if (this.#contacts.size === 0 && this.#others.size === 0 && this.#own.size === 0) return false;
    return this.batch(() => {
      this.#contacts.clear();
      this.#others.clear();
      this.#own = NO_RESOURCES;
      this.#contactsOut.markAll();
      this.#othersOut.markAll();
      this.#touch();
      return true;
    });
  }

  /** Moves an entity's presence from "others" to "contacts" when it enters the roster. */
  promote(jid: string): boolean {
    if (this.#others.size === 0) return false; // every item of a roster result lands here
    const key = this.#key(jid);
    const record = key === undefined ? undefined : this.#others.get(key);
    if (key === undefined || record === undefined) return false;
    return this.batch(() => {
      this.#delete(key, this.#others);
      this.#setContact(record);
      this.#touch();
      return true;
    });
  }

  /**
   * Moves a contact's presence to "others" (as the most recently updated) when it leaves the
   * roster; the oldest other entity may be forgotten to make room.
   */
  demote(jid: string): boolean {
    const key = this.#key(jid);
    const record = key === undefined ? undefined : this.#contacts.get(key);
    if (key === undefined || record === undefined) return false;
    return this.batch(() => {
      this.#delete(key, this.#contacts);
      this.#setOther(record);
      this.#touch();
      return true;
    });
  }

  #find(jid: string): ContactPresence | undefined {
    // Fast path for keys already in normalised form (what snapshots hand out).
    const direct = this.#contacts.get(jid) ?? this.#others.get(jid);
    if (direct !== undefined) return direct;
    const key = bareKey(jid);
    return key === undefined || key === jid ? undefined : (this.#contacts.get(key) ?? this.#others.get(key));
  }

  #key(jid: string): string | undefined {
    return this.#contacts.has(jid) || this.#others.has(jid) ? jid : bareKey(jid);
  }

  // Keys are the records' own `jid` (a detached copy), never the caller's string, which may be a
  // view into a parsed socket chunk (see detach).
  #setContact(record: ContactPresence): void {
    this.#contacts.set(record.jid, record);
    this.#contactsOut.mark(record.jid);
  }

  #setOther(record: ContactPresence): void {
    // Re-insert so Map order stays least-recently-updated first; then evict from the front.
    const key = record.jid;
    const existing = this.#others.get(key);
    this.#others.delete(key);
    this.#others.set(key, record);
    if (existing !== record) this.#othersOut.mark(key);
    while (this.#others.size > this.#maxOthers) {
      const oldest = this.#others.keys().next();
      if (oldest.done) break;
      this.#delete(oldest.value, this.#others);
    }
  }

  #delete(key: string, from: Map<string, ContactPresence>): boolean {
    const record = from.get(key);
    if (record === undefined) return false;
    from.delete(key);
    (from === this.#contacts ? this.#contactsOut : this.#othersOut).mark(record.jid);
    return true;
  }

  #touch(): void {
    this.#snapshot = undefined;
    this.#notify.changed();
  }

}

/**
 * The resources after `parsed`, or `current` itself when nothing changes. Never mutates
 * `current`: maps handed out in records and snapshots stay as they were.
 */
function nextResources(current: ResourceMap | undefined, parsed: ParsedPresence): ResourceMap {
  const { resource } = parsed;
  if (parsed.type === "unavailable") {
    if (resource === "") return current !== undefined && current.size === 0 ? current : NO_RESOURCES;
    if (current === undefined) return NO_RESOURCES; // heard from, and offline
    return current.without(resource);
  }
  const existing = current?.get(resource);
  if (
    existing !== undefined &&
    existing.show === parsed.show &&
    existing.status === parsed.status &&
    existing.priority === parsed.priority
  ) {
    return current as ResourceMap;
  }
  // Kept until replaced: copies, not views into the parsed socket chunk (see detach). A known
  // resource keeps its stored name.
  const name = existing?.resource ?? detach(resource);
  const { status } = parsed;
  const presence: ResourcePresence = Object.freeze(
    status === undefined
      ? { resource: name, show: parsed.show, priority: parsed.priority, receivedAt: parsed.receivedAt }
      : {
          resource: name,
          show: parsed.show,
          status: existing?.status === status ? existing.status : detach(status),
          priority: parsed.priority,
          receivedAt: parsed.receivedAt,
        },
  );
  return (current ?? NO_RESOURCES).with(presence);
}

function contactPresence(jid: string, resources: ResourceMap): ContactPresence {
  const best = bestResource(resources.toArray());
  return Object.freeze(best === undefined ? { jid, resources, available: false } : { jid, resources, best, available: true });
}
