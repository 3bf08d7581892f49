/**
 * Roster-cache storage (RFC 6121 §2.6): the contract and the adapters that run everywhere.
 * `fileStorage` (Node) lives in `./file.js` and is deliberately not re-exported here, so browser
 * bundles never pull in `node:fs`.
 */
export { indexedDbStorage, localStorageStorage, type IDBFactoryLike, type StorageLike } from "./browser.js";
export { memoryStorage } from "./memory.js";
export {
  applyMutation,
  type CachedRoster,
  type PreApprovalIntent,
  type RosterMutation,
  type RosterStorage,
} from "./types.js";
export { parseCachedRoster } from "./validate.js";
