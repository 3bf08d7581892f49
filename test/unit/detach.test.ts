// detach() must return the same text, whatever it ends with (its fast way trims an added space).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detach } from "../../src/detach.js";

describe("detach", () => {
  it.each([
    ["short", "a@b"],
    ["a JID", "contact12345@example.com"],
    ["trailing spaces", "In a meeting until 15:00   "],
    ["a trailing tab and newline", "Back in five minutes\t\n"],
    ["a trailing no-break space", "Back in five minutes\u00a0"],
    ["a trailing BOM", "Back in five minutes\ufeff"],
    ["a trailing emoji", "Travelling by train 🚆"],
    ["leading spaces", "   Back in five minutes"],
  ])("returns %s unchanged", (_name, text) => {
    // A view into a larger string, as the parser hands it.
    const view = `<status>${text}</status>`.slice(8, 8 + text.length);
    expect(detach(view)).toBe(text);
  });

  it("returns any text unchanged", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
        expect(detach(`xx${text}yy`.slice(2, 2 + text.length))).toBe(text);
      }),
    );
  });
});
