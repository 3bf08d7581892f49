/**
 * The three clients the benchmark compares, behind one small interface: log in and load the
 * roster (timed from the roster get leaving to the roster being held), then play a workload
 * (timed from the trigger leaving to the final state being visible), counting listener calls.
 *
 * - raw: `@xmpp/client` alone, counting parsed stanzas: the floor the SDK sits on.
 * - sdk: xmpp-presence, state read from its stores through their listeners (as an app would).
 * - stanza: StanzaJS, holding the equivalent state its API allows in plain Maps.
 * - raw-fast-jid: raw, with the `@xmpp/jid` fast path the SDK installs (src/jid-fast-path.ts): the
 *   floor with the same xmpp.js, so that the SDK's own cost can be told from what it saves xmpp.js.
 * - raw-held: raw, and the roster result held the least way a store of immutable items with O(1)
 *   lookups can hold it (see holdRoster): the floor of the SDK's roster contract, so that the SDK's
 *   own cost of a roster load can be told from what holding a roster costs at all.
 */
import { client as xmppClient } from "@xmpp/client";
import * as Stanza from "stanza";
import { createPresenceClient, type PresenceClient, type PresenceSnapshot, type RosterSnapshot, type RosterStorage } from "../src/index.js";
import { installJidFastPath } from "../src/jid-fast-path.js";
import { xml } from "../src/xmpp.js";
import { SENTINEL, sentinelRequester } from "./workloads.js";

/**
 * `sdk` runs with a roster cache that keeps nothing, `sdk-default` with the default
 * `memoryStorage()`: the cache's own cost (writing a whole roster result to it, one push at a
 * time) would otherwise hide what the stores themselves cost.
 */
export type ClientKind = "raw" | "raw-fast-jid" | "raw-held" | "sdk" | "sdk-default" | "stanza";
export type Scenario = "roster" | "reload" | "presence" | "pushes" | "lockstep" | "subs";

/** What the client holds at the end of a workload, to check it against the expectation. */
export interface Held {
  rosterItems?: number;
  availableResources?: number;
  availableContacts?: number;
  requests?: number;
  stanzas?: number;
}

export interface Played {
  ms: number;
  /** Store listener calls (sdk), event handler calls (stanza), stanza events (raw). */
  listenerCalls: number;
  /** Runs of stanzas processed synchronously (one per parser chunk), where the client exposes them. */
  batches?: number;
}

export interface BenchClient {
  /** Connects; resolves with the ms from the roster get leaving until the roster is held. */
  login(): Promise<number>;
  /**
   * Gets the whole roster again while holding it, as after a reconnection to a server without
   * roster versioning (RFC 6121 §2.6; ejabberd's default): resolves with the ms from the roster
   * get leaving until the roster is held again. Raw xmpp.js and StanzaJS ask in the same session;
   * xmpp-presence fetches the roster at each new session, so it drops the connection and the
   * timed window starts when its reconnected session sends the roster get.
   */
  reload(): Promise<number>;
  /** Sends `go KEY` and resolves when the workload's last stanza shows in the held state. */
  play(key: string, scenario: Scenario, run: number, expectStanzas: number): Promise<Played>;
  held(): Held;
  stop(): Promise<void>;
}

export interface ClientConfig {
  service: string;
  username: string;
  password: string;
  /** xmpp-presence only: its `notificationWindowMs` (default: the SDK's). */
  notificationWindowMs?: number;
}

const TRIGGER_TO = "bench@localhost";
const LONG = 10 * 60 * 1000;

interface XmppLike {
  on(event: string, fn: (...args: any[]) => void): void;
  send(el: unknown): Promise<void>;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  socket?: { setNoDelay?: (on: boolean) => void };
  iqCaller: { request(el: unknown, timeout?: number): Promise<unknown> };
}

function trigger(key: string) {
  return xml("message", { to: TRIGGER_TO, type: "normal" }, xml("body", {}, `go ${key}`));
}

