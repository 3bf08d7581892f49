/**
 * Work-around for two xmpp.js 0.14 stream-management counting bugs (XEP-0198 §4), both seen
 * against Prosody (shared/servers.md, and this project's integration tests):
 *
 * 1. `@xmpp/iq`'s caller consumes `<iq type="result|error">` replies without passing them down
 *    the middleware chain, so the counter never sees them: the client acknowledges fewer
 *    stanzas than it handled, and the server re-delivers stanzas the client already had.
 * 2. The counter is reset to zero in a promise continuation after `<enabled/>`, not at the
 *    element itself. Stanzas that arrive in the same TCP chunk as `<enabled/>` are counted and
 *    acknowledged first, then forgotten, so a later `<a h/>` goes *down* and Prosody closes the
 *    stream ("Client acknowledged less stanzas than already acknowledged").
 *
 * The fix counts in stream order itself, from a listener that runs before xmpp.js' own: zero at
 * `<enabled/>` (XEP-0198: "set to zero … after receiving … <enabled/>") and at a new session,
 * plus one per handled stanza, IQ replies included. Its value replaces `streamManagement.inbound`,
 * which xmpp.js reads for every `<a/>` and `<resume/>` it sends.
 */
import type { XmlElement, XmppClientLike } from "./xmpp.js";

const NS_SM = "urn:xmpp:sm:3";
const STANZAS: ReadonlySet<string> = new Set(["iq", "presence", "message"]);

/**
 * Installs the counter on an xmpp.js client. A no-op on clients without stream management
 * (fakes, other libraries): there is nothing to fix there.
 */
export function installStreamManagementCounter(xmpp: XmppClientLike): void {
  const sm = xmpp.streamManagement;
  if (sm === undefined || typeof xmpp.prependListener !== "function") return;
  const descriptor = Object.getOwnPropertyDescriptor(sm, "inbound");
  if (descriptor === undefined || !("value" in descriptor)) return; // already installed, or unknown shape
  let handled = typeof descriptor.value === "number" ? descriptor.value : 0;
  Object.defineProperty(sm, "inbound", {
    configurable: true,
    enumerable: true,
    get: () => handled,
    // xmpp.js' own writes (the late reset, `+= 1` for what it sees) are replaced by the count below,
    // except a reset to zero when the session is gone (its "offline" handler).
    set: (value: number) => {
      if (value === 0 && xmpp.status === "offline") handled = 0;
    },
  });
  // Counting runs from <enabled/> (count from zero) or <resumed/> (count goes on) until the
  // connection drops; stanzas before that belong to no stream-management session.
  let counting = false;
  xmpp.prependListener("element", (element: XmlElement) => {
    if (element.attrs["xmlns"] === NS_SM && (element.name === "enabled" || element.name === "resumed")) {
      if (element.name === "enabled") handled = 0;
      counting = true;
    } else if (counting && STANZAS.has(element.name)) {
      handled += 1;
    }
  });
  xmpp.on("disconnect", () => {
    counting = false;
  });
  xmpp.on("offline", () => {
    counting = false;
    handled = 0;
  });
}
