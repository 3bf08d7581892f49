/**
 * The pure presence model of RFC 6121 §4: an inbound available/unavailable `<presence/>` in,
 * a normalised per-resource record out, and the "best resource" rule. No I/O; the client
 * decides which presences to apply (roster contact, other entity, our own resource) and the
 * store keeps them.
 */
import { bareKey } from "../bare-key.js";
import { textOf } from "../xml-text.js";
import type { XmlElement } from "../xmpp.js";

/**
 * A resource's availability: the `<show/>` values of RFC 6121 §4.7.2.1, plus `available`
 * for a presence without `<show/>` (plain "online").
 */
export const Show = {
  /** `<show>chat</show>`: actively interested in chatting. */
  Chat: "chat",
  /** No `<show/>`: online and available. */
  Available: "available",
  /** `<show>away</show>`: temporarily away. */
  Away: "away",
  /** `<show>xa</show>`: away for an extended period. */
  ExtendedAway: "xa",
  /** `<show>dnd</show>`: busy, do not disturb. */
  DoNotDisturb: "dnd",
} as const;
/** One of the {@link Show} values. */
export type Show = (typeof Show)[keyof typeof Show];

/**
 * The order {@link bestResource} ranks shows in, most available first, after priority.
 *
 * @example
 * ```ts
 * SHOW_ORDER.indexOf("away") < SHOW_ORDER.indexOf("dnd"); // true
 * ```
 */
export const SHOW_ORDER: readonly Show[] = Object.freeze([
  Show.Chat,
  Show.Available,
  Show.Away,
  Show.ExtendedAway,
  Show.DoNotDisturb,
]);

/** The lowest `<priority/>` (RFC 6121 §4.7.2.3: an xs:byte). */
export const MIN_PRIORITY = -128;
/** The highest `<priority/>` (RFC 6121 §4.7.2.3: an xs:byte). */
export const MAX_PRIORITY = 127;
/** The longest `<status/>` kept, in characters (code points); longer text is cut. */
export const MAX_PRESENCE_STATUS_LENGTH = 1024;

/** What one resource of an entity last said about its availability. */
export interface ResourcePresence {
  /** The resourcepart of the sender's full JID; `""` for a presence from a bare JID. */
  readonly resource: string;
  readonly show: Show;
  /** The sanitised `<status/>` text: untrusted, shown as such (RFC 6121 §11). */
  readonly status?: string;
  /** `<priority/>`, −128..127; 0 when absent or not an integer (RFC 6121 §4.7.2.3). */
  readonly priority: number;
  /**
   * When the presence was sent (ms since the epoch): the XEP-0203 `<delay/>` stamp when the
   * server attached one (e.g. to a probe answer), else when the SDK received it.
   */
  readonly receivedAt: number;
}

/** An inbound available or unavailable presence, as {@link parsePresence} reads it. */
export interface ParsedPresence {
  /** The `from` attribute as received. */
  readonly from: string;
  /** The normalised bare JID of the sender (the key the store uses). */
  readonly bare: string;
  /** The resourcepart of `from`; `""` when `from` is a bare JID. */
  readonly resource: string;
  readonly type: "available" | "unavailable";
  /** Meaningless on `unavailable` (RFC 6121 §4.5.1 forbids it there); parsed anyway. */
  readonly show: Show;
  readonly status?: string;
  readonly priority: number;
  readonly receivedAt: number;
}

const NS_CLIENT = "jabber:client";
const NS_DELAY = "urn:xmpp:delay";
/**
 * `<show/>` as one of the constants (RFC 6121 §4.7.2.1; anything else is plain available). The
 * constant, not the parsed text: that would be a string of its own per stanza, kept in the
 * store with each resource, and compared character by character on every update.
 */
function showOf(text: string | undefined): Show {
  switch (text) {
    case "chat":
      return Show.Chat;
    case "away":
      return Show.Away;
    case "xa":
      return Show.ExtendedAway;
    case "dnd":
      return Show.DoNotDisturb;
    default:
      return Show.Available;
  }
}
const INTEGER = /^[+-]?\d+$/u;
// XEP-0082 DateTime: a time zone is required; Date.parse would read a zone-less stamp as local time.
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/u;
// C0 controls except tab and line feed, DEL, C1 controls, bidi embeddings/overrides and isolates:
// they make hostile text look like something else (rfc6121-client S-23).
const UNSAFE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;
// The same class, tested before replacing: nearly every status is clean, and a test allocates nothing.
const HAS_UNSAFE_CHAR = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/**
 * Reads an inbound `<presence/>` that carries availability (RFC 6121 §4.7.1): no `type`
 * (available) or `type="unavailable"`. Returns `undefined` for every other type (subscription
 * types, `probe`, `error`, and invalid ones like `type="available"`, which must never count as
 * available: P-08), and for a presence without a parseable `from`.
 *
 * - `<show/>`: the first one only; an unknown value reads as `available` (P-09).
 * - `<priority/>`: the first one; absent or not an integer reads as 0, and the value is clamped
 *   to −128..127 (P-11).
 * - `<status/>`: the one without `xml:lang` (the stream's default language), else the first
 *   (P-10); control and bidi-override characters are stripped and the text is cut to
 *   {@link MAX_PRESENCE_STATUS_LENGTH}.
 * - `receivedAt`: the XEP-0203 `<delay/>` stamp when it is a valid XEP-0082 DateTime not in
 *   the future, else `now`.
 *
 * @example
 * ```ts
 * const parsed = parsePresence(stanza, Date.now());
 * if (parsed) store.apply(parsed, isContact(parsed.bare) ? "contact" : "other");
 * ```
 */
