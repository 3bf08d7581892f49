/**
 * A throw-away ejabberd XMPP server on loopback, for tests and demos.
 *
 * Every server gets its own temporary directory (`ejabberd.yml`, `ejabberdctl.cfg`, Mnesia spool,
 * logs, pidfile), listens on `127.0.0.1` only, on three free ports (client-to-server,
 * HTTP/WebSocket + admin API, Erlang distribution), runs no epmd daemon and has no
 * server-to-server listener. Nothing of the system-wide ejabberd installation is used except
 * `ejabberdctl` and the Erlang code: the system configuration, spool, logs and service are left
 * alone.
 *
 * This module imports only Node.js built-ins (directly or through `./process.js`), so it can be
 * loaded by a test runner's global setup as well as by test workers.
 *
 * @packageDocumentation
 */

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import {
  HOST,
  canConnect,
  checkSeedItems,
  findExecutable,
  freePorts,
  installer,
  logTails,
  processesOf,
  registerActiveServer,
  registerRandomAccounts,
  run,
  signal,
  sleep,
  spawnLogged,
  unregisterActiveServer,
  validateAccount,
  waitUntilReady,
  within,
  withDescendants,
} from "./process.js";
import type { ProcessInfo } from "./process.js";
import type { SeedRosterItem, XmppTestAccount, XmppTestServer } from "./server.js";

/**
 * Name of the ejabberd configuration file written into every server directory.
 *
 * @example `join(server.dir, EJABBERD_CONFIG_FILE_NAME) === server.configPath`
 */
export const EJABBERD_CONFIG_FILE_NAME = "ejabberd.yml";

/**
 * Log levels understood by ejabberd (`loglevel`).
 *
 * @example `await startEjabberd({ logLevel: "debug" })` — every stanza in `DIR/logs/ejabberd.log`.
 */
export type EjabberdLogLevel = "none" | "emergency" | "alert" | "critical" | "error" | "warning" | "notice" | "info" | "debug";

/**
 * A value of an ejabberd module option, as it would be written in `ejabberd.yml`
 * (strings that look like atoms, e.g. `infinity`, are written unquoted).
 *
 * @example `{ max_ack_queue: 1000, resend_on_timeout: "if_offline" }` for `mod_stream_mgmt`.
 */
export type EjabberdOptionValue =
  | string
  | number
  | boolean
  | readonly EjabberdOptionValue[]
  | { readonly [key: string]: EjabberdOptionValue };

/**
 * Options for {@link startEjabberd}.
 *
 * @example
 * ```ts
 * const server = await startEjabberd({ domain: "example.test", extraModules: { mod_caps: {} } });
 * ```
 */
export interface StartEjabberdOptions {
  /** The XMPP domain served (the only entry of `hosts`). Default `"localhost"`. */
  domain?: string;
  /** `loglevel` of the server's log files (`DIR/logs/ejabberd.log`, `error.log`). Default `"info"`. */
  logLevel?: EjabberdLogLevel;
  /**
   * Modules to enable in addition to {@link EJABBERD_DEFAULT_MODULES}, with their options; an entry
   * for a default module replaces that module's options.
   *
   * @example `{ mod_caps: {}, mod_offline: { access_max_user_messages: "max_user_offline_messages" } }`
   */
  extraModules?: Readonly<Record<string, { readonly [option: string]: EjabberdOptionValue }>>;
  /**
   * When ejabberd is missing and the process runs as root on a system with `apt-get`, install it.
   * Default `true`.
   */
  installIfMissing?: boolean;
  /**
   * Time allowed for the server to accept connections on both ports and answer its HTTP API, in ms.
   * Default 30000.
   */
  startTimeoutMs?: number;
}

/**
 * An account created by {@link EjabberdServer.createAccounts} or {@link registerEjabberdAccounts}.
 *
 * @example
 * ```ts
 * const [alice] = await server.createAccounts(1, "alice");
 * client({ service: server.service, domain: server.domain, username: alice!.username, password: alice!.password });
 * ```
 */
export interface EjabberdAccount extends XmppTestAccount {
  /** Local part of the JID. */
  username: string;
  password: string;
  /** Bare JID, `username@domain`. */
  jid: string;
}

