// Property: bestResource() is the first element under the documented order (priority desc,
// show chat > available > away > xa > dnd, newest first, resource name), whatever the input order.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bestResource, type ResourcePresence, type Show } from "../../src/presence/model.js";

const SHOWS: readonly Show[] = ["chat", "available", "away", "xa", "dnd"];

// Written out again here on purpose: the reference must not share code with the implementation.
function reference(resources: readonly ResourcePresence[]): ResourcePresence | undefined {
  return [...resources].sort(
    (a, b) =>
      b.priority - a.priority ||
      SHOWS.indexOf(a.show) - SHOWS.indexOf(b.show) ||
      b.receivedAt - a.receivedAt ||
      (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0),
  )[0];
}

const resourcePresence: fc.Arbitrary<ResourcePresence> = fc.record(
  {
    resource: fc.oneof(
      fc.constantFrom("", "phone", "pc", "Phone"),
      fc.string({ maxLength: 4 }),
      fc.string({ unit: "binary", maxLength: 3 }),
    ),
    show: fc.constantFrom(...SHOWS),
    status: fc.string({ maxLength: 3 }),
    // Few distinct values make ties common; the full byte range covers negative and multi-digit ones.
    priority: fc.oneof(fc.constantFrom(-128, -10, -1, 0, 1, 10, 127), fc.integer({ min: -128, max: 127 })),
    receivedAt: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 ** 42 })),
  },
  { requiredKeys: ["resource", "show", "priority", "receivedAt"] },
);

// A contact's resources are keyed by name, so names are unique.
const resourceSet = fc.uniqueArray(resourcePresence, { selector: (r) => r.resource, maxLength: 12 });

const withShuffle = resourceSet.chain((resources) =>
  fc.tuple(fc.constant(resources), fc.shuffledSubarray(resources, { minLength: resources.length, maxLength: resources.length })),
);

describe("bestResource (property)", () => {
  it("equals the first element of the list sorted by the documented order", () => {
    fc.assert(
      fc.property(resourceSet, (resources) => {
        expect(bestResource(resources)).toBe(reference(resources));
      }),
      { numRuns: 500 },
    );
  });

  it("does not depend on the input order (or on the iterable's kind)", () => {
    fc.assert(
      fc.property(withShuffle, ([resources, shuffled]) => {
        const best = bestResource(resources);
        expect(bestResource(shuffled)).toBe(best);
        expect(bestResource([...resources].reverse())).toBe(best);
        expect(bestResource(new Map(shuffled.map((r) => [r.resource, r])).values())).toBe(best);
      }),
      { numRuns: 500 },
    );
  });

  it("picks a resource with the highest priority, negative priorities included", () => {
    fc.assert(
      fc.property(resourceSet, (resources) => {
        const best = bestResource(resources);
        if (resources.length === 0) {
          expect(best).toBeUndefined();
          return;
        }
        expect(best?.priority).toBe(Math.max(...resources.map((r) => r.priority)));
        expect(resources).toContain(best);
        // Among those with that priority, no better show exists.
        const top = resources.filter((r) => r.priority === best?.priority);
        expect(Math.min(...top.map((r) => SHOWS.indexOf(r.show)))).toBe(SHOWS.indexOf(best?.show ?? "dnd"));
      }),
      { numRuns: 500 },
    );
  });
});
