/**
 * A throw-away Prosody XMPP server on loopback, for tests and demos.
 *
 * Every server gets its own temporary directory (configuration, data, logs, pidfile), listens on
 * `127.0.0.1` only, on two free ports (client-to-server and HTTP/WebSocket), and has no
 * server-to-server listener. Nothing of the system-wide Prosody installation is used except the
 * binaries.
 *
 * This module imports only Node.js built-ins, so it can be loaded by a test runner's global setup
 * as well as by test workers.
 *
 * @packageDocumentation
 */

import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, closeSync, constants as fsConstants, openSync, rmSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { XmppTestServer } from "./server.js";

/** Name of the configuration file written into every server directory. */
export const CONFIG_FILE_NAME = "prosody.cfg.lua";

/** Log levels understood by Prosody. */
export type ProsodyLogLevel = "debug" | "info" | "warn" | "error";

/** Options for {@link startProsody}. */
export interface StartProsodyOptions {
  /** The XMPP domain served (a single `VirtualHost`). Default `"localhost"`. */
  domain?: string;
  /**
   * PBKDF2 rounds stored for new accounts (`default_iteration_count`). Default `1`: xmpp.js computes
   * SCRAM client-side with one awaited HMAC per round, so Prosody's default of 10000 costs
   * 0.6–1 s per login, while 1 costs 10–20 ms.
   */
  iterationCount?: number;
  /** Minimum level written to the log file in the server directory. Default `"info"`. */
  logLevel?: ProsodyLogLevel;
  /** Modules enabled in addition to the default set (see {@link DEFAULT_MODULES}). */
  extraModules?: readonly string[];
  /**
   * When Prosody is missing and the process runs as root on a system with `apt-get`, install it.
   * Default `true`.
   */
  installIfMissing?: boolean;
  /** Time allowed for the server to accept connections on both ports, in ms. Default 15000. */
  startTimeoutMs?: number;
}

/** An account created by {@link ProsodyServer.createAccounts} or {@link registerAccounts}. */
export interface ProsodyAccount {
  /** Local part of the JID. */
  username: string;
  password: string;
  /** Bare JID, `username@domain`. */
  jid: string;
}

/** A running Prosody instance started by {@link startProsody}. */
export interface ProsodyServer extends XmppTestServer {
  readonly kind: "prosody";
  /** The XMPP domain served. */
  readonly domain: string;
  /** The only interface listened on. */
  readonly host: "127.0.0.1";
  /** Client-to-server port (plain TCP, STARTTLS not offered). */
  readonly c2sPort: number;
  /** HTTP port (serves the WebSocket endpoint). */
  readonly httpPort: number;
  /** `xmpp://127.0.0.1:<c2sPort>`, the `service` for `@xmpp/client` over TCP. */
  readonly service: string;
  /** `ws://127.0.0.1:<httpPort>/xmpp-websocket`, the `service` for `@xmpp/client` over WebSocket. */
  readonly websocketService: string;
  /** The server's temporary directory (configuration, data, logs). Removed by {@link ProsodyServer.stop}. */
  readonly dir: string;
  /** Path of the configuration file, usable with {@link registerAccount} from other processes. */
  readonly configPath: string;
  /** Process id of the current server process (changes on {@link ProsodyServer.restart}). */
  readonly pid: number;
  /** Whether the server process is currently running. */
  readonly running: boolean;
  /** Create (or reset the password of) an account with `prosodyctl register`. */
  createAccount(username: string, password: string): Promise<void>;
  /**
   * Create `n` accounts with unique random usernames (`<prefix><random hex>`) and random passwords,
   * a few at a time.
   */
  createAccounts(n: number, prefix?: string): Promise<ProsodyAccount[]>;
  /**
   * Stop the server: SIGTERM, wait for it to exit (SIGKILL after 5 s), then remove its directory.
   * Idempotent.
   */
  stop(): Promise<void>;
  /** Kill the server with SIGKILL at once, keeping its directory (to simulate a crash). */
  kill(): void;
  /**
   * Start the server again, on the same directory, ports and accounts. Stops it first (SIGTERM) if it
   * is still running.
   */
  restart(): Promise<void>;
  /** The last lines of the server's log files, for diagnostics. */
  logTail(lines?: number): Promise<string>;
}

/** Modules enabled by {@link startProsody} besides Prosody's auto-loaded ones (presence, message, iq, offline, c2s). */
export const DEFAULT_MODULES: readonly string[] = [
  "roster",
  "saslauth",
  "disco",
  "ping",
  "register",
  "websocket",
  "smacks",
  "blocklist",
];

