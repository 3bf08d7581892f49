// The fast path must give exactly bareKeyOf's answer, for JIDs in normal form and for all others.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bareKey } from "../../src/bare-key.js";
import { bareKeyOf } from "../../src/jid.js";

const chars = fc.constantFrom(..."abcXYZ019_.+=-@/\\ \"&'<>:éÅ\u00a0ﬁ".split(""));

describe("bareKey", () => {
  it("agrees with bareKeyOf on every string", () => {
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 24 }), (address) => {
        expect(bareKey(address)).toBe(bareKeyOf(address));
      }),
      { numRuns: 5000 },
    );
  });

  it("agrees with bareKeyOf on JID-shaped strings (mostly in normal form)", () => {
    const part = fc.string({ unit: fc.constantFrom(..."ab0-._+=A".split("")), minLength: 0, maxLength: 8 });
    fc.assert(
      fc.property(part, part, fc.option(part), fc.boolean(), (local, domain, resource, at) => {
        const address = `${at ? `${local}@` : ""}${domain}${resource === null ? "" : `/${resource}`}`;
        expect(bareKey(address)).toBe(bareKeyOf(address));
      }),
      { numRuns: 5000 },
    );
  });

  it("agrees with bareKeyOf on the JIDs servers send", () => {
    for (const address of [
      "contact1@example.org",
      "contact1@example.org/res0",
      "Bob@Example.ORG/Phone",
      "bob@example.org./x",
      "example.org",
      "@example.org",
      "bob@",
      "bob@example.org/",
      "a\\20b@example.org",
      "bob@ex_ample.org",
      "",
      undefined,
    ]) {
      expect(bareKey(address)).toBe(bareKeyOf(address));
    }
  });
});