/** Counts runs of synchronously processed elements: one per microtask checkpoint. */
function batchCounter() {
  let inBatch = false;
  const counter = {
    batches: 0,
    tick() {
      if (inBatch) return;
      inBatch = true;
      counter.batches++;
      queueMicrotask(() => {
        inBatch = false;
      });
    },
  };
  return counter;
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// ---- raw @xmpp/client ---------------------------------------------------------------------------

/** An `<item/>` of a roster result as raw-held keeps it. */
interface HeldItem {
  readonly jid: string;
  readonly name: string | undefined;
  readonly groups: readonly string[];
  readonly subscription: string;
  readonly pendingOut: boolean;
  readonly approved: boolean;
}

export interface ElementLike {
  name: string;
  attrs: Record<string, string | undefined>;
  children: Array<ElementLike | string>;
}

const NO_GROUPS: readonly string[] = Object.freeze([]);

/**
 * The least a store of immutable roster items with O(1) lookups does with a roster result
 * (RFC 6121 §2.1.4): each `<item/>` a frozen object in a Map by its `jid`, its groups a frozen
 * list. A lower bound on purpose: no JID check or normalisation, no subscription state, no
 * snapshot, no listener; one loop, no helper calls. The SDK does all of these, so the SDK / this
 * ratio is what the SDK's own code adds to holding a roster at all.
 */
export function holdRoster(result: ElementLike): Map<string, HeldItem> {
  const held = new Map<string, HeldItem>();
  const query = result.children.find((child): child is ElementLike => typeof child !== "string" && child.name === "query");
  const items = query?.children ?? [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as ElementLike | string;
    if (typeof item === "string" || item.name !== "item") continue;
    const { attrs, children } = item;
    const jid = attrs["jid"];
    if (jid === undefined) continue;
    let groups: string[] | undefined;
    for (let j = 0; j < children.length; j++) {
      const child = children[j] as ElementLike | string;
      if (typeof child !== "string" && child.name === "group") (groups ??= []).push(String(child.children[0] ?? ""));
    }
    held.set(
      jid,
      Object.freeze({
        jid,
        name: attrs["name"],
        groups: groups === undefined ? NO_GROUPS : Object.freeze(groups),
        subscription: attrs["subscription"] ?? "none",
        pendingOut: attrs["ask"] === "subscribe",
        approved: attrs["approved"] === "true",
      }),
    );
  }
  return held;
}

class RawClient implements BenchClient {
  readonly #xmpp: XmppLike;
  /** raw-held: the roster as holdRoster keeps it (else undefined: raw only counts stanzas). */
  #roster: Map<string, HeldItem> | undefined;
  #stanzas = 0;
  #waiting: { target: number; done: () => void } | undefined;
  readonly #batch = batchCounter();

  constructor(
    config: ClientConfig,
    private readonly holdsRoster = false,
  ) {
    const { service, username, password } = config;
    this.#xmpp = xmppClient({
      service,
      domain: "localhost",
      username,
      password,
      credentials: (auth: (c: object, m: string) => Promise<void>) => auth({ username, password }, "PLAIN"),
    }) as XmppLike;
    this.#xmpp.on("error", () => undefined);
    this.#xmpp.on("connect", () => this.#xmpp.socket?.setNoDelay?.(true));
    this.#xmpp.on("element", () => this.#batch.tick());
    this.#xmpp.on("stanza", () => {
      this.#stanzas++;
      if (this.#waiting && this.#stanzas >= this.#waiting.target) {
        const { done } = this.#waiting;
        this.#waiting = undefined;
        done();
      }
    });
  }

  async login(): Promise<number> {
    await this.#xmpp.start();
    return this.reload();
  }

  async reload(): Promise<number> {
    const t0 = performance.now();
    const result = await this.#xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })), LONG);
    if (this.holdsRoster) this.#roster = holdRoster(result as ElementLike);
    return performance.now() - t0;
  }

  async play(key: string, _scenario: Scenario, _run: number, expectStanzas: number): Promise<Played> {
    const done = deferred();
    const start = this.#stanzas;
    const batches = this.#batch.batches;
    this.#waiting = { target: start + expectStanzas, done: done.resolve };
    const t0 = performance.now();
    await this.#xmpp.send(trigger(key));
    await done.promise;
    const ms = performance.now() - t0;
    return { ms, listenerCalls: this.#stanzas - start, batches: this.#batch.batches - batches };
  }

  held(): Held {
    return this.#roster === undefined ? { stanzas: this.#stanzas } : { stanzas: this.#stanzas, rosterItems: this.#roster.size };
  }

  async stop(): Promise<void> {
    await this.#xmpp.stop().catch(() => undefined);
  }
}

// ---- xmpp-presence ------------------------------------------------------------------------------

/** A roster cache that keeps nothing (every session fetches the whole roster). */
const NO_CACHE: RosterStorage = {
  load: async () => undefined,
  save: async () => undefined,
  clear: async () => undefined,
};

class SdkClient implements BenchClient {
  readonly #client: PresenceClient;
  readonly #defaultStorage: boolean;
  /** When the last roster get left the client (performance.now()). */
  #rosterGetAt: number | undefined;
  #rosterCalls = 0;
  #presenceCalls = 0;
  #onRoster: ((s: RosterSnapshot) => void) | undefined;
  #onPresence: ((s: PresenceSnapshot) => void) | undefined;
  readonly #batch = batchCounter();

