/**
 * The page side of bench/storage-push.ts: the SDK's browser roster caches, bundled for the
 * page, timed on one push at a time into a cache of a given size.
 */
import { indexedDbStorage, localStorageStorage } from "../src/storage/browser.js";
import type { RosterItem } from "../src/roster/model.js";
import type { RosterStorage } from "../src/storage/types.js";

export type StorageKind = "indexeddb" | "localstorage";

export interface PushTimes {
  /** The whole roster written once (a roster result). */
  replaceMs: number;
  /** One item mutation (a roster push) at a time, each awaited. */
  pushMs: number[];
  /** The cache read back (a client starting with it). */
  loadMs: number;
}

const ACCOUNT = "bench@localhost";
let serial = 0;

function item(i: number, name: string): RosterItem {
  return { jid: `contact${i}@example.org`, name, groups: i % 3 === 0 ? [] : ["Friends"], subscription: "both", pendingOut: false, approved: false };
}

async function storagePush(kind: StorageKind, size: number, pushes: number): Promise<PushTimes> {
  const name = `xmpp-presence-bench-${Date.now()}-${serial++}`;
  const storage: RosterStorage = kind === "indexeddb" ? indexedDbStorage(name) : localStorageStorage(`${name}:`);
  const items = Array.from({ length: size }, (_, i) => item(i, `Contact ${i}`));
  let start = performance.now();
  await storage.save(ACCOUNT, { kind: "replace", roster: { version: "1", items, requests: [], preApprovals: [] } });
  const replaceMs = performance.now() - start;
  const pushMs: number[] = [];
  for (let p = 0; p < pushes; p++) {
    const i = (p * 7919) % size;
    start = performance.now();
    await storage.save(ACCOUNT, { kind: "item", jid: `contact${i}@example.org`, item: item(i, `Renamed ${p}`), version: String(p + 2) });
    pushMs.push(performance.now() - start);
  }
  start = performance.now();
  const loaded = await storage.load(ACCOUNT);
  const loadMs = performance.now() - start;
  if (loaded?.items.length !== size || loaded.version !== String(pushes + 1)) throw new Error(`read back ${loaded?.items.length} items at ${loaded?.version}`);
  await storage.clear(ACCOUNT);
  if (kind === "indexeddb") indexedDB.deleteDatabase(name);
  return { replaceMs, pushMs, loadMs };
}

(globalThis as unknown as { storagePush: typeof storagePush }).storagePush = storagePush;
