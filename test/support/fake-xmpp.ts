/**
 * An in-process stand-in for an xmpp.js client, for unit tests of edge cases a real server
 * cannot produce (forged pushes, reordered stanzas). It runs stanzas through the same
 * middleware shapes xmpp.js uses (IQ callee routing with result/error replies, then the
 * middleware chain), records everything the SDK sends, and lets the test answer IQs.
 */
import { EventEmitter } from "node:events";
// @ts-expect-error -- @xmpp/xml ships no types; tests may import it directly.
import parseXml from "@xmpp/xml/lib/parse.js";
import { parseJid, xml, type IncomingContext, type JidLike, type XmlElement, type XmppClientLike } from "../../src/xmpp.js";

type Middleware = (ctx: IncomingContext, next: () => Promise<unknown>) => unknown;
type CalleeHandler = (ctx: IncomingContext) => unknown;
type FeatureHandler = (ctx: IncomingContext, next: () => Promise<unknown>, feature: XmlElement) => unknown;

export function parse(stanza: string): XmlElement {
  return parseXml(stanza) as XmlElement;
}

export class FakeXmpp extends EventEmitter implements XmppClientLike {
  status = "offline";
  jid: JidLike | null = null;
  options = { domain: "localhost", service: "xmpp://127.0.0.1:1" };
  /** Every stanza the SDK sent, in order. */
  readonly sent: XmlElement[] = [];
  /** Replies the fake's IQ callee produced for inbound IQ get/set. */
  readonly replies: XmlElement[] = [];
  readonly #middleware: Middleware[] = [];
  readonly #callee = new Map<string, CalleeHandler>();
  readonly #pending = new Map<string, { resolve: (el: XmlElement) => void; reject: (e: unknown) => void }>();

  constructor(readonly boundJid = "alice@localhost/desk") {
    super();
  }

