/**
 * Integration-test helpers: fresh accounts on the Prosody started by test/global-setup.ts,
 * presence clients that are stopped after each test, and a fresh roster fetch from the server
 * to compare the SDK's mirror with.
 */
import { WebSocket as NodeWebSocket } from "ws";
import { afterEach, inject } from "vitest";
import type { ProvidedServer } from "../provide.js";
import { createPresenceClient, type PresenceClient, type AutoReplyPolicy, type ClientEvents, type OwnPresence, type RosterStorage } from "../../src/index.js";
import { NS_ROSTER, parseRosterQuery } from "../../src/roster/codec.js";
import { registerEjabberdAccounts } from "../../src/testing/ejabberd.js";
import { registerAccounts, type ProsodyAccount } from "../../src/testing/prosody.js";
import { xml } from "../../src/xmpp.js";

// Node 20 has no global WebSocket; browsers and Node 22 do.
(globalThis as { WebSocket?: unknown }).WebSocket ??= NodeWebSocket;

/** The server of this test project (Prosody or ejabberd: see vitest.config.ts). */
export const server: ProvidedServer = inject("server");
/** @deprecated the project's server, whichever it is: use {@link server}. */
export const prosody: ProvidedServer = server;
/** True on the ejabberd project: for the few checks where the servers differ (rfc6121-client §11). */
export const onEjabberd = server.kind === "ejabberd";

const running: PresenceClient[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((client) => client.stop().catch(() => undefined)));
});

/** `n` fresh accounts (server rosters persist, so every test gets its own). */
export async function freshAccounts(n: number, prefix = "t"): Promise<ProsodyAccount[]> {
  return server.kind === "ejabberd"
    ? registerEjabberdAccounts(server.apiUrl, n, { prefix, domain: server.domain })
    : registerAccounts(server.configPath, n, { prefix, domain: server.domain });
}

export interface ClientOptions {
  websocket?: boolean;
  autoReply?: AutoReplyPolicy;
  resource?: string;
  presence?: OwnPresence;
  redeliveryWindowMs?: number;
  /** The roster cache (default: the SDK's `memoryStorage()`). */
  storage?: RosterStorage;
  /** Collects the client's `error` events here instead of failing the test with them. */
  errors?: unknown[];
}

/** A presence client for `account` (PLAIN over loopback for speed), stopped after the test. */
export function presenceClient(account: ProsodyAccount, options: ClientOptions = {}): PresenceClient {
  const client = createPresenceClient({
    service: options.websocket ? prosody.websocketService : prosody.service,
    domain: prosody.domain,
    username: account.username,
    password: account.password,
    saslMechanism: "PLAIN",
    ...(options.resource === undefined ? {} : { resource: options.resource }),
    ...(options.autoReply === undefined ? {} : { autoReply: options.autoReply }),
    ...(options.presence === undefined ? {} : { presence: options.presence }),
    ...(options.redeliveryWindowMs === undefined ? {} : { redeliveryWindowMs: options.redeliveryWindowMs }),
    ...(options.storage === undefined ? {} : { storage: options.storage }),
  });
  const { errors } = options;
  client.on("error", (error) => {
    if (errors === undefined) throw error; // surfaces in vitest as an unhandled error: background failures must not hide
    errors.push(error);
  });
  running.push(client);
  return client;
}

/** A started presence client. */
export async function online(account: ProsodyAccount, options: ClientOptions = {}): Promise<PresenceClient> {
  const client = presenceClient(account, options);
  await client.start();
  return client;
}

/** Everything a client emitted, by event name, in order. */
export function record(client: PresenceClient): { [K in keyof ClientEvents]?: ClientEvents[K][] } {
  const seen: { [K in keyof ClientEvents]?: ClientEvents[K][] } = {};
  const names: Array<keyof ClientEvents> = [
    "subscription:request",
    "subscription:approved",
    "subscription:denied",
    "subscription:unsubscribed",
    "subscription:withdrawn",
    "subscription:auto-reply",
    "subscription:error",
    "roster:rejected-push",
  ];
  for (const name of names) {
    client.on(name, (...args: unknown[]) => {
      ((seen[name] ??= []) as unknown[][]).push(args);
    });
  }
  return seen;
}

/** The server's roster as a fresh `jabber:iq:roster` get returns it, in comparable form. */
export async function serverRoster(client: PresenceClient): Promise<Record<string, string>> {
  const reply = await client.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: NS_ROSTER })));
  const query = reply.getChild("query", NS_ROSTER);
  const out: Record<string, string> = {};
  for (const item of query ? parseRosterQuery(query) : []) out[item.jid] = describeItem(item);
  return out;
}

/** The SDK's local roster in the same form as {@link serverRoster}. */
export function localRoster(client: PresenceClient): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of client.roster.getSnapshot().entries.values()) out[entry.jid] = describeItem(entry);
  return out;
}

function describeItem(item: { subscription: string; pendingOut: boolean; name?: string; groups: readonly string[] }): string {
  return `${item.subscription}${item.pendingOut ? "+ask" : ""}|${item.name ?? ""}|${[...item.groups].sort().join(",")}`;
}

/** The Appendix A state of `jid` in `client`'s roster ("-" when there is no entry). */
export function stateIn(client: PresenceClient, jid: string): string {
  return client.roster.get(jid)?.state ?? "-";
}

/** Ends a client's session under it so that the next one is new (resumption refused), and waits for it. */
export async function newSession(client: PresenceClient): Promise<void> {
  const back = new Promise<void>((resolve) => client.once("online", () => resolve()));
  const sm = client.xmpp.streamManagement as unknown as { id: string } | undefined;
  if (sm) sm.id = `unknown-${sm.id}`;
  (client.xmpp.socket as { destroy(): void }).destroy();
  await back;
}
