/**
 * Roster caches in the browser: IndexedDB (preferred: asynchronous, larger quota, a read and a
 * write in one transaction) and localStorage (simple, synchronous, about 5 MB per origin). Both
 * validate what they read, as any stored data may be from another app version or torn.
 */
import { PresenceError, PresenceErrorCode } from "../errors.js";
import { logMutation, needsBase, parseHead, readLoggedCache, TrustedBases, type LoggedWrite } from "./change-log.js";
import type { RosterMutation, RosterStorage } from "./types.js";
import { checkAccount, checkMutation } from "./validate.js";

const DEFAULT_DB_NAME = "xmpp-presence";
const DEFAULT_PREFIX = "xmpp-presence:roster:";
// Version 2: a small head and a base of items per account (change-log.ts). Version 1 kept one
// record per account, rewritten whole by every push; its caches are dropped on upgrade (a cache
// only saves a roster fetch, RFC 6121 §2.6).
const DB_VERSION = 2;
const HEADS = "roster-heads";
const BASES = "roster-bases";
const VERSION_1_STORE = "rosters";

function unsupported(what: string): PresenceError {
  return new PresenceError(PresenceErrorCode.UnsupportedEnvironment, `${what} is not available in this environment`);
}

// Some browsers throw on merely reading `localStorage` / `indexedDB` (blocked storage, opaque
// origins), so the global is looked up when first used, inside a try.
function globalValue<K extends "indexedDB" | "localStorage">(name: K): (typeof globalThis)[K] | undefined {
  try {
    return (globalThis as Partial<typeof globalThis>)[name];
  } catch {
    return undefined;
  }
}

function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function transactionDone(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB transaction aborted"));
  });
}

/**
 * A {@link RosterStorage} in IndexedDB: database `dbName`, two records per account (a head
 * and a base, see below). Uses `factory` when given (tests pass `fake-indexeddb`), else
 * `globalThis.indexedDB`; without either, every call rejects with `PresenceError`
 * `unsupported-environment`. Each save reads and writes in one `readwrite` transaction, so
 * concurrent saves (other tabs too) never interleave.
 *
 * A roster push writes only the small head (the version, requests, pre-approvals and the
 * items pushed since the last whole roster), so its cost does not grow with the roster; every
 * 256 pushed JIDs, a push rewrites the items once. A database of the first layout (version 1)
 * is upgraded by dropping its caches: the next login fetches the roster again.
 *
 * @example
 * ```ts
 * const client = createPresenceClient({ ..., storage: indexedDbStorage() });
 * ```
 */
export function indexedDbStorage(dbName: string = DEFAULT_DB_NAME, factoryLike?: IDBFactoryLike): RosterStorage {
  const factory = factoryLike as IDBFactory | undefined;
  let opening: Promise<IDBDatabase> | undefined;
  const trusted = new TrustedBases();

  const database = (): Promise<IDBDatabase> => {
    if (opening) return opening;
    const idb = factory ?? globalValue("indexedDB");
    if (idb === undefined) return Promise.reject(unsupported("IndexedDB"));
    const request = idb.open(dbName, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (db.objectStoreNames.contains(VERSION_1_STORE)) db.deleteObjectStore(VERSION_1_STORE);
      if (!db.objectStoreNames.contains(HEADS)) db.createObjectStore(HEADS);
      if (!db.objectStoreNames.contains(BASES)) db.createObjectStore(BASES);
    };
    opening = requestResult(request).then((db) => {
      // Let a newer version in another tab upgrade: close, and reopen on the next call.
      db.onversionchange = () => {
        db.close();
        opening = undefined;
      };
      db.onclose = () => {
        opening = undefined;
      };
      return db;
    });
    opening.catch(() => {
      opening = undefined; // a failed open (e.g. blocked storage) is retried on the next call
    });
    return opening;
  };

  // One readwrite transaction: read the head (and the base, only when a push folds the log),
  // then write what logMutation says; `undefined` deletes the account's records.
  const change = async (account: string, mutation: RosterMutation | undefined) => {
    const db = await database();
    const transaction = db.transaction([HEADS, BASES], "readwrite");
    const done = transactionDone(transaction);
    const heads = transaction.objectStore(HEADS);
    const bases = transaction.objectStore(BASES);
    let failure: unknown;
    let written: string | undefined; // the base id the head names after this write
    const write = (run: () => LoggedWrite | undefined) => {
      try {
        const next = run();
        if (next === undefined) {
          heads.delete(account);
          bases.delete(account);
          return;
        }
        heads.put(next.head, account);
        if (next.base !== undefined) bases.put(next.base, account);
        written = next.head.baseId;
      } catch (error) {
        failure = error;
        transaction.abort();
      }
    };
    if (mutation === undefined) {
      write(() => undefined);
    } else {
      const read = heads.get(account);
      read.onsuccess = () => {
        const head = parseHead(read.result);
        if (!needsBase(head, mutation, trusted)) {
          write(() => logMutation(head, mutation));
          return;
        }
        const base = bases.get(account);
        base.onsuccess = () => write(() => logMutation(head, mutation, { value: base.result }));
      };
    }
    await done.catch((error: unknown) => {
      throw failure ?? error;
    });
    if (written !== undefined) trusted.add(written);
  };

  return {
    load: async (account) => {
      const key = checkAccount(account);
      const db = await database();
      const transaction = db.transaction([HEADS, BASES], "readonly");
      const [head, base] = await Promise.all([
        requestResult(transaction.objectStore(HEADS).get(key)),
        requestResult(transaction.objectStore(BASES).get(key)),
      ]);
      return readLoggedCache(head, base, trusted);
    },
    save: async (account: string, mutation: RosterMutation) => {
      const key = checkAccount(account);
      await change(key, checkMutation(mutation));
    },
    clear: async (account) => {
      await change(checkAccount(account), undefined);
    },
  };
}