  readonly middleware = { use: (fn: Middleware) => void this.#middleware.push(fn) };
  readonly iqCallee = {
    set: (ns: string, name: string, handler: CalleeHandler) => void this.#callee.set(`${ns} ${name}`, handler),
  };
  /** The XEP-0191 requests the SDK made. */
  readonly blockingRequests: XmlElement[] = [];
  /** The blocklist the fake server answers with; `undefined`: the server has no XEP-0191. */
  blocklist: string[] | undefined = undefined;

  readonly iqCaller = {
    request: (stanza: XmlElement): Promise<XmlElement> => {
      const blocking = stanza.getChildElements()[0];
      // Blocking IQs are answered by the fake itself and kept apart, so `sent` shows the rest.
      if (blocking?.attrs["xmlns"] === "urn:xmpp:blocking") {
        this.blockingRequests.push(stanza);
        return this.#answerBlocking(stanza, blocking);
      }
      this.sent.push(stanza);
      return new Promise<XmlElement>((resolve, reject) => this.#pending.set(stanza.attrs["id"] ?? "", { resolve, reject }));
    },
  };

  #answerBlocking(stanza: XmlElement, child: XmlElement): Promise<XmlElement> {
    if (this.blocklist === undefined) {
      return Promise.reject(Object.assign(new Error("service-unavailable"), { condition: "service-unavailable" }));
    }
    if (child.name === "blocklist") {
      const items = this.blocklist.map((jid) => `<item jid="${jid}"/>`).join("");
      return Promise.resolve(parse(`<iq type="result" id="${stanza.attrs["id"]}"><blocklist xmlns="urn:xmpp:blocking">${items}</blocklist></iq>`));
    }
    const jids = child.getChildren("item").map((item) => item.attrs["jid"] ?? "");
    this.blocklist = child.name === "block" ? [...this.blocklist, ...jids] : this.blocklist.filter((j) => !jids.includes(j));
    return Promise.resolve(parse(`<iq type="result" id="${stanza.attrs["id"]}"/>`));
  }

  /** Stream features the fake server advertises, by namespace (e.g. "urn:xmpp:features:rosterver"). */
  readonly advertised = new Set<string>();
  readonly #featureHandlers: Array<{ ns: string; name: string; handler: FeatureHandler }> = [];
  readonly streamFeatures = {
    use: (name: string, ns: string, handler: FeatureHandler) => void this.#featureHandlers.push({ ns, name, handler }),
  };

  async start(): Promise<void> {
    // Stream features (RFC 6120 §4.3.2) as a server sends them after authentication: both to
    // streamFeatures.use() handlers and as the top-level element xmpp.js emits.
    const names: Record<string, string> = { "urn:xmpp:features:pre-approval": "sub", "urn:xmpp:features:rosterver": "ver" };
    const offered = [...this.advertised].map((ns) => `<${names[ns] ?? "feature"} xmlns="${ns}"/>`).join("");
    this.emit("element", parse(`<stream:features xmlns:stream="http://etherx.jabber.org/streams">${offered}</stream:features>`));
    for (const { ns, name, handler } of this.#featureHandlers) {
      if (this.advertised.has(ns)) await handler({ stanza: parse("<features/>") }, async () => undefined, xml(name, { xmlns: ns }));
    }
    this.status = "online";
    this.jid = parseJid(this.boundJid);
    this.emit("online", this.jid);
  }

  async stop(): Promise<void> {
    this.status = "offline";
    this.emit("offline");
  }

  async send(element: XmlElement): Promise<void> {
    if (this.status !== "online") throw new Error("socket closed");
    this.sent.push(element);
  }

  /** Stanzas sent so far that match `name` (and `type`, if given), as strings. */
  sentOf(name: string, type?: string): XmlElement[] {
    return this.sent.filter((el) => el.name === name && (type === undefined || el.attrs["type"] === type));
  }

  /** Answers the oldest pending IQ request with `reply` (its id is filled in). */
  answer(reply: string | XmlElement): void {
    const [id, deferred] = [...this.#pending][0] ?? [];
    if (id === undefined || deferred === undefined) throw new Error("no IQ request pending");
    this.#pending.delete(id);
    const element = typeof reply === "string" ? parse(reply) : reply;
    element.attrs["id"] = id;
    if (element.attrs["type"] === "error") deferred.reject(Object.assign(new Error("stanza error"), { condition: "service-unavailable" }));
    else deferred.resolve(element);
  }

  /** Answers the pending roster get with these `<item/>`s. */
  answerRoster(items = "", ver?: string): void {
    this.answer(`<iq type="result"><query xmlns="jabber:iq:roster"${ver === undefined ? "" : ` ver="${ver}"`}>${items}</query></iq>`);
  }

  /** Feeds one inbound stanza; resolves with the IQ reply, if the stanza was an IQ get/set. */
  async receive(stanza: string | XmlElement): Promise<XmlElement | undefined> {
    const element = typeof stanza === "string" ? parse(stanza) : stanza;
    this.emit("element", element);
    const ctx: IncomingContext = { stanza: element };
    const type = element.attrs["type"];
    if (element.name === "iq" && (type === "get" || type === "set")) {
      const children = element.getChildElements();
      const child = children[0];
      const reply = xml("iq", { id: element.attrs["id"], to: element.attrs["from"] });
      let payload: unknown;
      if (children.length !== 1 || child === undefined) payload = xml("error", { type: "modify" }, xml("bad-request", { xmlns: STANZAS }));
      else {
        // As @xmpp/iq's callee: the child goes to ctx.element, then the middleware chain (where
        // iqCallee.set() routes live too) answers; nothing answering means service-unavailable.
        ctx.element = child;
        const run = (i: number): unknown => {
          const layer = this.#middleware[i];
          if (layer !== undefined) return layer(ctx, async () => run(i + 1));
          const handler = this.#callee.get(`${child.attrs["xmlns"]} ${child.name}`);
          return handler ? handler(ctx) : undefined;
        };
        payload = await run(0);
        if (!payload) payload = xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: STANZAS }));
      }
      const isError = typeof payload === "object" && payload !== null && (payload as XmlElement).name === "error";
      reply.attrs["type"] = isError ? "error" : "result";
      if (isError) (reply as unknown as { append(el: unknown): void }).append(payload);
      this.replies.push(reply);
      return reply;
    }
    const run = async (i: number): Promise<unknown> => this.#middleware[i]?.(ctx, () => run(i + 1));
    await run(0);
    return undefined;
  }
}

const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
