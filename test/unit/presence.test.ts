// The per-resource presence model (RFC 6121 §4; rfc6121-client P-07..P-11, P-13, S-06, S-17)
// and the presence store contract.
import { describe, expect, it } from "vitest";
import { isPresenceError } from "../../src/errors.js";
import { ResourceMap } from "../../src/presence/resource-map.js";
import {
  bestResource,
  MAX_PRESENCE_STATUS_LENGTH,
  parsePresence,
  SHOW_ORDER,
  Show,
  type ParsedPresence,
  type ResourcePresence,
} from "../../src/presence/model.js";
import { PresenceStoreImpl, type PresenceSnapshot } from "../../src/presence/store.js";
import { xml } from "../../src/xmpp.js";
import { parse } from "../support/fake-xmpp.js";

const NOW = Date.parse("2024-05-01T12:00:00Z");

function read(stanza: string, now = NOW): ParsedPresence | undefined {
  return parsePresence(parse(stanza), now);
}

function must(stanza: string, now = NOW): ParsedPresence {
  const parsed = read(stanza, now);
  if (parsed === undefined) throw new Error(`not parsed: ${stanza}`);
  return parsed;
}

/** An available presence from `from` with optional `<show/>` and `<priority/>`. */
function on(from: string, show?: string, priority?: number, now = NOW): ParsedPresence {
  const showEl = show === undefined ? "" : `<show>${show}</show>`;
  const priorityEl = priority === undefined ? "" : `<priority>${priority}</priority>`;
  return must(`<presence xmlns="jabber:client" from="${from}">${showEl}${priorityEl}</presence>`, now);
}

function off(from: string): ParsedPresence {
  return must(`<presence xmlns="jabber:client" from="${from}" type="unavailable"/>`);
}

function res(resource: string, priority: number, show: Show = Show.Available, receivedAt = 0): ResourcePresence {
  return { resource, show, priority, receivedAt };
}

