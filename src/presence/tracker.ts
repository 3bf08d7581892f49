/**
 * Feeds inbound availability presence (RFC 6121 §4) into the presence store, and keeps it in
 * step with the roster and the session: contacts vs other entities vs our own resources,
 * subscription changes (§3.3.3), disconnects and XEP-0198 resumption.
 */
import { bareKey } from "../bare-key.js";
import { hasTo } from "../roster/model.js";
import type { ItemChange, RosterStoreImpl } from "../roster/store.js";
import type { XmlElement } from "../xmpp.js";
import { parsePresence, type ResourcePresence } from "./model.js";
import { PresenceKind, type ContactPresence, type PresenceSnapshot, type PresenceStoreImpl } from "./store.js";

/** How long after our `subscribe` a bare-JID `unavailable` from that contact counts as a receipt. */
const RECEIPT_WINDOW_MS = 10_000;

/** Wires presence stanzas and session events to a {@link PresenceStoreImpl}. */
export class PresenceTracker {
  #held: PresenceSnapshot | undefined;
  readonly #subscribedAt = new Map<string, number>();

  constructor(
    private readonly presence: PresenceStoreImpl,
    private readonly roster: RosterStoreImpl,
    private readonly ownJid: () => string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Handles an inbound `<presence/>`; ignores everything but available/unavailable. Listeners
   * hear of the change once the current synchronous run ends, so a presence flood (xmpp.js
   * handles every stanza of a socket read synchronously) notifies once per read, not per stanza.
   */
  onStanza(stanza: XmlElement): void {
    const parsed = parsePresence(stanza, this.now());
    if (parsed === undefined) return;
    this.presence.deferNotifications();
    const own = this.ownJid();
    const ownBare = this.#ownBare(own);
    if (parsed.bare === ownBare) {
      // §4.2.2: the server reflects our own presence; only our *other* resources are news.
      if (own !== undefined && parsed.from === own) return;
      this.presence.apply(parsed, PresenceKind.Own);
      return;
    }
    if (parsed.type === "unavailable" && parsed.resource === "") {
      // §3.1.3 #3: the contact's server may acknowledge our subscribe with an unavailable from
      // their bare JID (Prosody does); that is not presence information (S-06).
      const sentAt = this.#subscribedAt.get(parsed.bare);
      if (sentAt !== undefined && this.now() - sentAt <= RECEIPT_WINDOW_MS) return;
      if (this.presence.get(parsed.bare) === undefined) return; // nothing known: stays unknown
    }
    // Presence on record as a contact's means a roster item (onItemChange drops it with the
    // item): the roster need not be asked. Most stanzas of a flood come this way.
    if (this.presence.applyToContact(parsed) !== undefined) return;
    const item = this.roster.item(parsed.bare);
    // An unavailable from a contact whose presence we do not receive, and of whom we know
    // nothing, is no news: e.g. the unavailable a server sends as we unsubscribe (§3.3.2), which
    // may arrive after the presence was dropped (S-17).
    if (parsed.type === "unavailable" && !hasTo(item?.subscription ?? "none") && this.presence.get(parsed.bare) === undefined) return;
    this.presence.apply(parsed, item === undefined ? PresenceKind.Other : PresenceKind.Contact);
  }

  // The bare form of our JID, worked out again only when the JID changes (a flood asks per stanza).
  #ownFor: string | undefined;
  #ownBareKey: string | undefined;
  #ownBare(own: string | undefined): string | undefined {
    if (own !== this.#ownFor || this.#ownBareKey === undefined) {
      this.#ownFor = own;
      this.#ownBareKey = bareKey(own);
    }
    return this.#ownBareKey;
  }

  /** Notes that we sent `subscribe` to a contact (for the receipt rule above). */
  noteSubscribeSent(jid: string): void {
    this.#subscribedAt.set(jid, this.now());
    if (this.#subscribedAt.size > 1024) {
      const cutoff = this.now() - RECEIPT_WINDOW_MS;
      for (const [key, at] of this.#subscribedAt) if (at < cutoff) this.#subscribedAt.delete(key);
    }
  }

  /** §3.3.3: once we unsubscribe, their presence is "null and void" at once (S-17). */
  onUnsubscribeSent(jid: string): void {
    this.presence.clearContact(jid);
  }

  /** Keeps contacts/others in step with the roster, and drops presence we no longer receive. */
  onItemChange({ jid, before, after }: ItemChange): void {
    if (before === undefined && after !== undefined) this.presence.promote(jid);
    else if (after === undefined) this.presence.clearContact(jid); // §2.5: removed
    else if (hasTo(before?.subscription ?? "none") && !hasTo(after.subscription)) this.presence.clearContact(jid); // S-16
  }

  /**
   * The connection dropped: everyone is unavailable now (observers are told), but what we knew
   * is held, because an XEP-0198 resume continues the session and the server sends nothing again.
   */
  onDisconnect(): void {
    const snapshot = this.presence.getSnapshot();
    if (this.presence.clearAll()) this.#held = snapshot;
  }

  /** XEP-0198 resume: the session went on, so what we knew still holds. */
  onResumed(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held === undefined) return;
    this.presence.batch(() => {
      restore(this.presence, held.contacts, PresenceKind.Contact);
      restore(this.presence, held.others, PresenceKind.Other);
      for (const resource of held.own.values()) this.presence.apply(asParsed(bareKey(this.ownJid()) ?? "", resource), PresenceKind.Own);
    });
  }

  /** A new session (or none): held presence is stale; the server probes again after initial presence. */
  onSessionEnded(): void {
    this.#held = undefined;
    this.presence.clearAll();
  }
}

function restore(store: PresenceStoreImpl, records: ReadonlyMap<string, ContactPresence>, kind: PresenceKind): void {
  for (const record of records.values()) {
    for (const resource of record.resources.values()) store.apply(asParsed(record.jid, resource), kind);
  }
}

function asParsed(bare: string, r: ResourcePresence) {
  return {
    from: r.resource === "" ? bare : `${bare}/${r.resource}`,
    bare,
    resource: r.resource,
    type: "available" as const,
    show: r.show,
    ...(r.status === undefined ? {} : { status: r.status }),
    priority: r.priority,
    receivedAt: r.receivedAt,
  };
}
