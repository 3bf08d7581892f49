/**
 * The page side of the Chromium roster-load lane (bench/browser.ts bundles it for the browser).
 * Each call logs a fresh client in to the replay server over WebSocket and resolves with the ms
 * from the roster get leaving the client to the roster being held, timed as in bench/clients.ts:
 * raw xmpp.js until its IQ result is parsed, xmpp-presence until its roster listener sees the
 * roster ready (with the sentinel, the result's last item).
 */
import { client as xmppClient } from "@xmpp/client";
import { xml } from "../src/xmpp.js";
import { createPresenceClient, type RosterStorage } from "../src/index.js";
import { SENTINEL } from "./workloads.js";

/** Where a client sends the message that starts a workload (bench/replay-server.ts). */
const TRIGGER_TO = "bench@localhost";

interface Login {
  service: string;
  username: string;
  password: string;
}

interface RawXmpp {
  start(): Promise<unknown>;
  send(element: unknown): Promise<void>;
  stop(): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  iqCaller: { request(stanza: unknown, timeout?: number): Promise<unknown> };
}

const LONG = 120_000;

/** A roster cache that keeps nothing, as in the Node lanes' `sdk` client. */
const NO_CACHE: RosterStorage = {
  load: async () => undefined,
  save: async () => undefined,
  clear: async () => undefined,
};

/** A raw xmpp.js client, logged in (SASL PLAIN, as the Node lanes). */
async function rawOnline({ service, username, password }: Login): Promise<RawXmpp> {
  const xmpp = xmppClient({
    service,
    domain: "localhost",
    username,
    password,
    credentials: (auth: (c: object, m: string) => Promise<void>) => auth({ username, password }, "PLAIN"),
  }) as RawXmpp;
  xmpp.on("error", () => undefined);
  await xmpp.start();
  return xmpp;
}

async function raw(login: Login): Promise<number> {
  const xmpp = await rawOnline(login);
  const t0 = performance.now();
  await xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })), LONG);
  const ms = performance.now() - t0;
  await xmpp.stop().catch(() => undefined);
  return ms;
}

async function sdk({ service, username, password }: Login): Promise<number> {
  const client = createPresenceClient({ service, domain: "localhost", username, password, saslMechanism: "PLAIN", storage: NO_CACHE });
  client.on("error", (error) => console.error("sdk error:", error));
  let t0 = 0;
  client.xmpp.on("send", (el: { name: string; attrs: Record<string, string>; getChild(n: string, ns?: string): unknown }) => {
    if (el.name === "iq" && el.attrs["type"] === "get" && el.getChild("query", "jabber:iq:roster")) t0 = performance.now();
  });
  const ready = new Promise<number>((resolve) => {
    client.roster.listen((snapshot) => {
      if (snapshot.ready && snapshot.entries.has(SENTINEL)) resolve(performance.now() - t0);
    });
  });
  await client.start();
  const ms = await ready;
  await client.stop();
  return ms;
}

Object.assign(globalThis, { benchRoster: { raw, sdk } });


/** One client's flood run: ms from the trigger leaving to the last stanza's effect, and calls. */
interface Flood {
  ms: number;
  /** raw: stanzas counted; SDK: presence listener calls. */
  calls: number;
}

function trigger(key: string) {
  return xml("message", { to: TRIGGER_TO, type: "normal" }, xml("body", {}, `go ${key}`));
}

async function rawFlood(login: Login, key: string, stanzas: number): Promise<Flood> {
  const xmpp = await rawOnline(login);
  let counted = 0;
  const done = new Promise<void>((resolve) => {
    xmpp.on("stanza", () => {
      if (++counted >= stanzas) resolve();
    });
  });
  const t0 = performance.now();
  await xmpp.send(trigger(key));
  await done;
  const ms = performance.now() - t0;
  await xmpp.stop().catch(() => undefined);
  return { ms, calls: counted };
}

async function sdkFlood({ service, username, password }: Login, key: string, status: string): Promise<Flood> {
  const client = createPresenceClient({ service, domain: "localhost", username, password, saslMechanism: "PLAIN", storage: NO_CACHE });
  client.on("error", (error) => console.error("sdk error:", error));
  await client.start();
  let calls = 0;
  const done = new Promise<void>((resolve) => {
    client.presence.listen((snapshot) => {
      calls++;
      if (snapshot.contacts.get(SENTINEL)?.best?.status === status) resolve();
    });
  });
  const t0 = performance.now();
  await client.xmpp.send(trigger(key) as never);
  await done;
  const ms = performance.now() - t0;
  await client.stop();
  return { ms, calls };
}

Object.assign(globalThis, { benchFlood: { raw: rawFlood, sdk: sdkFlood } });
