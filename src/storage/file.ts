/**
 * A roster cache in one file, for Node. Not part of the browser entry: import it from its own
 * module. The file is created `0600`: a cached roster is personal data (XEP-0237 §5, V-10).
 *
 * Layout (format 2): the first line is a snapshot of every account's cache
 * (`{"formatVersion":2,"accounts":{…}}`), written atomically (temp file in the same directory,
 * fsync, rename); each later line is one saved mutation (`{"account":…,"mutation":…}`, or
 * `{"account":…,"clear":true}`), appended and fsynced. So a roster push writes one line, not the
 * whole roster (at 100 000 items a rewrite took 105–158 ms per push); once the appended lines
 * outweigh the snapshot (or number 10 000), the next write folds them into a new snapshot.
 * Writes are serialised through a queue and grouped: saves that queue up while a write is in
 * flight go out in the next single write. A line cut short by a crash ends the log there (the
 * lines before it still count), and the next write rewrites the snapshot. A format-1 file (one
 * JSON value) still loads, and the next write rewrites it in format 2.
 */
import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { apply, keyed, unkeyed, type KeyedCache } from "./keyed-cache.js";
import { applyMutation, type CachedRoster, type RosterMutation, type RosterStorage } from "./types.js";
import { checkAccount, checkMutation, isRecord, parseCachedRoster, parseMutation } from "./validate.js";

/** A line of the log: one saved mutation, or a cleared account. */
type LogRecord = { account: string; mutation: RosterMutation } | { account: string; clear: true };

type Op =
  | { kind: "read"; account: string; resolve: (value: CachedRoster | undefined) => void; reject: (error: unknown) => void }
  | { kind: "write"; record: LogRecord; resolve: () => void; reject: (error: unknown) => void };

/** The snapshot line: all accounts, behind a format version. */
interface FileContent {
  formatVersion: number;
  accounts: Record<string, CachedRoster>;
}

const FILE_FORMAT_VERSION = 2;
// The log is folded into a new snapshot before it outweighs the snapshot (or this floor, for
// small rosters; lengths in characters) or has this many lines: loading replays it, one O(1)
// step per line.
const MIN_LOG_LENGTH = 64 * 1024;
const MAX_LOG_LINES = 10_000;

function tempPrefix(path: string): string {
  return `.${basename(path)}.`;
}
const TEMP_SUFFIX = ".tmp";

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

// The snapshot line. Anything but a well-formed snapshot of format 1 or 2 reads as "no caches"
// (`format` undefined); the next write replaces it. Malformed accounts are dropped one by one.
function parseSnapshot(line: string): { caches: Map<string, KeyedCache>; format: number | undefined } {
  const caches = new Map<string, KeyedCache>();
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return { caches, format: undefined };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { caches, format: undefined };
  const { formatVersion, accounts } = data as Partial<Record<keyof FileContent, unknown>>;
  if (formatVersion !== 1 && formatVersion !== FILE_FORMAT_VERSION) return { caches, format: undefined };
  if (typeof accounts !== "object" || accounts === null || Array.isArray(accounts)) return { caches, format: undefined };
  for (const [account, value] of Object.entries(accounts)) {
    const roster = parseCachedRoster(value);
    // As stored: an empty roster keeps its version (keyed() applies the replace rule).
    if (roster !== undefined) caches.set(account, { ...keyed(roster), version: roster.version });
  }
  return { caches, format: formatVersion };
}

// Applies one log line to `caches` (checked first, as anything read from the file is);
// false (nothing applied) for a line that is not a record.
function replay(line: string, caches: Map<string, KeyedCache>): boolean {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return false;
  }
  if (!isRecord(record)) return false;
  const { account, mutation, clear } = record;
  if (typeof account !== "string" || account === "" || account.includes("/")) return false;
  const m = clear === true ? undefined : parseMutation(mutation);
  if (clear !== true && m === undefined) return false;
  replayRecord(m === undefined ? { account, clear: true } : { account, mutation: m }, caches);
  return true;
}

