/**
 * A presence bot: it accepts subscription requests by policy, logs every roster change, answers
 * chat messages with what its roster says about the sender, and stops cleanly on Ctrl-C.
 * Reconnecting after a dropped connection is xmpp.js' job (its `reconnect` module); the SDK
 * re-fetches the roster when the session is back.
 *
 *   XMPP_SERVICE=xmpp://127.0.0.1:5222 XMPP_DOMAIN=localhost XMPP_USERNAME=bot XMPP_PASSWORD=secret \
 *     npx tsx examples/bot/bot.ts
 *
 * Environment:
 *   XMPP_SERVICE    xmpp://host:5222, xmpps://host:5223 or ws(s)://host/xmpp-websocket
 *   XMPP_DOMAIN     the account's domain (default: the host of XMPP_SERVICE)
 *   XMPP_USERNAME, XMPP_PASSWORD
 *   BOT_ALLOW       comma-separated JIDs or "*@domain" patterns: approve (and subscribe back to)
 *                   only these, deny everyone else. Unset: approve everyone, mutually.
 *   XMPP_SASL       force a SASL mechanism (e.g. PLAIN on a loopback test server)
 *   XMPP_DEBUG=1    print the stanza trace (@xmpp/debug)
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { xml } from "@xmpp/xml";
import { WebSocket } from "ws";
import {
  createPresenceClient,
  type AutoReplyPolicy,
  type PresenceClient,
  type RosterItem,
  type RosterSnapshot,
  type XmlElement,
} from "xmpp-presence";

/** Options of {@link startBot}. */
export interface BotOptions {
  service: string;
  domain?: string;
  username: string;
  password: string;
  /** JIDs or `*@domain` patterns to accept; everyone else is denied. Default: accept everyone mutually. */
  allow?: readonly string[];
  saslMechanism?: string;
  debug?: boolean;
  /** Where log lines go. Default `console.log`. */
  log?: (line: string) => void;
}

/** A running bot. */
export interface Bot {
  readonly client: PresenceClient;
  /** Sends unavailable presence and disconnects. */
  stop(): Promise<void>;
}

/** The auto-reply policy: "mutual" for everyone, or approve-and-subscribe for an allow-list. */
export function botPolicy(allow?: readonly string[]): AutoReplyPolicy {
  if (allow === undefined || allow.length === 0) return "mutual";
  const patterns = allow.map((pattern) => pattern.trim().toLowerCase()).filter(Boolean);
  const allowed = (jid: string) =>
    patterns.some((pattern) => (pattern.startsWith("*@") ? jid.endsWith(pattern.slice(1)) : jid === pattern));
  return ({ from }) => (allowed(from) ? "approve-and-subscribe" : "deny");
}

/** What the bot answers a message with: the sender's relationship in words, and a roster count. */
export function describeRelationship(snapshot: RosterSnapshot, jid: string): string {
  const entry = snapshot.entries.get(jid);
  const mine = entry
    ? `You are in my roster as "${entry.state}" (subscription="${entry.subscription}"${entry.pendingOut ? ', ask="subscribe"' : ""}).`
    : snapshot.requests.has(jid)
      ? "You asked to see my presence; that request is still pending."
      : "You are not in my roster: send me a subscription request.";
  const counts = new Map<string, number>();
  for (const { state } of snapshot.entries.values()) counts.set(state, (counts.get(state) ?? 0) + 1);
  const summary = [...counts].map(([state, n]) => `${n} ${state}`).join(", ") || "empty";
  return `${mine} My roster: ${snapshot.entries.size} contact(s) (${summary}).`;
}

/** Connects the bot; resolves once it is online with its roster. */
export async function startBot(options: BotOptions): Promise<Bot> {
  const log = options.log ?? ((line: string) => console.log(line));
  // Node 20 has no global WebSocket (Node 22 and browsers do): needed for a ws(s):// service.
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

  const client = createPresenceClient({
    service: options.service,
    ...(options.domain ? { domain: options.domain } : {}),
    username: options.username,
    password: options.password,
    resource: "bot",
    autoReply: botPolicy(options.allow),
    presence: { show: "chat", status: "I accept subscriptions. Send me a message." },
    ...(options.saslMechanism ? { saslMechanism: options.saslMechanism } : {}),
    ...(options.debug ? { debug: true } : {}),
  });

  client.on("subscription:request", ({ from, status }) => log(`request from ${from}${status ? `: "${status}"` : ""}`));
  client.on("subscription:auto-reply", ({ jid, decision }) => log(`answered ${jid}: ${decision}`));
  client.on("subscription:approved", (jid) => log(`${jid} approved: I see their presence`));
  client.on("subscription:denied", (jid) => log(`${jid} denied or cancelled my subscription`));
  // `before`/`after` are the server's items (subscription, ask); the entry adds the derived state.
  const item = (i?: RosterItem) => (i ? `${i.subscription}${i.pendingOut ? "+ask" : ""}` : "(none)");
  client.on("roster:change", ({ jid, before, after }) =>
    log(`roster: ${jid} ${item(before)} → ${item(after)} (${client.roster.get(jid)?.state ?? "removed"})`),
  );
  let stopping = false;
  client.on("offline", () => stopping || log("connection lost; xmpp.js reconnects"));
  client.on("online", (jid) => log(`online as ${jid}`));
  client.on("error", (error) => log(`error: ${error.message}`));

  // Messages are outside the SDK: read and write them on the xmpp.js client underneath.
  client.xmpp.on("stanza", (stanza: XmlElement) => {
    if (!stanza.is("message") || stanza.attrs["type"] === "error" || stanza.attrs["type"] === "groupchat") return;
    const body = stanza.getChildText("body");
    const from = stanza.attrs["from"];
    if (!body || !from) return;
    const bare = from.split("/")[0]!.toLowerCase();
    if (bare === client.jid?.split("/")[0]) return; // never talk to ourselves
    const reply = describeRelationship(client.roster.getSnapshot(), bare);
    log(`message from ${bare}: "${body.slice(0, 80)}" → answered`);
    const message = xml("message", { to: from, type: stanza.attrs["type"] ?? "chat" }, xml("body", {}, reply)) as XmlElement;
    client.xmpp.send(message).catch((error: unknown) => log(`could not answer ${bare}: ${String(error)}`));
  });

  await client.start();
  return {
    client,
    stop: () => {
      stopping = true;
      return client.stop();
    },
  };
}

async function main(): Promise<void> {
  const env = process.env;
  const { XMPP_SERVICE: service, XMPP_USERNAME: username, XMPP_PASSWORD: password } = env;
  if (!service || !username || !password) {
    console.error("Set XMPP_SERVICE, XMPP_USERNAME and XMPP_PASSWORD (and XMPP_DOMAIN if it is not the service's host).");
    process.exit(2);
  }
  const allow = env["BOT_ALLOW"]?.split(",").filter((s) => s.trim() !== "");
  const bot = await startBot({
    service,
    username,
    password,
    ...(env["XMPP_DOMAIN"] ? { domain: env["XMPP_DOMAIN"] } : {}),
    ...(allow?.length ? { allow } : {}),
    ...(env["XMPP_SASL"] ? { saslMechanism: env["XMPP_SASL"] } : {}),
    debug: Boolean(env["XMPP_DEBUG"]) && env["XMPP_DEBUG"] !== "0",
  });
  console.log(`bot ready: ${allow?.length ? `accepting ${allow.join(", ")}` : 'autoReply("mutual")'}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130); // a second Ctrl-C: leave now
    stopping = true;
    console.log(`${signal}: going offline`);
    bot.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

// Run as a script (not when imported, e.g. by the tests or the demo).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
