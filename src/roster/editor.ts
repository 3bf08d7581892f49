/**
 * Roster editing (RFC 6121 §2.3–§2.5): add, update, remove, and group helpers. Every change is
 * one roster set with one item (§2.1.5), never carrying `ask` or `approved` (§2.1.2.1–2), and
 * always the whole item, since the server replaces it as sent (§2.4.1).
 */
import { PresenceError, PresenceErrorCode } from "../errors.js";
import { xml, type XmlElement } from "../xmpp.js";
import { NS_ROSTER } from "./codec.js";
import { groupRoster, type DerivedGroups, type RosterGroups } from "./groups.js";
import type { RosterItem } from "./model.js";
import type { RosterStoreImpl } from "./store.js";

export type { RosterGroups } from "./groups.js";

/** Name and groups of a roster item. */
export interface RosterItemFields {
  /** The display name; `""` or omitted means none. */
  name?: string;
  /** Group names; duplicates and empty names are dropped (§2.1.2.6). */
  groups?: readonly string[];
}

/** The write side of the roster. Methods are safe to call unbound. */
export interface RosterEditor {
  /**
   * Adds a contact, or replaces its name and groups (§2.3). Adding does not subscribe: call
   * `client.subscribe()` for that. Resolves after the server's result, once the roster shows it.
   */
  readonly add: (jid: string, fields?: RosterItemFields) => Promise<void>;
  /**
   * Changes name and/or groups of an existing entry; what is not given is kept (read-modify-write
   * from the local entry, so nothing is wiped, §2.4.1). Rejects with `stanza-error`/`item-not-found`
   * when the contact is not in the roster.
   */
  readonly update: (jid: string, fields: RosterItemFields) => Promise<void>;
  /**
   * Removes a contact (§2.5): the server also cancels the subscriptions both ways. Removing a
   * contact that is not there succeeds (§2.5.3).
   */
  readonly remove: (jid: string) => Promise<void>;
  /**
   * Entries by group, derived from the current snapshot (the same object until it changes; its
   * lists are frozen). After a change, only the groups the changed contacts leave or join are
   * rebuilt, so calling it after every roster push stays cheap at any roster size.
   */
  readonly groups: () => RosterGroups;
  /** Renames a group on every member (one roster set each). Resolves when all are done. */
  readonly renameGroup: (from: string, to: string) => Promise<void>;
  /** Moves a contact from one group to another (`from` undefined: just adds `to`). */
  readonly move: (jid: string, from: string | undefined, to: string) => Promise<void>;
}

/** What the editor needs from the client. */
export interface RosterEditorDeps {
  store: RosterStoreImpl;
  /** Validates app input and returns the normalised bare JID (throws `invalid-jid`). */
  contactJid: (input: string) => string;
  /** Throws `not-connected` unless a session is up. */
  requireOnline: () => void;
  /** Sends an IQ and resolves with the result from our own server; rejects with a PresenceError. */
  request: (iq: XmlElement) => Promise<XmlElement>;
  /** Sends `<presence type=…/>` to a contact. */
  sendPresence: (to: string, type: string) => Promise<void>;
  /** How long to wait for the roster push after an IQ result (Prosody sends the result first). */
  pushTimeoutMs?: number;
  /** Runs after a successful roster set of an item (not a removal). */
  afterSet?: (jid: string) => Promise<void>;
}

function cleanGroups(groups: readonly string[] | undefined): string[] {
  if (groups === undefined) return [];
  if (!Array.isArray(groups) || groups.some((g) => typeof g !== "string")) {
    throw new PresenceError(PresenceErrorCode.InvalidArgument, "groups must be an array of strings");
  }
  return [...new Set(groups.map((g) => g.trim()).filter((g) => g !== ""))];
}

function checkName(name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== "string") throw new PresenceError(PresenceErrorCode.InvalidArgument, "name must be a string");
  return name;
}

function itemElement(jid: string, name: string | undefined, groups: readonly string[]): XmlElement {
  return xml(
    "item",
    { jid, name: name === "" ? undefined : name },
    ...groups.map((group) => xml("group", {}, group)),
  );
}

