// RFC 6121 Appendix A as a table: every one of the 72 cells of shared/rfc6121-appendix-a.json
// against the SDK's pure state model.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { factsOf, stateOf, SubscriptionState, transition, type SubscriptionEvent } from "../../src/roster/model.js";

interface Row {
  event: SubscriptionEvent;
  section: string;
  state: string;
  newState: string;
  rfcAction: "MUST" | "M.N." | "S.N.";
  rosterBefore: { subscription: string; ask: string | null };
  rosterAfter: { subscription: string; ask: string | null };
  pendingInBefore: boolean;
  pendingInAfter: boolean;
}

// The data lives in the steering folder beside the project; a copy is kept in test/fixtures so
// the suite does not depend on anything outside the repository.
const table = JSON.parse(
  readFileSync(fileURLToPath(new URL("../fixtures/rfc6121-appendix-a.json", import.meta.url)), "utf8"),
) as { rows: Row[] };

const NAMES: Record<string, SubscriptionState> = {
  N: "None",
  NPO: "None + Pending Out",
  NPI: "None + Pending In",
  NPOI: "None + Pending Out + Pending In",
  T: "To",
  TPI: "To + Pending In",
  F: "From",
  FPO: "From + Pending Out",
  B: "Both",
};

describe("RFC 6121 Appendix A state model", () => {
  it("has all 72 cells (9 states × 8 events)", () => {
    expect(table.rows).toHaveLength(72);
    expect(new Set(table.rows.map((r) => `${r.state} ${r.event}`)).size).toBe(72);
  });

  it.each(table.rows.map((row) => [`${row.section} ${row.event} in ${row.state} → ${row.newState} (${row.rfcAction})`, row] as const))(
    "%s",
    (_name, row) => {
      const before = NAMES[row.state]!;
      const result = transition(before, row.event);
      expect(result.state).toBe(NAMES[row.newState]);
      // MUST = routed/delivered; MUST NOT / SHOULD NOT = a no-op, or stale when received.
      expect(result.routed).toBe(row.rfcAction === "MUST");
      // The facts of the state agree with the roster the RFC describes before and after.
      const facts = factsOf(before);
      expect(facts.subscription).toBe(row.rosterBefore.subscription);
      expect(facts.pendingOut).toBe(row.rosterBefore.ask === "subscribe");
      expect(facts.pendingIn).toBe(row.pendingInBefore);
      const after = factsOf(result.state);
      expect(after.subscription).toBe(row.rosterAfter.subscription);
      expect(after.pendingOut).toBe(row.rosterAfter.ask === "subscribe");
      expect(after.pendingIn).toBe(row.pendingInAfter);
    },
  );

  it("derives each of the nine states from its facts and back", () => {
    for (const state of Object.values(SubscriptionState)) expect(stateOf(factsOf(state))).toBe(state);
  });

  it("folds impossible combinations into the real state", () => {
    expect(stateOf({ subscription: "both", pendingOut: true, pendingIn: true })).toBe("Both");
    expect(stateOf({ subscription: "to", pendingOut: true, pendingIn: false })).toBe("To");
    expect(stateOf({ subscription: "from", pendingOut: false, pendingIn: true })).toBe("From");
  });
});
