/**
 * Blocking (XEP-0191): the blocklist, kept in the roster store, and the verbs to change it.
 * Blocking is how a spam requester is silenced for good: the server then drops their
 * re-delivered requests (rfc6121-client SEC-05).
 */
import { PresenceError, PresenceErrorCode } from "./errors.js";
import { bareKeyOf } from "./jid.js";
import type { RosterStoreImpl } from "./roster/store.js";
import { xml, type IncomingContext, type XmlElement } from "./xmpp.js";

/** The blocking namespace (XEP-0191 §2). */
export const NS_BLOCKING = "urn:xmpp:blocking";

/** What blocking needs from the client. */
export interface BlockingDeps {
  store: RosterStoreImpl;
  request: (iq: XmlElement) => Promise<XmlElement>;
  contactJid: (input: string) => string;
  requireOnline: () => void;
}

function jidsOf(element: XmlElement | undefined): string[] {
  const jids: string[] = [];
  for (const item of element?.getChildren("item") ?? []) {
    const jid = bareKeyOf(item.attrs["jid"]);
    if (jid !== undefined) jids.push(jid);
  }
  return jids;
}

function iq(type: "get" | "set", child: XmlElement): XmlElement {
  return xml("iq", { type, id: globalThis.crypto.randomUUID() }, child);
}

/** The blocking side of a client: session fetch, verbs, and push handling. */
export class Blocking {
  #supported = false;

  constructor(private readonly deps: BlockingDeps) {}

  /** Whether the server answered the blocklist request (XEP-0191 §3.1 support). */
  get supported(): boolean {
    return this.#supported;
  }

  /** Fetches the blocklist at session start (§3.2). A server without XEP-0191 leaves it empty. */
  async fetch(): Promise<void> {
    try {
      const reply = await this.deps.request(iq("get", xml("blocklist", { xmlns: NS_BLOCKING })));
      this.#supported = true;
      this.deps.store.updateBlocked({ replace: jidsOf(reply.getChild("blocklist", NS_BLOCKING)) });
    } catch (error) {
      if ((error as PresenceError).code !== PresenceErrorCode.StanzaError) throw error;
      this.#supported = false;
    }
  }

  /** Blocks JIDs (§3.3). Resolves after the server's result; the blocklist shows them. */
  async block(...inputs: string[]): Promise<void> {
    await this.#change("block", inputs);
  }

  /** Unblocks JIDs (§3.4). */
  async unblock(...inputs: string[]): Promise<void> {
    await this.#change("unblock", inputs);
  }

  async #change(kind: "block" | "unblock", inputs: string[]): Promise<void> {
    const jids = inputs.map((input) => this.deps.contactJid(input));
    if (jids.length === 0) throw new PresenceError(PresenceErrorCode.InvalidArgument, `${kind}() needs at least one JID`);
    this.deps.requireOnline();
    if (!this.#supported) {
      throw new PresenceError(PresenceErrorCode.FeatureNotSupported, "The server does not support blocking (XEP-0191)");
    }
    await this.deps.request(iq("set", xml(kind, { xmlns: NS_BLOCKING }, ...jids.map((jid) => xml("item", { jid })))));
    // The server pushes the change to every resource (§3.3), us included; apply it now too so the
    // caller sees it on return, whatever the order of result and push.
    if (kind === "block") this.deps.store.updateBlocked({ add: jids });
    else this.deps.store.updateBlocked({ remove: jids });
  }

  /** Applies a blocklist push (§3.3, §3.4); the client has already checked it came from our account. */
  onPush(ctx: IncomingContext): boolean {
    const element = ctx.element;
    if (element === undefined) return false;
    const jids = jidsOf(element);
    if (element.name === "block") this.deps.store.updateBlocked({ add: jids });
    else this.deps.store.updateBlocked({ remove: jids.length === 0 ? "all" : jids }); // §3.4: empty = all
    return true;
  }
}
