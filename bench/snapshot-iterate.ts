/**
 * Reading a whole snapshot, in one process (diagnostic, not part of `npm run bench`): what a UI
 * that lists the roster pays on each render. A roster of N items (100k by default) loaded from
 * a roster result, then `PUSHES` pushes (each its own snapshot, so the last snapshot reads its
 * epoch's history); a presence store of N/10 contacts × 2 resources, then as many updates. Each
 * way of reading the snapshot (`for…of values()`, `[...values()]`, `forEach`, `for…of` entries,
 * `keys()`) is timed 15 times, against the same read of a plain `Map` holding the same entries
 * (what an app's own Map would cost). Medians and minimums, in ms, and the time of the very
 * first read of each snapshot. Then `roster.groups()` (the roster by group, as a grouped contact
 * list shows it) after each of 25 more pushes, each moving a contact to another group.
 * `node --expose-gc --import tsx bench/snapshot-iterate.ts [items]`; in headless Chromium:
 * `node --import tsx bench/snapshot-iterate-chromium.ts`.
 */
// @ts-expect-error -- @xmpp/xml ships no types (as in test/support/fake-xmpp.ts).
import parseXml from "@xmpp/xml/lib/parse.js";
import type { XmlElement } from "../src/xmpp.js";
import { parseRosterQuery } from "../src/roster/codec.js";
import { RosterStoreImpl } from "../src/roster/store.js";
import { createRosterEditor } from "../src/roster/editor.js";
import { PresenceKind, PresenceStoreImpl } from "../src/presence/store.js";
import { bareKeyOf } from "../src/jid.js";
import { contactJid, rosterResult } from "./workloads.js";

// Also bundled into a page by bench/snapshot-iterate-chromium.ts, where there is no `process`.
const node = (globalThis as { process?: { argv: string[]; env: Record<string, string | undefined> } }).process;
const N = Number(node?.argv[2] ?? 100_000);
const PUSHES = Number(node?.env["PUSHES"] ?? 500);
const RUNS = 15;

function time(read: () => number): { median: number; min: number; first: number } {
  const times: number[] = [];
  let sink = 0;
  for (let r = 0; r < RUNS; r++) {
    const start = performance.now();
    sink += read();
    times.push(performance.now() - start);
  }
  if (sink < 0) console.log(sink); // keeps the reads from being optimised away
  const first = times[0] as number;
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1] as number, min: times[0] as number, first };
}

// Each reader is compiled anew for each map (new Function), so the snapshot's and the Map's
// reads never share inline-cache feedback: one shared reader would see both kinds of iterator
// and run slower for both.
const READERS: Record<string, string> = {
  "for…of values()": "let n = 0; for (const value of map.values()) if (value !== undefined) n++; return n;",
  "[...values()]": "return [...map.values()].length;",
  "forEach": "let n = 0; map.forEach(() => void n++); return n;",
  "for…of map (entries)": "let n = 0; for (const [key] of map) n += key.length > 0 ? 1 : 0; return n;",
  "[...keys()]": "return [...map.keys()].length;",
};

function readers(map: ReadonlyMap<string, unknown>): Record<string, () => number> {
  const compiled: Record<string, () => number> = {};
  for (const [name, body] of Object.entries(READERS)) {
    const read = new Function("map", body) as (m: ReadonlyMap<string, unknown>) => number;
    compiled[name] = () => read(map);
  }
  return compiled;
}