function rosterSet(item: XmlElement): XmlElement {
  return xml("iq", { type: "set", id: globalThis.crypto.randomUUID() }, xml("query", { xmlns: NS_ROSTER }, item));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Creates the editor for one client. */
export function createRosterEditor(deps: RosterEditorDeps): RosterEditor {
  const { store, contactJid, requireOnline, request, sendPresence } = deps;
  const pushTimeoutMs = deps.pushTimeoutMs ?? 5000;
  // The latest grouping: handed out again while the entries are the same, and the one the next
  // grouping is updated from (see groups.ts).
  let lastGroups: DerivedGroups | undefined;

  // §2.3.2: the server pushes the change to every interested resource, us included; the push,
  // not the IQ result, changes the local roster. Wait for it so callers can read the result.
  function waitForItem(jid: string, done: (item: RosterItem | undefined) => boolean): Promise<void> {
    if (done(store.item(jid))) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, pushTimeoutMs);
      const stop = store.listen(() => {
        if (done(store.item(jid))) finish();
      });
      function finish(): void {
        clearTimeout(timer);
        stop();
        resolve();
      }
    });
  }

  async function set(jid: string, name: string | undefined, groups: readonly string[]): Promise<void> {
    await request(rosterSet(itemElement(jid, name, groups)));
    await deps.afterSet?.(jid);
    await waitForItem(jid, (item) => item !== undefined && (item.name ?? "") === (name ?? "") && sameSet(item.groups, groups));
  }

  const add = async (input: string, fields: RosterItemFields = {}): Promise<void> => {
    const jid = contactJid(input);
    const name = checkName(fields.name);
    const groups = cleanGroups(fields.groups);
    requireOnline();
    await set(jid, name, groups);
  };

  const update = async (input: string, fields: RosterItemFields): Promise<void> => {
    const jid = contactJid(input);
    const name = checkName(fields?.name);
    const groups = fields?.groups === undefined ? undefined : cleanGroups(fields.groups);
    requireOnline();
    const current = store.item(jid);
    if (current === undefined) {
      throw new PresenceError(PresenceErrorCode.StanzaError, `${jid} is not in the roster`, { condition: "item-not-found", jid });
    }
    await set(jid, name ?? current.name, groups ?? current.groups);
  };

  const remove = async (input: string): Promise<void> => {
    const jid = contactJid(input);
    requireOnline();
    // ejabberd 23.01 cancels only granted subscriptions on removal, not a pending request
    // (rfc6121-client R-26): withdraw it explicitly first.
    if (store.item(jid)?.pendingOut) await sendPresence(jid, "unsubscribe");
    try {
      await request(rosterSet(xml("item", { jid, subscription: "remove" })));
    } catch (error) {
      // §2.5.3: removing an item that is not there is already done.
      if ((error as PresenceError).condition !== "item-not-found") throw error;
    }
    await waitForItem(jid, (item) => item === undefined);
  };

  const groups = (): RosterGroups => {
    // A snapshot that changed elsewhere only (e.g. its blocklist) keeps its entries map.
    const { entries } = store.getSnapshot();
    if (lastGroups?.entries !== entries) lastGroups = { entries, result: groupRoster(entries, lastGroups) };
    return lastGroups.result;
  };

  const renameGroup = async (from: string, to: string): Promise<void> => {
    const [target] = cleanGroups([to]);
    if (target === undefined) throw new PresenceError(PresenceErrorCode.InvalidArgument, "the new group name is empty");
    requireOnline();
    const members = groups().groups.get(from) ?? [];
    for (const entry of members) {
      await update(entry.jid, { groups: entry.groups.map((g) => (g === from ? target : g)) });
    }
  };

  const move = async (input: string, from: string | undefined, to: string): Promise<void> => {
    const jid = contactJid(input);
    const [target] = cleanGroups([to]);
    if (target === undefined) throw new PresenceError(PresenceErrorCode.InvalidArgument, "the target group name is empty");
    requireOnline();
    const current = store.item(jid);
    if (current === undefined) {
      throw new PresenceError(PresenceErrorCode.StanzaError, `${jid} is not in the roster`, { condition: "item-not-found", jid });
    }
    await update(jid, { groups: [...current.groups.filter((g) => g !== from), target] });
  };

  return { add, update, remove, groups, renameGroup, move };
}
