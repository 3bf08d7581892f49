/**
 * The page side of test/e2e/browser-cache.test.ts (bundled for Chromium by that test): a real
 * client with a browser roster cache, against the test Prosody over WebSocket.
 */
import { createPresenceClient, indexedDbStorage, localStorageStorage, type CachedRoster, type RosterItem, type RosterStorage } from "../../src/index.js";

export interface CacheRunOptions {
  storage: "indexeddb" | "localstorage";
  service: string;
  domain: string;
  username: string;
  password: string;
  /** Contacts the first session adds (one roster push each); every fifth is removed again. */
  contacts: number;
}

export interface CacheRunResult {
  /** The roster as the first session ends: sorted `jid|name|subscription` lines, and its version. */
  first: { items: string[]; version: string | undefined };
  /** What a fresh adapter then loads from the browser's storage. */
  cached: { items: string[]; version: string | undefined } | undefined;
  /** The second session: the source its roster showed first, and the roster once the server answered. */
  second: { firstSource: string | undefined; items: string[]; version: string | undefined };
}

const lines = (items: Iterable<RosterItem>) => [...items].map((item) => `${item.jid}|${item.name ?? ""}|${item.subscription}`).sort();

async function cacheRun(options: CacheRunOptions): Promise<CacheRunResult> {
  const name = `xmpp-presence-e2e-${options.username}`;
  const storage = (): RosterStorage => (options.storage === "indexeddb" ? indexedDbStorage(name) : localStorageStorage(`${name}:`));
  const connect = { service: options.service, domain: options.domain, username: options.username, password: options.password };
  const own = `${options.username}@${options.domain}`;

  const one = createPresenceClient({ ...connect, storage: storage() });
  await one.start();
  for (let i = 0; i < options.contacts; i++) await one.roster.add(`c${i}@${options.domain}`, { name: `Contact ${i}` });
  for (let i = 0; i < options.contacts; i += 5) await one.roster.remove(`c${i}@${options.domain}`);
  await one.roster.add(`c0@${options.domain}`, { name: "Back again" }); // removed, then added: a moved item
  await one.flushStorage();
  const snapshot = one.roster.getSnapshot();
  const first = { items: lines(snapshot.entries.values()), version: snapshot.version };
  await one.stop();

  const loaded = await storage().load(own);
  const cached = loaded && { items: lines(loaded.items), version: loaded.version };

  const two = createPresenceClient({ ...connect, storage: storage() });
  let firstSource: string | undefined;
  const stopListening = two.roster.listen((s) => {
    firstSource ??= s.entries.size > 0 ? s.source : undefined;
  });
  await two.start();
  stopListening();
  const after = two.roster.getSnapshot();
  const second = { firstSource, items: lines(after.entries.values()), version: after.version };
  await two.stop();
  return { first, cached, second };
}

/**
 * A database of the first layout (version 1: one record per account in "rosters"), as an earlier
 * version of the SDK left it: what `indexedDbStorage` loads from it, the stores it leaves, and
 * what it loads after a save.
 */
async function upgradeRun(): Promise<{ before: unknown; stores: string[]; after: unknown }> {
  const name = `xmpp-presence-e2e-upgrade-${Date.now()}`;
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = () => request.result.createObjectStore("rosters");
  const old = await new Promise<IDBDatabase>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const roster: CachedRoster = { version: "7", items: [{ jid: "bob@example.org", groups: [], subscription: "both", pendingOut: false, approved: false }], requests: [], preApprovals: [] };
  const tx = old.transaction("rosters", "readwrite");
  tx.objectStore("rosters").put({ formatVersion: 1, roster }, "alice@example.org");
  await new Promise((resolve) => (tx.oncomplete = resolve));
  old.close();
  const storage = indexedDbStorage(name);
  const before = await storage.load("alice@example.org");
  await storage.save("alice@example.org", { kind: "replace", roster: { ...roster, version: "8" } });
  const after = await indexedDbStorage(name).load("alice@example.org");
  const check = await new Promise<IDBDatabase>((resolve) => {
    const again = indexedDB.open(name);
    again.onsuccess = () => resolve(again.result);
  });
  const stores = Array.from(check.objectStoreNames).sort();
  check.close();
  return { before: before ?? null, stores, after };
}

Object.assign(globalThis, { cacheRun, upgradeRun });
