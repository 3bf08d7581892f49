/**
 * A roster cache in one JSON file, for Node. Not part of the browser entry: import it from its own
 * module. Writes are atomic (temp file in the same directory, fsync, rename), serialised through a
 * queue, and grouped: saves that queue up while a write is in flight go out in the next single
 * write. The file is created `0600`: a cached roster is personal data (XEP-0237 §5, V-10).
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { applyMutation, type CachedRoster, type RosterMutation, type RosterStorage } from "./types.js";
import { checkAccount, checkMutation, parseCachedRoster, STORAGE_FORMAT_VERSION } from "./validate.js";

type Change = (cached: CachedRoster | undefined) => CachedRoster | undefined;

type Op =
  | { kind: "read"; account: string; resolve: (value: CachedRoster | undefined) => void; reject: (error: unknown) => void }
  | { kind: "write"; account: string; change: Change; resolve: () => void; reject: (error: unknown) => void };

/** The file's layout: all accounts, behind a format version. */
interface FileContent {
  formatVersion: number;
  accounts: Record<string, CachedRoster>;
}

function tempPrefix(path: string): string {
  return `.${basename(path)}.`;
}
const TEMP_SUFFIX = ".tmp";

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

// Anything but a well-formed file of our format version reads as "no caches"; the next write
// replaces it. Accounts whose entry is malformed are dropped one by one.
function parseFile(text: string): Map<string, CachedRoster> {
  const caches = new Map<string, CachedRoster>();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return caches;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return caches;
  const { formatVersion, accounts } = data as Partial<Record<keyof FileContent, unknown>>;
  if (formatVersion !== STORAGE_FORMAT_VERSION) return caches;
  if (typeof accounts !== "object" || accounts === null || Array.isArray(accounts)) return caches;
  for (const [account, value] of Object.entries(accounts)) {
    const roster = parseCachedRoster(value);
    if (roster !== undefined) caches.set(account, roster);
  }
  return caches;
}

/** One per resolved path and process, shared by every `fileStorage(path)` for it. */
class FileEngine {
  /** What the file holds (after the last successful write); `undefined` until first read. */
  #committed: Map<string, CachedRoster> | undefined;
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
    let committed: Map<string, CachedRoster>;
    try {
      committed = this.#committed ??= await this.#readFile();
    } catch (error) {
      for (const op of batch) op.reject(error);
      return;
    }
    const next = new Map(committed);
    const writes: Array<Extract<Op, { kind: "write" }>> = [];
    for (const op of batch) {
      if (op.kind !== "write") continue;
      try {
        const roster = op.change(next.get(op.account));
        if (roster !== undefined) next.set(op.account, roster);
        else if (!next.delete(op.account)) {
          op.resolve(); // clearing what is not there: nothing to write
          continue;
        }
        writes.push(op);
      } catch (error) {
        op.reject(error);
      }
    }
    if (writes.length > 0) {
      try {
        await this.#writeFile(next);
        this.#committed = next;
        for (const op of writes) op.resolve();
      } catch (error) {
        for (const op of writes) op.reject(error);
      }
    }
    // Reads see the batch's writes when they were committed, the file's state otherwise.
    for (const op of batch) {
      if (op.kind !== "read") continue;
      const cached = this.#committed?.get(op.account);
      op.resolve(cached && structuredClone(cached));
    }
  }

  async #readFile(): Promise<Map<string, CachedRoster>> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw error;
      text = "";
    }
    await this.#removeStrayTemps();
    return parseFile(text);
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

  async #writeFile(caches: Map<string, CachedRoster>): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const content: FileContent = { formatVersion: STORAGE_FORMAT_VERSION, accounts: Object.fromEntries(caches) };
    const temp = join(dir, `${tempPrefix(this.path)}${randomUUID()}${TEMP_SUFFIX}`);
    try {
      const handle = await open(temp, "wx", 0o600);
      try {
        await handle.writeFile(JSON.stringify(content), "utf8");
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
  }
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
 * A {@link RosterStorage} in the JSON file at `path` (all accounts in one file). The file is read
 * once, then kept in memory; each save rewrites it atomically, so a crash leaves either the old
 * or the new file, never a torn one. A missing directory is created. A corrupt, truncated or
 * foreign-format file loads as `undefined` and is replaced by the next save.
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
  const write = (account: string, change: Change) =>
    new Promise<void>((resolve, reject) => files.run({ kind: "write", account, change, resolve, reject }));
  return {
    load: async (account) => {
      const key = checkAccount(account);
      return new Promise((resolve, reject) => files.run({ kind: "read", account: key, resolve, reject }));
    },
    save: async (account: string, mutation: RosterMutation) => {
      const key = checkAccount(account);
      const m = checkMutation(mutation); // reject a bad mutation before queueing anything
      return write(key, (cached) => applyMutation(cached, m));
    },
    clear: async (account) => write(checkAccount(account), () => undefined),
  };
}