/**
 * A running ejabberd instance started by {@link startEjabberd}.
 *
 * @example
 * ```ts
 * const server = await startEjabberd();
 * server.kill(); // a crash: clients see their connections drop
 * await server.restart(); // same spool: accounts and rosters are back
 * await server.stop();
 * ```
 */
export interface EjabberdServer extends XmppTestServer {
  readonly kind: "ejabberd";
  /** HTTP port: the WebSocket endpoint (`/xmpp-websocket`) and the admin API (`/api`). */
  readonly httpPort: number;
  /** Erlang distribution port of the node (bound to 127.0.0.1; no epmd is used). */
  readonly distPort: number;
  /**
   * `http://127.0.0.1:<httpPort>/api`, ejabberd's HTTP admin API, usable with
   * {@link registerEjabberdAccount} from other processes. Open to 127.0.0.1 without authentication
   * for the commands in {@link EJABBERD_API_COMMANDS}.
   */
  readonly apiUrl: string;
  /** Erlang node name, e.g. `xpp1a2b3c4d5e6f@localhost` (the Mnesia spool belongs to it). */
  readonly nodeName: string;
  /** Path of `ejabberd.yml`. */
  readonly configPath: string;
  /**
   * Process id of the Erlang VM (`beam.smp`, from the pidfile) of the current run; it changes on
   * {@link EjabberdServer.restart}.
   */
  readonly pid: number;
  /** Whether any process of this server is currently running. */
  readonly running: boolean;
  /**
   * Create an account through the HTTP API (`register`); if it exists already, reset its
   * password (`change_password`). Resolves once the account can log in.
   */
  createAccount(username: string, password: string): Promise<void>;
  /**
   * Create `n` accounts with unique random usernames (`<prefix><12 hex digits>`) and random
   * passwords, a few requests at a time.
   */
  createAccounts(n: number, prefix?: string): Promise<EjabberdAccount[]>;
  /**
   * Call an HTTP API command (one of {@link EJABBERD_API_COMMANDS}) and resolve with its JSON
   * result; rejects with the server's answer on an HTTP error.
   */
  api(command: string, args?: Readonly<Record<string, unknown>>): Promise<unknown>;
  /**
   * Stop the server: SIGTERM to the Erlang VM, wait until no process of this server is left
   * (SIGKILL after 10 s), then remove its directory. Idempotent.
   */
  stop(): Promise<void>;
  /**
   * Kill the Erlang VM (and its helper processes) with SIGKILL at once, keeping the directory (to
   * simulate a crash). The wrapper processes exit by themselves right after.
   *
   * Like a real crash, this loses what the server changed in about the last 2 s: Mnesia's files
   * are written with a delay (measured: a change 1.3 s before the kill lost, 2 s before kept).
   * Wait ≥ 2.5 s after the last change that must survive, or use {@link EjabberdServer.restart},
   * which stops the server cleanly.
   */
  kill(): void;
  /**
   * Start the server again on the same directory, ports, node name and cookie, so accounts and
   * rosters persist. Stops it first (SIGTERM) if it is still running; resolves when it is ready.
   */
  restart(): Promise<void>;
  /** The last lines of the server's log files and of its stdout/stderr, for diagnostics. */
  logTail(lines?: number): Promise<string>;
}

/**
 * Modules enabled by {@link startEjabberd}, with their options. Presence subscriptions need only
 * `mod_roster`; `mod_privacy` is there because `mod_blocking` depends on it in ejabberd 23.01, and
 * `mod_admin_extra` provides the API's `change_password`.
 *
 * @example `startEjabberd({ extraModules: { mod_roster: { versioning: false } } })` replaces one entry.
 */
export const EJABBERD_DEFAULT_MODULES: Readonly<Record<string, { readonly [option: string]: EjabberdOptionValue }>> = {
  mod_roster: { versioning: true },
  mod_stream_mgmt: {},
  mod_privacy: {},
  mod_blocking: {},
  mod_register: {},
  mod_offline: {},
  mod_disco: {},
  mod_ping: {},
  mod_http_api: {},
  mod_admin_extra: {},
};

