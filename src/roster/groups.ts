/**
 * Roster entries by group (RFC 6121 §2.1.2.6), as {@link RosterEditor.groups} returns them:
 * groups in name order, members in JID order, entries in no group apart.
 *
 * Derived from a snapshot. A UI that shows the roster by group derives it again after every
 * change, and doing it from scratch sorts the whole roster: 70–160 ms per push into a 100 000-
 * contact roster (bench/snapshot-iterate.ts). When the new snapshot shares its epoch with the one
 * the previous grouping came from, only the lists the changed entries leave or join are rebuilt,
 * each in one pass (every list handed out stays as it was).
 */
import { SnapshotMap } from "../snapshot-map.js";
import type { RosterEntry } from "./model.js";

/** Roster entries by group, as {@link RosterEditor.groups} returns them. */
export interface RosterGroups {
  /** Each group with its members, groups in name order, members in JID order. */
  readonly groups: ReadonlyMap<string, readonly RosterEntry[]>;
  /** Entries in no group. */
  readonly ungrouped: readonly RosterEntry[];
}

/** A grouping and the entries it was derived from. */
export interface DerivedGroups {
  readonly entries: ReadonlyMap<string, RosterEntry>;
  readonly result: RosterGroups;
}

/** Code-unit order, as `Array.prototype.sort` compares strings. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// §2.1.2.6: groups are a set. The store's lists already are (the codec drops repeats); a list
// from elsewhere is made one here, so an entry is never listed twice in a group.
function groupsOf(entry: RosterEntry): readonly string[] {
  return entry.groups.length < 2 ? entry.groups : [...new Set(entry.groups)];
}

/**
 * The grouping of `entries` (a roster snapshot's: each keyed by its JID), from `previous` when it
 * can be updated (see the module comment), else from scratch.
 */
export function groupRoster(entries: ReadonlyMap<string, RosterEntry>, previous?: DerivedGroups): RosterGroups {
  const changed =
    previous !== undefined && entries instanceof SnapshotMap && previous.entries instanceof SnapshotMap
      ? (entries as SnapshotMap<string, RosterEntry>).changedSince(previous.entries as SnapshotMap<string, RosterEntry>)
      : undefined;
  // Past a quarter of a large roster changed, the lists concerned are most of it: sort it again.
  if (previous === undefined || changed === undefined || changed.length > Math.max(64, entries.size / 4)) return fromScratch(entries);
  return updated(entries, previous, changed);
}

function fromScratch(entries: ReadonlyMap<string, RosterEntry>): RosterGroups {
  const byGroup = new Map<string, RosterEntry[]>();
  const ungrouped: RosterEntry[] = [];
  // The keys are the entries' JIDs, sorted in the engine's own string order (code units, as
  // `compare`) with no comparator call per comparison, then looked up: the whole derivation took
  // 0.76× the time of sorting the entries with `compare` at 100k, 0.83× at 10k (bench/results.md,
  // issue 6's twelfth pass).
  const jids = [...entries.keys()].sort();
  for (const jid of jids) {
    const entry = entries.get(jid) as RosterEntry;
    const groups = groupsOf(entry);
    if (groups.length === 0) ungrouped.push(entry);
    for (const group of groups) {
      let members = byGroup.get(group);
      if (members === undefined) byGroup.set(group, (members = []));
      members.push(entry);
    }
  }
  return freeze(new Map([...byGroup].sort(([a], [b]) => compare(a, b))), ungrouped);
}

/** Where `jid` is, or would go, in `members` (sorted by JID). */
function positionOf(members: readonly RosterEntry[], jid: string): number {
  let low = 0;
  let high = members.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((members[mid] as RosterEntry).jid < jid) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * `list` (sorted by JID) without the entries of `leaving` and with those of `joining`, in JID
 * order: O(list + changes × log list), so many changes into a large group cost one pass over it,
 * not a shift of the list per change.
 */
function rebuilt(list: readonly RosterEntry[], leaving: readonly string[], joining: RosterEntry[]): RosterEntry[] {
  const drops: number[] = [];
  for (const jid of leaving) {
    const at = positionOf(list, jid);
    if (list[at]?.jid === jid) drops.push(at);
  }
  drops.sort((a, b) => a - b);
  joining.sort((a, b) => compare(a.jid, b.jid));
  // Into an array of its final length, not grown by push(): 1.0–1.2 against 1.5 ms per push into
  // a 100k roster (bench/snapshot-iterate.ts).
  const out = new Array<RosterEntry>(list.length - drops.length + joining.length);
  let written = 0;
  let next = 0; // the next position of `list` to copy
  let drop = 0;
  const copyUpTo = (end: number): void => {
    for (; next < end; next++) {
      if (drops[drop] === next) drop++;
      else out[written++] = list[next] as RosterEntry;
    }
  };
  // A changed entry that stays in the group comes in at its old place, whose old entry drops.
  for (const entry of joining) {
    copyUpTo(positionOf(list, entry.jid));
    out[written++] = entry;
  }
  copyUpTo(list.length);
  return out;
}

function updated(entries: ReadonlyMap<string, RosterEntry>, previous: DerivedGroups, changed: readonly string[]): RosterGroups {
  // Per group (`undefined`: no group), the JIDs that leave it and the entries that join it.
  const leaving = new Map<string | undefined, string[]>();
  const joining = new Map<string | undefined, RosterEntry[]>();
  const add = <T>(map: Map<string | undefined, T[]>, group: string | undefined, value: T): void => {
    const values = map.get(group);
    if (values === undefined) map.set(group, [value]);
    else values.push(value);
  };
  const memberships = (entry: RosterEntry): ReadonlyArray<string | undefined> => {
    const groups = groupsOf(entry);
    return groups.length === 0 ? [undefined] : groups;
  };
  for (const jid of new Set(changed)) {
    const before = previous.entries.get(jid);
    const after = entries.get(jid);
    if (before === after) continue;
    if (before !== undefined) for (const group of memberships(before)) add(leaving, group, jid);
    if (after !== undefined) for (const group of memberships(after)) add(joining, group, after);
  }

  // Only the lists of the groups concerned are new; the others are shared with `previous`.
  const lists = new Map<string, readonly RosterEntry[]>(previous.result.groups);
  let ungrouped = previous.result.ungrouped;
  let newGroup = false;
  for (const group of new Set([...leaving.keys(), ...joining.keys()])) {
    const old = group === undefined ? ungrouped : lists.get(group);
    if (old === undefined) newGroup = true;
    const list = rebuilt(old ?? [], leaving.get(group) ?? [], joining.get(group) ?? []);
    if (group === undefined) ungrouped = list;
    else if (list.length === 0) lists.delete(group);
    else lists.set(group, list);
  }
  const groups = newGroup ? new Map([...lists].sort(([a], [b]) => compare(a, b))) : lists;
  return freeze(groups, ungrouped);
}

function freeze(groups: Map<string, readonly RosterEntry[]>, ungrouped: readonly RosterEntry[]): RosterGroups {
  // Lists are shared between results (see the module comment): frozen, so no caller can change
  // another result's through its own.
  for (const members of groups.values()) Object.freeze(members);
  return Object.freeze({ groups, ungrouped: Object.freeze(ungrouped) });
}