const HOST = "127.0.0.1";
const STOP_GRACE_MS = 5000;
const ACCOUNT_CONCURRENCY = 4;
const INSTALL_HINT = "prosody is not installed: run `sudo apt-get install -y prosody` (Debian/Ubuntu) and try again";

/**
 * Servers started by this module and not yet stopped, by directory, with a getter for their current
 * process. When the Node.js process exits, their processes are killed and their directories removed.
 */
const activeServers = new Map<string, () => ChildProcess | undefined>();
let exitHandlerInstalled = false;

function isAlive(child: ChildProcess | undefined): child is ChildProcess & { pid: number } {
  return child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on("exit", () => {
    for (const [dir, current] of activeServers) {
      const child = current();
      if (isAlive(child)) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Best effort.
      }
    }
    activeServers.clear();
  });
}

/** Quote a string as a Lua string literal. */
function luaString(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, "utf8")) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += "\\\\";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(10).padStart(3, "0")}`;
  }
  return `${out}"`;
}

function luaList(values: readonly (string | number)[]): string {
  return `{ ${values.map((v) => (typeof v === "number" ? String(v) : luaString(v))).join(", ")} }`;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Find an executable on PATH (and in the usual system directories), without a shell. */
function findExecutable(name: string): string | undefined {
  const dirs = (process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== "");
  for (const dir of [...dirs, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], env?: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ExecResult> {
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

let installPromise: Promise<Binaries> | undefined;

interface Binaries {
  prosody: string;
  prosodyctl: string;
}

function findBinaries(): Binaries | undefined {
  const prosody = findExecutable("prosody");
  const prosodyctl = findExecutable("prosodyctl");
  return prosody !== undefined && prosodyctl !== undefined ? { prosody, prosodyctl } : undefined;
}

async function installProsody(): Promise<Binaries> {
  const aptGet = findExecutable("apt-get");
  if (aptGet === undefined || process.getuid?.() !== 0) throw new Error(INSTALL_HINT);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = ["install", "-y", "--no-install-recommends", "prosody"];
  let result = await run(aptGet, install, env, 600_000);
  if (result.code !== 0) {
    await run(aptGet, ["update"], env, 600_000);
    result = await run(aptGet, install, env, 600_000);
  }
  const binaries = findBinaries();
  if (result.code !== 0 || binaries === undefined) {
    const detail = result.stderr.trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${INSTALL_HINT} (automatic installation failed: ${detail})`);
  }
  return binaries;
}

/** Locate prosody/prosodyctl, installing them if allowed. */
async function ensureBinaries(installIfMissing: boolean): Promise<Binaries> {
  const found = findBinaries();
  if (found !== undefined) return found;
  if (!installIfMissing) throw new Error(INSTALL_HINT);
  installPromise ??= installProsody().finally(() => {
    installPromise = undefined;
  });
  return installPromise;
}

/** `count` distinct free TCP ports on 127.0.0.1 (all held open while choosing, so they differ). */
async function freePorts(count: number): Promise<number[]> {
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

function canConnect(port: number): Promise<boolean> {
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function configPathOf(configPathOrDir: string): string {
  try {
    if (statSync(configPathOrDir).isDirectory()) return join(configPathOrDir, CONFIG_FILE_NAME);
  } catch {
    // Not an existing directory: take it as the configuration file path.
  }
  return configPathOrDir;
}

function validateAccount(username: string, password: string): void {
  if (username === "" || /[\s@/"&'<>:]/.test(username)) {
    throw new Error(`invalid XMPP username ${JSON.stringify(username)}`);
  }
  if (password === "") throw new Error("an account needs a non-empty password");
}

/**
 * Create (or reset the password of) an account with `prosodyctl register`, given only the server's
 * configuration file (or its directory). Works from any process on the same machine (e.g. a test
 * worker) and whether or not the server is running.
 *
 * @param configPathOrDir - {@link ProsodyServer.configPath} or {@link ProsodyServer.dir}.
 * @param username - Local part of the JID.
 * @param password - The account's password.
 * @param domain - The server's domain. Default `"localhost"`.
 * @throws Error with prosodyctl's output when registration fails.
 */
export async function registerAccount(
  configPathOrDir: string,
  username: string,
  password: string,
  domain = "localhost",
): Promise<void> {
  validateAccount(username, password);
  const prosodyctl = findExecutable("prosodyctl");
  if (prosodyctl === undefined) throw new Error(INSTALL_HINT);
  const configPath = configPathOf(configPathOrDir);
  const result = await run(prosodyctl, ["--config", configPath, "register", username, domain, password]);
  if (result.code !== 0) {
    const output = `${result.stderr}\n${result.stdout}`.trim();
    throw new Error(`prosodyctl register ${username}@${domain} failed (exit ${result.code}): ${output}`);
  }
}

/**
 * Create `n` accounts with unique random usernames (`<prefix><12 hex digits>`) and random passwords,
 * at most 4 `prosodyctl` processes at a time.
 *
 * @param configPathOrDir - {@link ProsodyServer.configPath} or {@link ProsodyServer.dir}.
 * @param n - Number of accounts.
 * @param options - `prefix` (default `"user"`) and `domain` (default `"localhost"`).
 */
export async function registerAccounts(
  configPathOrDir: string,
  n: number,
  options: { prefix?: string; domain?: string } = {},
): Promise<ProsodyAccount[]> {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`account count must be a non-negative integer, got ${n}`);
  const prefix = options.prefix ?? "user";
  const domain = options.domain ?? "localhost";
  const accounts: ProsodyAccount[] = Array.from({ length: n }, () => {
    const username = `${prefix}${randomBytes(6).toString("hex")}`;
    return { username, password: randomBytes(9).toString("base64url"), jid: `${username}@${domain}` };
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < accounts.length) {
      const account = accounts[next++];
      if (account === undefined) return;
      await registerAccount(configPathOrDir, account.username, account.password, domain);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ACCOUNT_CONCURRENCY, n) }, worker));
  return accounts;
}

interface Layout {
  dir: string;
  configPath: string;
  dataDir: string;
  certsDir: string;
  logFile: string;
  stdoutFile: string;
  stderrFile: string;
  pidFile: string;
}

function layout(dir: string): Layout {
  return {
    dir,
    configPath: join(dir, CONFIG_FILE_NAME),
    dataDir: join(dir, "data"),
    certsDir: join(dir, "certs"),
    logFile: join(dir, "prosody.log"),
    stdoutFile: join(dir, "stdout.log"),
    stderrFile: join(dir, "stderr.log"),
    pidFile: join(dir, "prosody.pid"),
  };
}

function renderConfig(
  paths: Layout,
  settings: { domain: string; c2sPort: number; httpPort: number; iterationCount: number; logLevel: ProsodyLogLevel; modules: readonly string[] },
): string {
  return `-- Generated by xmpp-presence's test harness (src/testing/prosody.ts). Loopback only.
run_as_root = true
pidfile = ${luaString(paths.pidFile)}
data_path = ${luaString(paths.dataDir)}
certificates = ${luaString(paths.certsDir)}

interfaces = { ${luaString(HOST)} }
http_interfaces = { ${luaString(HOST)} }
c2s_ports = { ${settings.c2sPort} }
c2s_direct_tls_ports = { }
http_ports = { ${settings.httpPort} }
https_ports = { }
http_default_host = ${luaString(settings.domain)}

modules_enabled = ${luaList(settings.modules)}
modules_disabled = { "s2s" }

authentication = "internal_hashed"
storage = "internal"
default_iteration_count = ${settings.iterationCount}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
consider_websocket_secure = true
allow_registration = false

log = {
  { levels = { min = ${luaString(settings.logLevel)} }, to = "file", filename = ${luaString(paths.logFile)} };
}

VirtualHost ${luaString(settings.domain)}
`;
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    const text = await readFile(file, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * Start a Prosody server on loopback in a fresh temporary directory
 * (`<os.tmpdir()>/xmpp-presence-prosody-XXXXXX`), and wait until it accepts connections on both its
 * client and HTTP ports.
 *
 * Call {@link ProsodyServer.stop} when done. As a safety net, any server not stopped when the
 * Node.js process exits is killed with SIGKILL and its directory removed (this covers a normal or
 * `process.exit()` exit, not a SIGKILL of Node.js itself; the server is in Node's process group, so a
 * Ctrl-C in a terminal reaches it too).
 *
 * @example
 * ```ts
 * import { client } from "@xmpp/client";
 * import { startProsody } from "./testing/prosody.js";
 *
 * const server = await startProsody();
 * try {
 *   const [alice] = await server.createAccounts(1, "alice");
 *   const xmpp = client({ service: server.service, domain: server.domain, username: alice!.username, password: alice!.password });
 *   await xmpp.start();
 *   // ...
 *   await xmpp.stop();
 * } finally {
 *   await server.stop();
 * }
 * ```
 *
 * @throws Error when Prosody is not installed (and cannot be installed), or does not come up within
 * the timeout; the message then includes the end of its log.
 */
export async function startProsody(options: StartProsodyOptions = {}): Promise<ProsodyServer> {
  const domain = options.domain ?? "localhost";
  const iterationCount = options.iterationCount ?? 1;
  const logLevel = options.logLevel ?? "info";
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  if (!Number.isInteger(iterationCount) || iterationCount < 1) {
    throw new RangeError(`iterationCount must be a positive integer, got ${iterationCount}`);
  }
  const binaries = await ensureBinaries(options.installIfMissing ?? true);

  const dir = await mkdtemp(join(tmpdir(), "xmpp-presence-prosody-"));
  const paths = layout(dir);
  const modules = [...new Set([...DEFAULT_MODULES, ...(options.extraModules ?? [])])];
  let c2sPort = 0;
  let httpPort = 0;
  try {
    [c2sPort = 0, httpPort = 0] = await freePorts(2);
    await mkdir(paths.dataDir, { mode: 0o700 });
    await mkdir(paths.certsDir);
    await writeFile(paths.configPath, renderConfig(paths, { domain, c2sPort, httpPort, iterationCount, logLevel, modules }));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;

  const logTail = async (lines = 30): Promise<string> => {
    const parts: string[] = [];
    for (const [name, file] of [
      ["prosody.log", paths.logFile],
      ["stderr", paths.stderrFile],
      ["stdout", paths.stdoutFile],
    ] as const) {
      const text = await tail(file, lines);
      if (text !== "") parts.push(`--- ${name} ---\n${text}`);
    }
    return parts.join("\n");
  };

  const isRunning = (): boolean => isAlive(child);

  const launch = async (): Promise<void> => {
    const started = Date.now();
    const stdout = openSync(paths.stdoutFile, "a");
    const stderr = openSync(paths.stderrFile, "a");
    let proc: ChildProcess;
    try {
      proc = spawn(binaries.prosody, ["-F", "--config", paths.configPath], {
        cwd: dir,
        detached: false,
        stdio: ["ignore", stdout, stderr],
      });
    } finally {
      closeSync(stdout);
      closeSync(stderr);
    }
    child = proc;
    let exitInfo: string | undefined;
    exited = new Promise<void>((resolve) => {
      proc.once("exit", (code, signal) => {
        exitInfo = signal !== null ? `signal ${signal}` : `code ${String(code)}`;
        resolve();
      });
      proc.once("error", (error) => {
        exitInfo = `spawn error: ${error.message}`;
        resolve();
      });
    });
    // A forgotten server must not keep the Node.js process alive; the exit handler kills it.
    proc.unref();

    const fail = async (reason: string): Promise<never> => {
      if (isRunning()) {
        proc.kill("SIGKILL");
        await exited;
      }
      throw new Error(`Prosody ${reason} (dir ${dir})\n${await logTail()}`);
    };

    for (;;) {
      if (exitInfo !== undefined) return fail(`exited during startup (${exitInfo})`);
      const [c2sUp, httpUp] = await Promise.all([canConnect(c2sPort), canConnect(httpPort)]);
      if (exitInfo !== undefined) return fail(`exited during startup (${exitInfo})`);
      if (c2sUp && httpUp) return;
      if (Date.now() - started > startTimeoutMs) {
        return fail(`did not accept connections on ${HOST}:${c2sPort} and :${httpPort} within ${startTimeoutMs} ms`);
      }
      await sleep(25);
    }
  };

  const terminate = async (): Promise<void> => {
    const proc = child;
    if (!isAlive(proc)) return;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    }, STOP_GRACE_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  activeServers.set(dir, () => child);
  installExitHandler();
  try {
    await launch();
  } catch (error) {
    activeServers.delete(dir);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const server: ProsodyServer = {
    kind: "prosody",
    domain,
    host: HOST,
    c2sPort,
    httpPort,
    service: `xmpp://${HOST}:${c2sPort}`,
    websocketService: `ws://${HOST}:${httpPort}/xmpp-websocket`,
    dir,
    configPath: paths.configPath,
    get pid(): number {
      return child?.pid ?? -1;
    },
    get running(): boolean {
      return isRunning();
    },
    createAccount: (username, password) => registerAccount(paths.configPath, username, password, domain),
    createAccounts: (n, prefix = "user") => registerAccounts(paths.configPath, n, { prefix, domain }),
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await terminate();
      activeServers.delete(dir);
      await rm(dir, { recursive: true, force: true });
    },
    kill(): void {
      if (isAlive(child)) child.kill("SIGKILL");
    },
    async restart(): Promise<void> {
      if (stopped) throw new Error("cannot restart a Prosody server after stop()");
      await terminate();
      await launch();
    },
    logTail,
  };
  return server;
}
