/**
 * Strict validation of cached rosters and mutations. What a storage backend returns is untrusted
 * (another version of the app, a user's hands, a torn write), so every field is checked and each
 * object rebuilt from its known fields only; anything off makes the whole cache `undefined`.
 */
import { PresenceError, PresenceErrorCode } from "../errors.js";
import type { RosterItem, Subscription } from "../roster/model.js";
import type { SubscriptionRequest } from "../roster/store.js";
import type { CachedRoster, PreApprovalIntent, RosterMutation } from "./types.js";

const SUBSCRIPTIONS: ReadonlySet<unknown> = new Set<Subscription>(["none", "to", "from", "both"]);

type Fields = Record<string, unknown>;

/** A plain object (not null, not an array): what a stored record must at least be. */
export function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// A normalised bare JID as the codec produces it. Deliberately structural: received JIDs are
// compared, not validated (see jid.ts), so re-parsing them here could reject a real roster.
function isBareJid(value: unknown): value is string {
  return typeof value === "string" && value !== "" && !value.includes("/");
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

// Optional string/number fields: absent, or `undefined` (structured clones keep it), or the type.
function optional<T>(value: unknown, check: (v: unknown) => v is T): { ok: boolean; value?: T } {
  if (value === undefined) return { ok: true };
  return check(value) ? { ok: true, value } : { ok: false };
}

const isString = (value: unknown): value is string => typeof value === "string";

/**
 * A roster item rebuilt from `value`, or `undefined` if any field is wrong. Built without
 * spreads or helper objects: this runs once per item of a cache being loaded (100 000 at the
 * bench's scale). Its group list is a fresh array: what an adapter loads is the caller's to keep.
 */
function parseItem(value: unknown): RosterItem | undefined {
  if (!isRecord(value)) return undefined;
  const { jid, name, subscription, pendingOut, approved } = value;
  if (!isBareJid(jid) || !SUBSCRIPTIONS.has(subscription)) return undefined;
  if (typeof pendingOut !== "boolean" || typeof approved !== "boolean") return undefined;
  if (name !== undefined && typeof name !== "string") return undefined;
  const groups = parseGroups(value["groups"]);
  if (groups === undefined) return undefined;
  return name === undefined
    ? { jid, groups, subscription: subscription as Subscription, pendingOut, approved }
    : { jid, name, groups, subscription: subscription as Subscription, pendingOut, approved };
}

function parseGroups(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list: string[] = [];
  // Index loop: a sparse array's holes read as undefined and fail, as they must.
  for (let i = 0; i < value.length; i++) {
    const group: unknown = value[i];
    if (typeof group !== "string") return undefined;
    list.push(group);
  }
  return list;
}

function parseRequest(value: unknown): SubscriptionRequest | undefined {
  if (!isRecord(value)) return undefined;
  const { from, status, receivedAt } = value;
  if (!isBareJid(from) || !isTime(receivedAt)) return undefined;
  const s = optional(status, isString);
  if (!s.ok) return undefined;
  return { from, ...(s.value === undefined ? {} : { status: s.value }), receivedAt };
}

function parseIntent(value: unknown): PreApprovalIntent | undefined {
  if (!isRecord(value)) return undefined;
  const { jid, createdAt, expiresAt } = value;
  if (!isBareJid(jid) || !isTime(createdAt)) return undefined;
  const e = optional(expiresAt, isTime);
  if (!e.ok) return undefined;
  return { jid, createdAt, ...(e.value === undefined ? {} : { expiresAt: e.value }) };
}

// Every element must parse and keys must be unique: a list with a duplicate is not a set.
function parseList<T>(value: unknown, parse: (v: unknown) => T | undefined, keyOf: (v: T) => string): T[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: T[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    const parsed = parse(value[i]);
    if (parsed === undefined) return undefined;
    const key = keyOf(parsed);
    if (seen.has(key)) return undefined;
    seen.add(key);
    out.push(parsed);
  }
  return out;
}

/**
 * A {@link CachedRoster} rebuilt from untrusted `value` (parsed JSON, a structured clone), or
 * `undefined` when any field is missing or of the wrong type or value: a `subscription` outside
 * none/to/from/both, non-boolean flags, `groups` not an array of strings, a non-string `version`,
 * duplicate JIDs, a JID with a resource… Unknown extra properties are dropped, not rejected.
 *
 * @example
 * ```ts
 * const cached = parseCachedRoster(JSON.parse(text)); // CachedRoster | undefined, never throws
 * ```
 */
export function parseCachedRoster(value: unknown): CachedRoster | undefined {
  if (!isRecord(value)) return undefined;
  const v = optional(value["version"], isString);
  if (!v.ok) return undefined;
  const items = parseList(value["items"], parseItem, (item) => item.jid);
  const requests = parseList(value["requests"], parseRequest, (request) => request.from);
  const preApprovals = parseList(value["preApprovals"], parseIntent, (intent) => intent.jid);
  if (items === undefined || requests === undefined || preApprovals === undefined) return undefined;
  return { version: v.value, items, requests, preApprovals };
}

/**
 * A mutation rebuilt from `value`, or `undefined` when it is malformed, including when the
 * value's own JID (`item.jid`, `request.from`, `intent.jid`) differs from the mutation's `jid`.
 */
export function parseMutation(value: unknown): RosterMutation | undefined {
  if (!isRecord(value)) return undefined;
  switch (value["kind"]) {
    case "replace": {
      const roster = parseCachedRoster(value["roster"]);
      return roster && { kind: "replace", roster };
    }
    case "item": {
      const { jid, item, version } = value;
      const v = optional(version, isString);
      if (!isBareJid(jid) || !v.ok) return undefined;
      if (item === undefined) return { kind: "item", jid, item: undefined, version: v.value };
      const parsed = parseItem(item);
      return parsed?.jid === jid ? { kind: "item", jid, item: parsed, version: v.value } : undefined;
    }
    case "request": {
      const { jid, request } = value;
      if (!isBareJid(jid)) return undefined;
      if (request === undefined) return { kind: "request", jid, request: undefined };
      const parsed = parseRequest(request);
      return parsed?.from === jid ? { kind: "request", jid, request: parsed } : undefined;
    }
    case "pre-approval": {
      const { jid, intent } = value;
      if (!isBareJid(jid)) return undefined;
      if (intent === undefined) return { kind: "pre-approval", jid, intent: undefined };
      const parsed = parseIntent(intent);
      return parsed?.jid === jid ? { kind: "pre-approval", jid, intent: parsed } : undefined;
    }
    default:
      return undefined;
  }
}

/** The mutation rebuilt by {@link parseMutation}; throws `PresenceError` `invalid-argument` if malformed. */
export function checkMutation(value: unknown): RosterMutation {
  const mutation = parseMutation(value);
  if (mutation === undefined) {
    throw new PresenceError(PresenceErrorCode.InvalidArgument, "Malformed roster cache mutation");
  }
  return mutation;
}

/** Returns `account` if it is a bare JID; otherwise throws `PresenceError` `invalid-jid`. */
export function checkAccount(account: unknown): string {
  if (isBareJid(account)) return account;
  throw new PresenceError(PresenceErrorCode.InvalidJid, `Invalid account ${JSON.stringify(account)}: expected a bare JID`);
}
