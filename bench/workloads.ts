/**
 * Canned, realistic stanzas for the replay server, generated deterministically so every client
 * gets the same bytes, and with the final state each workload must leave (to check the clients
 * hold the right state, not just that they read the bytes).
 */

/** The JID the replay server binds every session to (so the bytes never depend on the client). */
export const BOUND_JID = "bench@localhost/bench";
export const DOMAIN = "localhost";
/** A contact that is in every roster and ends every flood: when its state shows, the flood is done. */
export const SENTINEL = "sentinel@example.org";

const GROUPS = ["Friends", "Family", "Work", "Colleagues", "Team A", "Team B", "Gaming", "School", "Neighbours", "Club"];
const SHOWS = ["", "away", "chat", "dnd", "xa"] as const;
const STATUSES = ["", "At work", "On the phone", "Back in 5", "Travelling 🚆", "In a meeting until 15:00", "Lunch"];
const CAPS =
  '<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://example.org/client" ver="QgayPKawpkPSDYmwT/WM94uAlu0="/>';

/** xorshift32: fast, deterministic, good enough to spread the load. */
function rng(seed: number): () => number {
  let x = seed | 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function contactJid(i: number): string {
  return `contact${i}@example.org`;
}

/** The attributes of roster item `i` (before any push). */
function rosterItem(i: number): string {
  const r = rng(i + 1);
  const roll = r();
  const subscription = roll < 0.6 ? "both" : roll < 0.75 ? "to" : roll < 0.9 ? "from" : "none";
  const ask = subscription === "none" && r() < 0.5 ? ' ask="subscribe"' : "";
  const name = r() < 0.8 ? ` name="Contact ${i}"` : "";
  const groupCount = Math.floor(r() * 3); // 0, 1 or 2 groups
  let groups = "";
  for (let g = 0; g < groupCount; g++) groups += `<group>${escape(GROUPS[Math.floor(r() * GROUPS.length)] ?? "Friends")}</group>`;
  return `<item jid="${contactJid(i)}"${name} subscription="${subscription}"${ask}>${groups}</item>`;
}

/** The roster result (RFC 6121 §2.1.4) for `size` contacts plus the sentinel, answering `id`. */
export function rosterResult(id: string, size: number): string {
  const parts: string[] = [`<iq xmlns="jabber:client" type="result" id="${escape(id)}" to="${BOUND_JID}"><query xmlns="jabber:iq:roster">`];
  for (let i = 0; i < size; i++) parts.push(rosterItem(i));
  parts.push(`<item jid="${SENTINEL}" subscription="both"/>`, "</query></iq>");
  return parts.join("");
}

/** What a presence workload leaves: available resources per contact, and the stanzas sent. */
export interface PresenceExpectation {
  stanzas: number;
  /** Available resources over all contacts (the sentinel included). */
  availableResources: number;
  /** Contacts with at least one available resource. */
  availableContacts: number;
}

/**
 * A presence flood (RFC 6121 §4): `stanzas` presences over `contacts` roster contacts ×
 * `resources` resources each, 10 % of them unavailable, ending with the sentinel's presence
 * with status `run <run>`.
 */
export function presenceFlood(stanzas: number, contacts: number, resources: number, run: number): { stanzas: string[]; expect: PresenceExpectation } {
  const r = rng(1000 + run);
  const out: string[] = [];
  const state = new Map<number, Set<number>>();
  for (let i = 0; i < stanzas; i++) {
    const c = Math.floor(r() * contacts);
    const res = Math.floor(r() * resources);
    const from = `${contactJid(c)}/res${res}`;
    let set = state.get(c);
    if (set === undefined) state.set(c, (set = new Set()));
    if (r() < 0.1) {
      out.push(`<presence xmlns="jabber:client" from="${from}" to="${BOUND_JID}" type="unavailable"/>`);
      set.delete(res);
      continue;
    }
    const show = SHOWS[Math.floor(r() * SHOWS.length)] ?? "";
    const status = STATUSES[Math.floor(r() * STATUSES.length)] ?? "";
    const priority = Math.floor(r() * 10);
    out.push(
      `<presence xmlns="jabber:client" from="${from}" to="${BOUND_JID}">` +
        (show ? `<show>${show}</show>` : "") +
        (status ? `<status>${escape(status)}</status>` : "") +
        `<priority>${priority}</priority>${CAPS}</presence>`,
    );
    set.add(res);
  }
  out.push(`<presence xmlns="jabber:client" from="${SENTINEL}/end" to="${BOUND_JID}"><status>run ${run}</status>${CAPS}</presence>`);
  let availableResources = 1;
  let availableContacts = 1;
  for (const set of state.values()) {
    availableResources += set.size;
    if (set.size > 0) availableContacts++;
  }
  return { stanzas: out, expect: { stanzas: out.length, availableResources, availableContacts } };
}

/**
 * Roster pushes (RFC 6121 §2.1.6, Prosody style: no `from`) changing `count` items of a roster of
 * `size`, then one for the sentinel named `run <run>`.
 */
export function rosterPushes(count: number, size: number, run: number): string[] {
  const r = rng(2000 + run);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const c = Math.floor(r() * size);
    const subscription = ["both", "to", "from", "none"][i % 4];
    const groups = `<group>${GROUPS[(i + run) % GROUPS.length]}</group>`;
    out.push(
      `<iq xmlns="jabber:client" type="set" id="push-${run}-${i}" to="${BOUND_JID}"><query xmlns="jabber:iq:roster" ver="${run}.${i}">` +
        `<item jid="${contactJid(c)}" name="Contact ${c} (${run}.${i})" subscription="${subscription}">${groups}</item></query></iq>`,
    );
  }
  out.push(
    `<iq xmlns="jabber:client" type="set" id="push-${run}-end" to="${BOUND_JID}"><query xmlns="jabber:iq:roster" ver="${run}.end">` +
      `<item jid="${SENTINEL}" name="run ${run}" subscription="both"/></query></iq>`,
  );
  return out;
}

/** The JID of the sentinel request of a subscription-request flood. */
export function sentinelRequester(run: number): string {
  return `sentinel-${run}@example.net`;
}

/** `count` subscription requests (RFC 6121 §3.1.3) from distinct senders, then the sentinel's. */
export function subscriptionRequests(count: number, run: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      `<presence xmlns="jabber:client" from="req${run}x${i}@example.net" to="bench@localhost" type="subscribe">` +
        `<status>Hi, I am requester ${i}, may I see your presence?</status></presence>`,
    );
  }
  out.push(`<presence xmlns="jabber:client" from="${sentinelRequester(run)}" to="bench@localhost" type="subscribe"/>`);
  return out;
}
