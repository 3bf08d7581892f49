/**
 * Process management shared by the throw-away test servers (`prosody.ts` and `ejabberd.ts`):
 * executable lookup and installation, free ports, readiness polling,
 * spawning with logs, process discovery, the exit-time cleanup registry, log tails, account
 * creation and roster seeding checks.
 *
 * Internal to `src/testing/`; imports only Node.js built-ins.
 *
 * @packageDocumentation
 */

import { execFile, execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, closeSync, constants as fsConstants, openSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import type { Server } from "node:net";
import { delimiter, join } from "node:path";
import type { SeedRosterItem } from "./server.js";
import type { XmppTestAccount } from "./server.js";

/** The only interface the test servers listen on. */
export const HOST = "127.0.0.1";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait for `promise`, at most `ms` (without a timer left behind to keep Node.js alive). */
export async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// --- executables ---------------------------------------------------------------------------------

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Find an executable on PATH (and in the usual system directories), without a shell. */
export function findExecutable(name: string): string | undefined {
  const dirs = (process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== "");
  for (const dir of [...dirs, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: readonly string[], env?: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: env ?? process.env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        let code = 0;
        if (error) {
          code = typeof error.code === "number" ? error.code : 1;
          if (stderr === "") stderr = error.message;
        }
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** How to find a server's executables and, when missing, install its Debian package. */
export interface InstallSpec<T> {
  /** The Debian package. */
  packageName: string;
  /** Error message when the server is missing and cannot be installed. */
  hint: string;
  /** Time allowed for `apt-get install`, in ms (`apt-get update` gets 600 s). */
  installTimeoutMs: number;
  /** The executables, or undefined when (some are) missing. */
  find(): T | undefined;
}

/**
 * A function that locates a server's executables, installing its package with apt-get when they
 * are missing, allowed, and the process runs as root. Concurrent calls share one installation.
 */
export function installer<T>(spec: InstallSpec<T>): (installIfMissing: boolean) => Promise<T> {
  let installPromise: Promise<T> | undefined;
  const install = async (): Promise<T> => {
    const aptGet = findExecutable("apt-get");
    if (aptGet === undefined || process.getuid?.() !== 0) throw new Error(spec.hint);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const args = ["install", "-y", "--no-install-recommends", spec.packageName];
    let result = await run(aptGet, args, env, spec.installTimeoutMs);
    if (result.code !== 0) {
      await run(aptGet, ["update"], env, 600_000);
      result = await run(aptGet, args, env, spec.installTimeoutMs);
    }
    const found = spec.find();
    if (result.code !== 0 || found === undefined) {
      const detail = result.stderr.trim().split("\n").slice(-3).join(" | ");
      throw new Error(`${spec.hint} (automatic installation failed: ${detail})`);
    }
    return found;
  };
  return async (installIfMissing) => {
    const found = spec.find();
    if (found !== undefined) return found;
    if (!installIfMissing) throw new Error(spec.hint);
    installPromise ??= install().finally(() => {
      installPromise = undefined;
    });
    return installPromise;
  };
}

// --- ports ---------------------------------------------------------------------------------------

/** `count` distinct free TCP ports on 127.0.0.1 (all held open while choosing, so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, HOST, () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("could not determine a free port");
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

// --- server processes ----------------------------------------------------------------------------

export function isAlive(child: ChildProcess | undefined): child is ChildProcess & { pid: number } {
  return child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** A spawned server process whose stdout and stderr are appended to files. */
export interface LoggedProcess {
  proc: ChildProcess;
  /** Resolves when the process has exited (or failed to spawn). */
  exited: Promise<void>;
  /** How the process ended (`code 1`, `signal SIGKILL`, `spawn error: ...`), or undefined while it runs. */
  exitInfo(): string | undefined;
}

/**
 * Spawn a server process with stdout/stderr appended to the given files. The process is unref'd: a
 * forgotten server must not keep the Node.js process alive (the exit handler kills it).
 */
export function spawnLogged(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; stdoutFile: string; stderrFile: string },
): LoggedProcess {
  const stdout = openSync(options.stdoutFile, "a");
  const stderr = openSync(options.stderrFile, "a");
  let proc: ChildProcess;
  try {
    proc = spawn(file, args, {
      cwd: options.cwd,
      ...(options.env === undefined ? {} : { env: options.env }),
      detached: false,
      stdio: ["ignore", stdout, stderr],
    });
  } finally {
    closeSync(stdout);
    closeSync(stderr);
  }
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once("exit", (code, sig) => {
      exitInfo = sig !== null ? `signal ${sig}` : `code ${String(code)}`;
      resolve();
    });
    proc.once("error", (error) => {
      exitInfo = `spawn error: ${error.message}`;
      resolve();
    });
  });
  proc.unref();
  return { proc, exited, exitInfo: () => exitInfo };
}

/**
 * Poll until `ready()` resolves true, every `intervalMs`. Calls `fail` (which must throw) when the
 * process has exited (`exitInfo()` defined) or `timeoutMs` has passed since `started`.
 */
export async function waitUntilReady(options: {
  started: number;
  timeoutMs: number;
  intervalMs: number;
  exitInfo: () => string | undefined;
  ready: () => Promise<boolean>;
  timeoutReason: string;
  fail: (reason: string) => Promise<never>;
}): Promise<void> {
  for (;;) {
    let exitInfo = options.exitInfo();
    if (exitInfo !== undefined) return options.fail(`exited during startup (${exitInfo})`);
    if (await options.ready()) return;
    exitInfo = options.exitInfo();
    if (exitInfo !== undefined) return options.fail(`exited during startup (${exitInfo})`);
    if (Date.now() - options.started > options.timeoutMs) return options.fail(options.timeoutReason);
    await sleep(options.intervalMs);
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** A zombie has exited; it only waits to be reaped (in containers, sometimes never). */
  zombie: boolean;
  /** Command line, arguments separated by spaces. */
  args: string;
}

/** Every process of the machine, read synchronously (usable from an exit handler). */
function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  let entries: string[] | undefined;
  try {
    entries = readdirSync("/proc");
  } catch {
    entries = undefined;
  }
  if (entries !== undefined && entries.includes("self")) {
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
        out.push({ pid: Number(entry), ppid: Number(fields[1]), zombie: fields[0] === "Z", args });
      } catch {
        // The process ended while we looked.
      }
    }
    return out;
  }
  // Not Linux: ask ps.
  try {
    const text = execFileSync("ps", ["-A", "-o", "pid=,ppid=,stat=,args="], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    for (const line of text.split("\n")) {
      const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s?(.*)$/.exec(line);
      if (match === null) continue;
      out.push({ pid: Number(match[1]), ppid: Number(match[2]), zombie: (match[3] ?? "").startsWith("Z"), args: match[4] ?? "" });
    }
  } catch {
    // No ps either: nothing can be found.
  }
  return out;
}

