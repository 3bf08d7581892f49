// Property: the presence store (with its structure-sharing snapshots) behaves like a plain
// model built from Maps, for any sequence of writes: same state, same "changed" answers, one
// notification per change, unchanged snapshots kept, and old snapshots never altered.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bestResource, type ParsedPresence, type ResourcePresence, type Show } from "../../src/presence/model.js";
import { PresenceStoreImpl, type PresenceKind, type PresenceSnapshot } from "../../src/presence/store.js";

const SHOWS: readonly Show[] = ["chat", "available", "away", "xa", "dnd"];
const ENTITIES = ["a@x", "b@x", "c@x", "d@x", "e@x"];
const RESOURCES = ["", "r1", "r2"];

type Resources = Map<string, ResourcePresence>;
type Op =
  | {
      op: "apply";
      kind: PresenceKind;
      bare: string;
      resource: string;
      type: "available" | "unavailable";
      show: Show;
      priority: number;
      status?: string;
    }
  | { op: "clearContact" | "promote" | "demote"; bare: string }
  | { op: "clearAll" }
  | { op: "snapshot" };

/** The documented behaviour, written with plain Maps. */
class Model {
  contacts = new Map<string, Resources>();
  others = new Map<string, Resources>(); // least recently updated first
  own: Resources = new Map();
  constructor(readonly maxOthers: number) {}

  apply(p: ParsedPresence, kind: PresenceKind): void {
    if (kind === "own") {
      this.own = next(this.own, p);
      return;
    }
    const here = kind === "contact" ? this.contacts : this.others;
    const there = kind === "contact" ? this.others : this.contacts;
    const current = here.get(p.bare) ?? there.get(p.bare);
    there.delete(p.bare);
    here.delete(p.bare);
    here.set(p.bare, next(current ?? new Map(), p));
    this.#evict();
  }

  clearContact(bare: string): void {
    this.contacts.delete(bare);
    this.others.delete(bare);
  }

  clearAll(): void {
    this.contacts.clear();
    this.others.clear();
    this.own = new Map();
  }

  promote(bare: string): void {
    const current = this.others.get(bare);
    if (current === undefined) return;
    this.others.delete(bare);
    this.contacts.set(bare, current);
  }

  demote(bare: string): void {
    const current = this.contacts.get(bare);
    if (current === undefined) return;
    this.contacts.delete(bare);
    this.others.set(bare, current);
    this.#evict();
  }

  #evict(): void {
    for (const key of this.others.keys()) {
      if (this.others.size <= this.maxOthers) break;
      this.others.delete(key);
    }
  }
}

function next(current: Resources, p: ParsedPresence): Resources {
  const result = new Map(current);
  if (p.type === "unavailable") {
    if (p.resource === "") result.clear();
    else result.delete(p.resource);
    return result;
  }
  const old = current.get(p.resource);
  const same = old !== undefined && old.show === p.show && old.priority === p.priority && old.status === p.status;
  if (!same) {
    const { resource, show, priority, receivedAt, status } = p;
    result.set(resource, { resource, show, priority, receivedAt, ...(status === undefined ? {} : { status }) });
  }
  return result;
}

function plainResources(resources: ReadonlyMap<string, ResourcePresence>): unknown[] {
  return [...resources.values()]
    .map((r) => [r.resource, r.show, r.priority, r.status ?? null, r.receivedAt])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

function plainEntities(map: ReadonlyMap<string, ReadonlyMap<string, ResourcePresence>>): unknown[] {
  return [...map]
    .map(([jid, resources]) => [jid, plainResources(resources)])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

function ofModel(model: Model): string {
  return JSON.stringify([plainEntities(model.contacts), plainEntities(model.others), plainResources(model.own)]);
}

function ofSnapshot(snapshot: PresenceSnapshot): string {
  const resourcesOf = (map: PresenceSnapshot["contacts"]) => new Map([...map].map(([jid, c]) => [jid, c.resources]));
  return JSON.stringify([
    plainEntities(resourcesOf(snapshot.contacts)),
    plainEntities(resourcesOf(snapshot.others)),
    plainResources(snapshot.own),
  ]);
}

function checkRecords(snapshot: PresenceSnapshot): void {
  for (const map of [snapshot.contacts, snapshot.others]) {
    let count = 0;
    for (const [jid, record] of map) {
      count++;
      expect(record.jid).toBe(jid);
      expect(map.get(jid)).toBe(record);
      expect(map.has(jid)).toBe(true);
      expect(record.available).toBe(record.resources.size > 0);
      expect(record.best).toBe(bestResource(record.resources.values()));
    }
    expect(map.size).toBe(count);
  }
}

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        op: fc.constant("apply" as const),
        kind: fc.constantFrom<PresenceKind>("contact", "contact", "other", "own"),
        bare: fc.constantFrom(...ENTITIES),
        resource: fc.constantFrom(...RESOURCES),
        type: fc.constantFrom("available" as const, "available" as const, "unavailable" as const),
        // Skewed towards one value each, so repeats (no-change presences) are common.
        show: fc.oneof({ weight: 3, arbitrary: fc.constant<Show>("available") }, fc.constantFrom(...SHOWS)),
        priority: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.constantFrom(-5, 1)),
        status: fc.constant("x"),
      },
      { requiredKeys: ["op", "kind", "bare", "resource", "type", "show", "priority"] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constantFrom("clearContact" as const, "promote" as const, "demote" as const),
      bare: fc.constantFrom(...ENTITIES),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "clearAll" as const }) },
  { weight: 2, arbitrary: fc.constant({ op: "snapshot" as const }) },
);

describe("PresenceStore (property)", () => {
  it("matches a plain Map model for any sequence of writes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.array(op, { maxLength: 100, size: "max" }), (maxOthers, ops) => {
        const store = new PresenceStoreImpl({ maxOthers });
        const model = new Model(maxOthers);
        const kept: Array<[PresenceSnapshot, string]> = [];
        let notified = 0;
        store.listen(() => notified++);
        ops.forEach((o, step) => {
          const before = ofModel(model);
          const snapshotBefore = store.getSnapshot();
          const notifiedBefore = notified;
          let changed: boolean | undefined;
          switch (o.op) {
            case "apply": {
              const parsed: ParsedPresence = {
                from: o.resource === "" ? o.bare : `${o.bare}/${o.resource}`,
                bare: o.bare,
                resource: o.resource,
                type: o.type,
                show: o.show,
                priority: o.priority,
                receivedAt: step,
                ...(o.status === undefined ? {} : { status: o.status }),
              };
              changed = store.apply(parsed, o.kind);
              model.apply(parsed, o.kind);
              break;
            }
            case "clearContact":
            case "promote":
            case "demote":
              changed = store[o.op](o.bare);
              model[o.op](o.bare);
              break;
            case "clearAll":
              changed = store.clearAll();
              model.clearAll();
              break;
            case "snapshot":
              kept.push([store.getSnapshot(), ofModel(model)]);
              return;
          }
          const after = ofModel(model);
          const snapshot = store.getSnapshot();
          expect(ofSnapshot(snapshot)).toBe(after);
          expect(changed).toBe(after !== before);
          expect(notified - notifiedBefore).toBe(changed ? 1 : 0);
          if (!changed) expect(snapshot).toBe(snapshotBefore);
          checkRecords(snapshot);
        });
        for (const [snapshot, expected] of kept) expect(ofSnapshot(snapshot)).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });
});