/**
 * HTTP API commands that 127.0.0.1 may call without authentication (`api_permissions`).
 *
 * @example `await server.api("registered_users", { host: server.domain })` → `["alice", ...]`
 */
export const EJABBERD_API_COMMANDS: readonly string[] = [
  "register",
  "unregister",
  "change_password",
  "check_account",
  "registered_users",
  "status",
  "add_rosteritem",
  "load",
  "clear_cache",
];

const STOP_GRACE_MS = 10_000;
const KILL_WAIT_MS = 5_000;
const ACCOUNT_CONCURRENCY = 8;
const INSTALL_HINT =
  "ejabberd is not installed: run `sudo apt-get install -y --no-install-recommends ejabberd` (Debian/Ubuntu) and try again";

/**
 * Kills everything left over when the Node.js process exits and, in a detached shell, when it dies
 * without exiting (SIGKILL, a signal that terminates it): the shell sees its stdin close, and
 * SIGKILLs the VM named in the pidfile if that process is still ours (its arguments contain the
 * spool path), then removes the directory. Paths come in the environment, so the shell's own
 * arguments never look like ours.
 */
const WATCHDOG_SCRIPT = `read -r _ignored || :
pid=$(cat "$XPP_PIDFILE" 2>/dev/null)
if [ -n "$pid" ] && ps -ww -p "$pid" -o args= 2>/dev/null | grep -qF -- "$XPP_MARK"; then
  kill -KILL "$pid" 2>/dev/null
  sleep 1
fi
rm -rf -- "$XPP_DIR"
exit 0
`;

/** Locate ejabberdctl, installing ejabberd if allowed. */
const ensureEjabberdctl = installer<string>({
  packageName: "ejabberd",
  hint: INSTALL_HINT,
  installTimeoutMs: 900_000,
  find: () => findExecutable("ejabberdctl"),
});

/** The body of an API answer, parsed as JSON when it is. */
async function responseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Call a command of ejabberd's HTTP admin API (`POST <apiUrl>/<command>` with a JSON body) and
 * resolve with the parsed JSON result.
 *
 * @example
 * ```ts
 * const users = await callEjabberdApi(server.apiUrl, "registered_users", { host: "localhost" });
 * ```
 *
 * @param options - `timeoutMs`: how long to wait for the answer (default 15 000).
 * @throws Error with the HTTP status and the server's answer when the command fails.
 */