/** One per resolved path and process, shared by every `fileStorage(path)` for it. */
class FileEngine {
  /** What the file holds (after the last successful write); `undefined` until first read. */
  #committed: Map<string, KeyedCache> | undefined;
  /** Whether a write may append to the file: it ends with a format-2 snapshot and whole log lines. */
  #appendable = false;
  #snapshotLength = 0;
  #logLength = 0;
  #logLines = 0;
  #queue: Op[] = [];
  #draining = false;

  constructor(private readonly path: string) {}

  run(op: Op): void {
    this.#queue.push(op);
    if (this.#draining) return;
    this.#draining = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    // Let callers that fire saves in the same tick join the first batch.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) await this.#runBatch(this.#queue.splice(0));
    } finally {
      this.#draining = false;
    }
  }

  async #runBatch(batch: Op[]): Promise<void> {
    let committed: Map<string, KeyedCache>;
    try {
      committed = this.#committed ??= await this.#readFile();
    } catch (error) {
      for (const op of batch) op.reject(error);
      return;
    }
    // Which accounts have a cache as the batch goes: clearing one that has none writes nothing.
    const present = new Set(committed.keys());
    const writes: Array<Extract<Op, { kind: "write" }>> = [];
    for (const op of batch) {
      if (op.kind !== "write") continue;
      const { account } = op.record;
      if ("clear" in op.record) {
        if (!present.delete(account)) {
          op.resolve();
          continue;
        }
      } else {
        present.add(account);
      }
      writes.push(op);
    }
    if (writes.length > 0) {
      try {
        await this.#write(committed, writes.map((op) => op.record));
        for (const op of writes) op.resolve();
      } catch (error) {
        for (const op of writes) op.reject(error);
      }
    }
    // Reads see the batch's writes when they were committed, the file's state otherwise.
    for (const op of batch) {
      if (op.kind !== "read") continue;
      const cached = this.#committed?.get(op.account);
      op.resolve(cached && structuredClone(unkeyed(cached)));
    }
  }

  /**
   * Persists `records` and only then applies them to `committed` (a failed write leaves the
   * committed state as the file has it): appended as log lines while the log stays small,
   * else folded with everything into a new snapshot. A whole roster (`replace`) always goes
   * into a snapshot: as a line it would weigh as much, and the log would fold soon after.
   */
  async #write(committed: Map<string, KeyedCache>, records: LogRecord[]): Promise<void> {
    const small = this.#appendable && records.every((record) => "clear" in record || record.mutation.kind !== "replace");
    const lines = small ? records.map((record) => JSON.stringify(record)) : [];
    const length = lines.reduce((sum, line) => sum + line.length + 1, 0);
    const append =
      small &&
      this.#logLines + lines.length <= MAX_LOG_LINES &&
      this.#logLength + length <= Math.max(this.#snapshotLength, MIN_LOG_LENGTH);
    if (append && (await this.#append(`\n${lines.join("\n")}`))) {
      this.#logLength += length;
      this.#logLines += lines.length;
      for (const record of records) replayRecord(record, committed);
      return;
    }
    // The snapshot: every account's cache after the records, as arrays of the same item objects,
    // so nothing in `committed` changes unless the write succeeds.
    const next = new Map<string, CachedRoster>();
    for (const [account, cache] of committed) next.set(account, unkeyed(cache));
    for (const record of records) {
      if ("clear" in record) next.delete(record.account);
      else next.set(record.account, applyMutation(next.get(record.account), record.mutation));
    }
    this.#snapshotLength = await this.#writeSnapshot(next);
    this.#logLength = 0;
    this.#logLines = 0;
    this.#appendable = true;
    for (const record of records) replayRecord(record, committed);
  }

  // Appends to the existing file only (no O_CREAT: a file that went away gets a snapshot, not a
  // log without one). False when it is gone; other failures reject.
  async #append(text: string): Promise<boolean> {
    let handle;
    try {
      handle = await open(this.path, constants.O_WRONLY | constants.O_APPEND);
    } catch (error) {
      if (isErrno(error, "ENOENT")) return false;
      throw error;
    }
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } catch (error) {
      // What was written may end mid-line: the next write must start a new snapshot.
      this.#appendable = false;
      throw error;
    } finally {
      await handle.close();
    }
    return true;
  }

  async #readFile(): Promise<Map<string, KeyedCache>> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw error;
      text = "";
    }
    await this.#removeStrayTemps();
    const firstBreak = text.indexOf("\n");
    const snapshot = firstBreak === -1 ? text : text.slice(0, firstBreak);
    const { caches, format } = parseSnapshot(snapshot);
    let clean = format === FILE_FORMAT_VERSION;
    let lines = 0;
    if (firstBreak !== -1 && format !== undefined) {
      for (const line of text.slice(firstBreak + 1).split("\n")) {
        if (!replay(line, caches)) {
          clean = false; // a torn or foreign line ends the log
          break;
        }
        lines++;
      }
    }
    this.#appendable = clean;
    this.#snapshotLength = snapshot.length;
    this.#logLength = text.length - snapshot.length;
    this.#logLines = lines;
    return caches;
  }

  // A crash between creating a temp file and renaming it leaves the temp behind; the target is
  // then still the previous complete file, so the temp is simply dropped.
  async #removeStrayTemps(): Promise<void> {
    const dir = dirname(this.path);
    const prefix = tempPrefix(this.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith(prefix) && name.endsWith(TEMP_SUFFIX)) {
        await unlink(join(dir, name)).catch(() => undefined);
      }
    }
  }

  /** Writes a new snapshot atomically (temp, fsync, rename); resolves with its length. */
  async #writeSnapshot(caches: Map<string, CachedRoster>): Promise<number> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const content: FileContent = { formatVersion: FILE_FORMAT_VERSION, accounts: Object.fromEntries(caches) };
    const text = JSON.stringify(content);
    const temp = join(dir, `${tempPrefix(this.path)}${randomUUID()}${TEMP_SUFFIX}`);
    try {
      const handle = await open(temp, "wx", 0o600);
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncDirectory(dir);
    return text.length;
  }
}

