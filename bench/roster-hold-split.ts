/**
 * Where the time of holding a roster goes, in one process (diagnostic, not part of `npm run
 * bench`): what the judged "roster load, 100k items: ≤ 1.3× raw" leaves to a store at all.
 *
 * A roster result of N items (100k by default, the bench's own bytes) is parsed by xmpp.js' own
 * parser (`@xmpp/xml`'s Parser, fed in 64 KiB chunks as a socket delivers them): that is what raw
 * xmpp.js does, the floor of the bench. Right after each parse (two forced GCs before it, none
 * between it and the step: the step meets a tree as fresh as a client does), one of these steps
 * goes over its items, the steps taking turns round by round:
 *
 * - read: each item's `jid` and `subscription` attributes, nothing kept;
 * - key: the JID checked and normalised as the SDK does (bareKey);
 * - map: each item's element put in a `Map` by its `jid` (any store with lookups by JID does that);
 * - holder: bench/clients.ts holdRoster, the raw-held lane's frozen item per `<item/>` in a Map;
 * - sdk codec: the SDK's parseRosterQuery (whole result, frozen entries);
 * - sdk codec + Map: those entries put in a plain `Map` by JID;
 * - sdk codec + store: the codec's entries taken by the roster store (RosterStoreImpl.replaceItems,
 *   with no change records, as the client calls it when no `roster:change` listener needs them).
 *
 * Each is printed in ms (median, min–max over ROUNDS rounds) and as a share of the parse.
 * `node --expose-gc --import tsx bench/roster-hold-split.ts [items]`.
 */
// @ts-expect-error -- @xmpp/xml ships no types for its parser (as bench/snapshot-iterate.ts).
import Parser from "@xmpp/xml/lib/Parser.js";
import { bareKey } from "../src/bare-key.js";
import { bareKeyOf } from "../src/jid.js";
import { parseRosterQuery } from "../src/roster/codec.js";
import { RosterStoreImpl } from "../src/roster/store.js";
import type { XmlElement } from "../src/xmpp.js";
import { holdRoster, type ElementLike } from "./clients.js";
import { rosterResult } from "./workloads.js";

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.env["ROUNDS"] ?? 11);
const CHUNK = 65_536;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

const bytes = Buffer.from(rosterResult("roster-1", N));
const STREAM = `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" version="1.0">`;

/** The result, parsed as xmpp.js parses it off a TCP socket; returns the `<iq/>` and the time. */
function parse(): { iq: XmlElement; ms: number } {
  const parser = new Parser() as { on(event: "element", listener: (element: XmlElement) => void): void; write(data: string): void };
  let iq: XmlElement | undefined;
  parser.on("element", (element: XmlElement) => (iq = element));
  parser.write(STREAM);
  const start = performance.now();
  for (let i = 0; i < bytes.length; i += CHUNK) parser.write(bytes.subarray(i, i + CHUNK).toString());
  const ms = performance.now() - start;
  if (iq === undefined) throw new Error("the result did not parse");
  return { iq, ms };
}

const queryOf = (iq: XmlElement) => iq.getChild("query", "jabber:iq:roster") as XmlElement;
const itemsOf = (iq: XmlElement) => queryOf(iq).children as XmlElement[];

/** Each step returns how many items it holds or saw, checked against N + 1 (the sentinel). */
const STEPS: Record<string, (iq: XmlElement) => number> = {
  read(iq) {
    const items = itemsOf(iq);
    let seen = 0;
    for (let i = 0; i < items.length; i++) {
      const { attrs } = items[i] as XmlElement;
      if (attrs["jid"] !== undefined && attrs["subscription"] !== "remove") seen++;
    }
    return seen;
  },
  key(iq) {
    const items = itemsOf(iq);
    let seen = 0;
    for (let i = 0; i < items.length; i++) if (bareKey((items[i] as XmlElement).attrs["jid"]) !== undefined) seen++;
    return seen;
  },
  map(iq) {
    const items = itemsOf(iq);
    const held = new Map<string, XmlElement>();
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as XmlElement;
      held.set(item.attrs["jid"] as string, item);
    }
    return held.size;
  },
  holder: (iq) => holdRoster(iq as unknown as ElementLike).size,
  "sdk codec": (iq) => parseRosterQuery(queryOf(iq), true).length,
  "sdk codec + Map"(iq) {
    const held = new Map<string, unknown>();
    for (const item of parseRosterQuery(queryOf(iq), true)) held.set(item.jid, item);
    return held.size;
  },
  "sdk codec + store"(iq) {
    const store = new RosterStoreImpl(bareKeyOf, () => undefined);
    store.replaceItems(parseRosterQuery(queryOf(iq), true), undefined, false); // as the client does with no roster:change listener
    return store.getSnapshot().entries.size;
  },
};

const times: Record<string, number[]> = { parse: [] };
const names = Object.keys(STEPS);
for (let round = -1; round < ROUNDS; round++) {
  // Turns rotate round by round, so no step always follows the same other one.
  const shift = round < 0 ? 0 : round % names.length;
  for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
    // Collected before the parse, not between it and the step: a collection in between would
    // promote and compact the tree, and the step would run faster than it does in a client.
    gc();
    gc();
    const { iq, ms } = parse();
    const start = performance.now();
    const held = (STEPS[name] as (iq: XmlElement) => number)(iq);
    const stepMs = performance.now() - start;
    if (held !== N + 1) throw new Error(`${name} held ${held} items, not ${N + 1}`);
    if (round < 0) continue; // the warm-up round
    times["parse"]?.push(ms);
    (times[name] ??= []).push(stepMs);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
const parseMedian = median(times["parse"] as number[]);
console.log(`${N} items, ${(bytes.length / 1048576).toFixed(1)} MiB, ${ROUNDS} rounds: median (min–max), share of the parse`);
for (const [name, values] of Object.entries(times)) {
  const m = median(values);
  console.log(
    `  ${name.padEnd(18)} ${m.toFixed(0).padStart(5)} ms (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})  ${name === "parse" ? "" : `${((100 * m) / parseMedian).toFixed(0).padStart(3)}%`}`,
  );
}
