/**
 * The module that imports `@xmpp/*` (src/jid-fast-path.ts also reaches `@xmpp/jid`'s `JID`
 * class, to speed up its prototype). xmpp.js 0.14 ships no type declarations, so the
 * small part of its runtime the SDK relies on is described here by structural interfaces.
 * An app may pass its own xmpp.js client (or a fake that satisfies {@link XmppClientLike}).
 */
import { client as xmppClient } from "@xmpp/client";
import xmppDebug from "@xmpp/debug";
import { jid as xmppJid } from "@xmpp/jid";
import { xml as xmppXml } from "@xmpp/xml";

/** An XML element as built and parsed by `@xmpp/xml` (ltx). */
export interface XmlElement {
  name: string;
  attrs: Record<string, string | undefined>;
  children: Array<XmlElement | string>;
  getChild(name: string, xmlns?: string): XmlElement | undefined;
  getChildren(name: string, xmlns?: string): XmlElement[];
  getChildElements(): XmlElement[];
  getChildText(name: string, xmlns?: string): string | null;
  getText(): string;
  is(name: string, xmlns?: string): boolean;
  toString(): string;
}

/** What xmpp.js' middleware hands to an incoming-stanza handler. */
export interface IncomingContext {
  stanza: XmlElement;
  /** The query child of an IQ get/set (set by `@xmpp/iq` callee). */
  element?: XmlElement;
}

/** A parsed JID as `@xmpp/jid` returns it. */
export interface JidLike {
  local: string;
  domain: string;
  resource: string;
  bare(): JidLike;
  toString(): string;
}

/**
 * The part of an `@xmpp/client` 0.14 client the SDK uses. Pass a real client from
 * `client()` of `@xmpp/client`; tests may pass a fake with the same shape.
 */
export interface XmppClientLike {
  jid?: JidLike | null;
  status: string;
  options?: { domain?: string };
  socket?: unknown;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(element: XmlElement): Promise<void>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off?(event: string, listener: (...args: any[]) => void): unknown;
  removeListener?(event: string, listener: (...args: any[]) => void): unknown;
  iqCaller: { request(stanza: XmlElement, timeout?: number): Promise<XmlElement> };
  /** XEP-0198 state (xmpp.js internal; used by the counter fix). */
  streamManagement?: {
    enabled: boolean;
    inbound: number;
    on?(event: "resumed", listener: () => void): unknown;
    on?(event: "fail" | "ack", listener: (stanza: XmlElement) => void): unknown;
  };
  prependListener?(event: string, listener: (...args: any[]) => void): unknown;
  /** `@xmpp/reconnect`: its pending reconnect timer (set on 'disconnect'), if any. */
  reconnect?: { _timeout?: unknown };
  /**
   * xmpp.js' incoming middleware. The SDK adds one layer, behind `@xmpp/iq`'s callee, which
   * sets `ctx.element` to an IQ get/set's child and turns what the layer returns into the reply.
   */
  middleware: {
    use(handler: (ctx: IncomingContext, next: () => Promise<unknown>) => unknown): unknown;
  };
}

/** Connection options passed through to `@xmpp/client`. */
export interface XmppConnectionOptions {
  service: string;
  domain?: string;
  username: string;
  password: string;
  resource?: string;
  /** Mechanism override, e.g. `"PLAIN"` on a trusted loopback server (tests). Default: xmpp.js' choice (SCRAM). */
  saslMechanism?: string;
  /** xmpp.js' `timeout` (ms) for each step of opening and closing the connection. */
  timeoutMs?: number;
  debug?: boolean;
}

/** Builds an element with `@xmpp/xml`. Children that are `undefined` or `null` are skipped. */
export function xml(
  name: string,
  attrs?: Record<string, string | undefined> | null,
  ...children: Array<XmlElement | string | undefined | null | false>
): XmlElement {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined) clean[key] = value;
  }
  return xmppXml(name, clean, ...children.filter((c) => c !== undefined && c !== null && c !== false)) as XmlElement;
}

/** Parses a JID with `@xmpp/jid`; throws on input it cannot parse. */
export function parseJid(address: string): JidLike {
  return xmppJid(address);
}

/** Builds a JID from parts with `@xmpp/jid`. */
export function makeJid(local: string, domain: string): JidLike {
  return xmppJid(local || null, domain);
}

/** Creates an `@xmpp/client` client for {@link XmppConnectionOptions}. */
export function createXmppClient(options: XmppConnectionOptions): XmppClientLike {
  const { service, domain, username, password, resource, saslMechanism, timeoutMs, debug } = options;
  const params: Record<string, unknown> = { service, username, password };
  if (timeoutMs !== undefined) params["timeout"] = timeoutMs;
  if (domain !== undefined) params["domain"] = domain;
  if (resource !== undefined) params["resource"] = resource;
  if (saslMechanism !== undefined) {
    params["credentials"] = (
      auth: (creds: { username: string; password: string }, mechanism: string) => Promise<void>,
    ) => auth({ username, password }, saslMechanism);
  }
  const entity = xmppClient(params) as XmppClientLike;
  // Like xmpp.js itself: XMPP_DEBUG in the environment turns the trace on (Node).
  const env = typeof process === "undefined" ? undefined : process.env;
  if (debug ?? Boolean(env?.["XMPP_DEBUG"])) {
    // @xmpp/debug reads process.env before its `force` argument: give browsers an empty one.
    const global = globalThis as { process?: { env: Record<string, string> } };
    global.process ??= { env: {} };
    xmppDebug(entity, true);
  }
  return entity;
}
