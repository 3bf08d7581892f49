/**
 * Work-around for an xmpp.js 0.14 stream-management bug (XEP-0198 §4; shared/servers.md):
 * `@xmpp/iq`'s caller consumes `<iq type="result|error">` replies without passing them down the
 * middleware chain, so the stream-management counter never sees them. The client then
 * acknowledges fewer stanzas than it handled: Prosody closes the stream with "Client
 * acknowledged less stanzas than already acknowledged", and servers re-deliver stanzas the
 * client already had. Counting the replies the caller is about to consume fixes the count.
 */
import type { XmlElement, XmppClientLike } from "./xmpp.js";

/**
 * Installs the counter fix on an xmpp.js client. Runs before xmpp.js' own element listener
 * (prepended), while the caller still holds the reply's id. A no-op on clients without
 * stream management or without the caller's handler table (nothing to fix there).
 */
export function countConsumedIqReplies(xmpp: XmppClientLike): void {
  const sm = xmpp.streamManagement;
  const handlers = xmpp.iqCaller.handlers;
  if (sm === undefined || handlers === undefined || typeof xmpp.prependListener !== "function") return;
  xmpp.prependListener("element", (element: XmlElement) => {
    if (element.name !== "iq") return;
    const { type, id } = element.attrs;
    if ((type === "result" || type === "error") && id !== undefined && handlers.has(id) && sm.enabled) {
      sm.inbound += 1;
    }
  });
}
