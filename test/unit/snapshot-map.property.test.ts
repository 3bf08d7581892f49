// Property: every SnapshotMap reads as a copy of the live map taken when it was made, through
// every way of reading it (get/has/size, entries/keys/values, forEach, spread), whatever the
// writes after it: new epochs, copy-on-write copies, and iterations paused across writes, which
// must end with exactly the entries of their own snapshot. Iterations run both ways a snapshot
// is read (its base's own iterator while the epoch has no history, its slots otherwise).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SnapshotMap, SnapshotMapWriter } from "../../src/snapshot-map.js";

const KEYS = ["a", "b", "c", "d", "e", "f", "g", "h"];
const RUNS = Number(process.env["SNAPSHOT_RUNS"] ?? 300);

type Op =
  | { op: "set"; key: string }
  | { op: "delete"; key: string }
  | { op: "markAll" }
  | { op: "snapshot" }
  | { op: "start"; method: Method; steps: number }
  | { op: "finish" };

type Method = "entries" | "keys" | "values" | "iterator";

const key = fc.constantFrom(...KEYS);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
  { weight: 1, arbitrary: fc.constant({ op: "markAll" as const }) },
  { weight: 4, arbitrary: fc.constant({ op: "snapshot" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("start" as const),
      method: fc.constantFrom<Method>("entries", "keys", "values", "iterator"),
      steps: fc.nat({ max: 9 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "finish" as const }) },
);

interface Paused {
  method: Method;
  iterator: Iterator<unknown>;
  read: unknown[];
  expected: Map<string, { n: number }>;
}

/** Every read of `snapshot` agrees with `expected`, and all of them in the same order. */
function checkSnapshot(snapshot: SnapshotMap<string, { n: number }>, expected: Map<string, { n: number }>): void {
  const entries = [...snapshot.entries()];
  expect(new Set(entries.map(([k]) => k)).size).toBe(entries.length); // no key twice
  expect(new Map(entries)).toEqual(expected);
  expect(snapshot.size).toBe(expected.size);
  const order = entries.map(([k]) => k);
  expect([...snapshot.keys()]).toEqual(order);
  expect([...snapshot.values()]).toEqual(entries.map(([, v]) => v));
  expect([...snapshot].map(([k]) => k)).toEqual(order);
  const visited: string[] = [];
  snapshot.forEach((value, k, map) => {
    expect(map).toBe(snapshot);
    expect(value).toBe(expected.get(k));
    visited.push(k);
  });
  expect(visited).toEqual(order);
  for (const k of KEYS) {
    expect(snapshot.has(k)).toBe(expected.has(k));
    expect(snapshot.get(k)).toBe(expected.get(k));
  }
}

function finish(paused: Paused): void {
  for (let step = paused.iterator.next(); !step.done; step = paused.iterator.next()) paused.read.push(step.value);
  const { expected } = paused;
  if (paused.method === "keys") expect(new Set(paused.read)).toEqual(new Set(expected.keys()));
  else if (paused.method === "values") expect(new Set(paused.read)).toEqual(new Set(expected.values()));
  else expect(new Map(paused.read as Array<[string, { n: number }]>)).toEqual(expected);
  expect(paused.read).toHaveLength(expected.size);
}

function run(ops: Op[], copyOnWrite: boolean, changeLog: boolean): void {
  const live = new Map<string, { n: number }>();
  const writer = new SnapshotMapWriter(live, copyOnWrite, changeLog);
  const taken: Array<[SnapshotMap<string, { n: number }>, Map<string, { n: number }>]> = [];
  const paused: Paused[] = [];
  let n = 0;
  const take = () => {
    const snapshot = writer.snapshot();
    taken.push([snapshot, new Map(live)]);
    return taken[taken.length - 1] as [SnapshotMap<string, { n: number }>, Map<string, { n: number }>];
  };
  for (const o of ops) {
    switch (o.op) {
      case "set":
        writer.beforeWrite();
        live.set(o.key, { n: n++ });
        writer.mark(o.key);
        break;
      case "delete":
        writer.beforeWrite();
        live.delete(o.key);
        writer.mark(o.key);
        break;
      case "markAll":
        writer.markAll();
        break;
      case "snapshot":
        take();
        break;
      case "start": {
        const [snapshot, expected] = take();
        const iterator = (o.method === "iterator" ? snapshot[Symbol.iterator]() : snapshot[o.method]()) as Iterator<unknown>;
        const read: unknown[] = [];
        for (let i = 0; i < o.steps; i++) {
          const step = iterator.next();
          if (step.done) break;
          read.push(step.value);
        }
        paused.push({ method: o.method, iterator, read, expected });
        break;
      }
      case "finish": {
        const first = paused.shift();
        if (first) finish(first);
        break;
      }
    }
  }
  for (const p of paused) finish(p);
  for (const [snapshot, expected] of taken) checkSnapshot(snapshot, expected);
  checkSnapshot(writer.snapshot(), new Map(live));
  // changedSince: with the log, it names (at least) every key that differs between two
  // snapshots of one epoch, and nothing for a snapshot against itself; without it, nothing is
  // known (undefined), as for snapshots of different epochs.
  for (let i = 1; i < taken.length; i++) {
    const [older] = taken[i - 1] as [SnapshotMap<string, { n: number }>, unknown];
    const [newer] = taken[i] as [SnapshotMap<string, { n: number }>, unknown];
    const changed = newer.changedSince(older);
    if (!changeLog) expect(changed).toBeUndefined();
    if (changed === undefined) continue;
    for (const k of KEYS) if (older.get(k) !== newer.get(k)) expect(changed).toContain(k);
    expect(newer.changedSince(newer)).toEqual([]);
    if (older !== newer) expect(older.changedSince(newer) === undefined || older.changedSince(newer)?.length === 0).toBe(true);
  }
}

describe("SnapshotMap (property)", () => {
  for (const [copyOnWrite, changeLog] of [
    [false, false],
    [true, false],
    [true, true],
  ] as const) {
    it(`every snapshot reads as a copy of the map when it was taken (copyOnWrite: ${copyOnWrite}, changeLog: ${changeLog})`, () => {
      // Up to 300 writes: past 64 versions an epoch ends, so runs cross several.
      fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => run(ops, copyOnWrite, changeLog)), { numRuns: RUNS });
    });
  }

  it("repeated marks of one key are one change, and marks never pile up past half the map", () => {
    const live = new Map(Array.from({ length: 1000 }, (_, i) => [`k${i}`, { n: i }]));
    const writer = new SnapshotMapWriter(live, false, true);
    writer.markAll();
    const first = writer.snapshot();
    for (let n = 0; n < 10; n++) {
      live.set("k1", { n: -n });
      writer.mark("k1");
    }
    const second = writer.snapshot();
    expect(second.changedSince(first)).toEqual(["k1"]); // ten marks, one version
    expect(second.get("k1")).toEqual({ n: -9 });
    // The writer keeps one slot per mark (cheaper than a Set in a presence flood); past half the
    // map's size it copies the map instead of keeping more: a new epoch, so no change list.
    for (let n = 0; n < 501; n++) {
      live.set("k2", { n: -n });
      writer.mark("k2");
    }
    const third = writer.snapshot();
    expect(third.changedSince(second)).toBeUndefined();
    expect(third.get("k2")).toEqual({ n: -500 });
    expect(second.get("k2")).toEqual({ n: 2 }); // the older snapshot is as it was
    expect(first.get("k1")).toEqual({ n: 1 });
  });

  it("iterators are iterable and have the iterator prototype (for iterator helpers where the runtime has them)", () => {
    const live = new Map([["a", { n: 1 }]]);
    const writer = new SnapshotMapWriter(live);
    writer.mark("a");
    const snapshot = writer.snapshot();
    const iterator = snapshot.values();
    expect(iterator[Symbol.iterator]()).toBe(iterator);
    const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;
    expect(Object.getPrototypeOf(Object.getPrototypeOf(iterator))).toBe(iteratorPrototype);
    expect([...iterator]).toEqual([{ n: 1 }]);
    expect(iterator.next()).toEqual({ done: true, value: undefined }); // stays done
  });
});