describe("parsePresence", () => {
  it("reads an available presence with no type, keeping the raw from and keying by bare JID", () => {
    const parsed = read(
      `<presence xmlns="jabber:client" from="Bob@LocalHost/Phone"><show>away</show><status>lunch</status><priority>5</priority></presence>`,
    );
    expect(parsed).toEqual({
      from: "Bob@LocalHost/Phone",
      bare: "bob@localhost",
      resource: "Phone",
      type: "available",
      show: "away",
      status: "lunch",
      priority: 5,
      receivedAt: NOW,
    });
  });

  it("reads type='unavailable', and a bare JID as resource ''", () => {
    const parsed = read(`<presence from="bob@localhost" type="unavailable"><status>bye</status></presence>`);
    expect(parsed).toMatchObject({ type: "unavailable", bare: "bob@localhost", resource: "", status: "bye" });
  });

  it("keeps '/' and '@' inside the resourcepart (RFC 7622 §3.1: the first '/' starts it)", () => {
    expect(must(`<presence from="bob@localhost/a/b@c"/>`).resource).toBe("a/b@c");
  });

  it.each(["subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error", "available", "AVAILABLE", ""])(
    "P-08: ignores type='%s' (never read as available)",
    (type) => {
      expect(read(`<presence from="bob@localhost/r" type="${type}"/>`)).toBeUndefined();
    },
  );

  it("ignores a presence without a usable from, or with an empty resourcepart", () => {
    expect(read(`<presence/>`)).toBeUndefined();
    expect(read(`<presence from=""/>`)).toBeUndefined();
    expect(read(`<presence from="bob@localhost/" type="unavailable"/>`)).toBeUndefined();
  });

  it("P-09: no <show/> is 'available'; the four RFC values are kept", () => {
    expect(on("b@x/r").show).toBe("available");
    for (const show of ["chat", "away", "xa", "dnd"]) expect(on("b@x/r", show).show).toBe(show);
    expect(on("b@x/r", " dnd ").show).toBe("dnd");
  });

  it("P-09: an unknown <show/> is 'available', and only the first <show/> counts", () => {
    expect(on("b@x/r", "busy").show).toBe("available");
    expect(on("b@x/r", "available").show).toBe("available");
    expect(on("b@x/r", "DND").show).toBe("available");
    expect(must(`<presence from="b@x/r"><show>busy</show><show>dnd</show></presence>`).show).toBe("available");
    expect(must(`<presence from="b@x/r"><show>away</show><show>dnd</show></presence>`).show).toBe("away");
  });

  it("reads <show/> only in the stanza namespace, not an extension's element of that name", () => {
    expect(must(`<presence xmlns="jabber:client" from="b@x/r"><show xmlns="urn:example">dnd</show></presence>`).show).toBe("available");
    expect(must(`<presence from="b@x/r"><show xmlns="urn:example">dnd</show><show>xa</show></presence>`).show).toBe("xa");
  });

  it.each([
    ["absent", undefined, 0],
    ["a plain integer", "5", 5],
    ["negative", "-1", -1],
    ["with a plus sign and spaces", " +12 ", 12],
    ["zero-padded", "007", 7],
    ["not a number", "abc", 0],
    ["a decimal", "1.5", 0],
    ["empty", "", 0],
    ["above 127", "200", 127],
    ["below -128", "-999", -128],
    ["huge", "99999999999999999999", 127],
  ])("P-11: priority %s reads as the clamped integer or 0", (_label, text, expected) => {
    const priority = text === undefined ? "" : `<priority>${text}</priority>`;
    expect(must(`<presence from="b@x/r">${priority}</presence>`).priority).toBe(expected);
  });

  it("P-11: only the first <priority/> counts", () => {
    expect(must(`<presence from="b@x/r"><priority>3</priority><priority>9</priority></presence>`).priority).toBe(3);
  });

  it("reads the whole text of <show/>, <status/> and <priority/> when it comes as several text nodes", () => {
    // The parser usually gives one text node; a stanza built (or parsed) in pieces is read whole.
    const stanza = xml("presence", { from: "bob@l/r" }, xml("show", {}, "a", "way"), xml("status", {}, "out ", "to lunch"), xml("priority", {}, "1", "2"));
    expect(parsePresence(stanza, NOW)).toMatchObject({ show: "away", status: "out to lunch", priority: 12 });
  });

  it("P-10: prefers the <status/> without xml:lang, else takes the first", () => {
    const mixed = `<presence from="b@x/r"><status xml:lang="cs">Pryč</status><status>Away</status><status xml:lang="de">Weg</status></presence>`;
    expect(must(mixed).status).toBe("Away");
    const allTagged = `<presence from="b@x/r"><status xml:lang="cs">Pryč</status><status xml:lang="en">Away</status></presence>`;
    expect(must(allTagged).status).toBe("Pryč");
  });

  it("sanitises <status/>: strips control and bidi-override characters, keeps tab and newline", () => {
    // XML 1.0 forbids most C0 characters, so build the element directly as a hostile parser might pass it on.
    const hostile = xml("presence", { from: "b@x/r" }, xml("status", null, "a\u202Eb\u2066c\u0007d\u0085e\u0000\tf\ng\u202A"));
    expect(parsePresence(hostile, NOW)?.status).toBe("abcde\tf\ng");
    expect(must(`<presence from="b@x/r"><status>a\u202Eb\u0085c</status></presence>`).status).toBe("abc");
    expect(must(`<presence from="b@x/r"><status>\u202E</status></presence>`)).not.toHaveProperty("status");
    expect(must(`<presence from="b@x/r"><status/></presence>`)).not.toHaveProperty("status");
  });

  it(`cuts <status/> to ${MAX_PRESENCE_STATUS_LENGTH} code points without splitting a surrogate pair`, () => {
    expect(must(`<presence from="b@x/r"><status>${"x".repeat(10_000)}</status></presence>`).status).toHaveLength(MAX_PRESENCE_STATUS_LENGTH);
    const emoji = must(`<presence from="b@x/r"><status>${"😀".repeat(2000)}</status></presence>`).status ?? "";
    expect(Array.from(emoji)).toHaveLength(MAX_PRESENCE_STATUS_LENGTH);
    expect(emoji.endsWith("😀")).toBe(true);
  });

  it("XEP-0203: receivedAt is the <delay/> stamp when valid, else now", () => {
    const delayed = (stamp: string, ns = "urn:xmpp:delay") =>
      must(`<presence from="b@x/r"><delay xmlns="${ns}" from="x" stamp="${stamp}"/></presence>`).receivedAt;
    expect(delayed("2024-05-01T11:00:00Z")).toBe(NOW - 3_600_000);
    expect(delayed("2024-05-01T13:30:00.250+02:00")).toBe(NOW - 1_800_000 + 250);
    expect(delayed("yesterday")).toBe(NOW);
    expect(delayed("2024-05-01T11:00:00")).toBe(NOW); // no zone: XEP-0082 needs one
    expect(delayed("2024-13-45T99:00:00Z")).toBe(NOW);
    expect(delayed("2030-01-01T00:00:00Z")).toBe(NOW); // the future is clamped
    expect(delayed("2024-05-01T11:00:00Z", "jabber:x:delay")).toBe(NOW); // legacy XEP-0091 is ignored
    expect(must(`<presence from="b@x/r"/>`, 42).receivedAt).toBe(42);
  });
});

