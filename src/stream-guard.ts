/**
 * Guards the inbound XML stream before xmpp.js parses it (RFC 6120 §11; rfc6121-client SEC-07,
 * SEC-08, XJS-06, XJS-07). The parser under xmpp.js (ltx 3.1) silently swallows every stanza
 * after a `<!DOCTYPE`, drops comments and processing instructions without complaint, throws
 * uncaught on an undefined entity, buffers stanzas of any size, and the TCP transport decodes
 * each socket chunk on its own, so a UTF-8 character split across chunks becomes U+FFFD. Here:
 *
 * - restricted XML (comments, PIs other than the XML declaration, DTDs, entity declarations):
 *   stream error `<restricted-xml/>` and disconnect (§11.1);
 * - anything the parser throws on (e.g. `&undefined;`): stream error `<not-well-formed/>` (§11.3);
 * - more than `maxStanzaBytes` without a complete top-level element: `<policy-violation/>`;
 * - bytes decoded as one UTF-8 stream per connection.
 *
 * Works on an `@xmpp/client` 0.14 client; a no-op on anything else (fakes in tests).
 */
import type { XmlElement, XmppClientLike } from "./xmpp.js";

/** Why the guard closed the stream. */
export type StreamViolation = "restricted-xml" | "not-well-formed" | "policy-violation";

interface GuardedConnection {
  _onData?: (data: unknown) => void;
  _streamError?: (condition: string) => Promise<unknown>;
}

// `<!` that does not open a CDATA section, or `<?` that is not the XML declaration.
const RESTRICTED = /<!(?!\[CDATA\[)|<\?(?!xml[\s?])/gu;
// Long enough to hold any token the pattern looks for, lookahead included (`<![CDATA[`).
const TAIL = 9;

/**
 * Where `text` has a restricted token whose lookahead lies wholly inside `text`, or -1. A match
 * in the last TAIL characters may be a CDATA opener or XML declaration cut by the chunk boundary:
 * it is decided with the next chunk, as part of the tail.
 */
function restrictedAt(text: string): number {
  // Every token has a "!" or "?", which most chunks lack. V8 finds one character ~25× faster
  // than a two-character pair (0.2 ms against 5.8 ms for "<!" and "<?" over a 10 MB roster
  // result, bench/results.md), so the regex only runs from just before the first of them.
  const bang = text.indexOf("!");
  const question = text.indexOf("?");
  if (bang === -1 && question === -1) return -1;
  const first = bang === -1 ? question : question === -1 ? bang : Math.min(bang, question);
  RESTRICTED.lastIndex = first === 0 ? 0 : first - 1;
  for (let match = RESTRICTED.exec(text); match !== null; match = RESTRICTED.exec(text)) {
    if (match.index + TAIL <= text.length) return match.index;
  }
  return -1;
}

/** Node's Buffer (whose `toString` decodes UTF-8), as the TCP transport hands its chunks. */
function isNodeBuffer(bytes: Uint8Array): boolean {
  const buffer = (globalThis as { Buffer?: { isBuffer(value: unknown): boolean } }).Buffer;
  return buffer !== undefined && buffer.isBuffer(bytes);
}

/** Installs the guard; `onViolation` hears why a stream was closed. */
export function installStreamGuard(
  xmpp: XmppClientLike,
  maxStanzaBytes: number,
  onViolation: (violation: StreamViolation, detail: string) => void,
): void {
  const connection = xmpp as unknown as GuardedConnection;
  const original = connection._onData;
  if (typeof original !== "function" || typeof connection._streamError !== "function") return;
  const streamError = connection._streamError.bind(xmpp);
  const write = original.bind(xmpp);

  let decoder = new TextDecoder("utf-8");
  let decoding = true; // the next chunk goes through the decoder (the first, or after a cut character)
  let tail = "";
  let pending = 0; // characters since the last complete top-level element
  let closed = false;

  const reset = (): void => {
    decoder = new TextDecoder("utf-8");
    decoding = true;
    tail = "";
    pending = 0;
    closed = false;
  };
  xmpp.on("connect", reset);
  xmpp.prependListener?.("element", (_element: XmlElement) => {
    pending = 0;
  });

  const violate = (violation: StreamViolation, detail: string): void => {
    closed = true;
    onViolation(violation, detail);
    void streamError(violation).catch(() => undefined);
  };

  // One UTF-8 stream per connection. A chunk that starts clean (the decoder holds no partial
  // character) and ends on an ASCII byte (">" nearly always) has no character cut at either
  // end, so Node's Buffer decodes it alone, as xmpp.js would (a third of the decoder's time on a
  // 10 MB roster). The first chunk always goes through the decoder, which drops a byte order mark.
  const decode = (bytes: Uint8Array): string => {
    if (bytes.length === 0) return "";
    const last = bytes[bytes.length - 1] as number;
    if (!decoding && last < 0x80 && isNodeBuffer(bytes)) return (bytes as unknown as { toString(encoding: "utf8"): string }).toString("utf8");
    decoding = last >= 0x80;
    return decoder.decode(bytes, { stream: true });
  };

  // The socket listener of xmpp.js is bound on the first connect, so replacing the method on
  // the instance before start() puts the guard in front of every chunk.
  connection._onData = (data: unknown): void => {
    if (closed) return;
    const text = typeof data === "string" ? data : decode(data as Uint8Array);
    // The chunk is searched as it is, and only its edge together with the previous tail: a
    // concatenation of the whole chunk would be copied (flattened) for the regex on every read.
    // A token starts with "<": without one in the tail, the chunk alone has every match.
    const edge = tail.includes("<") ? tail + text.slice(0, TAIL) : "";
    const inEdge = edge === "" ? -1 : restrictedAt(edge);
    const at = inEdge === -1 ? restrictedAt(text) : -1;
    if (inEdge !== -1 || at !== -1) {
      const found = inEdge !== -1 ? edge.slice(inEdge) : text.slice(at);
      violate("restricted-xml", JSON.stringify(found.slice(0, 20)));
      return;
    }
    tail = text.length >= TAIL ? text.slice(-TAIL) : (tail + text).slice(-TAIL);
    pending += text.length;
    if (pending > maxStanzaBytes) {
      violate("policy-violation", `more than ${maxStanzaBytes} bytes without a complete stanza`);
      return;
    }
    try {
      write(text);
    } catch (error) {
      violate("not-well-formed", error instanceof Error ? error.message : String(error));
    }
  };
}
