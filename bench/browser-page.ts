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

interface Login {
  service: string;
  username: string;
  password: string;
}

interface RawXmpp {
  start(): Promise<unknown>;
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

async function raw({ service, username, password }: Login): Promise<number> {
  const xmpp = xmppClient({
    service,
    domain: "localhost",
    username,
    password,
    credentials: (auth: (c: object, m: string) => Promise<void>) => auth({ username, password }, "PLAIN"),
  }) as RawXmpp;
  xmpp.on("error", () => undefined);
  await xmpp.start();
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
