/**
 * Our own presence (RFC 6121 §4.2, §4.4, §4.6): options, validation, and the stanza.
 */
import { PresenceError, PresenceErrorCode } from "../errors.js";
import { xml, type XmlElement } from "../xmpp.js";
import { MAX_PRIORITY, MIN_PRIORITY } from "./model.js";

/** What we broadcast (or send directed): availability, `<show/>`, `<status/>`, `<priority/>`. */
export interface OwnPresence {
  /** `false` sends `type="unavailable"` (§4.5). Default `true`. */
  available?: boolean;
  /** `<show/>` (§4.7.2.1); omitted means plain available. Not sent with `available: false`. */
  show?: "chat" | "away" | "xa" | "dnd";
  /** Free text (§4.7.2.2). */
  status?: string;
  /** −128..127 (§4.7.2.3); default 0. Not sent with `available: false` (§4.5.1). */
  priority?: number;
}

const SHOWS: ReadonlySet<unknown> = new Set(["chat", "away", "xa", "dnd"]);

/** Checks app input; throws `invalid-argument` for anything the RFC does not allow. */
export function checkOwnPresence(presence: OwnPresence): OwnPresence {
  if (presence === null || typeof presence !== "object") {
    throw new PresenceError(PresenceErrorCode.InvalidArgument, "presence must be an object");
  }
  const { available, show, status, priority } = presence;
  if (available !== undefined && typeof available !== "boolean") {
    throw new PresenceError(PresenceErrorCode.InvalidArgument, "available must be a boolean");
  }
  if (show !== undefined && !SHOWS.has(show)) {
    throw new PresenceError(PresenceErrorCode.InvalidArgument, `show must be one of chat, away, xa, dnd (got ${JSON.stringify(show)})`);
  }
  if (status !== undefined && typeof status !== "string") {
    throw new PresenceError(PresenceErrorCode.InvalidArgument, "status must be a string");
  }
  if (priority !== undefined && (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY)) {
    throw new PresenceError(PresenceErrorCode.InvalidArgument, `priority must be an integer from -128 to 127 (got ${priority})`);
  }
  return { ...presence };
}

/** The `<presence/>` for {@link OwnPresence}, broadcast (no `to`) or directed. */
export function ownPresenceElement(presence: OwnPresence, to?: string): XmlElement {
  const unavailable = presence.available === false;
  return xml(
    "presence",
    { to, type: unavailable ? "unavailable" : undefined, id: to === undefined ? undefined : globalThis.crypto.randomUUID() },
    !unavailable && presence.show !== undefined ? xml("show", {}, presence.show) : undefined,
    presence.status ? xml("status", {}, presence.status) : undefined,
    !unavailable && presence.priority !== undefined && presence.priority !== 0 ? xml("priority", {}, String(presence.priority)) : undefined,
  );
}
