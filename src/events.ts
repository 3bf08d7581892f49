/**
 * The events a {@link PresenceClient} emits, as labelled tuples (eventemitter3 generics).
 */
import type { PresenceError } from "./errors.js";
import type { ItemChange, SubscriptionRequest } from "./roster/store.js";

/** Why an inbound roster push was refused (RFC 6121 §2.1.6). */
export interface RejectedPush {
  /** The raw `from` attribute, if any. */
  from: string | undefined;
  reason: "unauthorized-sender" | "item-count" | "invalid-item";
}

/** What an auto-reply policy did with a request. */
export interface AutoReplied {
  jid: string;
  decision: "approve" | "approve-and-subscribe" | "deny";
}

/** Event names and their arguments. */
export interface ClientEvents {
  /** A contact asks to see our presence (RFC 6121 §3.1.3). Once per pending request, not per re-delivery. */
  "subscription:request": [request: SubscriptionRequest];
  /** A contact approved our request: we now receive their presence (§3.1.6). */
  "subscription:approved": [jid: string];
  /** A contact refused our request, or cancelled the subscription we had (§3.2.3). */
  "subscription:denied": [jid: string];
  /** A contact stopped receiving our presence (§3.3.3). */
  "subscription:unsubscribed": [jid: string];
  /** A contact withdrew a request before we answered it (A.3.2). */
  "subscription:withdrawn": [jid: string];
  /**
   * Subscription stanzas the server never acknowledged (XEP-0198) before the session was lost
   * were sent again in the new session: `[{ to, type }]`, in their original order.
   */
  "subscription:resent": [stanzas: Array<{ to: string; type: string }>];
  /** The auto-reply policy answered a request. */
  "subscription:auto-reply": [reply: AutoReplied];
  /** A subscription presence to a contact bounced with a stanza error (§3.1.2). */
  "subscription:error": [jid: string, error: PresenceError];
  /** A roster item was added, changed or removed by the server (after the roster reflects it). */
  "roster:change": [change: ItemChange];
  /** An unauthorised or malformed roster push was refused; nothing changed. */
  "roster:rejected-push": [push: RejectedPush];
  /** A reply to one of our IQs came from someone other than our server, and was ignored (spoofing). */
  "iq:rejected-reply": [reply: { from: string | undefined; id: string }];
  /**
   * A subscription request was not recorded because `maxPendingRequests` are already pending.
   * The server keeps it and delivers it again at the next login. Fires once per overflow.
   */
  "subscription:overflow": [jid: string];
  /** A session is ready: bound, roster fetched, initial presence sent. Fires again after a reconnect. */
  online: [jid: string];
  /** The connection went down (a reconnect may follow unless `stop()` was called). */
  offline: [];
  /** A background failure: listener or policy errors, a failed roster fetch. */
  error: [error: Error];
}