  constructor(config: ClientConfig, defaultStorage: boolean) {
    this.#defaultStorage = defaultStorage;
    this.#client = createPresenceClient({
      ...config,
      domain: "localhost",
      saslMechanism: "PLAIN",
      ...(defaultStorage ? {} : { storage: NO_CACHE }),
      // Hold every request of the 10k-request workload (the default keeps the first 1000).
      maxPendingRequests: 1_000_000,
    });
    this.#client.on("error", (error) => console.error("sdk error:", error));
    this.#client.xmpp.on("element", () => this.#batch.tick());
    // What an app does: listen, and read the snapshot it is handed.
    this.#client.roster.listen((snapshot) => {
      this.#rosterCalls++;
      this.#onRoster?.(snapshot);
    });
    this.#client.presence.listen((snapshot) => {
      this.#presenceCalls++;
      this.#onPresence?.(snapshot);
    });
  }

  async login(): Promise<number> {
    let t0 = 0;
    const ready = deferred<number>();
    this.#client.xmpp.on("send", (el: { name: string; attrs: Record<string, string>; getChild(n: string, ns?: string): unknown }) => {
      if (el.name === "iq" && el.attrs["type"] === "get" && el.getChild("query", "jabber:iq:roster")) t0 = this.#rosterGetAt = performance.now();
    });
    this.#onRoster = (snapshot) => {
      if (snapshot.ready && snapshot.entries.has(SENTINEL)) ready.resolve(performance.now() - t0);
    };
    await this.#client.start();
    let ms = await ready.promise;
    this.#onRoster = undefined;
    if (this.#defaultStorage) {
      // With a cache, loading the roster also means writing it there: that runs on the same
      // thread right after the listener hears of the roster, so the time is until it is done.
      await this.#client.flushStorage();
      ms = performance.now() - t0;
    }
    return ms;
  }

  async reload(): Promise<number> {
    const ready = deferred<number>();
    this.#rosterGetAt = undefined;
    this.#onRoster = (snapshot) => {
      const t0 = this.#rosterGetAt;
      if (t0 !== undefined && snapshot.ready && snapshot.entries.has(SENTINEL)) ready.resolve(performance.now() - t0);
    };
    // The replay server offers no stream management, so the reconnection is a new session, which
    // fetches the roster (RFC 6121 §2.2) into the roster the store holds. Untimed until that get.
    const xmpp = this.#client.xmpp as unknown as { reconnect: { delay: number }; disconnect(): Promise<void> };
    xmpp.reconnect.delay = 0;
    await xmpp.disconnect();
    const ms = await ready.promise;
    this.#onRoster = undefined;
    return ms;
  }

  async play(key: string, scenario: Scenario, run: number): Promise<Played> {
    const done = deferred();
    const r0 = this.#rosterCalls;
    const p0 = this.#presenceCalls;
    const b0 = this.#batch.batches;
    if (scenario === "presence") {
      const status = `run ${run}`;
      this.#onPresence = (s) => {
        if (s.contacts.get(SENTINEL)?.best?.status === status) done.resolve();
      };
    } else if (scenario === "pushes" || scenario === "lockstep") {
      const name = `run ${run}`;
      this.#onRoster = (s) => {
        if (s.entries.get(SENTINEL)?.name === name) done.resolve();
      };
    } else if (scenario === "subs") {
      const last = sentinelRequester(run);
      this.#onRoster = (s) => {
        if (s.requests.has(last)) done.resolve();
      };
    }
    const t0 = performance.now();
    await this.#client.xmpp.send(trigger(key) as never);
    await done.promise;
    const ms = performance.now() - t0;
    this.#onRoster = undefined;
    this.#onPresence = undefined;
    const listenerCalls = scenario === "presence" ? this.#presenceCalls - p0 : this.#rosterCalls - r0;
    return { ms, listenerCalls, batches: this.#batch.batches - b0 };
  }

  held(): Held {
    const roster = this.#client.roster.getSnapshot();
    const presence = this.#client.presence.getSnapshot();
    let availableResources = 0;
    let availableContacts = 0;
    for (const contact of presence.contacts.values()) {
      availableResources += contact.resources.size;
      if (contact.available) availableContacts++;
    }
    return { rosterItems: roster.entries.size, availableResources, availableContacts, requests: roster.requests.size };
  }

  async stop(): Promise<void> {
    await this.#client.stop();
  }
}

// ---- StanzaJS -----------------------------------------------------------------------------------

interface StanzaRosterItem {
  jid: string;
  name?: string;
  subscription?: string;
  groups?: string[];
  pending?: string;
}