describe("bestResource", () => {
  it("returns undefined for no resources", () => {
    expect(bestResource([])).toBeUndefined();
  });

  it("picks the highest priority, then the show, then the most recent, then the name", () => {
    expect(bestResource([res("a", 1, Show.DoNotDisturb), res("b", 0, Show.Chat)])?.resource).toBe("a");
    expect(bestResource([res("a", 0, Show.Away), res("b", 0, Show.Available), res("c", 0, Show.ExtendedAway)])?.resource).toBe("b");
    expect(bestResource([res("a", 0, Show.Away, 1), res("b", 0, Show.Away, 2)])?.resource).toBe("b");
    expect(bestResource([res("b", 0), res("a", 0)])?.resource).toBe("a");
  });

  it("counts resources with a negative priority (RFC 6121 §4.7.2.3 only affects routing)", () => {
    expect(bestResource([res("bot", -1, Show.Chat)])?.resource).toBe("bot");
    expect(bestResource([res("bot", -1, Show.Chat), res("phone", -5, Show.Chat)])?.resource).toBe("bot");
  });

  it("exports the show order chat > available > away > xa > dnd", () => {
    expect(SHOW_ORDER).toEqual(["chat", "available", "away", "xa", "dnd"]);
    expect(Object.isFrozen(SHOW_ORDER)).toBe(true);
  });
});

function store(options: ConstructorParameters<typeof PresenceStoreImpl>[0] = {}) {
  return new PresenceStoreImpl(options);
}

