/**
 * JID handling for roster keys. `@xmpp/jid` parses and lowercases; what it leaves out
 * (RFC 7622 §3: empty parts, a trailing dot on the domain, Unicode normalisation, part
 * lengths, and rejecting characters it would silently escape) is added here.
 */
import { PresenceError, PresenceErrorCode } from "./errors.js";
import { makeJid, parseJid } from "./xmpp.js";

const MAX_PART_BYTES = 1023; // RFC 7622 §3.2–§3.4
// RFC 7622 §3.3.1: characters a localpart may not hold (XEP-0106 would escape them; we refuse).
const FORBIDDEN_LOCAL = /[\s"&'/:<>@]/u;
const FORBIDDEN_DOMAIN = /[\s"&'/:<>@\\]/u;
const encoder = new TextEncoder();

function byteLength(s: string): number {
  return encoder.encode(s).length;
}

interface JidParts {
  local: string;
  domain: string;
  resource: string;
}

// RFC 7622 §3.1: the first "/" starts the resource, then the first "@" before it ends the localpart.
function split(address: string): JidParts {
  const slash = address.indexOf("/");
  const head = slash === -1 ? address : address.slice(0, slash);
  const resource = slash === -1 ? "" : address.slice(slash + 1);
  const at = head.indexOf("@");
  return at === -1
    ? { local: "", domain: head, resource }
    : { local: head.slice(0, at), domain: head.slice(at + 1), resource };
}

function normaliseParts(local: string, domain: string): string {
  // RFC 7622 §3.2: strip one trailing dot; §3.2/§3.3 (UsernameCaseMapped): width mapping (NFKC on
  // the compatibility forms), lowercase, NFC. @xmpp/jid lowercases; NFC/NFKC are ours.
  const d = (domain.endsWith(".") ? domain.slice(0, -1) : domain).normalize("NFKC").toLowerCase();
  const l = local.normalize("NFKC").toLowerCase().normalize("NFC");
  return makeJid(l, d).toString();
}

/**
 * Parses a JID given by the app and returns its normalised bare form (`local@domain`).
 * Throws a {@link PresenceError} with code `invalid-jid` for anything RFC 7622 does not allow,
 * rather than letting `@xmpp/jid` escape or drop it.
 *
 * @example
 * ```ts
 * toBareJid("Bob@LocalHost/phone"); // "bob@localhost"
 * toBareJid("not a jid");           // throws PresenceError { code: "invalid-jid" }
 * ```
 */
export function toBareJid(input: unknown): string {
  const fail = (why: string): never => {
    throw new PresenceError(PresenceErrorCode.InvalidJid, `Invalid JID ${JSON.stringify(input)}: ${why}`);
  };
  if (typeof input !== "string") return fail("expected a string");
  const address = input.trim() === input ? input : fail("leading or trailing white space");
  const { local, domain, resource } = split(address);
  if (address.includes("@") && local === "") fail("empty localpart");
  if (address.includes("/") && resource === "") fail("empty resourcepart");
  if (domain === "" || domain === ".") fail("empty domainpart");
  if (FORBIDDEN_LOCAL.test(local)) fail("forbidden character in localpart");
  if (FORBIDDEN_DOMAIN.test(domain)) fail("forbidden character in domainpart");
  const labels = (domain.endsWith(".") ? domain.slice(0, -1) : domain).split(".");
  if (labels.some((label) => label === "")) fail("empty label in domainpart");
  if (byteLength(local) > MAX_PART_BYTES || byteLength(domain) > MAX_PART_BYTES) fail("part longer than 1023 bytes");
  if (byteLength(resource) > MAX_PART_BYTES) fail("resourcepart longer than 1023 bytes");
  if (/[\u0000-\u001f\u007f]/u.test(address)) fail("control character");
  try {
    return normaliseParts(local, domain);
  } catch (cause) {
    throw new PresenceError(PresenceErrorCode.InvalidJid, `Invalid JID ${JSON.stringify(input)}`, { cause });
  }
}

/**
 * The normalised bare form of a JID the *server* sent, or `undefined` when it cannot be
 * parsed. Tolerant on purpose (RFC 7622 §5 interop note): received addresses are compared,
 * not validated, so a server's stringprep output is never rejected.
 */
export function bareKeyOf(address: string | undefined): string | undefined {
  if (address === undefined || address === "") return undefined;
  try {
    const parsed = parseJid(address);
    if (!parsed.domain) return undefined;
    return normaliseParts(parsed.local, parsed.domain);
  } catch {
    return undefined;
  }
}
