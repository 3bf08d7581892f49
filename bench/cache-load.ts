/**
 * Loading a persistent roster cache, in one process (diagnostic, not part of `npm run bench`):
 * a 100k-item roster as `localStorageStorage` stores it (a head and a base of items, as JSON),
 * then, 11 times, `JSON.parse`, the validation the browser adapters run on what they read
 * (`readLoggedCache`: `parseCachedRoster` on the items), and the store filling from it
 * (`loadCache`); then the heap the loaded store holds.
 * `node --expose-gc --import tsx bench/cache-load.ts [items]`
 */
// @ts-expect-error -- @xmpp/xml ships no types (as in test/support/fake-xmpp.ts).
import parseXml from "@xmpp/xml/lib/parse.js";
import type { XmlElement } from "../src/xmpp.js";
import { parseRosterQuery } from "../src/roster/codec.js";
import { RosterStoreImpl } from "../src/roster/store.js";
import { logMutation, readLoggedCache } from "../src/storage/change-log.js";
import { bareKeyOf } from "../src/jid.js";
import { rosterResult } from "./workloads.js";
const N = Number(process.argv[2] ?? 100_000);
const query = (parseXml(rosterResult("x", N)) as XmlElement).getChild("query", "jabber:iq:roster") as XmlElement;
const items = parseRosterQuery(query, false).map((item) => ({ ...item, groups: [...item.groups] }));
const records = logMutation(undefined, { kind: "replace", roster: { version: "v1", items, requests: [], preApprovals: [] } });
const headText = JSON.stringify(records.head);
const text = JSON.stringify(records.base);
const t = { json: [] as number[], validate: [] as number[], load: [] as number[] };
for (let r = 0; r < 11; r++) {
  globalThis.gc?.();
  let a = performance.now();
  const obj = JSON.parse(text) as unknown;
  const head = JSON.parse(headText) as unknown;
  let b = performance.now(); t.json.push(b - a);
  const cached = readLoggedCache(head, obj);
  if (cached === undefined) throw new Error("the cache did not validate");
  a = performance.now(); t.validate.push(a - b);
  const store = new RosterStoreImpl(bareKeyOf, () => undefined);
  store.loadCache(cached);
  store.getSnapshot();
  b = performance.now(); t.load.push(b - a);
  if (store.getSnapshot().entries.size !== N + 1 && store.getSnapshot().entries.size !== N) throw new Error("size " + store.getSnapshot().entries.size);
}
const fmt = (xs: number[]) => { const s = [...xs].sort((x, y) => x - y); return `min ${s[0]!.toFixed(1)} median ${s[s.length >> 1]!.toFixed(1)} ms`; };
console.log(`${N} cached items (${(text.length / 1e6).toFixed(1)} MB JSON): JSON.parse ${fmt(t.json)}; validation ${fmt(t.validate)}; store.loadCache ${fmt(t.load)}`);
function loadedStore(): RosterStoreImpl {
  const store = new RosterStoreImpl(bareKeyOf, () => undefined);
  const cached = readLoggedCache(JSON.parse(headText), JSON.parse(text));
  if (cached === undefined) throw new Error("the cache did not validate");
  store.loadCache(cached);
  store.getSnapshot();
  return store;
}
globalThis.gc?.();
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const held = loadedStore();
globalThis.gc?.();
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
console.log(`heap held by the loaded store (${held.getSnapshot().entries.size} entries): ${((heapAfter - heapBefore) / 1e6).toFixed(1)} MB (${((heapAfter - heapBefore) / N).toFixed(0)} B/entry)`);
