// Roster XML parsing (RFC 6121 §2.1.2), JID normalisation (RFC 7622) and the policy rules.
import { describe, expect, it } from "vitest";
import { bareKeyOf, toBareJid } from "../../src/jid.js";
import { parsePushItem, parseRosterQuery } from "../../src/roster/codec.js";
import type { RosterEntry } from "../../src/roster/model.js";
import { decide, isReverseRequest } from "../../src/subscription/policy.js";
import { xml } from "../../src/xmpp.js";
import { parse } from "../support/fake-xmpp.js";

describe("roster codec", () => {
  it("reads a push item: missing subscription is none, empty name is no name, groups are a set", () => {
    const change = parsePushItem(parse(`<item jid="Bob@LocalHost" name=""><group>A</group><group>A</group><group></group><x xmlns="urn:other"/></item>`));
    expect(change).toEqual({
      kind: "set",
      item: { jid: "bob@localhost", groups: ["A"], subscription: "none", pendingOut: false, approved: false },
    });
    expect(parsePushItem(parse(`<item jid="b@l" subscription="from" ask="subscribe" approved="1"/>`))).toMatchObject({
      item: { subscription: "from", pendingOut: true, approved: true },
    });
  });

  it("reads removal, and ignores unknown subscription values and items without a usable jid", () => {
    expect(parsePushItem(parse(`<item jid="b@l" subscription="remove"/>`))).toEqual({ kind: "remove", jid: "b@l" });
    expect(parsePushItem(parse(`<item jid="b@l" subscription="pending"/>`))).toBeUndefined();
    expect(parsePushItem(parse(`<item subscription="both"/>`))).toBeUndefined();
  });

  it("skips invalid items in a result, where 'remove' is not a deletion (§2.1.2.5)", () => {
    const items = parseRosterQuery(
      parse(`<query xmlns="jabber:iq:roster"><item jid="a@l" subscription="both"/><item jid="x@l" subscription="remove"/><item jid="y@l" subscription="bogus"/><item/></query>`),
    );
    expect(items.map((i) => i.jid)).toEqual(["a@l"]);
  });

  it("shares one frozen list per single group across a result, and never grows a shared list", () => {
    const items = parseRosterQuery(
      parse(
        `<query xmlns="jabber:iq:roster">` +
          `<item jid="a@l"><group>Friends</group></item>` +
          `<item jid="b@l"><group>Friends</group><group>Work</group><group>Friends</group></item>` +
          `<item jid="c@l"><group>Friends</group></item>` +
          `<item jid="d@l"><group>Work</group><group>Family</group><group>Friends</group></item>` +
          `<item jid="e@l"><group>Work</group></item>` +
          `</query>`,
      ),
    );
    expect(items.map((i) => i.groups)).toEqual([["Friends"], ["Friends", "Work"], ["Friends"], ["Work", "Family", "Friends"], ["Work"]]);
    expect(items[0]!.groups).toBe(items[2]!.groups);
    expect(Object.isFrozen(items[0]!.groups)).toBe(true);
  });

  it("reads a result the same whether it becomes the whole roster (entries) or not (plain items)", () => {
    const query = parse(
      `<query xmlns="jabber:iq:roster"><item jid="someone.with.a.long.name@example.com" name="A name longer than thirteen" subscription="both"><group>Friends</group></item><item jid="b@l" ask="subscribe"/></query>`,
    );
    const whole = parseRosterQuery(query, true);
    const plain = parseRosterQuery(query, false);
    expect(whole.map(({ jid, name, groups, subscription, pendingOut, approved }) => ({ jid, name, groups, subscription, pendingOut, approved }))).toEqual(
      plain.map((item) => ({ name: undefined, ...item })),
    );
    expect(whole.map((item) => "state" in item)).toEqual([true, true]);
    expect(plain.map((item) => "state" in item)).toEqual([false, false]);
    expect(whole[0]).toMatchObject({ jid: "someone.with.a.long.name@example.com", name: "A name longer than thirteen", groups: ["Friends"] });
  });

  it("reads a group's whole text when it comes as several text nodes, and skips an empty group", () => {
    // The parser usually gives one text node; a group built (or parsed) in pieces is read whole.
    const group = xml("group", {}, "Fri", "ends");
    const empty = xml("group", {});
    const query = xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "a@l" }, group, empty), xml("item", { jid: "b@l" }, xml("group", {}, "Friends")));
    const items = parseRosterQuery(query, true);
    expect(items.map((item) => item.groups)).toEqual([["Friends"], ["Friends"]]);
    expect(items[0]!.groups).toBe(items[1]!.groups);
    expect(parsePushItem(xml("item", { jid: "a@l" }, group, xml("group", {}, "Work")))).toMatchObject({ item: { groups: ["Friends", "Work"] } });
  });

  it("reads any of the four subscription values, and a missing one as none", () => {
    const of = (attr: string) => parseRosterQuery(parse(`<query xmlns="jabber:iq:roster"><item jid="a@l"${attr}/></query>`))[0]?.subscription;
    expect([of(""), of(` subscription="none"`), of(` subscription="to"`), of(` subscription="from"`), of(` subscription="both"`)]).toEqual([
      "none",
      "none",
      "to",
      "from",
      "both",
    ]);
    expect(of(` subscription="Both"`)).toBeUndefined();
  });
});

