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
  /**
   * Every key given a version, in the order of the versions, when the writer keeps this log (see
   * {@link SnapshotMap.changedSince}); none is kept for maps nothing derives views from.
   */
  readonly changed: K[] | undefined;
  /** The base as arrays, made by the first iteration that needs them (see {@link slotsOf}). */
  slots?: BaseSlots<K, V>;
}

/**
 * The epoch's base laid out by position, so that iterating a snapshot with changes reads arrays
 * instead of looking every base key up in the history: that lookup per key made a snapshot of
 * 100 000 entries with 500 changes 15–40× slower to iterate than a Map (bench/snapshot-iterate.ts).
 * Made once per epoch, on the first iteration that finds a history, and kept up to date by
 * {@link SnapshotMapWriter.snapshot} (one lookup per newly changed key) from then on.
 */
interface BaseSlots<K, V> {
  readonly keys: K[];
  readonly values: V[];
  /** Each base key's position. */
  readonly index: Map<K, number>;
  /** Per position, the sequence number of the key's first version in the epoch; 0 for none yet. */
  readonly firstChange: number[];
}

function slotsOf<K, V>(epoch: Epoch<K, V>): BaseSlots<K, V> {
  if (epoch.slots !== undefined) return epoch.slots;
  const keys: K[] = [];
  const values: V[] = [];
  const index = new Map<K, number>();
  for (const [key, value] of epoch.base) {
    index.set(key, keys.length);
    keys.push(key);
    values.push(value);
  }
  const firstChange = new Array<number>(keys.length).fill(0);
  for (const [key, versions] of epoch.history) {
    const position = index.get(key);
    if (position !== undefined) firstChange[position] = versions[0] as number;
  }
  return (epoch.slots = { keys, values, index, firstChange });
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
  /** How much of the epoch's `changed` log this snapshot includes (none without a log). */
  readonly #changes: number | undefined;
  /** The number of entries. */
  readonly size: number;

  /** Built by {@link SnapshotMapWriter}; `size` must match what the epoch holds at `seq`. */
  constructor(epoch: Epoch<K, V>, seq: number, size: number) {
    this.#epoch = epoch;
    this.#seq = seq;
    this.#changes = epoch.changed?.length;
    this.size = size;
    Object.freeze(this);
  }

  /**
   * The keys whose values may differ between `older` and this snapshot (a key may come more than
   * once), or `undefined` when the two do not share an epoch, `older` is the later one, or the
   * writer keeps no change log: then anything may differ. O(changes): what a view derived from snapshots (RosterEditor.groups)
   * needs to update itself instead of deriving everything again.
   *
   * @internal
   */
  changedSince(older: SnapshotMap<K, V>): readonly K[] | undefined {
    const { changed } = this.#epoch;
    if (changed === undefined || older.#epoch !== this.#epoch || (older.#changes as number) > (this.#changes as number)) return undefined;
    return changed.slice(older.#changes, this.#changes);
  }

  get(key: K): V | undefined {
    const value = this.#lookup(key);
    return value === DELETED ? undefined : value;
  }

  has(key: K): boolean {
    const value = valueAt(this.#epoch.history.get(key), this.#seq);
    return value === NONE ? this.#epoch.base.has(key) : value !== DELETED;
  }

  entries(): MapIterator<[K, V]> {
    return new SnapshotIterator(this.#epoch, this.#seq, ENTRIES);
  }

  keys(): MapIterator<K> {
    return new SnapshotIterator(this.#epoch, this.#seq, KEYS);
  }

  values(): MapIterator<V> {
    return new SnapshotIterator(this.#epoch, this.#seq, VALUES);
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    const iterator = new SnapshotIterator<K, V, [K, V]>(this.#epoch, this.#seq, ENTRIES);
    for (let step = iterator.next(); !step.done; step = iterator.next()) callback.call(thisArg, step.value[1], step.value[0], this);
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

const ENTRIES = 0;
const KEYS = 1;
const VALUES = 2;
type IterationKind = typeof ENTRIES | typeof KEYS | typeof VALUES;

/**
 * What `entries()`, `keys()` and `values()` of a {@link SnapshotMap} return. A class rather than
 * generators: a resumption and a `[key, value]` array per entry, and a second generator for
 * `keys()`/`values()`, made a 100 000-entry snapshot 10–40× slower to iterate than a Map, and a
 * UI that lists the roster iterates it on every change (bench/snapshot-iterate.ts).
 *
 * Base entries, then the keys added since the epoch began (in the order they were first
 * changed). A snapshot whose epoch has no history yet is its base, read through the base's own
 * iterator; otherwise the base is read by position from its slots.
 */
class SnapshotIterator<K, V, T> {
  readonly #epoch: Epoch<K, V>;
  readonly #seq: number;
  readonly #kind: IterationKind;
  /** Read by position (the epoch had a history when the iteration began), else undefined. */
  readonly #slots: BaseSlots<K, V> | undefined;
  #base: ReadonlyMap<K, V>;
  #baseEntries: MapIterator<[K, V]> | undefined;
  /** Base entries read so far. */
  #position = 0;
  /** Then the keys added since the epoch began, from its history. */
  #added: MapIterator<[K, Versions<V>]> | undefined;

  constructor(epoch: Epoch<K, V>, seq: number, kind: IterationKind) {
    this.#epoch = epoch;
    this.#seq = seq;
    this.#kind = kind;
    this.#base = epoch.base;
    if (epoch.history.size > 0) this.#slots = slotsOf(epoch);
    else this.#baseEntries = epoch.base.entries();
  }

  next(): IteratorResult<T, undefined> {
    const epoch = this.#epoch;
    const seq = this.#seq;
    if (this.#added === undefined) {
      const slots = this.#slots;
      if (slots !== undefined) {
        const { keys, values, firstChange } = slots;
        while (this.#position < keys.length) {
          const position = this.#position++;
          const changed = firstChange[position] as number;
          // Unchanged up to this snapshot: the base entry, with no lookup.
          if (changed === 0 || changed > seq) return this.#result(keys[position] as K, values[position] as V);
          const key = keys[position] as K;
          const version = valueAt(epoch.history.get(key), seq);
          if (version === NONE) return this.#result(key, values[position] as V);
          if (version !== DELETED) return this.#result(key, version);
        }
      } else {
        // No history when the iteration began, so no slots; one may come while it is paused
        // (its versions are all later than this snapshot). A base shared with the live map (copy
        // on write) is replaced by its copy just before the live map changes: the iteration goes
        // on in the copy, at the same place.
        if (epoch.base !== this.#base) {
          this.#base = epoch.base;
          this.#baseEntries = this.#base.entries();
          for (let i = 0; i < this.#position; i++) this.#baseEntries.next();
        }
        const step = (this.#baseEntries as MapIterator<[K, V]>).next();
        if (!step.done) {
          this.#position++;
          // The base's own [key, value] pair is a fresh array: entries() hands it on as it is.
          const kind = this.#kind;
          return { done: false, value: (kind === VALUES ? step.value[1] : kind === KEYS ? step.value[0] : step.value) as T };
        }
      }
      this.#added = epoch.history.entries();
    }
    for (let step = this.#added.next(); !step.done; step = this.#added.next()) {
      const [key, versions] = step.value;
      if (epoch.base.has(key)) continue;
      const version = valueAt(versions, seq);
      if (version !== NONE && version !== DELETED) return this.#result(key, version);
    }
    // Ended: each further call ends here again.
    return { done: true, value: undefined };
  }

  #result(key: K, value: V): IteratorResult<T, undefined> {
    const kind = this.#kind;
    return { done: false, value: (kind === VALUES ? value : kind === KEYS ? key : [key, value]) as T };
  }

}

// `[Symbol.iterator]() { return this; }`, and the iterator helpers (`.map()`, `.toArray()`, …
// where the runtime has them), as on a Map's own iterators and on generators: all from
// %IteratorPrototype%.
interface SnapshotIterator<K, V, T> {
  [Symbol.iterator](): SnapshotIterator<K, V, T>;
}
Object.setPrototypeOf(SnapshotIterator.prototype, Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object);

/**
 * Publishes snapshots of a live `Map` that its owner mutates: call {@link mark} with every key
 * set or deleted (or {@link markAll}), and {@link snapshot} returns the same `SnapshotMap` until
 * something was marked. The live map never holds `undefined` as a value (the stores keep records).
 */
export class SnapshotMapWriter<K, V> {
  #epoch: Epoch<K, V>;
  #seq = 0;
  #versions = 0;
  #current: SnapshotMap<K, V>;
  /**
   * The keys marked since the last snapshot, a key once per mark: an array, not a Set, because a
   * presence flood marks a key per stanza and a Set's hashing was a visible share of that. The
   * snapshot skips repeats (a repeated key's value equals its last version by then).
   */
  #dirty: K[] = [];
  #all = false;
  /** The epoch's base is the live map: copy it before the live map changes. */
  #shared = false;

  /**
   * `copyOnWrite`: the owner calls {@link beforeWrite} before every change to the live map, so
   * a full snapshot (after {@link markAll}, e.g. a whole roster result) can share the live map
   * instead of copying it, and the copy is made only if and when the map changes again.
   * `changeLog`: snapshots can tell which keys changed between them (SnapshotMap.changedSince),
   * for views derived from them; one array slot per version, so only where such a view exists.
   */
  constructor(
    private readonly live: ReadonlyMap<K, V>,
    private readonly copyOnWrite = false,
    private readonly changeLog = false,
  ) {
    this.#epoch = this.#newEpoch(new Map());
    this.#current = new SnapshotMap(this.#epoch, 0, 0);
  }

  #newEpoch(base: ReadonlyMap<K, V>): Epoch<K, V> {
    return { base, history: new Map(), changed: this.changeLog ? [] : undefined };
  }

  /** With `copyOnWrite`: call before each change to the live map (O(1) unless a copy is due). */
  beforeWrite(): void {
    if (!this.#shared) return;
    this.#shared = false;
    this.#epoch.base = new Map(this.live);
  }

  /** Notes that the live value of `key` may have changed. */
  mark(key: K): void {
    if (this.#all) return;
    const dirty = this.#dirty;
    dirty.push(key);
    // When the marks outnumber half the keys (a roster result), a copy is cheaper than versions:
    // stop tracking. The copy costs O(size), at most twice the marks: O(1) per mark.
    if (dirty.length > 64 && dirty.length * 2 > this.live.size) this.markAll();
  }

  /** Notes that anything may have changed (the next snapshot copies the live map). */
  markAll(): void {
    this.#all = true;
    this.#dirty = [];
  }

  /** An immutable copy of the live map as it is now. */
  snapshot(): SnapshotMap<K, V> {
    if (!this.#all && this.#dirty.length === 0) return this.#current;
    // The epoch's base is still the live map, so nothing was written since it began (beforeWrite
    // comes first): its snapshots already hold what the live map holds. A new epoch sharing the
    // live map too would leave the old one's snapshots reading the next writes.
    if (this.#shared) {
      this.#dirty = [];
      this.#all = false;
      return this.#current;
    }
    if (this.#all || this.#versions + this.#dirty.length > Math.max(64, this.live.size)) {
      this.#shared = this.copyOnWrite;
      this.#epoch = this.#newEpoch(this.copyOnWrite ? this.live : new Map(this.live));
      this.#seq = 0;
      this.#versions = 0;
    } else {
      const seq = this.#seq + 1;
      const { base, history, changed } = this.#epoch;
      for (const key of this.#dirty) {
        // One lookup per map: values are never `undefined` (see the class comment).
        const value = this.live.get(key) ?? DELETED;
        const versions = history.get(key);
        const previous = versions !== undefined ? versions[versions.length - 1] : (base.get(key) ?? DELETED);
        if (Object.is(previous, value)) continue;
        if (versions === undefined) {
          history.set(key, [seq, value]);
          // A base key's first change in the epoch, for iterations by position (BaseSlots).
          const slots = this.#epoch.slots;
          const position = slots?.index.get(key);
          if (position !== undefined) (slots as BaseSlots<K, V>).firstChange[position] = seq;
        } else versions.push(seq, value);
        changed?.push(key);
        this.#versions++;
      }
      this.#seq = seq;
    }
    this.#current = new SnapshotMap(this.#epoch, this.#seq, this.live.size);
    this.#dirty = [];
    this.#all = false;
    return this.#current;
  }
}
