/**
 * The hot-path form of {@link bareKeyOf}: roster results, roster pushes and presence floods
 * normalise one JID per item or stanza, and `bareKeyOf` (a full `@xmpp/jid` parse, which scans
 * for XEP-0106 escapes twice, plus Unicode normalisation) was the largest single cost of loading
 * a roster. Nearly every JID a server sends is already in normal form: ASCII, lowercase, nothing
 * to escape, no trailing dot. For those the bare part is the key as it is; anything else goes
 * through `bareKeyOf`, so both always agree (test/unit/bare-key.test.ts checks it).
 */
import { bareKeyOf } from "./jid.js";

// localpart@domain or domain: RFC 7622 characters that no normalisation step changes.
const NORMAL_BARE = /^(?:[a-z0-9_.+=-]+@)?[a-z0-9-]+(?:\.[a-z0-9-]+)*$/;

/**
 * The normalised bare form of a JID the server sent, or `undefined` when it cannot be parsed:
 * the same answer as {@link bareKeyOf}, faster for JIDs already in normal form.
 */
export function bareKey(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const slash = address.indexOf("/");
  const bare = slash === -1 ? address : address.slice(0, slash);
  return NORMAL_BARE.test(bare) ? bare : bareKeyOf(address);
}