describe("JIDs", () => {
  it.each([
    ["Bob@LocalHost/phone", "bob@localhost"],
    ["bob@example.com.", "bob@example.com"], // RFC 7622 §3.2 trailing dot
    ["cafe\u0301@example.com", "café@example.com"], // NFC
    ["ｊｕｌｉｅｔ@example.com", "juliet@example.com"], // width mapping
    ["example.com", "example.com"], // a domain (gateway) is a valid contact
  ])("normalises %j to %j", (input, expected) => {
    expect(toBareJid(input)).toBe(expected);
  });

  it.each(["", " bob@l", "bob@", "@l", "a@b/", "a b@l", "a@b@c", "a'b@l", "a@l..x", "a@.", "x".repeat(1024) + "@l", undefined, {}])(
    "rejects %j",
    (input) => {
      expect(() => toBareJid(input)).toThrow(expect.objectContaining({ code: "invalid-jid" }));
    },
  );

  it("compares received JIDs tolerantly and never throws", () => {
    expect(bareKeyOf("Bob@LocalHost/x")).toBe("bob@localhost");
    expect(bareKeyOf(undefined)).toBeUndefined();
    expect(bareKeyOf("")).toBeUndefined();
  });
});

describe("policies", () => {
  const entry = (subscription: RosterEntry["subscription"], pendingOut = false): RosterEntry => ({
    jid: "b@l", groups: [], subscription, pendingOut, approved: false, pendingIn: true, state: "None",
  });
  const request = { from: "b@l", receivedAt: 0 };

  it("'reverse' holds only for to/both or pending out", () => {
    expect([undefined, entry("none"), entry("from"), entry("none", true), entry("to"), entry("both")].map(isReverseRequest)).toEqual([
      false, false, false, true, true, true,
    ]);
  });

  it("decides per policy, and rejects a function's invalid answer", async () => {
    expect(await decide("manual", request, entry("to"))).toBeUndefined();
    expect(await decide("reverse", request, entry("none"))).toBeUndefined();
    expect(await decide("reverse", request, entry("to"))).toBe("approve");
    expect(await decide("all", request, undefined)).toBe("approve");
    expect(await decide("mutual", request, undefined)).toBe("approve-and-subscribe");
    expect(await decide(async () => "deny" as const, request, undefined)).toBe("deny");
    await expect(decide(() => "yes" as never, request, undefined)).rejects.toThrow(TypeError);
  });
});
