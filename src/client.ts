/**
 * The connection wrapper: session lifecycle (RFC 6121 §2.2, §4.2) and the subscription
 * handshake verbs (§3), wired to the roster store and the auto-reply policy.
 */
import { EventEmitter } from "eventemitter3";
import { Blocking, NS_BLOCKING } from "./blocking.js";
import { detach } from "./detach.js";
import { PresenceError, PresenceErrorCode } from "./errors.js";
import type { ClientEvents } from "./events.js";
import { bareKey } from "./bare-key.js";
import { bareKeyOf, toBareJid } from "./jid.js";
import { NS_ROSTER, parsePushItem, parseRosterQuery, rosterGetQuery } from "./roster/codec.js";
import { checkOwnPresence, ownPresenceElement, type OwnPresence } from "./presence/outbound.js";
import { PresenceStoreImpl, type PresenceStore } from "./presence/store.js";
import { PresenceTracker } from "./presence/tracker.js";
import { createRosterEditor, type RosterEditor } from "./roster/editor.js";
import { hasFrom, hasTo } from "./roster/model.js";
import { memoryStorage } from "./storage/memory.js";
import type { PreApprovalIntent, RosterMutation, RosterStorage } from "./storage/types.js";
import { RosterStoreImpl, type ItemChange, type RosterStore, type SubscriptionRequest } from "./roster/store.js";
import { installJidFastPath } from "./jid-fast-path.js";
import { installStreamManagementCounter } from "./sm-counter.js";
import { installSocketGuard } from "./socket-guard.js";
import { installStreamGuard } from "./stream-guard.js";
import { NoticePairing } from "./subscription/notices.js";
import { decide, isAutoReplyPolicy, type AutoReplyDecision, type AutoReplyPolicy } from "./subscription/policy.js";
import {
  createXmppClient,
  xml,
  type IncomingContext,
  type XmlElement,
  type XmppClientLike,
} from "./xmpp.js";

const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const NS_STREAMS = "http://etherx.jabber.org/streams";
const NS_PREAPPROVAL = "urn:xmpp:features:pre-approval";
const NS_ROSTERVER = "urn:xmpp:features:rosterver";
/** Requester-supplied status text is untrusted: cap it (rfc6121-client S-23). */
const MAX_STATUS_LENGTH = 1024;

/** The roster: the observable store plus the editing verbs (RFC 6121 §2). */
export type Roster = RosterStore & RosterEditor;

/** Options of the SDK itself, whichever way the connection is made. */
export interface ClientOptions {
  /** The initial auto-reply policy. Default `"manual"`. */
  autoReply?: AutoReplyPolicy;
  /** The presence to announce at each session start (default: plain available). */
  presence?: OwnPresence;
  /** How many non-roster entities' presence to remember (LRU). Default 500. */
  maxOtherPresences?: number;
  /**
   * Where the roster cache lives between sessions and runs (RFC 6121 §2.6 versioning):
   * `memoryStorage()` (default), `fileStorage(path)` from `xmpp-presence/file-storage` on Node,
   * `indexedDbStorage()` / `localStorageStorage()` in browsers.
   */
  storage?: RosterStorage;
  /** How long a pre-approval intent lasts (ms). Default 7 days. */
  preApprovalTtlMs?: number;
  /** At most this many pending-in requests are kept (a flood cannot grow memory). Default 1000. */
  maxPendingRequests?: number;
  /** A stanza larger than this (characters) closes the stream with `policy-violation`. Default 16 MiB. */
  maxStanzaBytes?: number;
  /**
   * After a new session's initial presence, a pending request the server does not deliver again
   * within this time (ms) is taken as withdrawn (RFC 6121 §3.1.3). Default 5000.
   */
  redeliveryWindowMs?: number;
  /**
   * Store listeners (`roster.listen`, `presence.listen`, and the React hooks) hear of the
   * changes of one burst of stanzas together: of the first change after a quiet spell when the
   * synchronous run that made it ends, and of later ones at most once per this many ms
   * (`getSnapshot()` is current at once either way). In a browser every WebSocket message is a
   * run of its own, so 0 would call listeners once per stanza of a presence flood. Default 16
   * (one frame at 60 Hz); 0 tells every run at its end.
   */
  notificationWindowMs?: number;
  /**
   * Speeds up xmpp.js' own JID parsing, two JIDs per stanza received and sent, by skipping
   * XEP-0106 escape detection for local parts that cannot need it (about 7 µs → 0.2 µs per JID
   * on the bench machine). It changes no result, but it is installed on `@xmpp/jid`'s shared
   * `JID` class, so every xmpp.js client of the page or process gets it. `false`: this client
   * does not install it (one installed by another client stays). Default `true`.
   */
  jidFastPath?: boolean;
}

/** Options to connect with credentials. */
export interface ConnectOptions extends ClientOptions {
  /** `xmpp://host:port`, `xmpps://host:port`, or `ws(s)://host/path` for WebSocket (browsers). */
  service: string;
  /** The XMPP domain; defaults to the host of `service`. */
  domain?: string;
  username: string;
  password: string;
  resource?: string;
  /**
   * Force a SASL mechanism, e.g. `"PLAIN"` against a trusted loopback server. By default xmpp.js
   * picks SCRAM-SHA-1 on plain connections.
   */
  saslMechanism?: string;
  /**
   * How long xmpp.js waits for the server at each step of opening and closing the connection
   * (stream header, stream close, socket close), in ms. Default 2000 (xmpp.js'). A server busy
   * with a very large roster (Prosody answering a 100 000-contact login's probes) can take
   * longer, and `start()` then fails with `TimeoutError`.
   */
  timeoutMs?: number;
  /** Print the stanza trace with `@xmpp/debug`. Default: on when `XMPP_DEBUG` is set (Node). */
  debug?: boolean;
}

/** Options to wrap an xmpp.js client the app has configured itself. */
export interface WrapOptions extends ClientOptions {
  /** A client from `client()` of `@xmpp/client` 0.14, not yet started (or already online). */
  xmpp: XmppClientLike;
}

/** Options of {@link createPresenceClient}. */
export type PresenceClientOptions = ConnectOptions | WrapOptions;

/** Options of {@link PresenceClient.subscribe}. */
export interface SubscribeOptions {
  /** A short note shown to the contact with the request. */
  status?: string;
  /**
   * Also pre-approve their request to see our presence (RFC 6121 §3.4), so that when they ask
   * back (e.g. their client runs `autoReply("mutual")`), the subscription becomes mutual without
   * a second step. Uses the server's pre-approval when offered; otherwise the SDK approves their
   * request itself when it arrives (an allow-list entry, XEP-0379 §3.6).
   */
  preApprove?: boolean;
}

/** Options of {@link PresenceClient.deny}. */
export interface DenyOptions {
  /** Also block the requester (XEP-0191), so the server stops re-delivering their requests. */
  block?: boolean;
}

