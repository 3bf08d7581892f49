/**
 * The resources of one contact as an immutable `ReadonlyMap`, backed by a small array.
 *
 * A contact has a handful of resources, and every presence stanza that changes one makes a new
 * record (snapshots are immutable). A `Map` is the heaviest way to hold two or three entries:
 * copying one costs ~200 ns and leaves a hash table behind, and in a presence flood these records
 * outlive the young generation, so they are most of what the garbage collector marks and moves.
 * An array copy costs a tenth of that. Lookups scan the array, which for a few entries is as fast
 * as hashing; a change copies O(resources) either way.
 */
import type { ResourcePresence } from "./model.js";

/** A contact's resources by resourcepart; never changes (a change makes a new one). */
export class ResourceMap implements ReadonlyMap<string, ResourcePresence> {
  /** No resources: shared by every record of an entity that is offline. */
  static readonly EMPTY: ResourceMap = new ResourceMap([]);

  readonly #list: readonly ResourcePresence[];
  /** The number of resources. */
  readonly size: number;

  /** `list` holds each resourcepart once; it is kept, not copied. */
  private constructor(list: readonly ResourcePresence[]) {
    this.#list = list;
    this.size = list.length;
    Object.freeze(this);
  }

  /** The map with `presence` set for its resource (added, or replacing the one of that name). */
  with(presence: ResourcePresence): ResourceMap {
    const next = this.#list.slice();
    const index = indexOf(next, presence.resource);
    if (index === -1) next.push(presence);
    else next[index] = presence;
    return new ResourceMap(next);
  }

  /** The map without `resource` (itself when it has no resource of that name). */
  without(resource: string): ResourceMap {
    const index = indexOf(this.#list, resource);
    if (index === -1) return this;
    if (this.size === 1) return ResourceMap.EMPTY;
    const next = this.#list.slice();
    next.splice(index, 1);
    return new ResourceMap(next);
  }

  /** The resources as a list (no iterator), for the best-resource rule. */
  toArray(): readonly ResourcePresence[] {
    return this.#list;
  }

  get(resource: string): ResourcePresence | undefined {
    const index = indexOf(this.#list, resource);
    return index === -1 ? undefined : this.#list[index];
  }

  has(resource: string): boolean {
    return indexOf(this.#list, resource) !== -1;
  }

  *entries(): MapIterator<[string, ResourcePresence]> {
    for (const presence of this.#list) yield [presence.resource, presence];
  }

  *keys(): MapIterator<string> {
    for (const presence of this.#list) yield presence.resource;
  }

  *values(): MapIterator<ResourcePresence> {
    yield* this.#list;
  }

  [Symbol.iterator](): MapIterator<[string, ResourcePresence]> {
    return this.entries();
  }

  forEach(callback: (value: ResourcePresence, key: string, map: ReadonlyMap<string, ResourcePresence>) => void, thisArg?: unknown): void {
    for (const presence of this.#list) callback.call(thisArg, presence, presence.resource, this);
  }

  get [Symbol.toStringTag](): string {
    return "ResourceMap";
  }
}

function indexOf(list: readonly ResourcePresence[], resource: string): number {
  for (let i = 0; i < list.length; i++) if ((list[i] as ResourcePresence).resource === resource) return i;
  return -1;
}