/** The part of the Web Storage API that {@link localStorageStorage} uses. */
// Declared here rather than as Pick<Storage, …> so the published types need no DOM lib.
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * An IndexedDB factory (`globalThis.indexedDB`, or e.g. `fake-indexeddb` in tests). Declared
 * structurally so the published types need no DOM lib.
 */
export interface IDBFactoryLike {
  open(name: string, version?: number): unknown;
}

/**
 * A {@link RosterStorage} in localStorage: per account, a small head under `prefix + account`
 * and the items under `prefix + account + "#items"`, both JSON (the layout of
 * {@link indexedDbStorage}: a push rewrites only the head). Uses `storage` when given, else
 * `globalThis.localStorage`; without either, every call rejects with `PresenceError`
 * `unsupported-environment`. A full quota rejects the save and keeps the old value. A value of
 * the first layout (one JSON value per account) reads as no cache and is replaced.
 *
 * @example
 * ```ts
 * const client = createPresenceClient({ ..., storage: localStorageStorage("my-app:roster:") });
 * ```
 */
export function localStorageStorage(prefix: string = DEFAULT_PREFIX, storage?: StorageLike): RosterStorage {
  const backend = (): StorageLike => {
    const found = storage ?? globalValue("localStorage");
    if (found === undefined || found === null) throw unsupported("localStorage");
    return found;
  };
  const trusted = new TrustedBases();
  const json = (text: string | null): unknown => {
    if (text === null) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  const headKey = (account: string) => prefix + account;
  const baseKey = (account: string) => `${prefix}${account}#items`;
  return {
    load: async (account) => {
      const key = checkAccount(account);
      const web = backend();
      return readLoggedCache(json(web.getItem(headKey(key))), json(web.getItem(baseKey(key))), trusted);
    },
    save: async (account: string, mutation: RosterMutation) => {
      const key = checkAccount(account);
      const m = checkMutation(mutation);
      const web = backend();
      const head = parseHead(json(web.getItem(headKey(key))));
      const next = needsBase(head, m, trusted) ? logMutation(head, m, { value: json(web.getItem(baseKey(key))) }) : logMutation(head, m);
      // The base first: if it does not fit, nothing has changed. A head that then does not fit
      // leaves a head and a base that are not a pair, which reads as no cache.
      if (next.base !== undefined) web.setItem(baseKey(key), JSON.stringify(next.base));
      web.setItem(headKey(key), JSON.stringify(next.head));
      trusted.add(next.head.baseId);
    },
    clear: async (account) => {
      const key = checkAccount(account);
      const web = backend();
      web.removeItem(headKey(key));
      web.removeItem(baseKey(key));
    },
  };
}