/** Options of {@link PresenceClient.approve}. */
export interface ApproveOptions {
  /** Also ask for their presence, making the subscription mutual (skipped if already subscribed or asked). */
  subscribeBack?: boolean;
}

/** Our bound JID, and its bare form and domain as keys. */
interface OwnKeys {
  full: string | undefined;
  own: string | undefined;
  domain: string | undefined;
}

function newId(): string {
  // Unguessable ids (rfc6121-client SEC-02/XJS-04): @xmpp/id uses Math.random.
  return globalThis.crypto.randomUUID();
}

function sanitiseStatus(status: string | null | undefined): string | undefined {
  if (!status) return undefined;
  // Control and bidi-override characters make hostile text look like something else.
  const clean = status.replace(/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/gu, "");
  // detach: a kept request must not pin the whole socket chunk its status was cut from.
  return clean.length > MAX_STATUS_LENGTH ? detach(clean.slice(0, MAX_STATUS_LENGTH)) : clean ? detach(clean) : undefined;
}

function stanzaError(element: XmlElement | undefined): string {
  const error = element?.getChild("error");
  const condition = error?.getChildElements().find((child) => child.attrs["xmlns"] === NS_STANZAS);
  return condition?.name ?? "undefined-condition"; // RFC 6120 §8.3.2
}

function errorReply(type: string, condition: string): XmlElement {
  return xml("error", { type }, xml(condition, { xmlns: NS_STANZAS }));
}

/**
 * An XMPP client for presence subscriptions, with a roster that mirrors the server's.
 * Create it with {@link createPresenceClient}.
 */
export class PresenceClient extends EventEmitter<ClientEvents> {
  /** The underlying xmpp.js client, for what this SDK does not cover (messages, other IQs). */
  readonly xmpp: XmppClientLike;
  /** The roster: observable (`getSnapshot`, `subscribe`, `listen`, `get`) and editable (`add`, `update`, `remove`, groups). */
  readonly roster: Roster;
  /** Per-resource presence of contacts, other entities and our own other resources (RFC 6121 §4). */
  readonly presence: PresenceStore;

  readonly #store: RosterStoreImpl;
  readonly #pairing = new NoticePairing();
  readonly #blocking: Blocking;
  readonly #presence: PresenceStoreImpl;
  readonly #tracker: PresenceTracker;
  #ownPresence: OwnPresence = {};
  readonly #storage: RosterStorage;
  readonly #preApprovalTtlMs: number;
  #cacheLoaded = false;
  readonly #maxPendingRequests: number;
  readonly #maxStanzaBytes: number;
  readonly #redeliveryWindowMs: number;
  #overflowing = false;
  readonly #ourRequests = new Set<string>();
  /** Subscription stanzas lost with a session (XEP-0198 "fail"), to send again in the next one. */
  #unacked: XmlElement[] = [];
  /** When the last roster push for each awaited JID arrived (for the ejabberd re-sync, S-24). */
  readonly #lastPushAt = new Map<string, number>();
  #resyncTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #awaitingPush = new Map<string, number>();
  /** Requests known before this session, not yet re-delivered in it (S-19). */
  #unconfirmed = new Set<string>();
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #persisting: Promise<void> = Promise.resolve();
  /** A save failed since the last whole roster was saved: the cache holds no version (#persist). */
  #cacheStale = false;
  #policy: AutoReplyPolicy;
  #replying = new Set<string>();
  #features = { preApproval: false, rosterVersioning: false };
  #state: "idle" | "starting" | "started" | "stopped" = "idle";
  #sessionId = 0;
  #sessionReady = false;
  #sessionWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #warnedUnhandledError = false;