/** The live processes among `all` that are in `roots` or descend from one of them. */
export function withDescendants(all: readonly ProcessInfo[], roots: readonly ProcessInfo[]): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const info of all) {
    const siblings = children.get(info.ppid);
    if (siblings === undefined) children.set(info.ppid, [info]);
    else siblings.push(info);
  }
  const found = new Map<number, ProcessInfo>();
  const queue = [...roots];
  while (queue.length > 0) {
    const info = queue.pop();
    if (info === undefined || info.zombie || found.has(info.pid)) continue;
    found.set(info.pid, info);
    queue.push(...(children.get(info.pid) ?? []));
  }
  return [...found.values()];
}

/** The live processes (other than this one) whose arguments contain `marker`, and their descendants. */
export function processesOf(marker: string): ProcessInfo[] {
  const all = listProcesses();
  return withDescendants(
    all,
    all.filter((info) => info.pid !== process.pid && info.args.includes(marker)),
  );
}

// --- cleanup at exit -----------------------------------------------------------------------------

/**
 * Servers started and not yet stopped, by directory, with a function that SIGKILLs their
 * processes. When the Node.js process exits, their processes are killed and their directories
 * removed.
 */
const activeServers = new Map<string, () => void>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on("exit", () => {
    for (const [dir, killAll] of activeServers) {
      killAll();
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Best effort.
      }
    }
    activeServers.clear();
  });
}