// A record this process wrote (checked when saved) applied to the committed caches.
function replayRecord(record: LogRecord, caches: Map<string, KeyedCache>): void {
  if ("clear" in record) caches.delete(record.account);
  else caches.set(record.account, apply(caches.get(record.account), record.mutation));
}

// Makes the rename itself durable (POSIX). Not possible on every platform (Windows): best effort.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The data is already safe in the renamed file; only the rename's durability is at stake.
  }
}

const engines = new Map<string, FileEngine>();

/**
 * A {@link RosterStorage} in the file at `path` (all accounts in one file: a snapshot line and a
 * log of appended mutations, see above). The file is read once, then kept in memory; a save
 * appends a line, or rewrites the file atomically when the log has grown, so a crash loses at
 * most the line being written. A missing directory is created. A corrupt, truncated or
 * foreign-format snapshot loads as `undefined` and is replaced by the next save.
 *
 * Every `fileStorage()` for the same path in one process shares one queue and one in-memory copy,
 * so two clients can use one file. Separate *processes* must not share a file: each would write
 * its own view back (each account's cache stays self-consistent, but may go stale).
 *
 * @example
 * ```ts
 * // Node only; not re-exported by the browser-safe storage index.
 * import { fileStorage } from "./storage/file.js";
 * const storage = fileStorage("./data/roster-cache.json");
 * ```
 */
export function fileStorage(path: string): RosterStorage {
  const resolved = resolve(path);
  let engine = engines.get(resolved);
  if (engine === undefined) {
    engine = new FileEngine(resolved);
    engines.set(resolved, engine);
  }
  const files = engine;
  const write = (record: LogRecord) => new Promise<void>((resolve, reject) => files.run({ kind: "write", record, resolve, reject }));
  return {
    load: async (account) => {
      const key = checkAccount(account);
      return new Promise((resolve, reject) => files.run({ kind: "read", account: key, resolve, reject }));
    },
    save: async (account: string, mutation: RosterMutation) => {
      const key = checkAccount(account);
      const m = checkMutation(mutation); // reject a bad mutation before queueing anything
      return write({ account: key, mutation: m });
    },
    clear: async (account) => write({ account: checkAccount(account), clear: true }),
  };
}
