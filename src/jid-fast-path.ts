/**
 * A fast path for `@xmpp/jid` 0.14's local-part handling, which xmpp.js runs for every stanza.
 *
 * xmpp.js' middleware builds two JIDs per stanza it receives (`to` and `from`, in its
 * IncomingContext) and two per stanza it sends. Each `new JID()` calls `setLocal`, which runs
 * XEP-0106 escape detection (`escaping.detect`: ten `replaceAll` passes and a regular-expression
 * search) on the local part. On the bench machine that is about 7 µs per JID: about 15 µs of the
 * 37 µs raw xmpp.js spends per presence stanza in a flood (bench/results.md, issue 6).
 *
 * Detection can only answer "escape" when the local part holds one of the ten characters of
 * XEP-0106 §4.2 (space " & ' / : < > @) or a backslash (which starts every escape sequence). A
 * local part without any of them is stored lowercased, exactly as `setLocal` stores it after
 * detection answers "no"; everything else still goes through xmpp.js' own code.
 *
 * The wrapper is installed once on the shared `JID` prototype, only if that prototype still has
 * the shape it was written for (checked on a probe). It changes no result, only the time taken.
 */
import { JID } from "@xmpp/jid";

/** A local part that escape detection could answer "yes" for (XEP-0106 §4.2, plus `\`). */
const MAY_NEED_ESCAPING = /[ "&'/:<>@\\]/;

/** `JID.prototype.setLocal` as `@xmpp/jid` 0.14 defines it. */
export type SetLocal = (this: { _local?: string | null }, local: unknown, escape?: unknown) => unknown;

/** Marks the wrapper, so that installing twice wraps once. */
const WRAPPED = Symbol("xmpp-presence jid fast path");

/**
 * Wraps `setLocal`: a local part that cannot need escaping is stored without running detection;
 * anything else (escape forced, non-strings, special characters) goes to `original`.
 */
export function withLocalFastPath(original: SetLocal): SetLocal {
  const fast: SetLocal = function setLocal(local, escape) {
    if (!escape && typeof local === "string" && local !== "" && !MAY_NEED_ESCAPING.test(local)) {
      this._local = local.toLowerCase();
      return this;
    }
    return original.call(this, local, escape);
  };
  (fast as unknown as Record<symbol, SetLocal>)[WRAPPED] = original;
  return fast;
}

/** True when `setLocal` stores a plain local part lowercased in `_local`, as 0.14 does. */
function hasKnownShape(setLocal: SetLocal): boolean {
  const probe: { _local?: string | null } = {};
  try {
    return setLocal.call(probe, "AbC") === probe && probe._local === "abc";
  } catch {
    return false;
  }
}

/**
 * Installs the fast path on a `JID` prototype, unless it is there already or `setLocal` is not
 * the one it was written for. Returns whether the prototype now has it.
 */
export function installLocalFastPath(prototype: { setLocal?: SetLocal }): boolean {
  const current = prototype.setLocal;
  if (typeof current !== "function") return false;
  if (WRAPPED in current) return true;
  if (!hasKnownShape(current)) return false;
  prototype.setLocal = withLocalFastPath(current);
  return true;
}

/**
 * Installs the fast path on `@xmpp/jid`'s `JID` class (once per copy of the module; later calls
 * do nothing). Called by `createPresenceClient`.
 */
export function installJidFastPath(): boolean {
  return installLocalFastPath(JID.prototype as { setLocal?: SetLocal });
}
