/**
 * Roster XML (RFC 6121 §2.1) to {@link RosterItem}s and back. Parsing is strict about what may
 * change state and lenient about everything else (unknown children and attributes are ignored,
 * RFC 6120 §8.4).
 */
import { bareKey } from "../bare-key.js";
import { detach } from "../detach.js";
import { textOf } from "../xml-text.js";
import { xml, type XmlElement } from "../xmpp.js";
import { NO_GROUPS, rosterEntry, type RosterEntry, type RosterItem, type Subscription } from "./model.js";

/** The roster namespace (RFC 6121 §2.1). */
export const NS_ROSTER = "jabber:iq:roster";

/**
 * The `subscription` attribute as one of the four literals, or `undefined` when it is none of
 * them (§2.1.2.5; absent means `none`). The literal, not the parsed value: that is a string of
 * its own per item, which a 100 000-item roster would otherwise keep 100 000 times.
 */
function subscriptionOf(value: string | undefined): Subscription | undefined {
  switch (value) {
    case undefined:
    case "none":
      return "none";
    case "to":
      return "to";
    case "from":
      return "from";
    case "both":
      return "both";
    default:
      return undefined;
  }
}

/** A parsed roster push: an item to store, or a removal (RFC 6121 §2.5). */
export type RosterChange = { kind: "set"; item: RosterItem } | { kind: "remove"; jid: string };

/**
 * Group names of one roster result or push, each kept once: name → the shared, frozen one-group
 * list. A large roster names the same few groups over and over (§2.1.2.6): each name is one
 * string, and each single-group list one frozen array, shared by every item in that group,
 * instead of a copy and an array per item.
 */
type GroupNames = Map<string, readonly string[]>;

/**
 * One `<item/>`, or `undefined` when its `jid` is missing or unparsable (§2.1.2.3: REQUIRED).
 * `asEntry`: built as a frozen entry (a result that becomes the whole roster, see
 * parseRosterQuery). `views`: its JID and name stay views into the parsed stanza instead of
 * copies (see detach and parseRosterQuery).
 *
 * The groups and their shared names are read here, in indexed loops, where they were a function
 * and a class of their own walked with iterators, and a group's text no longer goes through
 * getText()'s loop (textOf): the first roster of a session runs this once per item in code V8 has
 * not optimised yet, and there each call and iterator step counts. A 10k-item result in a fresh
 * process (medians of 11 and 15 processes): 34.3–39.2 ms before, 20.3–24.9 ms after; 100k items
 * in a warm process, old and new taking turns: 0.57× and 0.69× the time (bench/results.md,
 * Issue 6 fourteenth pass).
 */
function parseItem(
  item: XmlElement,
  subscription: Subscription,
  names: GroupNames | undefined,
  asEntry: boolean,
  views: boolean,
): RosterItem | undefined {
  const { attrs, children } = item;
  const key = bareKey(attrs["jid"]);
  if (key === undefined) return undefined;
  // §2.1.2.6: groups are a set; empty names carry nothing.
  let groups: readonly string[] | undefined;
  for (let i = 0; i < children.length; i++) {
    const child = children[i] as XmlElement | string;
    if (typeof child === "string" || !isNamed(child, "group")) continue;
    const name = textOf(child);
    if (name === "") continue;
    names ??= new Map(); // a push's own, made at its first group: most pushes name none
    let single = names.get(name);
    if (single === undefined) {
      // Kept in the store for good: never as a view into the parsed stanza (see detach).
      single = Object.freeze([detach(name)]);
      names.set(name, single);
    }
    if (groups === undefined) groups = single;
    else if (groups.length === 1) {
      if (groups[0] !== name) groups = [groups[0] as string, single[0] as string];
    } else if (groups.length < 16 ? !groups.includes(name) : !new Set(groups).has(name)) (groups as string[]).push(single[0] as string);
  }
  // Frozen like the shared lists: an entry's groups are as immutable as the entry (rosterEntry).
  groups = groups === undefined ? NO_GROUPS : groups.length > 1 ? Object.freeze(groups) : groups;
  const jid = views ? key : detach(key);
  const name = attrs["name"] && (views ? attrs["name"] : detach(attrs["name"]));
  const approvedAttr = attrs["approved"];
  const pendingOut = attrs["ask"] === "subscribe";
  const approved = approvedAttr === "true" || approvedAttr === "1"; // xs:boolean
  // §2.1.2.4: an empty name is no name.
  if (asEntry) return rosterEntry(jid, name || undefined, groups, subscription, pendingOut, approved, false);
  return name ? { jid, name, groups, subscription, pendingOut, approved } : { jid, groups, subscription, pendingOut, approved };
}

