// The fast path for @xmpp/jid's local parts must change no result: same stored local part, same
// JID, same exception, for every input; and it must only be installed on the setLocal it knows.
import fc from "fast-check";
import { jid, JID } from "@xmpp/jid";
import { describe, expect, it } from "vitest";
import { installJidFastPath, installLocalFastPath, withLocalFastPath, type SetLocal } from "../../src/jid-fast-path.js";

const prototype = JID.prototype as { setLocal: SetLocal };
// Captured before anything in this file installs the fast path (vitest isolates modules per file).
const original = prototype.setLocal;

// Every XEP-0106 §4.2 character, the backslash and the escape sequences, case-changing letters
// (ASCII, and non-ASCII whose lowercase differs in length), and plain ones.
const units = fc.constantFrom(
  ..."abzAQZ09-._+=~ \"&'/:<>@\\éÅİẞΣ\u00a0ﬁ".split(""),
  "\\20", "\\22", "\\26", "\\27", "\\2f", "\\3a", "\\3c", "\\3e", "\\40", "\\5c", "\\5C", "\\41",
);
const localPart = fc.string({ unit: units, maxLength: 12 });

function outcome(setLocal: SetLocal, local: unknown, escape?: unknown): unknown {
  const target: { _local?: string | null } = {};
  try {
    const returned = setLocal.call(target, local, escape);
    return { local: target._local, returnedTarget: returned === target };
  } catch (error) {
    return { threw: (error as Error).constructor.name };
  }
}

describe("@xmpp/jid local-part fast path", () => {
  const fast = withLocalFastPath(original);

  it("stores what xmpp.js' setLocal stores, for any local part and either escape flag", () => {
    fc.assert(
      fc.property(localPart, fc.constantFrom(undefined, false, true), (local, escape) => {
        expect(outcome(fast, local, escape)).toEqual(outcome(original, local, escape));
      }),
      { numRuns: 5000 },
    );
  });

  it("hands non-string and empty local parts to xmpp.js unchanged (same value, same exception)", () => {
    for (const local of [undefined, null, "", 0, 42, {}, ["a"]]) {
      expect(outcome(fast, local)).toEqual(outcome(original, local));
    }
    // A number is what makes xmpp.js' detection throw: the wrapper must not hide that.
    expect(outcome(fast, 42)).toEqual({ threw: "TypeError" });
  });

  it("gives the same parsed JIDs once installed on @xmpp/jid (escaped, spaced, mixed case)", () => {
    const addresses = [
      ...fc.sample(fc.tuple(localPart, fc.constantFrom("example.com", "Ex.Org"), fc.option(localPart)), { numRuns: 2000, seed: 6 }),
    ].map(([local, domain, resource]) => `${local}@${domain}${resource === null ? "" : `/${resource}`}`);
    addresses.push("D'Artagnan@host", "Juliet@Example.COM/Balcony", "c\\3a\\5cnet@example.com", "space cadet@example.com");
    const describeJid = (address: string) => {
      try {
        const parsed = jid(address);
        return [parsed.local, parsed.domain, parsed.resource, parsed.toString(), parsed.bare().toString()];
      } catch (error) {
        return (error as Error).constructor.name;
      }
    };
    const before = addresses.map(describeJid);
    expect(installJidFastPath()).toBe(true);
    expect(prototype.setLocal).not.toBe(original);
    expect(addresses.map(describeJid)).toEqual(before);
    expect(jid("D'Artagnan@host").local).toBe("d\\27artagnan");
  });

  it("leaves a setLocal alone that does not store a lowercased local part in _local", () => {
    const storesElsewhere: SetLocal = function (this: Record<string, unknown>, local) {
      this["localPart"] = local;
      return this;
    };
    const other = { setLocal: storesElsewhere };
    expect(installLocalFastPath(other)).toBe(false);
    expect(other.setLocal).toBe(storesElsewhere);
    const throwing = { setLocal: (() => { throw new Error("no"); }) as SetLocal };
    expect(installLocalFastPath(throwing)).toBe(false);
    expect(installLocalFastPath({})).toBe(false);
  });
});
