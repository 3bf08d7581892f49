/**
 * A throw-away Prosody XMPP server on loopback, for tests and demos.
 *
 * Every server gets its own temporary directory (configuration, data, logs, pidfile), listens on
 * `127.0.0.1` only, on two free ports (client-to-server and HTTP/WebSocket), and has no
 * server-to-server listener. Nothing of the system-wide Prosody installation is used except the
 * binaries.
 *
 * This module imports only Node.js built-ins (directly or through `./process.js`), so it can be
 * loaded by a test runner's global setup as well as by test workers.
 *
 * @packageDocumentation
 */

import type { ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  HOST,
  canConnect,
  checkSeedItems,
  findExecutable,
  freePorts,
  installer,
  isAlive,
  logTails,
  registerActiveServer,
  registerRandomAccounts,
  run,
  signal,
  spawnLogged,
  unregisterActiveServer,
  validateAccount,
  waitUntilReady,
} from "./process.js";
import type { SeedRosterItem, XmppTestServer } from "./server.js";

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
  /** Path of the configuration file, usable with {@link registerAccount} from other processes. */
  readonly configPath: string;
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

const STOP_GRACE_MS = 5000;
const ACCOUNT_CONCURRENCY = 4;
const INSTALL_HINT = "prosody is not installed: run `sudo apt-get install -y prosody` (Debian/Ubuntu) and try again";

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

interface Binaries {
  prosody: string;
  prosodyctl: string;
}

function findBinaries(): Binaries | undefined {
  const prosody = findExecutable("prosody");
  const prosodyctl = findExecutable("prosodyctl");
  return prosody !== undefined && prosodyctl !== undefined ? { prosody, prosodyctl } : undefined;
}

/** Locate prosody/prosodyctl, installing them if allowed. */
const ensureBinaries = installer<Binaries>({
  packageName: "prosody",
  hint: INSTALL_HINT,
  installTimeoutMs: 600_000,
  find: findBinaries,
});

function configPathOf(configPathOrDir: string): string {
  try {
    if (statSync(configPathOrDir).isDirectory()) return join(configPathOrDir, CONFIG_FILE_NAME);
  } catch {
    // Not an existing directory: take it as the configuration file path.
  }
  return configPathOrDir;
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
  return registerRandomAccounts(n, options, ACCOUNT_CONCURRENCY, (username, password, domain) =>
    registerAccount(configPathOrDir, username, password, domain),
  );
}

/** A name as Prosody's datamanager writes it into a path: every non-alphanumeric byte as `%xx`. */
function storeName(name: string): string {
  let out = "";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9]/u.test(c) ? c : `%${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/**
 * The roster file Prosody's `internal` storage reads (`data/<host>/roster/<user>.dat`): a Lua
 * table keyed by JID, and under `false` the roster's version and pending-in requests.
 */
function rosterFile(items: readonly SeedRosterItem[]): string {
  const lines = ["return {", `\t[false] = { ["pending"] = {}; ["version"] = ${items.length + 1}; };`];
  for (const { jid, name, groups = [], subscription = "none", pendingOut } of items) {
    const fields = [`["subscription"] = ${luaString(subscription)};`];
    if (name !== undefined) fields.push(`["name"] = ${luaString(name)};`);
    if (pendingOut) fields.push(`["ask"] = "subscribe";`);
    fields.push(`["groups"] = { ${groups.map((group) => `[${luaString(group)}] = true;`).join(" ")} };`);
    lines.push(`\t[${luaString(jid)}] = { ${fields.join(" ")} };`);
  }
  lines.push("};", "");
  return lines.join("\n");
}

/**
 * Replace an account's roster in the storage of a server started by {@link startProsody}, given
 * only its configuration file (or directory): see {@link XmppTestServer.seedRoster}. Works from
 * any process on the same machine. The account must have no session: Prosody keeps an online
 * account's roster in memory and would write over the file.
 *
 * @param configPathOrDir - {@link ProsodyServer.configPath} or {@link ProsodyServer.dir}.
 * @param username - Local part of the account's JID.
 * @param items - The roster, in any order (Prosody keeps no order).
 * @param domain - The server's domain. Default `"localhost"`.
 *
 * @example
 * ```ts
 * await seedProsodyRoster(server.configPath, alice.username, [{ jid: "bob@localhost", subscription: "both" }]);
 * ```
 */
export async function seedProsodyRoster(
  configPathOrDir: string,
  username: string,
  items: readonly SeedRosterItem[],
  domain = "localhost",
): Promise<void> {
  checkSeedItems(items);
  const dir = join(dirname(configPathOf(configPathOrDir)), "data", storeName(domain), "roster");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${storeName(username)}.dat`);
  // Written whole, then renamed: Prosody never reads half a roster.
  await writeFile(`${file}.seed`, rosterFile(items));
  await rename(`${file}.seed`, file);
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

  const logTail = (lines = 30): Promise<string> =>
    logTails(
      [
        ["prosody.log", paths.logFile],
        ["stderr", paths.stderrFile],
        ["stdout", paths.stdoutFile],
      ],
      lines,
    );

  const isRunning = (): boolean => isAlive(child);

  const launch = async (): Promise<void> => {
    const started = Date.now();
    const launched = spawnLogged(binaries.prosody, ["-F", "--config", paths.configPath], {
      cwd: dir,
      stdoutFile: paths.stdoutFile,
      stderrFile: paths.stderrFile,
    });
    const proc = launched.proc;
    child = proc;
    exited = launched.exited;

    const fail = async (reason: string): Promise<never> => {
      if (isRunning()) {
        proc.kill("SIGKILL");
        await exited;
      }
      throw new Error(`Prosody ${reason} (dir ${dir})\n${await logTail()}`);
    };

    await waitUntilReady({
      started,
      timeoutMs: startTimeoutMs,
      intervalMs: 25,
      exitInfo: launched.exitInfo,
      // Both ports up but the process gone counts as an exit.
      ready: async () => {
        const [c2sUp, httpUp] = await Promise.all([canConnect(c2sPort), canConnect(httpPort)]);
        return c2sUp && httpUp && launched.exitInfo() === undefined;
      },
      timeoutReason: `did not accept connections on ${HOST}:${c2sPort} and :${httpPort} within ${startTimeoutMs} ms`,
      fail,
    });
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

  registerActiveServer(dir, () => {
    if (isAlive(child)) signal(child.pid, "SIGKILL");
  });
  try {
    await launch();
  } catch (error) {
    unregisterActiveServer(dir);
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
    seedRoster: (username, items) => seedProsodyRoster(paths.configPath, username, items, domain),
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await terminate();
      unregisterActiveServer(dir);
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