// `element.is(name)` without its prefix split for the usual unprefixed name (one call per item
// of a roster result); a prefixed name still goes through `is`.
function isNamed(element: XmlElement, name: string): boolean {
  return element.name === name || element.is(name);
}

/**
 * Parses one `<item/>` of a roster **push**. Returns `undefined` for an item that must be
 * ignored: no or unparsable `jid`, or a `subscription` outside none/to/from/both/remove
 * (§2.1.2.5). A missing `subscription` means `none`.
 */
export function parsePushItem(item: XmlElement): RosterChange | undefined {
  const value = item.attrs["subscription"];
  if (value === "remove") {
    const jid = bareKey(item.attrs["jid"]);
    return jid === undefined ? undefined : { kind: "remove", jid };
  }
  const subscription = subscriptionOf(value);
  if (subscription === undefined) return undefined;
  const parsed = parseItem(item, subscription, undefined, false, false);
  return parsed && { kind: "set", item: parsed };
}

/**
 * Parses a roster **result** `<query/>`. Items with an invalid `jid` or `subscription` are
 * skipped (§2.1.2.5: `remove` in a result is not a deletion), the rest kept in order. A JID
 * the result repeats is returned as often as it comes; the store keeps the last one (at the
 * first one's place), so no map of the result is built here.
 *
 * Each JID and name is a view into the parsed result, not a copy. detach explains why a kept
 * view is usually wrong (one string must not hold a socket chunk), so the store copies what it
 * keeps of a result, except when the result becomes the whole roster (it held no item): there
 * every item is kept, so the views are most of their chunks. Measured at 100k items: 310 B/entry
 * with views against 380 with copies over WebSocket (308 against 276 over TCP), no 200 000
 * copies (the SDK's share of a 100k roster load fell ~7% over WebSocket), and at most the
 * result's own size held later. A result into a roster already held (a re-sync, a new session)
 * writes only the items that changed, and copies those (RosterStoreImpl.replaceItems): an
 * unchanged item is dropped with the result, so copying it would be work for nothing.
 *
 * `whole: true` (the result becomes the whole roster) returns each item as a frozen
 * {@link RosterEntry} with no request pending in: the store keeps it as it is when it knows
 * nothing more of that JID (one object per item of a large roster). Otherwise plain items.
 */
export function parseRosterQuery(query: XmlElement, whole = false): RosterItem[] {
  const items: RosterItem[] = [];
  const names: GroupNames = new Map();
  const { children } = query;
  for (let i = 0; i < children.length; i++) {
    const item = children[i] as XmlElement | string;
    if (typeof item === "string" || !isNamed(item, "item")) continue;
    const subscription = subscriptionOf(item.attrs["subscription"]);
    if (subscription === undefined) continue;
    const parsed = parseItem(item, subscription, names, whole, true);
    if (parsed) items.push(parsed);
  }
  return items;
}

/** The roster get query (§2.1.3): no items; `ver` only when versioning is in use (§2.6.2). */
export function rosterGetQuery(ver?: string): XmlElement {
  return xml("query", { xmlns: NS_ROSTER, ver });
}
