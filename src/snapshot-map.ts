/**
 * Immutable map snapshots that cost O(changes), not O(size), to take. A presence flood over
 * thousands of contacts, or roster pushes into a 100 000-contact roster, hand out a snapshot per
 * notification; copying the whole `Map` each time would make them quadratic.
 *
 * Snapshots of one "epoch" share a base `Map` (never changed) and a version history per changed
 * key (append-only); a snapshot is the base plus the versions up to its sequence number. When
 * the history outgrows the live map, the next snapshot starts a new epoch from a copy of the
 * live map, so the copying costs O(1) per change, amortised. Old snapshots keep their epoch.
 */

const DELETED: unique symbol = Symbol("deleted");

/**
 * A key's changes in an epoch: `[seq, value, seq, value, …]` in ascending `seq`, only ever
 * appended to. Flat pairs rather than an object per version: a presence flood records one
 * version per changed contact per notification, and those objects were a visible share of its
 * garbage-collection work.
 */
type Versions<V> = Array<number | V | typeof DELETED>;

interface Epoch<K, V> {
  /**
   * The entries when the epoch began; never changed. It may be the live map itself until the
   * next write (copy on write, see {@link SnapshotMapWriter.beforeWrite}); then it is replaced
   * by a copy with the same entries, so snapshots of the epoch never see a difference.
   */
  base: ReadonlyMap<K, V>;
  /** Changes since, per key. */
  readonly history: Map<K, Versions<V>>;
}

/** "No version at or before the sequence number": the base entry holds. */
const NONE: unique symbol = Symbol("none");

/**
 * A read-only map that never changes. Iteration yields the entries that existed when the
 * epoch began, then those added since; do not rely on the order.
 */
export class SnapshotMap<K, V> implements ReadonlyMap<K, V> {
  readonly #epoch: Epoch<K, V>;
  readonly #seq: number;
  /** The number of entries. */
  readonly size: number;

  /** Built by {@link SnapshotMapWriter}; `size` must match what the epoch holds at `seq`. */
  constructor(epoch: Epoch<K, V>, seq: number, size: number) {
    this.#epoch = epoch;
    this.#seq = seq;
    this.size = size;
    Object.freeze(this);
  }

  get(key: K): V | undefined {
    const value = this.#lookup(key);
    return value === DELETED ? undefined : value;
  }

  has(key: K): boolean {
    const value = valueAt(this.#epoch.history.get(key), this.#seq);
    return value === NONE ? this.#epoch.base.has(key) : value !== DELETED;
  }

  *entries(): MapIterator<[K, V]> {
    const epoch = this.#epoch;
    const { history } = epoch;
    let base = epoch.base;
    let iterator = base.entries();
    let position = 0;
    for (;;) {
      // A base shared with the live map (copy on write) is replaced by its copy just before the
      // live map changes: an iteration paused meanwhile goes on in the copy, at the same place.
      if (epoch.base !== base) {
        base = epoch.base;
        iterator = base.entries();
        for (let i = 0; i < position; i++) iterator.next();
      }
      const step = iterator.next();
      if (step.done) break;
      position++;
      const [key, value] = step.value;
      const version = valueAt(history.get(key), this.#seq);
      if (version === NONE) yield [key, value];
      else if (version !== DELETED) yield [key, version];
    }
    for (const [key, versions] of history) {
      if (epoch.base.has(key)) continue;
      const version = valueAt(versions, this.#seq);
      if (version !== NONE && version !== DELETED) yield [key, version];
    }
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  get [Symbol.toStringTag](): string {
    return "SnapshotMap";
  }

  #lookup(key: K): V | typeof DELETED | undefined {
    const value = valueAt(this.#epoch.history.get(key), this.#seq);
    return value === NONE ? this.#epoch.base.get(key) : value;
  }
}

/** The value of the last version at or before `seq` (usually the last one; else a binary search). */
function valueAt<V>(versions: Versions<V> | undefined, seq: number): V | typeof DELETED | typeof NONE {
  if (versions === undefined) return NONE;
  const count = versions.length >> 1;
  if ((versions[2 * (count - 1)] as number) <= seq) return versions[2 * count - 1] as V | typeof DELETED;
  let low = 0; // invariant: the answer's index is below `high`, and version low - 1 has seq <= seq
  let high = count - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((versions[2 * mid] as number) <= seq) low = mid + 1;
    else high = mid;
  }
  return low === 0 ? NONE : (versions[2 * low - 1] as V | typeof DELETED);
}

/**
 * Publishes snapshots of a live `Map` that its owner mutates: call {@link mark} with every key
 * set or deleted (or {@link markAll}), and {@link snapshot} returns the same `SnapshotMap` until
 * something was marked. The live map never holds `undefined` as a value (the stores keep records).
 */
export class SnapshotMapWriter<K, V> {
  #epoch: Epoch<K, V> = { base: new Map(), history: new Map() };
  #seq = 0;
  #versions = 0;
  #current: SnapshotMap<K, V> = new SnapshotMap(this.#epoch, 0, 0);
  #dirty = new Set<K>();
  #all = false;
  /** The epoch's base is the live map: copy it before the live map changes. */
  #shared = false;

  /**
   * `copyOnWrite`: the owner calls {@link beforeWrite} before every change to the live map, so
   * a full snapshot (after {@link markAll}, e.g. a whole roster result) can share the live map
   * instead of copying it, and the copy is made only if and when the map changes again.
   */
  constructor(
    private readonly live: ReadonlyMap<K, V>,
    private readonly copyOnWrite = false,
  ) {}

  /** With `copyOnWrite`: call before each change to the live map (O(1) unless a copy is due). */
  beforeWrite(): void {
    if (!this.#shared) return;
    this.#shared = false;
    this.#epoch.base = new Map(this.live);
  }

  /** Notes that the live value of `key` may have changed. */
  mark(key: K): void {
    if (this.#all) return;
    this.#dirty.add(key);
    // When most keys changed (a roster result), a copy is cheaper than versions: stop tracking.
    if (this.#dirty.size > 64 && this.#dirty.size * 2 > this.live.size) this.markAll();
  }

  /** Notes that anything may have changed (the next snapshot copies the live map). */
  markAll(): void {
    this.#all = true;
    this.#dirty.clear();
  }

  /** An immutable copy of the live map as it is now. */
  snapshot(): SnapshotMap<K, V> {
    if (!this.#all && this.#dirty.size === 0) return this.#current;
    if (this.#all || this.#versions + this.#dirty.size > Math.max(64, this.live.size)) {
      this.#shared = this.copyOnWrite;
      this.#epoch = { base: this.copyOnWrite ? this.live : new Map(this.live), history: new Map() };
      this.#seq = 0;
      this.#versions = 0;
    } else {
      const seq = this.#seq + 1;
      const { base, history } = this.#epoch;
      for (const key of this.#dirty) {
        // One lookup per map: values are never `undefined` (see the class comment).
        const value = this.live.get(key) ?? DELETED;
        const versions = history.get(key);
        const previous = versions !== undefined ? versions[versions.length - 1] : (base.get(key) ?? DELETED);
        if (Object.is(previous, value)) continue;
        if (versions === undefined) history.set(key, [seq, value]);
        else versions.push(seq, value);
        this.#versions++;
      }
      this.#seq = seq;
    }
    this.#current = new SnapshotMap(this.#epoch, this.#seq, this.live.size);
    this.#dirty.clear();
    this.#all = false;
    return this.#current;
  }
}
