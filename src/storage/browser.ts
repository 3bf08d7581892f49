/**
 * Roster caches in the browser: IndexedDB (preferred: asynchronous, larger quota, a read and a
 * write in one transaction) and localStorage (simple, synchronous, about 5 MB per origin). Both
 * validate what they read, as any stored data may be from another app version or torn.
 */
import { PresenceError, PresenceErrorCode } from "../errors.js";
import { applyMutation, type CachedRoster, type RosterMutation, type RosterStorage } from "./types.js";
import { checkAccount, checkMutation, parseEnvelope, toEnvelope } from "./validate.js";

const DEFAULT_DB_NAME = "xmpp-presence";
const DEFAULT_PREFIX = "xmpp-presence:roster:";
const OBJECT_STORE = "rosters";
const DB_VERSION = 1;

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
 * A {@link RosterStorage} in IndexedDB: database `dbName`, one record per account. Uses
 * `factory` when given (tests pass `fake-indexeddb`), else `globalThis.indexedDB`; without
 * either, every call rejects with `PresenceError` `unsupported-environment`. Each save reads and
 * writes in one `readwrite` transaction, so concurrent saves (other tabs too) never interleave.
 *
 * @example
 * ```ts
 * const client = createPresenceClient({ ..., storage: indexedDbStorage() });
 * ```
 */
export function indexedDbStorage(dbName: string = DEFAULT_DB_NAME, factoryLike?: IDBFactoryLike): RosterStorage {
  const factory = factoryLike as IDBFactory | undefined;
  let opening: Promise<IDBDatabase> | undefined;

  const database = (): Promise<IDBDatabase> => {
    if (opening) return opening;
    const idb = factory ?? globalValue("indexedDB");
    if (idb === undefined) return Promise.reject(unsupported("IndexedDB"));
    const request = idb.open(dbName, DB_VERSION);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(OBJECT_STORE)) request.result.createObjectStore(OBJECT_STORE);
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

  const change = async (account: string, apply: (cached: CachedRoster | undefined) => CachedRoster | undefined) => {
    const db = await database();
    const transaction = db.transaction(OBJECT_STORE, "readwrite");
    const done = transactionDone(transaction);
    const store = transaction.objectStore(OBJECT_STORE);
    const read = store.get(account);
    let failure: unknown;
    read.onsuccess = () => {
      try {
        const next = apply(parseEnvelope(read.result));
        if (next === undefined) store.delete(account);
        else store.put(toEnvelope(next), account);
      } catch (error) {
        failure = error;
        transaction.abort();
      }
    };
    await done.catch((error: unknown) => {
      throw failure ?? error;
    });
  };

  return {
    load: async (account) => {
      const key = checkAccount(account);
      const db = await database();
      const store = db.transaction(OBJECT_STORE, "readonly").objectStore(OBJECT_STORE);
      return parseEnvelope(await requestResult(store.get(key)));
    },
    save: async (account: string, mutation: RosterMutation) => {
      const key = checkAccount(account);
      const m = checkMutation(mutation);
      await change(key, (cached) => applyMutation(cached, m));
    },
    clear: async (account) => {
      await change(checkAccount(account), () => undefined);
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
 * A {@link RosterStorage} in localStorage: key `prefix + account`, a JSON value. Uses `storage`
 * when given, else `globalThis.localStorage`; without either, every call rejects with
 * `PresenceError` `unsupported-environment`. A full quota rejects the save and keeps the old value.
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
  const read = (web: StorageLike, key: string): CachedRoster | undefined => {
    const text = web.getItem(prefix + key);
    if (text === null) return undefined;
    try {
      return parseEnvelope(JSON.parse(text));
    } catch {
      return undefined;
    }
  };
  return {
    load: async (account) => {
      const key = checkAccount(account);
      return read(backend(), key);
    },
    save: async (account: string, mutation: RosterMutation) => {
      const key = checkAccount(account);
      const m = checkMutation(mutation);
      const web = backend();
      web.setItem(prefix + key, JSON.stringify(toEnvelope(applyMutation(read(web, key), m))));
    },
    clear: async (account) => {
      const key = checkAccount(account);
      backend().removeItem(prefix + key);
    },
  };
}