/** Kill the server in `dir` with `killAll` and remove `dir` if the Node.js process exits first. */
export function registerActiveServer(dir: string, killAll: () => void): void {
  activeServers.set(dir, killAll);
  installExitHandler();
}

/** The server in `dir` is gone: nothing to clean up at exit. */
export function unregisterActiveServer(dir: string): void {
  activeServers.delete(dir);
}

// --- logs ----------------------------------------------------------------------------------------

async function tail(file: string, lines: number): Promise<string> {
  try {
    const text = await readFile(file, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** The last `lines` lines of each non-empty file, each under a `--- name ---` heading. */
export async function logTails(files: readonly (readonly [name: string, file: string])[], lines: number): Promise<string> {
  const parts: string[] = [];
  for (const [name, file] of files) {
    const text = await tail(file, lines);
    if (text !== "") parts.push(`--- ${name} ---\n${text}`);
  }
  return parts.join("\n");
}

// --- accounts ------------------------------------------------------------------------------------

export function validateAccount(username: string, password: string): void {
  if (username === "" || /[\s@/"&'<>:]/.test(username)) {
    throw new Error(`invalid XMPP username ${JSON.stringify(username)}`);
  }
  if (password === "") throw new Error("an account needs a non-empty password");
}

/**
 * Create `n` accounts with unique random usernames (`<prefix><12 hex digits>`) and random passwords
 * with `register`, at most `concurrency` at a time.
 */
export async function registerRandomAccounts(
  n: number,
  options: { prefix?: string; domain?: string },
  concurrency: number,
  register: (username: string, password: string, domain: string) => Promise<void>,
): Promise<XmppTestAccount[]> {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`account count must be a non-negative integer, got ${n}`);
  const prefix = options.prefix ?? "user";
  const domain = options.domain ?? "localhost";
  const accounts: XmppTestAccount[] = Array.from({ length: n }, () => {
    const username = `${prefix}${randomBytes(6).toString("hex")}`;
    return { username, password: randomBytes(9).toString("base64url"), jid: `${username}@${domain}` };
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < accounts.length) {
      const account = accounts[next++];
      if (account === undefined) return;
      await register(account.username, account.password, domain);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return accounts;
}

/** Throws unless `items` can be seeded: bare JIDs, each once, known subscriptions. */
export function checkSeedItems(items: readonly SeedRosterItem[]): void {
  const seen = new Set<string>();
  for (const item of items) {
    const { jid, subscription = "none" } = item;
    if (typeof jid !== "string" || jid === "" || jid.includes("/") || jid !== jid.toLowerCase()) {
      throw new Error(`seedRoster: ${JSON.stringify(jid)} is not a lower-case bare JID`);
    }
    if (seen.has(jid)) throw new Error(`seedRoster: ${jid} is listed twice`);
    seen.add(jid);
    if (!["none", "to", "from", "both"].includes(subscription)) {
      throw new Error(`seedRoster: unknown subscription ${JSON.stringify(subscription)} for ${jid}`);
    }
    // RFC 6121 §2.1.2.2: a request is pending only while we have no subscription to the contact.
    if (item.pendingOut && (subscription === "to" || subscription === "both")) {
      throw new Error(`seedRoster: ${jid} has subscription "${subscription}" and so no pending request`);
    }
  }
}
