// The test harness's roster seeding refuses what a server would store wrongly or not at all
// (the seeding itself is exercised on both real servers by test/integration/large-roster.test.ts).
import { describe, expect, it } from "vitest";
import { seedEjabberdRoster } from "../../src/testing/ejabberd.js";
import { checkSeedItems } from "../../src/testing/process.js";

describe("checkSeedItems", () => {
  it("accepts lower-case bare JIDs with known subscriptions", () => {
    expect(() => checkSeedItems([{ jid: "bob@localhost", subscription: "both" }, { jid: "localhost" }])).not.toThrow();
  });

  it.each([
    ["a full JID", [{ jid: "bob@localhost/phone" }], /not a lower-case bare JID/],
    ["upper case (servers key rosters by the prepared JID)", [{ jid: "Bob@localhost" }], /not a lower-case bare JID/],
    ["an empty JID", [{ jid: "" }], /not a lower-case bare JID/],
    ["a JID listed twice", [{ jid: "bob@localhost" }, { jid: "bob@localhost" }], /listed twice/],
    ["an unknown subscription", [{ jid: "bob@localhost", subscription: "remove" }], /unknown subscription/],
  ])("refuses %s", (_name, items, message) => {
    expect(() => checkSeedItems(items as never)).toThrow(message);
  });
});

describe("seedEjabberdRoster", () => {
  it.each([
    ["two groups", { jid: "bob@localhost", groups: ["A", "B"] }],
    ["a pending request", { jid: "bob@localhost", pendingOut: true }],
  ])("refuses %s before calling the server (ejabberd 23.01's add_rosteritem cannot store it)", async (_name, item) => {
    // Port 9 on loopback: nothing must be sent, so nothing needs to listen.
    await expect(seedEjabberdRoster("http://127.0.0.1:9/api", "alice", [item])).rejects.toThrow(/one group and no pending request/);
  });
});