export function parsePresence(stanza: XmlElement, now: number): ParsedPresence | undefined {
  const typeAttr = stanza.attrs["type"];
  if (typeAttr !== undefined && typeAttr !== "unavailable") return undefined;
  const from = stanza.attrs["from"];
  const bare = bareKey(from);
  if (from === undefined || bare === undefined) return undefined;
  // RFC 7622 §3.1: the first "/" starts the resourcepart (which may itself hold "/" and "@").
  const slash = from.indexOf("/");
  const resource = slash === -1 ? "" : from.slice(slash + 1);
  if (slash !== -1 && resource === "") return undefined; // "c@x/" is not a JID; never read it as bare

  // One pass over the children (this runs once per stanza of a presence flood).
  let showElement: XmlElement | undefined;
  let priorityElement: XmlElement | undefined;
  let statusElement: XmlElement | undefined; // the first without xml:lang
  let firstStatus: XmlElement | undefined;
  let delayElement: XmlElement | undefined;
  const { children } = stanza;
  for (let i = 0; i < children.length; i++) {
    const child = children[i] as XmlElement | string;
    if (typeof child === "string") continue;
    const colon = child.name.indexOf(":");
    const local = colon === -1 ? child.name : child.name.slice(colon + 1);
    if (local === "delay") {
      if (delayElement === undefined && child.is("delay", NS_DELAY)) delayElement = child;
      continue;
    }
    if (local !== "show" && local !== "priority" && local !== "status") continue;
    // Direct children in the stanza's own namespace: an extension element that happens to be
    // called "show" or "status" (with its own xmlns) is not ours to read.
    const ns = child.attrs["xmlns"];
    if (ns !== undefined && ns !== NS_CLIENT) continue;
    if (local === "show") showElement ??= child;
    else if (local === "priority") priorityElement ??= child;
    else {
      firstStatus ??= child;
      if (statusElement === undefined && child.attrs["xml:lang"] === undefined) statusElement = child;
    }
  }
  const showText = showElement && textOf(showElement).trim();
  const statusOf = statusElement ?? firstStatus;
  const status = sanitisePresenceText(statusOf && textOf(statusOf));
  const show = showOf(showText);
  const type = typeAttr === undefined ? "available" : "unavailable";
  const priority = parsePriority(priorityElement && textOf(priorityElement));
  const receivedAt = delayStamp(delayElement, now);
  return status === undefined
    ? { from, bare, resource, type, show, priority, receivedAt }
    : { from, bare, resource, type, show, status, priority, receivedAt };
}

/**
 * The resource an entity is "most available" on, or `undefined` for none: the highest
 * priority wins; on a tie, the show in {@link SHOW_ORDER} (chat > available > away > xa > dnd);
 * then the most recent `receivedAt`; then the resource name in code-unit order (so the result
 * never depends on input order).
 *
 * Resources with a negative priority still count: RFC 6121 §4.7.2.3 says a negative priority
 * only stops the *server* from routing bare-JID messages to that resource; it is still online.
 *
 * @example
 * ```ts
 * bestResource(store.get("bob@example.com")?.values() ?? [])?.show; // "chat", "away", …
 * ```
 */
export function bestResource(resources: Iterable<ResourcePresence>): ResourcePresence | undefined {
  let best: ResourcePresence | undefined;
  for (const candidate of resources) {
    if (best === undefined || compareResources(candidate, best) < 0) best = candidate;
  }
  return best;
}

/**
 * The order {@link bestResource} uses: negative when `a` is the better resource, positive when
 * `b` is, 0 only for the same resource name with equal fields. Sorting with it puts the best first.
 */
export function compareResources(a: ResourcePresence, b: ResourcePresence): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const show = SHOW_RANK[a.show] - SHOW_RANK[b.show];
  if (show !== 0) return show;
  if (a.receivedAt !== b.receivedAt) return b.receivedAt - a.receivedAt;
  return a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0;
}

const SHOW_RANK: Readonly<Record<Show, number>> = Object.freeze(
  Object.fromEntries(SHOW_ORDER.map((show, rank) => [show, rank])) as Record<Show, number>,
);

/**
 * Strips control and bidi-override characters from untrusted presence text and cuts it to
 * `max` code points (never splitting a surrogate pair). Returns `undefined` for nothing left.
 */
export function sanitisePresenceText(
  text: string | undefined,
  max: number = MAX_PRESENCE_STATUS_LENGTH,
): string | undefined {
  if (!text) return undefined;
  let clean = HAS_UNSAFE_CHAR.test(text) ? text.replace(UNSAFE_CHARS, "") : text;
  // Cheap check first: a string of at most `max` code units has at most `max` code points.
  if (clean.length > max) {
    const points = Array.from(clean);
    if (points.length > max) clean = points.slice(0, max).join("");
  }
  return clean === "" ? undefined : clean;
}

function parsePriority(text: string | undefined): number {
  const trimmed = text?.trim();
  if (trimmed === undefined || !INTEGER.test(trimmed)) return 0;
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, Number(trimmed)));
}

function delayStamp(delay: XmlElement | undefined, now: number): number {
  const stamp = delay?.attrs["stamp"]?.trim();
  if (stamp === undefined || !DATETIME.test(stamp)) return now;
  const at = Date.parse(stamp);
  // A stamp from the future is a clock error or a lie; it must not make a resource look newest.
  return Number.isNaN(at) ? now : Math.min(at, now);
}