describe("PresenceStore", () => {
  it("returns the same frozen snapshot until something changes, and never mutates old ones", () => {
    const s = store();
    const first = s.getSnapshot();
    expect(s.getSnapshot()).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(s.apply(on("bob@x/phone", "away"), "contact")).toBe(true);
    const second = s.getSnapshot();
    expect(second).not.toBe(first);
    expect(first.contacts.size).toBe(0);
    expect(second.contacts.get("bob@x")?.best?.show).toBe("away");
    expect(Object.isFrozen(second.contacts.get("bob@x"))).toBe(true);
    s.apply(on("bob@x/phone", "dnd"), "contact");
    expect(second.contacts.get("bob@x")?.best?.show).toBe("away");
    expect(s.getSnapshot().contacts.get("bob@x")?.best?.show).toBe("dnd");
  });

  it("P-14: a presence repeating show, status and priority is no change", () => {
    const s = store();
    s.apply(on("bob@x/phone", "away", 1), "contact");
    const snapshot = s.getSnapshot();
    let calls = 0;
    s.listen(() => calls++);
    expect(s.apply(on("bob@x/phone", "away", 1, NOW + 1000), "contact")).toBe(false);
    expect(s.getSnapshot()).toBe(snapshot);
    expect(calls).toBe(0);
  });

  it("applyToContact: acts only on an entity on record as a contact, as apply would", () => {
    const s = store();
    let calls = 0;
    s.listen(() => calls++);
    // Nothing on record, or on record as another entity: not a contact's, nothing done.
    expect(s.applyToContact(on("bob@x/phone", "away"))).toBeUndefined();
    s.apply(on("eve@x/pc"), "other");
    const withEve = s.getSnapshot();
    expect(s.applyToContact(on("eve@x/pc", "dnd"))).toBeUndefined();
    expect(s.getSnapshot()).toBe(withEve);
    expect(withEve.others.get("eve@x")?.best?.show).toBe("available");
    expect(withEve.contacts.has("eve@x")).toBe(false);
    // On record as a contact: applied (true), a repeat is no change (false, P-14).
    s.apply(on("bob@x/phone", "away", 1), "contact");
    const before = s.getSnapshot();
    calls = 0;
    expect(s.applyToContact(on("bob@x/phone", "dnd", 1))).toBe(true);
    expect(s.getSnapshot().contacts.get("bob@x")?.best?.show).toBe("dnd");
    expect(before.contacts.get("bob@x")?.best?.show).toBe("away");
    expect(calls).toBe(1);
    expect(s.applyToContact(on("bob@x/phone", "dnd", 1, NOW + 1000))).toBe(false);
    expect(calls).toBe(1);
    expect(s.applyToContact(off("bob@x/phone"))).toBe(true);
    expect(s.getSnapshot().contacts.get("bob@x")?.available).toBe(false);
  });

  it("keeps unchanged contact records identical across snapshots", () => {
    const s = store();
    s.apply(on("bob@x/phone"), "contact");
    s.apply(on("carol@x/pc"), "contact");
    const bob = s.getSnapshot().contacts.get("bob@x");
    s.apply(on("carol@x/pc", "xa"), "contact");
    s.apply(off("dave@x"), "contact");
    const after = s.getSnapshot();
    expect(after.contacts.get("bob@x")).toBe(bob);
    expect([...after.contacts.keys()].sort()).toEqual(["bob@x", "carol@x", "dave@x"]);
  });

  it("subscribe() calls at once and on change; listen() only on change; both stop; unbound use works", () => {
    const s = store();
    const sub: PresenceSnapshot[] = [];
    const lis: PresenceSnapshot[] = [];
    const { subscribe, listen, getSnapshot, get, best } = s;
    const stopSub = subscribe((snap) => sub.push(snap));
    const stopLis = listen((snap) => lis.push(snap));
    expect(sub).toEqual([getSnapshot()]);
    expect(lis).toEqual([]);
    s.apply(on("bob@x/phone", "chat"), "contact");
    expect(sub).toHaveLength(2);
    expect(lis).toEqual([getSnapshot()]);
    expect(get("BOB@X/anything")?.get("phone")?.show).toBe("chat");
    expect(best("bob@x")?.resource).toBe("phone");
    stopSub();
    stopLis();
    s.apply(off("bob@x/phone"), "contact");
    expect(sub).toHaveLength(2);
    expect(lis).toHaveLength(1);
  });

  it("reports a throwing listener and still notifies the others and applies the write", () => {
    const errors: unknown[] = [];
    const s = store({ onListenerError: (e) => void errors.push(e) });
    let calls = 0;
    s.listen(() => {
      throw new Error("boom");
    });
    s.listen(() => calls++);
    expect(s.apply(on("bob@x/phone"), "contact")).toBe(true);
    expect(calls).toBe(1);
    expect(errors).toEqual([new Error("boom")]);
    expect(s.best("bob@x")?.resource).toBe("phone");
  });

  it("batch() notifies once for many writes", () => {
    const s = store();
    let calls = 0;
    s.listen(() => calls++);
    s.batch(() => {
      for (let i = 0; i < 10; i++) s.apply(on(`c${i}@x/r`), "contact");
    });
    expect(calls).toBe(1);
    expect(s.getSnapshot().contacts.size).toBe(10);
  });

  it("tracks resources and the best one; an unavailable full JID removes one resource", () => {
    const s = store();
    s.apply(on("bob@x/phone", "away", 5), "contact");
    s.apply(on("bob@x/pc", "chat", 1), "contact");
    expect(s.best("bob@x")?.resource).toBe("phone");
    s.apply(off("bob@x/phone"), "contact");
    expect([...(s.get("bob@x")?.keys() ?? [])]).toEqual(["pc"]);
    expect(s.best("bob@x")?.resource).toBe("pc");
    s.apply(off("bob@x/pc"), "contact");
    const bob = s.getSnapshot().contacts.get("bob@x");
    expect(bob).toMatchObject({ jid: "bob@x", available: false });
    expect(Object.keys(bob ?? {})).toEqual(["jid", "resources", "available"]); // no `best`
    expect([...(bob?.resources ?? [])]).toEqual([]);
    expect(s.get("bob@x")?.size).toBe(0); // offline, not unknown
    expect(s.get("nobody@x")).toBeUndefined(); // unknown
  });

  it("P-07: an unavailable from the bare JID clears all of the contact's resources", () => {
    const s = store();
    s.apply(on("bob@x/phone"), "contact");
    s.apply(on("bob@x/pc"), "contact");
    s.apply(on("carol@x/pc"), "contact");
    let calls = 0;
    s.listen(() => calls++);
    expect(s.apply(off("bob@x"), "contact")).toBe(true);
    expect(calls).toBe(1);
    expect(s.getSnapshot().contacts.get("bob@x")).toMatchObject({ available: false });
    expect(s.getSnapshot().contacts.get("bob@x")?.resources.size).toBe(0);
    expect(s.getSnapshot().contacts.get("carol@x")?.available).toBe(true);
    expect(s.apply(off("bob@x"), "contact")).toBe(false);
  });

  it("an unavailable from an unknown entity records it as offline", () => {
    const s = store();
    expect(s.apply(off("bob@x/phone"), "contact")).toBe(true);
    expect(s.getSnapshot().contacts.get("bob@x")?.available).toBe(false);
    expect(s.apply(off("bob@x/pc"), "contact")).toBe(false);
  });

  it("S-17: clearContact() forgets a contact at once (unknown, not offline)", () => {
    const s = store();
    s.apply(on("bob@x/phone"), "contact");
    s.apply(on("carol@x/pc"), "other");
    expect(s.clearContact("Bob@X")).toBe(true);
    expect(s.get("bob@x")).toBeUndefined();
    expect(s.getSnapshot().contacts.has("bob@x")).toBe(false);
    expect(s.clearContact("carol@x/pc")).toBe(true);
    expect(s.getSnapshot().others.size).toBe(0);
    expect(s.clearContact("bob@x")).toBe(false);
    expect(s.clearContact("not a jid@@")).toBe(false);
  });

  it("P-13: clearAll() empties contacts, others and own, notifying once", () => {
    const s = store();
    for (let i = 0; i < 50; i++) s.apply(on(`c${i}@x/r`), "contact");
    s.apply(on("stranger@y/r"), "other");
    s.apply(on("me@x/laptop"), "own");
    let calls = 0;
    s.listen(() => calls++);
    expect(s.clearAll()).toBe(true);
    expect(calls).toBe(1);
    const snapshot = s.getSnapshot();
    expect([snapshot.contacts.size, snapshot.others.size, snapshot.own.size]).toEqual([0, 0, 0]);
    expect(s.best("c1@x")).toBeUndefined();
    expect(s.clearAll()).toBe(false);
    expect(calls).toBe(1);
  });

  it("keeps at most maxOthers non-roster entities, forgetting the least recently updated", () => {
    const s = store({ maxOthers: 3 });
    s.apply(on("a@x/r"), "other");
    s.apply(on("b@x/r"), "other");
    s.apply(on("c@x/r"), "other");
    s.apply(on("a@x/r", "away"), "other"); // a is now the most recent
    s.apply(on("d@x/r"), "other"); // evicts b
    expect([...s.getSnapshot().others.keys()].sort()).toEqual(["a@x", "c@x", "d@x"]);
    s.apply(on("c@x/r"), "other"); // a repeat is not a change, but is recent use
    s.apply(on("e@x/r"), "other"); // evicts a
    expect([...s.getSnapshot().others.keys()].sort()).toEqual(["c@x", "d@x", "e@x"]);
    expect(s.get("b@x")).toBeUndefined();
    expect(s.getSnapshot().others.size).toBe(3);
  });

  it("does not count contacts or own resources against maxOthers", () => {
    const s = store({ maxOthers: 1 });
    for (let i = 0; i < 5; i++) s.apply(on(`c${i}@x/r`), "contact");
    for (let i = 0; i < 5; i++) s.apply(on(`me@x/r${i}`), "own");
    s.apply(on("o1@x/r"), "other");
    s.apply(on("o2@x/r"), "other");
    const snapshot = s.getSnapshot();
    expect([snapshot.contacts.size, snapshot.others.size, snapshot.own.size]).toEqual([5, 1, 5]);
    expect(snapshot.others.has("o2@x")).toBe(true);
  });

  it("rejects a bad maxOthers", () => {
    expect(() => store({ maxOthers: -1 })).toThrow(expect.objectContaining({ code: "invalid-argument" }));
    let error: unknown;
    try {
      store({ maxOthers: 1.5 });
    } catch (e) {
      error = e;
    }
    expect(isPresenceError(error)).toBe(true);
  });

  it("P-02: keeps our own resources apart from contacts", () => {
    const s = store();
    s.apply(on("me@x/phone", "away", 2), "own");
    s.apply(on("me@x/pc", "chat"), "own");
    const snapshot = s.getSnapshot();
    expect([...snapshot.own.keys()].sort()).toEqual(["pc", "phone"]);
    expect(snapshot.own.get("phone")).toMatchObject({ show: "away", priority: 2 });
    expect(snapshot.contacts.size + snapshot.others.size).toBe(0);
    expect(s.get("me@x")).toBeUndefined();
    s.apply(off("me@x/phone"), "own");
    expect([...s.getSnapshot().own.keys()]).toEqual(["pc"]);
    s.apply(off("me@x"), "own");
    expect(s.getSnapshot().own.size).toBe(0);
    expect(s.apply(off("me@x"), "own")).toBe(false);
  });

  it("promote() and demote() move an entity between others and contacts, keeping its record", () => {
    const s = store({ maxOthers: 2 });
    s.apply(on("bob@x/phone"), "other");
    const record = s.getSnapshot().others.get("bob@x");
    expect(s.promote("bob@x")).toBe(true);
    expect(s.getSnapshot().contacts.get("bob@x")).toBe(record);
    expect(s.getSnapshot().others.has("bob@x")).toBe(false);
    expect(s.promote("bob@x")).toBe(false);
    s.apply(on("o1@x/r"), "other");
    s.apply(on("o2@x/r"), "other");
    expect(s.demote("bob@x")).toBe(true); // most recent, so o1 is forgotten
    expect([...s.getSnapshot().others.keys()].sort()).toEqual(["bob@x", "o2@x"]);
    expect(s.getSnapshot().contacts.size).toBe(0);
    expect(s.demote("bob@x")).toBe(false);
  });

  it("apply() moves an entity recorded under the other kind, carrying its resources", () => {
    const s = store();
    s.apply(on("bob@x/phone"), "other");
    expect(s.apply(on("bob@x/pc"), "contact")).toBe(true);
    expect([...(s.getSnapshot().contacts.get("bob@x")?.resources.keys() ?? [])].sort()).toEqual(["pc", "phone"]);
    expect(s.getSnapshot().others.has("bob@x")).toBe(false);
  });

  it("S-06 is the client's call: the store applies a bare unavailable it is given", () => {
    const s = store();
    s.apply(off("bob@x"), "contact");
    expect(s.getSnapshot().contacts.get("bob@x")?.available).toBe(false);
  });

  it("snapshot maps stay correct across many small changes (structure sharing)", () => {
    const s = store();
    const model = new Map<string, string>();
    const snapshots: Array<[PresenceSnapshot, Map<string, string>]> = [];
    for (let i = 0; i < 3000; i++) {
      const jid = `c${(i * 7919) % 400}@x`;
      if (i % 5 === 0) {
        s.clearContact(jid);
        model.delete(jid);
      } else {
        const show = SHOW_ORDER[i % SHOW_ORDER.length] ?? "available";
        s.apply(on(`${jid}/r`, show === "available" ? undefined : show), "contact");
        model.set(jid, show);
      }
      if (i % 97 === 0) snapshots.push([s.getSnapshot(), new Map(model)]);
    }
    for (const [snapshot, expected] of snapshots) {
      const actual = new Map([...snapshot.contacts].map(([jid, c]) => [jid, c.best?.show]));
      expect(actual).toEqual(expected);
      expect(snapshot.contacts.size).toBe(expected.size);
    }
  });

  // Speed is measured in the benchmark (npm run bench), not here: this checks the flood's result.
  it("ends a flood of 100k presences over 10k contacts in the right state, one notification per change", () => {
    const s = store();
    let seen = 0;
    s.listen((snapshot) => {
      seen += snapshot.contacts.size > 0 ? 1 : 0;
    });
    const stanzas = Array.from({ length: 100_000 }, (_, i): ParsedPresence => {
      const bare = `c${(i * 7919) % 10_000}@x`;
      const resource = `r${i % 3}`;
      const show = SHOW_ORDER[i % 5] ?? Show.Available;
      return { from: `${bare}/${resource}`, bare, resource, type: "available", show, priority: i % 7, receivedAt: i };
    });
    let changes = 0;
    for (const parsed of stanzas) if (s.apply(parsed, "contact")) changes++;
    expect(changes).toBeGreaterThan(50_000);
    expect(seen).toBe(changes);
    expect(s.getSnapshot().contacts.size).toBe(10_000);
  });
});