function compare(label: string, snapshot: ReadonlyMap<string, unknown>): void {
  const plain = new Map(snapshot);
  if (plain.size !== snapshot.size) throw new Error(`${label}: ${plain.size} entries read, ${snapshot.size} held`);
  console.log(`${label} (${snapshot.size} entries):`);
  const mine = readers(snapshot);
  const theirs = readers(plain);
  let first = true;
  for (const name of Object.keys(mine)) {
    globalThis.gc?.();
    const a = time(mine[name] as () => number);
    globalThis.gc?.();
    const b = time(theirs[name] as () => number);
    // The snapshot's very first read also lays its epoch out (BaseSlots in src/snapshot-map.ts).
    if (first) console.log(`  first read of the snapshot: ${a.first.toFixed(2)} ms`);
    first = false;
    console.log(
      `  ${name.padEnd(22)} snapshot ${a.median.toFixed(2).padStart(6)} ms (min ${a.min.toFixed(2)})   Map ${b.median.toFixed(2).padStart(6)} ms (min ${b.min.toFixed(2)})   ${b.median > 0 ? `${(a.median / b.median).toFixed(1)}×` : "–"}`,
    );
  }
}

// The roster: a result, then pushes (renames) of contacts spread over it.
const query = (parseXml(rosterResult("x", N)) as XmlElement).getChild("query", "jabber:iq:roster") as XmlElement;
const roster = new RosterStoreImpl(bareKeyOf, () => undefined);
roster.replaceItems(parseRosterQuery(query, true), "1");
compare("roster snapshot right after the roster result", roster.getSnapshot().entries);
for (let p = 0; p < PUSHES; p++) {
  const jid = contactJid((p * 7919) % N);
  roster.applyPush(jid, { jid, name: `Renamed ${p}`, groups: [], subscription: "both", pendingOut: false, approved: false }, String(p + 2));
  roster.getSnapshot();
}
compare(`roster snapshot after ${PUSHES} pushes`, roster.getSnapshot().entries);

// Presence: N/10 contacts online on two resources, then updates spread over them.
const contacts = Math.max(1, Math.floor(N / 10));
const presence = new PresenceStoreImpl();
const presenceOf = (i: number, resource: string, status: string) => ({
  from: `${contactJid(i)}/${resource}`,
  bare: contactJid(i),
  resource,
  type: "available" as const,
  show: "available" as const,
  status,
  priority: 0,
  receivedAt: i,
});
for (let i = 0; i < contacts; i++) for (const resource of ["phone", "laptop"]) presence.apply(presenceOf(i, resource, "hi"), PresenceKind.Contact);
presence.getSnapshot();
for (let p = 0; p < PUSHES; p++) {
  presence.apply(presenceOf((p * 7919) % contacts, "phone", `update ${p}`), PresenceKind.Contact);
  presence.getSnapshot();
}
compare(`presence contacts after ${PUSHES} updates`, presence.getSnapshot().contacts);

// The roster by group after each push, as a grouped contact list re-renders.
const editor = createRosterEditor({
  store: roster,
  contactJid: (jid) => jid,
  requireOnline: () => undefined,
  request: () => Promise.reject(new Error("not connected")),
  sendPresence: () => Promise.resolve(),
});
const GROUPS = ["Friends", "Family", "Work", "Colleagues", "Team A"];
const groupsMs: number[] = [];
for (let p = 0; p < 26; p++) {
  const jid = contactJid((p * 104_729) % N);
  roster.applyPush(jid, { jid, groups: [GROUPS[p % GROUPS.length] as string], subscription: "both", pendingOut: false, approved: false }, String(PUSHES + p + 2));
  const start = performance.now();
  const grouped = editor.groups();
  groupsMs.push(performance.now() - start);
  if (!grouped.groups.get(GROUPS[p % GROUPS.length] as string)?.some((entry) => entry.jid === jid)) throw new Error(`${jid} is not in its group`);
}
const [firstGroups, ...laterGroups] = groupsMs;
laterGroups.sort((a, b) => a - b);
console.log(
  `roster.groups() after a push into ${N}: the first ${(firstGroups as number).toFixed(1)} ms (derived from scratch), ` +
    `the next 25 median ${(laterGroups[laterGroups.length >> 1] as number).toFixed(2)} ms (max ${(laterGroups[laterGroups.length - 1] as number).toFixed(2)})`,
);
console.log("done");
