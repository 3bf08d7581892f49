/**
 * What the throw-away test servers have in common, so that tests can run the same scenario against
 * Prosody and ejabberd.
 *
 * @packageDocumentation
 */

import { startEjabberd } from "./ejabberd.js";
import type { EjabberdServer, StartEjabberdOptions } from "./ejabberd.js";
import { startProsody } from "./prosody.js";
import type { ProsodyServer, StartProsodyOptions } from "./prosody.js";

/**
 * The XMPP servers the harness can start.
 *
 * @example
 * ```ts
 * describe.each(XMPP_SERVER_KINDS)("%s", (kind) => { ... });
 * ```
 */
export const XMPP_SERVER_KINDS = ["prosody", "ejabberd"] as const;

/**
 * One of {@link XMPP_SERVER_KINDS}.
 *
 * @example `const kind: XmppServerKind = process.env["XMPP_SERVER"] === "ejabberd" ? "ejabberd" : "prosody";`
 */
export type XmppServerKind = (typeof XMPP_SERVER_KINDS)[number];

/**
 * An account created on a test server.
 *
 * @example
 * ```ts
 * const [alice] = await server.createAccounts(1, "alice"); // alice.jid === `${alice.username}@${server.domain}`
 * ```
 */
export interface XmppTestAccount {
  /** Local part of the JID. */
  username: string;
  password: string;
  /** Bare JID, `username@domain`. */
  jid: string;
}

/**
 * One roster item to put straight into a test server's storage with
 * {@link XmppTestServer.seedRoster}, without the subscription handshake.
 *
 * @example `{ jid: "bob@localhost", name: "Bob", groups: ["Friends"], subscription: "both" }`
 */
export interface SeedRosterItem {
  /** The contact's bare JID, as the server stores it (lower-case, no resource). */
  jid: string;
  name?: string;
  groups?: readonly string[];
  /** RFC 6121 §2.1.2.5. Default `"none"`. */
  subscription?: "none" | "to" | "from" | "both";
  /** Our request is pending (`ask="subscribe"`, §2.1.2.2); only with `"none"` or `"from"`. */
  pendingOut?: boolean;
}

/**
 * A running throw-away XMPP server on loopback: a {@link ProsodyServer} or an
 * {@link EjabberdServer}. Both serve plain TCP (no STARTTLS) and WebSocket on 127.0.0.1 only,
 * accept SASL PLAIN and SCRAM, support roster versioning, XEP-0198 and XEP-0191, and live in a
 * temporary directory of their own.
 *
 * @example
 * ```ts
 * const server: XmppTestServer = await startTestServer("ejabberd");
 * const [alice] = await server.createAccounts(1, "alice");
 * const xmpp = client({ service: server.service, domain: server.domain, username: alice!.username, password: alice!.password });
 * ```
 */
export interface XmppTestServer {
  /** Which server this is. */
  readonly kind: XmppServerKind;
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
  /** The server's temporary directory (configuration, data, logs). Removed by {@link XmppTestServer.stop}. */
  readonly dir: string;
  /** Process id of the server process (changes on {@link XmppTestServer.restart}). */
  readonly pid: number;
  /** Whether the server is currently running. */
  readonly running: boolean;
  /** Create an account (if it exists already, reset its password). */
  createAccount(username: string, password: string): Promise<void>;
  /**
   * Create `n` accounts with unique random usernames (`<prefix><random hex>`, prefix default
   * `"user"`) and random passwords.
   */
  createAccounts(n: number, prefix?: string): Promise<XmppTestAccount[]>;
  /**
   * Give an account a roster straight in the server's storage, without the subscription
   * handshake: for rosters of thousands of contacts, which the handshake would take minutes to
   * build. The account must exist and have no session (a server keeps an online account's
   * roster in memory). Prosody: the account's roster is replaced, at any size, in one file write.
   * ejabberd: the items are added to the roster (one already there is overwritten) as Mnesia
   * records through the HTTP API's `load`, about 1 500 items/s up to 10 000 items on two cores.
   */
  seedRoster(username: string, items: readonly SeedRosterItem[]): Promise<void>;
  /** Stop the server, wait until its processes are gone, and remove its directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Kill the server with SIGKILL at once, keeping its directory (to simulate a crash). ejabberd then
   * loses what changed in about the last 2 s, as in a real crash ({@link EjabberdServer.kill}).
   */
  kill(): void;
  /** Start the server again on the same directory and ports (accounts persist); stops it first if running. */
  restart(): Promise<void>;
  /** The last lines of the server's logs, for diagnostics. */
  logTail(lines?: number): Promise<string>;
}

/**
 * Options understood by both servers; see {@link StartProsodyOptions} and {@link StartEjabberdOptions} for the rest.
 *
 * @example `await startTestServer(kind, { domain: "example.test", startTimeoutMs: 60_000 })`
 */
export interface StartTestServerOptions {
  /** The XMPP domain served. Default `"localhost"`. */
  domain?: string;
  /** Install the server with apt-get when it is missing and the process runs as root. Default `true`. */
  installIfMissing?: boolean;
  /** Time allowed for the server to become ready, in ms. */
  startTimeoutMs?: number;
}

/**
 * Start a throw-away server of the given kind: {@link startProsody} or {@link startEjabberd}.
 *
 * @example
 * ```ts
 * import { startTestServer } from "./testing/server.js";
 *
 * const server = await startTestServer(process.env["XMPP_SERVER"] === "ejabberd" ? "ejabberd" : "prosody");
 * try {
 *   const [alice, bob] = await server.createAccounts(2);
 *   // ...
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export function startTestServer(kind: "prosody", options?: StartProsodyOptions): Promise<ProsodyServer>;
export function startTestServer(kind: "ejabberd", options?: StartEjabberdOptions): Promise<EjabberdServer>;
export function startTestServer(kind: XmppServerKind, options?: StartTestServerOptions): Promise<XmppTestServer>;
export function startTestServer(kind: XmppServerKind, options: StartTestServerOptions = {}): Promise<XmppTestServer> {
  switch (kind) {
    case "prosody":
      return startProsody(options);
    case "ejabberd":
      return startEjabberd(options);
    default:
      return Promise.reject(new Error(`unknown XMPP server kind ${JSON.stringify(kind satisfies never)}`));
  }
}