describe("ResourceMap (a contact's resources)", () => {
  const r = (resource: string, priority = 0): ResourcePresence => ({ resource, show: "available", priority, receivedAt: 1 });

  it("reads like a Map and never changes: with/without make new ones", () => {
    const empty = ResourceMap.EMPTY;
    const one = empty.with(r("pc"));
    const two = one.with(r("phone", 5));
    const replaced = two.with(r("pc", 9));
    expect([empty.size, one.size, two.size, replaced.size]).toEqual([0, 1, 2, 2]);
    expect(new Map(replaced)).toEqual(new Map([["pc", r("pc", 9)], ["phone", r("phone", 5)]]));
    expect(two.get("pc")?.priority).toBe(0); // the older map is untouched
    expect([two.has("phone"), two.has("tablet"), two.get("tablet")]).toEqual([true, false, undefined]);
    expect([...two.keys()]).toEqual(["pc", "phone"]);
    expect([...two.values()].map((p) => p.priority)).toEqual([0, 5]);
    const seen: string[] = [];
    two.forEach((value, key, map) => void seen.push(`${key}:${value.priority}:${map === two}`));
    expect(seen).toEqual(["pc:0:true", "phone:5:true"]);
    expect(two.without("tablet")).toBe(two);
    expect([...two.without("pc").keys()]).toEqual(["phone"]);
    expect(one.without("pc")).toBe(ResourceMap.EMPTY);
    expect(Object.isFrozen(two)).toBe(true);
    expect(Object.prototype.toString.call(two)).toBe("[object ResourceMap]");
  });
});
