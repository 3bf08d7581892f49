/**
 * The head + base layout of the browser caches (src/storage/change-log.ts), driven as the
 * adapters drive it, with a log of 2 so that folds, moves and re-reads of an untrusted base
 * happen in short sequences: whatever the sequence, the records load as applyMutation's fold
 * (items in order), and a push that needs no fold never writes the base.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RosterItem } from "../../src/roster/model.js";
import { logMutation, needsBase, parseHead, readLoggedCache, TrustedBases } from "../../src/storage/change-log.js";
import { applyMutation, type CachedRoster, type RosterMutation } from "../../src/storage/types.js";
import { checkMutation } from "../../src/storage/validate.js";

const JIDS = ["a@x", "b@x", "c@x", "d@x", "e@x", "f@x"];
const item = (jid: string, name: string): RosterItem => ({ jid, name, groups: [], subscription: "both", pendingOut: false, approved: false });

const mutation: fc.Arbitrary<RosterMutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ jid: fc.constantFrom(...JIDS), name: fc.option(fc.constantFrom("1", "2", "3"), { nil: undefined }), version: fc.option(fc.constantFrom("v1", "v2"), { nil: undefined }) })
    .map(({ jid, name, version }): RosterMutation => ({ kind: "item", jid, item: name === undefined ? undefined : item(jid, name), version })) },
  { weight: 1, arbitrary: fc.record({ jid: fc.constantFrom(...JIDS), on: fc.boolean() })
    .map(({ jid, on }): RosterMutation => ({ kind: "request", jid, request: on ? { from: jid, receivedAt: 1 } : undefined })) },
  { weight: 1, arbitrary: fc.record({ jid: fc.constantFrom(...JIDS), on: fc.boolean() })
    .map(({ jid, on }): RosterMutation => ({ kind: "pre-approval", jid, intent: on ? { jid, createdAt: 2 } : undefined })) },
  { weight: 1, arbitrary: fc.subarray(JIDS).map((jids): RosterMutation => ({ kind: "replace", roster: { version: "r", items: jids.map((jid) => item(jid, "r")), requests: [], preApprovals: [] } })) },
);

describe("change log (browser caches' layout)", () => {
  it("loads as applyMutation's fold for any sequence, across folds, moves and fresh adapters", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(mutation, fc.boolean()), { maxLength: 30 }), (steps) => {
        // The stored records (as JSON, as localStorage keeps them) and an adapter's trust.
        let head: unknown;
        let base: unknown;
        let trusted = new TrustedBases();
        let expected: CachedRoster | undefined;
        for (const [raw, restart] of steps) {
          if (restart) trusted = new TrustedBases(); // another adapter (a reload, another tab)
          const m = checkMutation(raw);
          const parsed = parseHead(head);
          const baseBefore = JSON.stringify(base);
          const read = needsBase(parsed, m, trusted, 2);
          const next = read ? logMutation(parsed, m, { value: base }, 2) : logMutation(parsed, m, undefined, 2);
          head = JSON.parse(JSON.stringify(next.head));
          if (next.base !== undefined) base = JSON.parse(JSON.stringify(next.base));
          trusted.add(next.head.baseId);
          // A push to a logged JID, or while the log has room, leaves the base as it was.
          const logged = parsed?.changes.some((change) => change.jid === (m as { jid?: string }).jid) ?? false;
          if (m.kind !== "replace" && parsed !== undefined && !read && (logged || parsed.changes.length < 2)) {
            expect(JSON.stringify(base)).toBe(baseBefore);
          }
          expected = applyMutation(expected, m);
          expect(readLoggedCache(head, base)).toEqual(expected);
        }
        expect(parseHead(head)?.changes.length ?? 0).toBeLessThanOrEqual(2);
      }),
      { numRuns: Number(process.env["STORAGE_RUNS"] ?? 300) },
    );
  });
});