export async function callEjabberdApi(
  apiUrl: string,
  command: string,
  args: Readonly<Record<string, unknown>> = {},
  options: { timeoutMs?: number } = {},
): Promise<unknown> {
  const response = await fetch(`${apiUrl}/${command}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(args),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const body = await responseBody(response);
  if (!response.ok) {
    throw Object.assign(new Error(`ejabberd API ${command} failed: HTTP ${response.status} ${JSON.stringify(body)}`), {
      status: response.status,
      body,
    });
  }
  return body;
}

/**
 * Create an account through ejabberd's HTTP API; if it exists already, reset its password. Works
 * from any process on the same machine (e.g. a test worker that only got the server's `apiUrl`).
 *
 * @param apiUrl - {@link EjabberdServer.apiUrl}.
 * @param username - Local part of the JID.
 * @param password - The account's password.
 * @param domain - The server's domain. Default `"localhost"`.
 *
 * @example
 * ```ts
 * await registerEjabberdAccount(server.apiUrl, "alice", "secret");
 * ```
 */
export async function registerEjabberdAccount(apiUrl: string, username: string, password: string, domain = "localhost"): Promise<void> {
  validateAccount(username, password);
  try {
    await callEjabberdApi(apiUrl, "register", { user: username, host: domain, password });
  } catch (error) {
    if ((error as { status?: unknown }).status !== 409) throw error;
    await callEjabberdApi(apiUrl, "change_password", { user: username, host: domain, newpass: password });
  }
}

/**
 * Create `n` accounts with unique random usernames (`<prefix><12 hex digits>`) and random passwords,
 * at most 8 requests at a time.
 *
 * @param apiUrl - {@link EjabberdServer.apiUrl}.
 * @param n - Number of accounts.
 * @param options - `prefix` (default `"user"`) and `domain` (default `"localhost"`).
 *
 * @example
 * ```ts
 * const [alice, bob] = await registerEjabberdAccounts(server.apiUrl, 2, { prefix: "t" });
 * ```
 */
export async function registerEjabberdAccounts(
  apiUrl: string,
  n: number,
  options: { prefix?: string; domain?: string } = {},
): Promise<EjabberdAccount[]> {
  return registerRandomAccounts(n, options, ACCOUNT_CONCURRENCY, (username, password, domain) =>
    registerEjabberdAccount(apiUrl, username, password, domain),
  );
}

/** Records per `load` call: Mnesia's text load slows down more than linearly with the file's size. */
const SEED_CHUNK = 5_000;
const SEED_LOAD_TIMEOUT_MS = 300_000;

/**
 * The Mnesia table definitions a seed file declares: ejabberd 23.01's `roster` and
 * `roster_version` records (src/mod_roster.hrl), field for field. `load` checks them against the
 * live tables, so a different record layout fails the load instead of writing wrong records.
 */
const SEED_TABLES =
  "{tables,[{roster,[{record_name,roster},{attributes,[usj,us,jid,name,subscription,ask,groups,askmessage,xs]}]}," +
  "{roster_version,[{record_name,roster_version},{attributes,[us,version]}]}]}.";

/**
 * An Erlang binary literal of `text`'s UTF-8 bytes: `<<"plain">>` when that is unambiguous, else
 * the bytes as numbers (so quotes, backslashes and any Unicode arrive unchanged).
 */
function erlangBinary(text: string): string {
  if (text === "") return "<<>>";
  if (/^[\x20-\x7e]*$/.test(text) && !/["\\]/.test(text)) return `<<"${text}">>`;
  return `<<${Array.from(Buffer.from(text, "utf8")).join(",")}>>`;
}

/** `{User, Server, Resource}` as ejabberd keys a bare JID (the items are checked lower-case). */
function erlangJid(jid: string): string {
  const at = jid.lastIndexOf("@");
  return `{${erlangBinary(at === -1 ? "" : jid.slice(0, at))},${erlangBinary(jid.slice(at + 1))},<<>>}`;
}

/** One `#roster{}` record of the account `user`@`server` (Erlang binaries) as a line of a Mnesia text file. */
function rosterRecord(user: string, server: string, item: SeedRosterItem): string {
  const { jid, name = "", groups = [], subscription = "none", pendingOut = false } = item;
  const contact = erlangJid(jid);
  // ask: `out` is our pending request (RFC 6121 §2.1.2.2; checkSeedItems allows it only without "to").
  const ask = pendingOut ? "out" : "none";
  return `{roster,{${user},${server},${contact}},{${user},${server}},${contact},${erlangBinary(name)},${subscription},${ask},[${groups.map(erlangBinary).join(",")}],<<>>,[]}.`;
}

/**
 * Put items into an account's roster in ejabberd's storage, without the subscription handshake:
 * see {@link XmppTestServer.seedRoster}. Works from any process on the same machine.
 *
 * The items are written as Mnesia records through the API's `load` command (from a temporary
 * file, 5 000 records per call), the roster's stored version is replaced, and `clear_cache` makes
 * ejabberd read the roster again. That is about 1 500 items/s up to 10 000 items and slows down as
 * the table grows (Mnesia); `add_rosteritem` one item at a time was 40–70 items/s. Nothing is
 * pushed to the account's connected sessions: seed before the account logs in.
 *
 * @param apiUrl - {@link EjabberdServer.apiUrl}.
 * @param username - Local part of the account's JID.
 * @param items - Items to add (an item already in the roster is overwritten).
 * @param domain - The server's domain. Default `"localhost"`.
 *
 * @example
 * ```ts
 * await seedEjabberdRoster(server.apiUrl, alice.username, [{ jid: "bob@localhost", name: "Bob", subscription: "both" }]);
 * ```
 */
export async function seedEjabberdRoster(
  apiUrl: string,
  username: string,
  items: readonly SeedRosterItem[],
  domain = "localhost",
): Promise<void> {
  checkSeedItems(items);
  if (items.length === 0) return;
  const user = erlangBinary(username);
  const server = erlangBinary(domain);
  const records = items.map((item) => rosterRecord(user, server, item));
  // A new stored version, so that a session holding the old one gets the roster again (§2.6).
  records.push(`{roster_version,{${user},${server}},${erlangBinary(`seed-${randomBytes(8).toString("hex")}`)}}.`);
  const dir = await mkdtemp(join(tmpdir(), "xmpp-presence-seed-"));
  try {
    // Readable by the server, which runs as the `ejabberd` user when the caller is root.
    await chmod(dir, 0o755);
    const file = join(dir, "roster.txt");
    for (let start = 0; start < records.length; start += SEED_CHUNK) {
      await writeFile(file, `${SEED_TABLES}\n${records.slice(start, start + SEED_CHUNK).join("\n")}\n`);
      await chmod(file, 0o644); // whatever the umask
      const answer = await callEjabberdApi(apiUrl, "load", { file }, { timeoutMs: SEED_LOAD_TIMEOUT_MS });
      // `load` answers "" when it worked; its errors come as HTTP 500 (callEjabberdApi throws).
      // Any other answer is not a success either.
      if (answer !== "") throw new Error(`seedRoster: ejabberd's load failed: ${JSON.stringify(answer)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await callEjabberdApi(apiUrl, "clear_cache");
}

// --- configuration -------------------------------------------------------------------------------

const YAML_PLAIN = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;
const YAML_RESERVED = /^(?:true|false|yes|no|on|off|null|y|n)$/i;

/** A YAML flow scalar/collection; plain words stay unquoted (ejabberd reads them as atoms). */
function yaml(value: EjabberdOptionValue): string {
  if (typeof value === "string") return YAML_PLAIN.test(value) && !YAML_RESERVED.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return `[${(value as readonly EjabberdOptionValue[]).map(yaml).join(", ")}]`;
  const entries = Object.entries(value as { readonly [key: string]: EjabberdOptionValue });
  return `{${entries.map(([k, v]) => `${yamlKey(k)}: ${yaml(v)}`).join(", ")}}`;
}

function yamlKey(key: string): string {
  return YAML_PLAIN.test(key) && !YAML_RESERVED.test(key) ? key : JSON.stringify(key);
}

interface Layout {
  dir: string;
  configPath: string;
  ctlConfigPath: string;
  inetrcPath: string;
  logsDir: string;
  spoolDir: string;
  pidFile: string;
  stdoutFile: string;
  stderrFile: string;
}

function layout(dir: string): Layout {
  return {
    dir,
    configPath: join(dir, EJABBERD_CONFIG_FILE_NAME),
    ctlConfigPath: join(dir, "ejabberdctl.cfg"),
    inetrcPath: join(dir, "inetrc"),
    logsDir: join(dir, "logs"),
    spoolDir: join(dir, "db"),
    pidFile: join(dir, "ejabberd.pid"),
    stdoutFile: join(dir, "stdout.log"),
    stderrFile: join(dir, "stderr.log"),
  };
}

interface Settings {
  domain: string;
  c2sPort: number;
  httpPort: number;
  distPort: number;
  nodeName: string;
  cookie: string;
  logLevel: EjabberdLogLevel;
  modules: Readonly<Record<string, { readonly [option: string]: EjabberdOptionValue }>>;
}

function renderConfig(settings: Settings): string {
  const modules = Object.entries(settings.modules)
    .map(([name, options]) => `  ${yamlKey(name)}: ${yaml(options)}`)
    .join("\n");
  return `# Generated by xmpp-presence's test harness (src/testing/ejabberd.ts). Loopback only.
hosts: [${yaml(settings.domain)}]
loglevel: ${settings.logLevel}
certfiles: []
acme: {auto: false}
s2s_access: none
# Otherwise one in-band registration per IP address every 600 s.
registration_timeout: infinity
auth_method: internal

acl:
  loopback:
    ip: ["127.0.0.0/8", "::1/128"]

api_permissions:
  "loopback API without authentication":
    from: [mod_http_api]
    who:
      access:
        allow:
          - acl: loopback
    what: ${yaml(EJABBERD_API_COMMANDS)}

listen:
  -
    port: ${settings.c2sPort}
    ip: "${HOST}"
    module: ejabberd_c2s
    starttls: false
    backlog: 1024
  -
    port: ${settings.httpPort}
    ip: "${HOST}"
    module: ejabberd_http
    backlog: 1024
    request_handlers:
      /xmpp-websocket: ejabberd_http_ws
      /api: mod_http_api

modules:
${modules}
`;
}

function renderCtlConfig(paths: Layout, settings: Settings): string {
  // Sourced by ejabberdctl (bash). Without this file in --config-dir, the system one
  // (/etc/default/ejabberd) applies and silently overrides --config.
  // ERL_DIST_PORT makes the node listen on that port itself, without an epmd daemon (which would
  // listen on all interfaces). The distribution interface is given as a kernel flag rather than
  // INET_DIST_INTERFACE, which ejabberdctl converts by booting one more Erlang VM (≈ 0.4 s).
  return `# Generated by xmpp-presence's test harness (src/testing/ejabberd.ts).
ERLANG_NODE=${settings.nodeName}
ERL_DIST_PORT=${settings.distPort}
ERL_OPTIONS="-setcookie ${settings.cookie} -kernel inet_dist_use_interface {127,0,0,1}"
EJABBERD_PID_PATH=${paths.pidFile}
CONTRIB_MODULES_PATH=${join(paths.dir, "modules")}
`;
}

/** Erlang resolver configuration: `localhost` from here, no DNS, and no "inetrc not found" on stderr. */
const INETRC = `{lookup, [file, native]}.
{host, {127,0,0,1}, ["localhost"]}.
`;

/** Environment for ejabberdctl: none of the caller's variables that ejabberdctl or Erlang would read. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const dropped = new Set([
    "CONFIG_DIR",
    "LOGS_DIR",
    "SPOOL_DIR",
    "VMARGS",
    "INET_DIST_INTERFACE",
    "FIREWALL_WINDOW",
    "POLL",
    "SCRIPT",
    "EXEC_CMD",
    "MNESIA_OPTIONS",
    "NO_TIMEOUT",
  ]);
  for (const [key, value] of Object.entries(process.env)) {
    if (dropped.has(key) || /^(?:ERL_|ERLANG_|EJABBERD|CONTRIB_MODULES_)/.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/** The user ejabberdctl switches to when run as root (`INSTALLUSER=` in the script). */
function installUserOf(script: string): string {
  return /^INSTALLUSER=(\S*)/m.exec(script)?.[1]?.replace(/^["']|["']$/g, "") ?? "";
}

/**
 * Start an ejabberd server on loopback in a fresh temporary directory
 * (`<os.tmpdir()>/xmpp-presence-ejabberd-XXXXXX`), and wait until it accepts connections on its
 * client and HTTP ports and its HTTP API answers (≈ 2–3 s; the VM takes ≈ 100 MB).
 *
 * Run as root, `ejabberdctl` runs the VM as the `ejabberd` user, so the directory is handed to that
 * user. Run as another user, a copy of `ejabberdctl` that stays with the current user is used.
 *
 * Call {@link EjabberdServer.stop} when done. As safety nets, any server not stopped when the
 * Node.js process exits is killed with SIGKILL and its directory removed, and a small detached
 * watchdog does the same if the Node.js process dies without exiting (SIGKILL, Ctrl-C).
 *
 * @example
 * ```ts
 * import { client } from "@xmpp/client";
 * import { startEjabberd } from "./testing/ejabberd.js";
 *
 * const server = await startEjabberd();
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
 * @throws Error when ejabberd is not installed (and cannot be installed), or does not come up within
 * the timeout; the message then includes the end of its logs.
 */
export async function startEjabberd(options: StartEjabberdOptions = {}): Promise<EjabberdServer> {
  const domain = options.domain ?? "localhost";
  const logLevel = options.logLevel ?? "info";
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  if (!/^[a-z0-9.-]+$/i.test(domain)) throw new Error(`unsupported test domain ${JSON.stringify(domain)}`);
  const systemCtl = await ensureEjabberdctl(options.installIfMissing ?? true);
  const script = await readFile(systemCtl, "utf8");
  const installUser = installUserOf(script);
  const isRoot = process.getuid?.() === 0;

  const dir = await mkdtemp(join(tmpdir(), "xmpp-presence-ejabberd-"));
  const paths = layout(dir);
  const marker = paths.spoolDir;
  let settings: Settings;
  let ejabberdctl = systemCtl;
  try {
    const [c2sPort = 0, httpPort = 0, distPort = 0] = await freePorts(3);
    settings = {
      domain,
      c2sPort,
      httpPort,
      distPort,
      nodeName: `xpp${randomBytes(6).toString("hex")}@localhost`,
      cookie: randomBytes(16).toString("hex"),
      logLevel,
      modules: { ...EJABBERD_DEFAULT_MODULES, ...options.extraModules },
    };
    await mkdir(paths.logsDir);
    await mkdir(paths.spoolDir);
    await writeFile(paths.configPath, renderConfig(settings));
    await writeFile(paths.ctlConfigPath, renderCtlConfig(paths, settings));
    await writeFile(paths.inetrcPath, INETRC);
    if (!isRoot && installUser !== "" && installUser !== userInfo().username) {
      // ejabberdctl refuses any user but root and INSTALLUSER: a copy that runs as the caller.
      ejabberdctl = join(dir, "ejabberdctl");
      await writeFile(ejabberdctl, script.replace(/^INSTALLUSER=.*$/m, "INSTALLUSER="));
      await chmod(ejabberdctl, 0o755);
    }
    if (isRoot && installUser !== "") {
      const chown = await run(findExecutable("chown") ?? "chown", ["-R", `${installUser}:`, dir]);
      if (chown.code !== 0) throw new Error(`chown -R ${installUser}: ${dir} failed: ${chown.stderr.trim()}`);
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const apiUrl = `http://${HOST}:${settings.httpPort}/api`;
  const env = cleanEnv();

  let child: ChildProcess | undefined;
  let childExited: Promise<void> = Promise.resolve();
  let beamPid = -1;
  let stopped = false;

  registerActiveServer(dir, () => {
    for (const info of processesOf(marker)) signal(info.pid, "SIGKILL");
  });

  const watchdog = spawn("/bin/sh", ["-c", WATCHDOG_SCRIPT], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", XPP_PIDFILE: paths.pidFile, XPP_MARK: marker, XPP_DIR: dir },
  });
  const watchdogExited = new Promise<void>((resolve) => {
    watchdog.once("exit", () => resolve());
    watchdog.once("error", () => resolve());
  });
  watchdog.stdin?.on("error", () => {});
  (watchdog.stdin as Socket | null)?.unref();
  watchdog.unref();
  /** Let the watchdog go (it finds nothing left to kill) and wait until it has exited. */
  const endWatchdog = async (): Promise<void> => {
    watchdog.ref(); // Otherwise nothing may keep Node.js alive until it exits.
    watchdog.stdin?.end();
    await watchdogExited;
  };

  const logTail = (lines = 30): Promise<string> =>
    logTails(
      [
        ["ejabberd.log", join(paths.logsDir, "ejabberd.log")],
        ["error.log", join(paths.logsDir, "error.log")],
        ["crash.log", join(paths.logsDir, "crash.log")],
        ["stderr", paths.stderrFile],
        ["stdout", paths.stdoutFile],
      ],
      lines,
    );

  const ours = (): ProcessInfo[] => processesOf(marker);
  const childAlive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  /** Wait until no process of this server is left, or `timeoutMs` passes; true when none is left. */
  const waitGone = async (timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (ours().length === 0 && !childAlive()) return true;
      if (Date.now() > deadline) return false;
      await sleep(25);
    }
  };

  /** The VM among our processes (the pidfile's pid when it is ours). */
  const findBeam = (procs: readonly ProcessInfo[]): ProcessInfo | undefined =>
    procs.find((info) => info.pid === beamPid) ?? procs.find((info) => /^\S*beam(?:\.smp)?\s/.test(info.args));

  const killAll = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      const procs = ours();
      if (procs.length === 0) break;
      for (const info of procs) signal(info.pid, "SIGKILL");
      if (await waitGone(KILL_WAIT_MS / 5)) break;
    }
    await within(childExited, KILL_WAIT_MS);
  };

  const terminate = async (): Promise<void> => {
    const procs = ours();
    if (procs.length === 0 && !childAlive()) return;
    const beam = findBeam(procs);
    // SIGTERM to the VM makes ejabberd shut down cleanly (≈ 1 s); the wrappers then exit on their own.
    for (const info of beam === undefined ? procs : [beam]) signal(info.pid, "SIGTERM");
    if (!(await waitGone(STOP_GRACE_MS))) await killAll();
  };

  const launch = async (): Promise<void> => {
    const started = Date.now();
    beamPid = -1;
    const launched = spawnLogged(
      ejabberdctl,
      [
        "--config-dir",
        dir,
        "--config",
        paths.configPath,
        "--ctl-config",
        paths.ctlConfigPath,
        "--logs",
        paths.logsDir,
        "--spool",
        paths.spoolDir,
        "foreground",
      ],
      { cwd: dir, env, stdoutFile: paths.stdoutFile, stderrFile: paths.stderrFile },
    );
    child = launched.proc;
    childExited = launched.exited;

    const fail = async (reason: string): Promise<never> => {
      await killAll();
      throw new Error(`ejabberd ${reason} (dir ${dir})\n${await logTail()}`);
    };

    await waitUntilReady({
      started,
      timeoutMs: startTimeoutMs,
      intervalMs: 50,
      exitInfo: launched.exitInfo,
      ready: async () => {
        const [c2sUp, httpUp] = await Promise.all([canConnect(settings.c2sPort), canConnect(settings.httpPort)]);
        if (!c2sUp || !httpUp) return false;
        try {
          await callEjabberdApi(apiUrl, "status");
          return true;
        } catch {
          // Listening, but not serving the API yet.
          return false;
        }
      },
      timeoutReason: `did not accept connections on ${HOST}:${settings.c2sPort} and :${settings.httpPort} and answer its API within ${startTimeoutMs} ms`,
      fail,
    });
    // ejabberd writes its pidfile when it starts, well before it listens.
    const fromFile = Number.parseInt((await readFile(paths.pidFile, "utf8").catch(() => "")).trim(), 10);
    const procs = ours();
    beamPid = procs.some((info) => info.pid === fromFile) ? fromFile : (findBeam(procs)?.pid ?? -1);
  };

  try {
    await launch();
  } catch (error) {
    unregisterActiveServer(dir);
    await endWatchdog();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const server: EjabberdServer = {
    kind: "ejabberd",
    domain,
    host: HOST,
    c2sPort: settings.c2sPort,
    httpPort: settings.httpPort,
    distPort: settings.distPort,
    service: `xmpp://${HOST}:${settings.c2sPort}`,
    websocketService: `ws://${HOST}:${settings.httpPort}/xmpp-websocket`,
    apiUrl,
    nodeName: settings.nodeName,
    dir,
    configPath: paths.configPath,
    get pid(): number {
      return beamPid > 0 ? beamPid : (child?.pid ?? -1);
    },
    get running(): boolean {
      return childAlive() || ours().length > 0;
    },
    createAccount: (username, password) => registerEjabberdAccount(apiUrl, username, password, domain),
    createAccounts: (n, prefix = "user") => registerEjabberdAccounts(apiUrl, n, { prefix, domain }),
    seedRoster: (username, items) => seedEjabberdRoster(apiUrl, username, items, domain),
    api: (command, args = {}) => callEjabberdApi(apiUrl, command, args),
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await terminate();
      unregisterActiveServer(dir);
      await endWatchdog();
      await rm(dir, { recursive: true, force: true });
    },
    kill(): void {
      const procs = ours();
      const beam = findBeam(procs);
      // The VM and its helpers: the wrappers (su, sh, ejabberdctl) then reap it and exit by
      // themselves, whereas killing them too would leave the VM's corpse to init.
      for (const info of beam === undefined ? procs : withDescendants(procs, [beam])) signal(info.pid, "SIGKILL");
    },
    async restart(): Promise<void> {
      if (stopped) throw new Error("cannot restart an ejabberd server after stop()");
      await terminate();
      await launch();
    },
    logTail,
  };
  return server;
}