  constructor(options: PresenceClientOptions) {
    super();
    if (options === null || typeof options !== "object") {
      throw new PresenceError(PresenceErrorCode.InvalidArgument, "createPresenceClient needs an options object");
    }
    const policy = options.autoReply ?? "manual";
    if (!isAutoReplyPolicy(policy)) {
      throw new PresenceError(PresenceErrorCode.InvalidArgument, `Unknown autoReply policy ${JSON.stringify(policy)}`);
    }
    this.#policy = policy;
    if (options.jidFastPath !== undefined && typeof options.jidFastPath !== "boolean") {
      throw new PresenceError(PresenceErrorCode.InvalidArgument, "jidFastPath must be a boolean");
    }
    this.xmpp = "xmpp" in options ? options.xmpp : createXmppClient(checkConnectOptions(options));
    this.#storage = options.storage ?? memoryStorage();
    this.#preApprovalTtlMs = options.preApprovalTtlMs ?? 7 * 24 * 3600 * 1000;
    this.#maxPendingRequests = positiveInteger(options.maxPendingRequests, 1000, "maxPendingRequests");
    this.#maxStanzaBytes = positiveInteger(options.maxStanzaBytes, 16 * 1024 * 1024, "maxStanzaBytes");
    this.#redeliveryWindowMs = positiveInteger(options.redeliveryWindowMs, 5000, "redeliveryWindowMs");
    const notificationWindowMs = nonNegativeNumber(options.notificationWindowMs, 16, "notificationWindowMs");
    this.#store = new RosterStoreImpl(
      bareKeyOf,
      (error) => this.#reportError(error),
      (mutation) => this.#persist(mutation),
      notificationWindowMs,
    );
    this.#ownPresence = checkOwnPresence(options.presence ?? {});
    this.#presence = new PresenceStoreImpl({
      ...(options.maxOtherPresences === undefined ? {} : { maxOthers: options.maxOtherPresences }),
      onListenerError: (error) => this.#reportError(error),
      notificationWindowMs,
    });
    this.presence = this.#presence;
    this.#tracker = new PresenceTracker(this.#presence, this.#store, () => this.jid);
    const store = this.#store;
    const editor = createRosterEditor({
      store,
      contactJid: (input) => this.#contactJid(input),
      requireOnline: () => this.#requireOnline(),
      request: (iq) => this.#request(iq),
      sendPresence: (to, type) => this.#sendPresence(to, type),
      // Prosody drops a stored pre-approval on any roster set (rfc6121-client A-06): send it again.
      afterSet: async (jid) => {
        const item = this.#store.item(jid);
        if (this.#features.preApproval && this.#activePreApproval(jid) && !hasFrom(item?.subscription ?? "none")) {
          await this.#sendPresence(jid, "subscribed");
        }
      },
    });
    this.#blocking = new Blocking({
      store,
      request: (iq) => this.#request(iq),
      contactJid: (input) => this.#contactJid(input),
      requireOnline: () => this.#requireOnline(),
    });
    this.roster = Object.freeze({
      getSnapshot: store.getSnapshot,
      subscribe: store.subscribe,
      listen: store.listen,
      get: store.get,
      ...editor,
    });
    if (options.jidFastPath !== false) installJidFastPath();
    this.#wire();
  }

  /** The bound full JID of the current session, or `undefined` before the first one. */
  get jid(): string | undefined {
    return this.#ownKeys().full;
  }

  /** Whether the server advertised pre-approval (`urn:xmpp:features:pre-approval`, RFC 6121 §3.4). */
  get supportsPreApproval(): boolean {
    return this.#features.preApproval;
  }

  /** Whether the server advertised roster versioning (`urn:xmpp:features:rosterver`, RFC 6121 §2.6). */
  get supportsRosterVersioning(): boolean {
    return this.#features.rosterVersioning;
  }

  /** Whether the server supports blocking (XEP-0191); known once a session is up. */
  get supportsBlocking(): boolean {
    return this.#blocking.supported;
  }

  /** Whether a session is up (after `start()` resolved, until the connection drops). */
  get online(): boolean {
    return this.#state !== "stopped" && this.#sessionReady && this.xmpp.status === "online";
  }

  /**
   * Connects, fetches the roster, then sends initial presence (RFC 6121 §2.2, §4.2.1: that order,
   * so pushes and re-delivered requests find the roster in place). Resolves once all three are done.
   * Rejects with `connection-failed` when the server cannot be reached or refuses the login.
   *
   * @example
   * ```ts
   * const client = createPresenceClient({ service: "xmpp://127.0.0.1:5222", domain: "localhost", username: "alice", password: "secret" });
   * await client.start();
   * console.log(client.jid, client.roster.getSnapshot().entries.size);
   * ```
   */
  async start(): Promise<void> {
    if (this.#state !== "idle") {
      throw new PresenceError(PresenceErrorCode.InvalidState, `start() called while ${this.#state}`);
    }
    this.#state = "starting";
    const ready = new Promise<void>((resolve, reject) => this.#sessionWaiters.push({ resolve, reject }));
    try {
      if (this.xmpp.status === "online") {
        void this.#beginSession(); // a wrapped client that is already online
      } else {
        this.#checkTransport();
        await this.xmpp.start();
      }
      await ready;
      this.#state = "started";
    } catch (cause) {
      this.#state = "idle";
      this.#sessionWaiters = [];
      await this.xmpp.stop().catch(() => undefined);
      if (cause instanceof PresenceError) throw cause;
      throw new PresenceError(PresenceErrorCode.ConnectionFailed, `Could not start: ${describe(cause)}`, { cause });
    }
  }

  /**
   * Sends unavailable presence (RFC 6121 §4.5.1) and closes the stream. Resolves when closed.
   * The roster keeps its last state, with `ready: false`.
   *
   * @example
   * ```ts
   * await client.stop();
   * ```
   */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#sessionId++;
    this.#sessionReady = false;
    clearTimeout(this.#resyncTimer);
    this.#resyncTimer = undefined;
    clearTimeout(this.#expiryTimer);
    if (this.xmpp.status === "online") {
      await this.xmpp.send(xml("presence", { type: "unavailable" })).catch(() => undefined);
    }
    this.#tracker.onSessionEnded();
    await this.xmpp.stop().catch((error: unknown) => this.#reportError(error));
    // xmpp.js 0.14's stop() passes through 'disconnect', on which @xmpp/reconnect arms a 1 s
    // timer. The timer does nothing once the client is offline, but until it fires it keeps a
    // Node process (a bot that has just stopped) alive, and this client's state in memory.
    clearTimeout(this.xmpp.reconnect?._timeout as ReturnType<typeof setTimeout> | undefined);
    this.#store.setReady(false);
    // Listeners hear of the last changes now, not when a notification window ends after stop().
    this.#store.flushNotifications();
    this.#presence.flushNotifications();
  }

  /**
   * Asks to see a contact's presence: `<presence type="subscribe"/>` to their bare JID
   * (RFC 6121 §3.1.1). Resolves once sent; the roster then shows the request as pending out
   * (`pendingOut`, "None + Pending Out"), and `subscription:approved` or `subscription:denied`
   * tells the answer.
   *
   * @example
   * ```ts
   * await client.subscribe("bob@example.com", { status: "Hi, it's Alice from work" });
   * ```
   */
  async subscribe(jid: string, options: SubscribeOptions = {}): Promise<void> {
    const to = this.#contactJid(jid);
    const status = options.status === undefined ? undefined : String(options.status);
    this.#requireOnline();
    if (options.preApprove && !hasFrom(this.#store.item(to)?.subscription ?? "none")) {
      if (this.#store.request(to) !== undefined) await this.approve(to);
      else await this.#preApprove(to);
    }
    this.#tracker.noteSubscribeSent(to);
    await this.#sendPresence(to, "subscribe", status ? xml("status", {}, status) : undefined);
  }

  /**
   * Approves a contact's request to see our presence: `<presence type="subscribed"/>` (RFC 6121
   * §3.1.4). With `subscribeBack`, also asks for theirs, unless we already have it or asked.
   * Without a pending request, sends a pre-approval (§3.4) when the server supports it, and
   * rejects with `feature-not-supported` otherwise (the RFC forbids sending it then). Does
   * nothing if the contact already has our presence.
   *
   * @example
   * ```ts
   * client.on("subscription:request", ({ from }) => client.approve(from, { subscribeBack: true }));
   * ```
   */
  async approve(jid: string, options: ApproveOptions = {}): Promise<void> {
    const to = this.#contactJid(jid);
    this.#requireOnline();
    const item = this.#store.item(to);
    const pending = this.#store.request(to) !== undefined;
    if (pending || !hasFrom(item?.subscription ?? "none")) {
      if (!pending && !this.#features.preApproval) {
        throw new PresenceError(
          PresenceErrorCode.FeatureNotSupported,
          `No pending request from ${to}, and the server does not support pre-approval (RFC 6121 §3.4)`,
          { jid: to },
        );
      }
      if (pending) {
        await this.#sendPresence(to, "subscribed");
        this.#store.removeRequest(to);
      } else {
        await this.#preApprove(to);
      }
    }
    if (options.subscribeBack) {
      const current = this.#store.item(to);
      if (!hasTo(current?.subscription ?? "none") && !current?.pendingOut) {
        await this.#sendPresence(to, "subscribe");
      }
    }
  }

  /**
   * Refuses a contact's pending request: `<presence type="unsubscribed"/>` (RFC 6121 §3.2.1).
   * Also cancels a pre-approval. Rejects with `invalid-state` when the contact already receives
   * our presence: that is {@link PresenceClient.revoke}'s job, and `deny` never takes it away.
   *
   * @example
   * ```ts
   * await client.deny("spammer@example.net");
   * ```
   */
  async deny(jid: string, options: DenyOptions = {}): Promise<void> {
    const to = this.#contactJid(jid);
    this.#requireOnline();
    if (options.block && !this.#blocking.supported) {
      throw new PresenceError(PresenceErrorCode.FeatureNotSupported, "The server does not support blocking (XEP-0191)", { jid: to });
    }
    const item = this.#store.item(to);
    if (this.#store.request(to) === undefined && hasFrom(item?.subscription ?? "none")) {
      throw new PresenceError(
        PresenceErrorCode.InvalidState,
        `${to} already receives our presence; use revoke() to cancel it`,
        { jid: to },
      );
    }
    await this.#sendPresence(to, "unsubscribed"); // also cancels a pre-approval (§3.4)
    this.#store.removeRequest(to);
    this.#store.setPreApproval(to, undefined);
    if (options.block) await this.#blocking.block(to);
  }

  /**
   * Blocks JIDs (XEP-0191 §3.3): the server then drops everything they send us, requests included,
   * and they see us offline. Resolves once the server confirmed; `roster.getSnapshot().blocked`
   * shows them. Rejects with `feature-not-supported` on a server without blocking.
   *
   * @example
   * ```ts
   * await client.block("spammer@example.net");
   * ```
   */
  async block(...jids: string[]): Promise<void> {
    await this.#blocking.block(...jids);
  }

  /**
   * Unblocks JIDs (XEP-0191 §3.4).
   *
   * @example
   * ```ts
   * await client.unblock("friend@example.net");
   * ```
   */
  async unblock(...jids: string[]): Promise<void> {
    await this.#blocking.unblock(...jids);
  }

  /**
   * Stops receiving a contact's presence, or withdraws our pending request:
   * `<presence type="unsubscribe"/>` (RFC 6121 §3.3.1).
   *
   * @example
   * ```ts
   * await client.unsubscribe("bob@example.com");
   * ```
   */
  async unsubscribe(jid: string): Promise<void> {
    const to = this.#contactJid(jid);
    this.#requireOnline();
    const item = this.#store.item(to);
    await this.#sendPresence(to, "unsubscribe");
    this.#tracker.onUnsubscribeSent(to);
    if ((hasTo(item?.subscription ?? "none") || item?.pendingOut) && this.#store.request(to) !== undefined) this.#expectPush(to);
  }

  /**
   * Changes our broadcast presence (RFC 6121 §4.4): show, status, priority; `available: false`
   * sends unavailable (§4.5), after which every contact's presence is unknown until we are
   * available again. Also used as the initial presence of later sessions.
   *
   * @example
   * ```ts
   * await client.setPresence({ show: "away", status: "At lunch", priority: 5 });
   * ```
   */
  async setPresence(presence: OwnPresence): Promise<void> {
    const next = checkOwnPresence(presence);
    this.#requireOnline();
    this.#ownPresence = next;
    await this.#send(ownPresenceElement(next));
    if (next.available === false) this.#tracker.onSessionEnded();
  }

  /**
   * Sends directed presence to one entity (RFC 6121 §4.6), e.g. to show availability to someone
   * outside the roster during a conversation. Subscriptions are not affected.
   *
   * @example
   * ```ts
   * await client.sendPresence("support@example.com", { show: "chat" });
   * ```
   */
  async sendPresence(to: string, presence: OwnPresence = {}): Promise<void> {
    const jid = this.#contactJid(to);
    const next = checkOwnPresence(presence);
    this.#requireOnline();
    await this.#send(ownPresenceElement(next, jid));
  }

  /**
   * Asks the server for a contact's current presence: `<presence type="probe"/>` (RFC 6121 §4.3).
   * Probing is normally the server's job (it probes at our initial presence); use this only to
   * refresh one contact. Answers arrive as ordinary presence in {@link PresenceClient.presence}.
   *
   * @example
   * ```ts
   * await client.probe("bob@example.com");
   * ```
   */
  async probe(jid: string): Promise<void> {
    const to = this.#contactJid(jid);
    this.#requireOnline();
    await this.#sendPresence(to, "probe");
  }

  /**
   * Cancels the subscription we granted a contact, so they no longer see our presence:
   * `<presence type="unsubscribed"/>` (RFC 6121 §3.2.1). Also refuses a pending request.
   *
   * @example
   * ```ts
   * await client.revoke("bob@example.com");
   * ```
   */
  async revoke(jid: string): Promise<void> {
    const to = this.#contactJid(jid);
    this.#requireOnline();
    await this.#sendPresence(to, "unsubscribed");
    this.#store.removeRequest(to);
    this.#store.setPreApproval(to, undefined);
  }

  /**
   * Sets how inbound requests are answered, and applies it at once to the requests already
   * pending. Returns a function that restores the previous policy.
   * - `"manual"` (default): nothing automatic; handle `subscription:request`.
   * - `"reverse"`: approve a contact we are subscribed to (`to`/`both`) or have asked (pending
   *   out), so a request back to us is answered without a second click. Never because an item
   *   merely exists.
   * - `"all"`: approve everyone (bots). `"mutual"`: approve everyone and subscribe back.
   * - a function `(request, entry) => "approve" | "approve-and-subscribe" | "deny" | undefined`,
   *   sync or async; `undefined` leaves the request pending.
   *
   * Requests from our own account or from a bare domain are never auto-approved.
   *
   * @example
   * ```ts
   * const restore = client.autoReply("reverse");
   * // later
   * restore();
   * ```
   */
  autoReply(policy: AutoReplyPolicy): () => void {
    if (!isAutoReplyPolicy(policy)) {
      throw new PresenceError(PresenceErrorCode.InvalidArgument, `Unknown autoReply policy ${JSON.stringify(policy)}`);
    }
    const previous = this.#policy;
    this.#policy = policy;
    this.#replyToPending();
    return () => {
      if (this.#policy === policy) {
        this.#policy = previous;
        this.#replyToPending();
      }
    };
  }

  /** The policy in force. */
  get autoReplyPolicy(): AutoReplyPolicy {
    return this.#policy;
  }

  // ---- wiring ---------------------------------------------------------------------------------

  #wire(): void {
    const { xmpp } = this;
    xmpp.on("online", () => void this.#beginSession());
    // XEP-0198 resumption: the same session goes on, nothing was lost, so no re-fetch (xmpp.js
    // emits no "online" for it).
    xmpp.streamManagement?.on?.("resumed", () => this.#onResumed());
    // A socket write that "succeeded" proves nothing: only the server's XEP-0198 ack does. What
    // was never acked when the session was lost (failed resume, new session) is sent again.
    xmpp.streamManagement?.on?.("fail", (stanza) => {
      if (this.#state !== "stopped" && isSubscriptionStanza(stanza)) this.#unacked.push(stanza);
    });
    xmpp.on("offline", () => {
      this.#onDown();
      this.#tracker.onSessionEnded();
    });
    xmpp.on("disconnect", () => this.#onDown());
    xmpp.on("connect", () => {
      // Nagle + delayed ACK cost ~150 ms per round trip on Node sockets (shared/servers.md).
      const socket = xmpp.socket as { setNoDelay?: (on: boolean) => void } | undefined;
      socket?.setNoDelay?.(true);
    });
    xmpp.on("error", (error: unknown) => {
      // While start() runs, its rejection carries the failure (e.g. not-authorized).
      if (this.#state !== "starting") this.#reportError(error);
    });
    installStreamManagementCounter(xmpp);
    installSocketGuard(xmpp);
    installStreamGuard(xmpp, this.#maxStanzaBytes, (violation, detail) =>
      this.#reportError(
        new PresenceError(PresenceErrorCode.ProtocolViolation, `Closed the stream: ${violation} (${detail})`, { condition: violation }),
      ),
    );
    // @xmpp/iq matches replies by id only. A reply to one of our requests from anyone but our
    // server gets its id changed before xmpp.js sees it, so it can never answer the request
    // (rfc6121-client SEC-02); the real reply still can.
    xmpp.prependListener?.("element", (element: XmlElement) => {
      const { type, id, from } = element.attrs;
      if (element.name !== "iq" || (type !== "result" && type !== "error") || id === undefined) return;
      if (this.#ourRequests.has(id) && !this.#fromOwnAccount(from)) {
        element.attrs["id"] = `rejected:${id}`;
        this.emit("iq:rejected-reply", { from, id });
      }
    });

    // RFC 6121 §2.6.1, §3.4: informational features; record them, nothing to negotiate. Read
    // from the element event, not with streamFeatures.use(): each use() is a middleware layer
    // that every stanza of the session passes through (a promise and a bound function each).
    xmpp.on("element", (element: XmlElement) => {
      if (!element.name.endsWith("features") || !element.is("features", NS_STREAMS)) return;
      if (element.getChild("sub", NS_PREAPPROVAL)) this.#features.preApproval = true;
      if (element.getChild("ver", NS_ROSTERVER)) this.#features.rosterVersioning = true;
    });

    // Roster pushes (RFC 6121 §2.1.6) and blocking pushes (XEP-0191 §3.3–3.4) through one
    // middleware layer behind @xmpp/iq's callee, which sets ctx.element and builds the reply from
    // what the layer returns (undefined → service-unavailable). One layer, not an
    // iqCallee.set() per kind: every stanza of the session passes every layer (a promise and a
    // bound function each, and koa-compose copies the whole chain per stanza).
    xmpp.middleware.use((ctx, next) => {
      const { stanza, element } = ctx;
      if (element === undefined || stanza.name !== "iq" || stanza.attrs["type"] !== "set") return next();
      if (element.is("query", NS_ROSTER)) return this.#onRosterPush(ctx);
      if (element.is("block", NS_BLOCKING) || element.is("unblock", NS_BLOCKING)) {
        // Only from our own account, like roster pushes.
        if (!this.#fromOwnBareJid(stanza.attrs["from"])) return undefined; // → service-unavailable
        return this.#blocking.onPush(ctx) || undefined;
      }
      return next();
    });
    // Presence is read from the parser's "element" event, where xmpp.js' middleware reads it
    // too, rather than as one more middleware layer: each layer costs a bound function and a
    // promise per stanza, a measurable share of a presence flood (bench/results.md).
    xmpp.on("element", (element: XmlElement) => {
      if (element.name !== "presence") return;
      try {
        this.#onPresence(element);
      } catch (error) {
        this.#reportError(error);
      }
    });
  }

  async #beginSession(): Promise<void> {
    if (this.#state === "stopped") return;
    const session = ++this.#sessionId;
    this.#pairing.clear();
    this.#tracker.onSessionEnded(); // a new session: the server probes our contacts afresh
    try {
      await this.#loadCache();
      if (session !== this.#sessionId) return;
      await Promise.all([this.#fetchRoster(session), this.#blocking.fetch()]);
      if (session !== this.#sessionId) return;
      // §4.2: initial presence only after the roster, so the requests it triggers find it.
      this.#expectRedelivery();
      await this.xmpp.send(ownPresenceElement({ ...this.#ownPresence, available: true }));
      if (session !== this.#sessionId) return;
      await this.#resendUnacked();
      if (session !== this.#sessionId) return;
      this.#sessionReady = true;
      for (const waiter of this.#sessionWaiters.splice(0)) waiter.resolve();
      this.emit("online", this.jid ?? "");
      this.#replyToPending();
    } catch (error) {
      if (session !== this.#sessionId) return;
      const waiters = this.#sessionWaiters.splice(0);
      if (waiters.length > 0) for (const waiter of waiters) waiter.reject(error);
      else this.#reportError(error);
    }
  }

  // ejabberd 23.01 keeps "None + Pending In" as a hidden record: an item that moves into it (from
  // To or None + Pending Out, by an unsubscribed or our unsubscribe; or from None, by their
  // subscribe) gets no roster push and drops out of roster results (rfc6121-client S-24, §11.2).
  // After the stanzas that can cause it, a missing push means the roster is stale: fetch it whole.
  #expectPush(jid: string): void {
    if (!this.#awaitingPush.has(jid)) this.#awaitingPush.set(jid, Date.now());
    this.#resyncTimer ??= setTimeout(() => {
      this.#resyncTimer = undefined;
      const stale = [...this.#awaitingPush].some(([key, since]) => (this.#lastPushAt.get(key) ?? 0) < since);
      this.#awaitingPush.clear();
      this.#lastPushAt.clear();
      if (stale && this.online) void this.#resync().catch((error: unknown) => this.#reportError(error));
    }, RESYNC_AFTER_MS);
  }

  async #resync(): Promise<void> {
    const session = this.#sessionId;
    const query = rosterGetQuery(this.#features.rosterVersioning ? "" : undefined);
    const reply = await this.#request(xml("iq", { type: "get", id: newId() }, query));
    const result = reply.getChild("query", NS_ROSTER);
    if (session !== this.#sessionId || result === undefined) return;
    this.#store.batch(() => {
      for (const change of this.#store.replaceItems(parseRosterQuery(result), result.attrs["ver"])) this.#onItemChange(change);
    });
  }

  // §3.1.3: pending requests are delivered again at each new session's initial presence. One the
  // server no longer re-delivers was withdrawn while we could not hear it (ejabberd does not
  // deliver a withdrawal from a requester we have no roster item for: rfc6121-client S-19).
  #expectRedelivery(): void {
    clearTimeout(this.#expiryTimer);
    this.#unconfirmed = new Set(this.#store.getSnapshot().requests.keys());
    if (this.#unconfirmed.size === 0) return;
    const session = this.#sessionId;
    this.#expiryTimer = setTimeout(() => {
      if (session !== this.#sessionId) return;
      for (const jid of this.#unconfirmed) {
        if (this.#store.removeRequest(jid) !== undefined) this.emit("subscription:withdrawn", jid);
      }
      this.#unconfirmed.clear();
    }, this.#redeliveryWindowMs);
  }

  async #resendUnacked(): Promise<void> {
    if (this.#unacked.length === 0) return;
    const stanzas = this.#unacked.splice(0);
    const resent: Array<{ to: string; type: string }> = [];
    for (const stanza of stanzas) {
      const to = stanza.attrs["to"] ?? "";
      const type = stanza.attrs["type"] ?? "";
      await this.#sendPresence(to, type, stanza.getChild("status"));
      resent.push({ to, type });
    }
    this.emit("subscription:resent", resent);
  }

  #onResumed(): void {
    if (this.#state === "stopped" || this.#sessionReady) return;
    this.#sessionReady = true;
    this.#store.setReady(true);
    this.#tracker.onResumed();
    this.emit("online", this.jid ?? "");
    this.#replyToPending();
  }

  #onDown(): void {
    this.#sessionId++;
    this.#sessionReady = false;
    this.#tracker.onDisconnect();
    if (this.#store.getSnapshot().ready) {
      this.#store.setReady(false);
      this.emit("offline");
    }
  }

  // RFC 6121 §2.1.3–§2.1.4: roster get; the result replaces the local roster.
  async #fetchRoster(session: number): Promise<void> {
    const reply = await this.#request(xml("iq", { type: "get", id: newId() }, rosterGetQuery(this.#versionToSend())));
    if (session !== this.#sessionId) return;
    const query = reply.getChild("query", NS_ROSTER);
    // §2.6.3: a result without <query/> means "your cached version is current".
    if (query === undefined) {
      this.#store.confirmCache();
      return;
    }
    this.#store.batch(() => {
      // A result that becomes the whole roster may keep views into itself (parseRosterQuery).
      const whole = this.#store.getSnapshot().entries.size === 0;
      const changes = this.#store.replaceItems(parseRosterQuery(query, whole), query.attrs["ver"], this.#newItemsMatter());
      for (const change of changes) this.#onItemChange(change);
    });
  }

  /**
   * Whether a new roster item means anything beyond the roster itself (see #onItemChange): a
   * request or pre-approval from that JID to settle, presence held for it as a non-contact to
   * promote, or a `roster:change` listener. When nothing does, the first roster of a session
   * needs no change records (100 000 objects for a 100 000-item roster).
   */
  #newItemsMatter(): boolean {
    const roster = this.#store.getSnapshot();
    return (
      this.listenerCount("roster:change") > 0 ||
      roster.requests.size > 0 ||
      roster.preApprovals.size > 0 ||
      this.presence.getSnapshot().others.size > 0
    );
  }

  // §2.6.2: `ver` only when the server advertises versioning (never otherwise, V-03); "" to
  // bootstrap (V-04). An empty roster is always fetched whole: Prosody 0.12 gives an empty roster
  // and its first change the same version, so a cached empty roster could hide the first contact.
  #versionToSend(): string | undefined {
    if (!this.#features.rosterVersioning) return undefined;
    const snapshot = this.#store.getSnapshot();
    return snapshot.entries.size === 0 ? "" : (snapshot.version ?? "");
  }

  async #loadCache(): Promise<void> {
    if (this.#cacheLoaded) return;
    const account = bareKeyOf(this.jid);
    if (account === undefined) return;
    this.#cacheLoaded = true;
    try {
      const cached = await this.#storage.load(account);
      if (cached) this.#store.loadCache(cached);
    } catch (error) {
      // An unreadable cache is no cache: fetch everything (never trust it).
      this.#reportError(error);
    }
  }

  #persist(mutation: RosterMutation): void {
    const account = this.#ownKeys().own;
    if (account === undefined || !this.#cacheLoaded) return;
    // Saves run in order; a failed one is reported and does not stop the next. The cache then
    // lacks that change, so it no longer holds the roster at any version (RFC 6121 §2.6): saved
    // on, with the versions of later pushes, it would make the next login trust stale items
    // (test/integration/cache-failure.test.ts). So it is cleared, and until a whole roster is
    // saved again, pushes are saved without their version: what is cached is unversioned.
    this.#persisting = this.#persisting
      .then(async () => {
        await this.#storage.save(account, this.#cacheStale && mutation.kind === "item" ? { ...mutation, version: undefined } : mutation);
        if (mutation.kind === "replace") this.#cacheStale = false;
      })
      .catch(async (error: unknown) => {
        this.#cacheStale = true;
        this.#reportError(error);
        await this.#storage.clear(account).catch((failed: unknown) => this.#reportError(failed));
      });
  }

  /** Resolves when every roster change so far has been written to the storage. */
  async flushStorage(): Promise<void> {
    await this.#persisting;
  }

  // RFC 6121 §3.4: pre-approve a contact. The server's pre-approval when it offers one; the
  // SDK's own record always, because servers rarely report `approved` (Prosody never does).
  async #preApprove(jid: string): Promise<void> {
    const now = Date.now();
    const intent: PreApprovalIntent = { jid, createdAt: now, expiresAt: now + this.#preApprovalTtlMs };
    if (this.#features.preApproval) await this.#sendPresence(jid, "subscribed");
    this.#store.setPreApproval(jid, intent);
  }

  /** An unexpired pre-approval intent for a JID (expired ones are forgotten). */
  #activePreApproval(jid: string): PreApprovalIntent | undefined {
    const intent = this.#store.preApproval(jid);
    if (intent?.expiresAt !== undefined && intent.expiresAt < Date.now()) {
      this.#store.setPreApproval(jid, undefined);
      return undefined;
    }
    return intent;
  }

  // RFC 6121 §2.1.6: accept a push only from our own account (no `from`, or our bare JID),
  // with exactly one item. The raw attribute is read on purpose: xmpp.js fills a missing
  // `from` with the domain (rfc6121-client XJS-01).
  #onRosterPush(ctx: IncomingContext): unknown {
    const from = ctx.stanza.attrs["from"];
    if (!this.#fromOwnBareJid(from)) {
      this.emit("roster:rejected-push", { from, reason: "unauthorized-sender" });
      return undefined; // → <service-unavailable/>, the same answer as an unknown namespace (§2.1.6)
    }
    const query = ctx.element;
    const items = query?.getChildren("item") ?? [];
    const change = items.length === 1 && items[0] ? parsePushItem(items[0]) : undefined;
    if (query === undefined || change === undefined) {
      this.emit("roster:rejected-push", { from, reason: items.length === 1 ? "invalid-item" : "item-count" });
      return errorReply("modify", "bad-request");
    }
    const version = query.attrs["ver"];
    // Pushes parsed from one socket read reach roster listeners once (they see the last state).
    this.#store.deferNotifications();
    // Only a push after the expectation began counts, so only awaited JIDs are recorded (a map
    // of every JID ever pushed would grow with the roster).
    const pushed = change.kind === "remove" ? change.jid : change.item.jid;
    if (this.#awaitingPush.has(pushed)) this.#lastPushAt.set(pushed, Date.now());
    this.#store.batch(() => {
      const applied =
        change.kind === "remove"
          ? this.#store.applyPush(change.jid, undefined, version)
          : this.#store.applyPush(change.item.jid, change.item, version);
      // §2.5 / rfc6121-client S-25: a removal also ends any pending-in request from that JID.
      if (change.kind === "remove") this.#store.removeRequest(change.jid);
      if (applied) this.#onItemChange(applied);
    });
    return true;
  }

  // What a roster change means, once the roster reflects it (events fire after the update).
  #onItemChange(change: ItemChange): void {
    const { jid, before, after } = change;
    const wasTo = hasTo(before?.subscription ?? "none");
    const isTo = hasTo(after?.subscription ?? "none");
    const wasOut = Boolean(before?.pendingOut) && !wasTo;
    const isOut = Boolean(after?.pendingOut) && !isTo;
    const wasFrom = hasFrom(before?.subscription ?? "none");
    const isFrom = hasFrom(after?.subscription ?? "none");
    // A granted subscription makes any pending-in request moot (another resource, or the
    // server's pre-approval, answered it): RFC 6121 A.2.3.
    if (isFrom) {
      this.#store.removeRequest(jid);
      this.#store.setPreApproval(jid, undefined); // fulfilled
    }
    if (after === undefined) this.#store.setPreApproval(jid, undefined);
    this.#tracker.onItemChange(change);
    this.emit("roster:change", change);
    // Only the contact's `subscribed` gives us "to" (§3.1.6), so this needs no pairing. The very
    // first roster of a session (before === undefined) reports state, not news.
    if (before !== undefined && !wasTo && isTo) this.emit("subscription:approved", jid);
    if (after !== undefined) {
      if ((wasTo && !isTo) || (wasOut && !isOut && !isTo)) this.#pairNotice("denied", jid, "push");
      if (wasFrom && !isFrom) this.#pairNotice("unsubscribed", jid, "push");
    }
    if (this.#store.request(jid) !== undefined) this.#replyTo(jid);
  }

  #pairNotice(kind: "denied" | "unsubscribed", jid: string, side: "notice" | "push"): void {
    if (this.#pairing.record(kind, jid, side)) this.emit(`subscription:${kind}`, jid);
  }

  // RFC 6121 §3: subscription presences are notices; only roster data changes state.
  #onPresence(stanza: XmlElement): void {
    const type = stanza.attrs["type"];
    if (type === undefined || type === "unavailable") {
      this.#tracker.onStanza(stanza); // §4: availability
      return;
    }
    if (type !== "subscribe" && type !== "subscribed" && type !== "unsubscribe" && type !== "unsubscribed" && type !== "error") {
      return;
    }
    const from = bareKey(stanza.attrs["from"]);
    if (from === undefined || this.#isOwnOrDomain(from)) return;
    // Requests (or answers) parsed from one socket read reach roster listeners once.
    this.#store.deferNotifications();
    const item = this.#store.item(from);
    switch (type) {
      case "subscribe":
        return this.#onSubscribeRequest(from, stanza);
      case "subscribed":
        // §3.1.6: the "to" push is what counts (#onItemChange); ejabberd may push first,
        // Prosody after. Nothing to do here, and nothing is sent back (RFC 6121 App. E).
        return;
      case "unsubscribed": {
        // §3.2.3: they refused our request or cancelled our subscription.
        const pending = hasTo(item?.subscription ?? "none") || Boolean(item?.pendingOut);
        if (pending && this.#store.request(from) !== undefined) this.#expectPush(from);
        if (pending || this.#pairing.hasPush("denied", from)) this.#pairNotice("denied", from, "notice");
        return; // else stale (A.3.4 "SHOULD NOT deliver"): ignore
      }
      case "unsubscribe": {
        // A.3.2: withdraws their pending request, and/or cancels their subscription to us.
        if (this.#store.removeRequest(from) !== undefined) this.emit("subscription:withdrawn", from);
        if (hasFrom(item?.subscription ?? "none") || this.#pairing.hasPush("unsubscribed", from)) {
          this.#pairNotice("unsubscribed", from, "notice");
        }
        return;
      }
      case "error": {
        const condition = stanzaError(stanza);
        this.emit(
          "subscription:error",
          from,
          new PresenceError(PresenceErrorCode.StanzaError, `${from} answered with ${condition}`, { condition, jid: from }),
        );
        return;
      }
    }
  }

  // §3.1.3: a request; servers re-deliver it at every login until answered, so de-duplicate.
  #onSubscribeRequest(from: string, stanza: XmlElement): void {
    const item = this.#store.item(from);
    if (hasFrom(item?.subscription ?? "none")) return; // already granted (A.3.1 S.N.)
    if (item !== undefined && item.subscription === "none" && !item.pendingOut) this.#expectPush(from);
    const status = sanitiseStatus(stanza.getChildText("status"));
    const request: SubscriptionRequest = { from, ...(status === undefined ? {} : { status }), receivedAt: Date.now() };
    this.#unconfirmed.delete(from);
    if (this.#store.request(from) !== undefined) return; // re-delivered (§3.1.3): one request per JID
    // Bounded: the first `maxPendingRequests` are kept; later ones stay with the server, which
    // delivers them again at the next login, so none is lost for good.
    if (this.#store.requestCount() >= this.#maxPendingRequests) {
      if (!this.#overflowing) this.emit("subscription:overflow", from);
      this.#overflowing = true;
      return;
    }
    this.#overflowing = false;
    if (!this.#store.addRequest(request)) return;
    this.emit("subscription:request", request);
    this.#replyTo(from);
  }

  #replyToPending(): void {
    for (const jid of this.#store.getSnapshot().requests.keys()) this.#replyTo(jid);
  }

  #replyTo(jid: string): void {
    const request = this.#store.request(jid);
    if (request === undefined || this.#replying.has(jid)) return;
    // We pre-approved this contact (the server did not do it for us): approve, whatever the policy.
    const preApproved = this.#activePreApproval(jid) !== undefined;
    if (this.#policy === "manual" && !preApproved) return;
    if (this.#store.isBlocked(jid)) return; // never answer a blocked JID automatically
    if (this.xmpp.status !== "online") return; // answered when the session is back (#beginSession)
    const policy = preApproved ? "all" : this.#policy;
    this.#replying.add(jid);
    void decide(policy, request, this.#store.get(jid))
      .then((decision) => this.#applyDecision(jid, request, decision))
      .catch((error: unknown) => this.#reportError(error))
      .finally(() => this.#replying.delete(jid));
  }

  async #applyDecision(jid: string, request: SubscriptionRequest, decision: AutoReplyDecision): Promise<void> {
    // The request may have been answered or withdrawn while an async policy was thinking.
    if (decision === undefined || this.#store.request(jid) !== request) return;
    if (decision === "deny") await this.deny(jid);
    else await this.approve(jid, { subscribeBack: decision === "approve-and-subscribe" });
    this.emit("subscription:auto-reply", { jid, decision });
  }

  // ---- helpers --------------------------------------------------------------------------------

  #contactJid(input: string): string {
    const jid = toBareJid(input);
    if (this.#isOwnOrDomain(jid)) {
      throw new PresenceError(PresenceErrorCode.InvalidJid, `${jid} is our own account or server, not a contact`, { jid });
    }
    return jid;
  }

  #isOwnOrDomain(bare: string): boolean {
    const { own, domain } = this.#ownKeys();
    return bare === own || bare === domain;
  }

  // Our bare JID and domain in key form, worked out once per bound JID: every subscription
  // presence asks, and a full JID parse per stanza was a visible cost of request floods.
  // The presence tracker asks for our full JID per stanza of a flood, too.
  #ownKeysFor: OwnKeys & { jid: unknown } | undefined;
  #ownKeys(): OwnKeys {
    const jid = this.xmpp.jid;
    if (this.#ownKeysFor === undefined || this.#ownKeysFor.jid !== jid || jid == null) {
      const full = jid?.toString();
      const own = bareKeyOf(full);
      const domain = own?.slice(own.indexOf("@") + 1) ?? bareKeyOf(this.xmpp.options?.domain);
      this.#ownKeysFor = { jid, full, own, domain };
    }
    return this.#ownKeysFor;
  }

  #fromOwnBareJid(from: string | undefined): boolean {
    if (from === undefined) return true;
    if (from.includes("/")) return false; // not even our own full JID (RFC 6121 §2.1.6)
    const { own } = this.#ownKeys();
    return own !== undefined && bareKey(from) === own;
  }

  #fromOwnAccount(from: string | undefined): boolean {
    if (from === undefined) return true;
    const { own } = this.#ownKeys();
    return own !== undefined && bareKey(from) === own;
  }

  // An IQ to our own server. @xmpp/iq matches replies by id only, so the sender is checked here
  // (only our account may answer: rfc6121-client SEC-02), and stanza errors become PresenceErrors.
  async #request(iq: XmlElement): Promise<XmlElement> {
    let reply: XmlElement;
    const id = iq.attrs["id"] ?? newId();
    iq.attrs["id"] = id;
    this.#ourRequests.add(id);
    try {
      reply = await this.xmpp.iqCaller.request(iq);
    } catch (cause) {
      const condition = (cause as { condition?: unknown }).condition;
      throw new PresenceError(PresenceErrorCode.StanzaError, `Request failed: ${describe(cause)}`, {
        cause,
        condition: typeof condition === "string" ? condition : "undefined-condition",
      });
    } finally {
      this.#ourRequests.delete(id);
    }
    if (!this.#fromOwnAccount(reply.attrs["from"])) {
      throw new PresenceError(PresenceErrorCode.SpoofedReply, `Reply from ${reply.attrs["from"]} refused`);
    }
    return reply;
  }

  #requireOnline(): void {
    if (this.#state === "stopped" || !this.#sessionReady || this.xmpp.status !== "online") {
      throw new PresenceError(PresenceErrorCode.NotConnected, "Not connected: await start() first, or wait for 'online'");
    }
  }

  async #sendPresence(to: string, type: string, child?: XmlElement): Promise<void> {
    await this.#send(xml("presence", { to, type, id: newId() }, child));
  }

  async #send(stanza: XmlElement): Promise<void> {
    try {
      await this.xmpp.send(stanza);
    } catch (cause) {
      const what = `${stanza.attrs["type"] ?? stanza.name}${stanza.attrs["to"] ? ` to ${stanza.attrs["to"]}` : ""}`;
      throw new PresenceError(PresenceErrorCode.NotConnected, `Could not send ${what}: ${describe(cause)}`, {
        cause,
        ...(stanza.attrs["to"] === undefined ? {} : { jid: stanza.attrs["to"] }),
      });
    }
  }

  #checkTransport(): void {
    const service = (this.xmpp.options as { service?: string } | undefined)?.service ?? "";
    if (/^wss?:/i.test(service) && typeof (globalThis as { WebSocket?: unknown }).WebSocket !== "function") {
      throw new PresenceError(
        PresenceErrorCode.UnsupportedEnvironment,
        "WebSocket is not available: on Node 20 run with --experimental-websocket or set globalThis.WebSocket (e.g. from the 'ws' package)",
      );
    }
  }

  #reportError(error: unknown): void {
    // Once stop() has begun, a push that can no longer be answered is not the app's problem.
    if (this.#state === "stopped") return;
    const err = error instanceof Error ? error : new Error(describe(error));
    if (this.listenerCount("error") > 0) {
      try {
        this.emit("error", err);
      } catch (thrown) {
        // An app's error listener threw: never let that unwind into xmpp.js' stanza pipeline.
        queueMicrotask(() => {
          throw thrown;
        });
      }
      return;
    }
    // eventemitter3 drops unhandled 'error' events silently; say so once.
    if (!this.#warnedUnhandledError) {
      this.#warnedUnhandledError = true;
      console.warn("xmpp-presence: unhandled error (add client.on('error', …) to handle these):", err);
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const condition = (error as { condition?: unknown }).condition;
    if (typeof condition === "string") return `${condition}${error.message ? ` (${error.message})` : ""}`;
    // xmpp.js' TimeoutError has no message: its name is what tells.
    return error.message || error.name;
  }
  return String(error);
}

/** How long to wait for the roster push that should follow certain stanzas (S-24). */
const RESYNC_AFTER_MS = 2000;

const SUBSCRIPTION_TYPES: ReadonlySet<string | undefined> = new Set(["subscribe", "subscribed", "unsubscribe", "unsubscribed"]);

function isSubscriptionStanza(stanza: XmlElement): boolean {
  return stanza.name === "presence" && stanza.attrs["to"] !== undefined && SUBSCRIPTION_TYPES.has(stanza.attrs["type"]);
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new PresenceError(PresenceErrorCode.InvalidArgument, `${name} must be a positive integer`);
  }
  return value;
}

function nonNegativeNumber(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new PresenceError(PresenceErrorCode.InvalidArgument, `${name} must be a finite number ≥ 0`);
  }
  return value;
}

function checkConnectOptions(options: ConnectOptions): ConnectOptions {
  for (const key of ["service", "username", "password"] as const) {
    if (typeof options[key] !== "string" || options[key] === "") {
      throw new PresenceError(PresenceErrorCode.InvalidArgument, `createPresenceClient: "${key}" must be a non-empty string`);
    }
  }
  if (options.timeoutMs !== undefined) positiveInteger(options.timeoutMs, 0, "timeoutMs");
  return options;
}

/**
 * Creates a presence client: from credentials, or around an xmpp.js client the app already
 * configured. Nothing is sent until {@link PresenceClient.start}.
 *
 * @example
 * ```ts
 * import { createPresenceClient } from "xmpp-presence";
 *
 * const client = createPresenceClient({
 *   service: "xmpp://127.0.0.1:5222", domain: "localhost",
 *   username: "alice", password: "secret", autoReply: "reverse",
 * });
 * client.on("subscription:request", ({ from, status }) => console.log(`${from} asks: ${status ?? ""}`));
 * await client.start();
 * await client.subscribe("bob@localhost");
 * ```
 */
export function createPresenceClient(options: PresenceClientOptions): PresenceClient {
  return new PresenceClient(options);
}