class StanzaClient implements BenchClient {
  readonly #client: Stanza.Agent;
  // The state an app holds with StanzaJS: roster items, per-resource presence, pending requests.
  readonly #roster = new Map<string, StanzaRosterItem>();
  readonly #presence = new Map<string, Map<string, { show: string | undefined; status: string | undefined; priority: number | undefined }>>();
  readonly #requests = new Map<string, { from: string; status?: string }>();
  #calls = 0;
  #check: (() => void) | undefined;

  constructor(config: ClientConfig) {
    this.#client = Stanza.createClient({
      jid: `${config.username}@localhost`,
      password: config.password,
      resource: "bench",
      transports: { websocket: config.service, bosh: false },
      useStreamManagement: false,
      autoReconnect: false,
      timeout: LONG / 1000,
    });
    this.#client.on("presence", (pres) => {
      if (pres.type !== undefined && pres.type !== "unavailable") return;
      this.#calls++;
      const from = pres.from;
      const slash = from.indexOf("/");
      const bare = slash === -1 ? from : from.slice(0, slash);
      const resource = slash === -1 ? "" : from.slice(slash + 1);
      let resources = this.#presence.get(bare);
      if (resources === undefined) this.#presence.set(bare, (resources = new Map()));
      if (pres.type === "unavailable") resources.delete(resource);
      else resources.set(resource, { show: pres.show, status: pres.status, priority: pres.priority });
      this.#check?.();
    });
    this.#client.on("roster:update", (iq) => {
      this.#calls++;
      for (const item of iq.roster.items ?? []) {
        if (item.subscription === "remove") this.#roster.delete(item.jid);
        else this.#roster.set(item.jid, item as StanzaRosterItem);
      }
      this.#check?.();
    });
    this.#client.on("subscribe", (pres) => {
      this.#calls++;
      this.#requests.set(pres.from, { from: pres.from, ...(pres.status === undefined ? {} : { status: pres.status }) });
      this.#check?.();
    });
  }

  async login(): Promise<number> {
    const started = deferred();
    this.#client.once("session:started", () => started.resolve());
    this.#client.once("stream:error", (error) => started.reject(error));
    this.#client.once("auth:failed", () => started.reject(new Error("auth failed")));
    void this.#client.connect();
    await started.promise;
    return this.reload();
  }

  async reload(): Promise<number> {
    const t0 = performance.now();
    const roster = await this.#client.getRoster();
    // What an app holding the roster does with a whole new result: set every item, drop the rest.
    const named = new Set<string>();
    for (const item of roster.items) {
      named.add(item.jid);
      this.#roster.set(item.jid, item as StanzaRosterItem);
    }
    if (named.size !== this.#roster.size) for (const jid of this.#roster.keys()) if (!named.has(jid)) this.#roster.delete(jid);
    return performance.now() - t0;
  }

  async play(key: string, scenario: Scenario, run: number): Promise<Played> {
    const done = deferred();
    const c0 = this.#calls;
    if (scenario === "presence") {
      const status = `run ${run}`;
      this.#check = () => {
        if (this.#presence.get(SENTINEL)?.get("end")?.status === status) done.resolve();
      };
    } else if (scenario === "pushes" || scenario === "lockstep") {
      const name = `run ${run}`;
      this.#check = () => {
        if (this.#roster.get(SENTINEL)?.name === name) done.resolve();
      };
    } else if (scenario === "subs") {
      const last = sentinelRequester(run);
      this.#check = () => {
        if (this.#requests.has(last)) done.resolve();
      };
    }
    const t0 = performance.now();
    this.#client.sendMessage({ to: TRIGGER_TO, type: "normal", body: `go ${key}` });
    await done.promise;
    const ms = performance.now() - t0;
    this.#check = undefined;
    return { ms, listenerCalls: this.#calls - c0 };
  }

  held(): Held {
    let availableResources = 0;
    let availableContacts = 0;
    for (const resources of this.#presence.values()) {
      availableResources += resources.size;
      if (resources.size > 0) availableContacts++;
    }
    return { rosterItems: this.#roster.size, availableResources, availableContacts, requests: this.#requests.size };
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#client.once("disconnected", () => resolve()));
    this.#client.disconnect();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
  }
}

export function createBenchClient(kind: ClientKind, config: ClientConfig): BenchClient {
  if (kind === "raw") return new RawClient(config);
  if (kind === "raw-held") return new RawClient(config, true);
  if (kind === "raw-fast-jid") {
    if (!installJidFastPath()) throw new Error("the @xmpp/jid fast path did not install");
    return new RawClient(config);
  }
  if (kind === "sdk" || kind === "sdk-default") return new SdkClient(config, kind === "sdk-default");
  return new StanzaClient(config);
}
