/**
 * Machine-readable reasons a call can fail. Compare `error.code` with these, not messages.
 *
 * @example
 * ```ts
 * try { await client.subscribe(input); }
 * catch (e) { if (isPresenceError(e) && e.code === PresenceErrorCode.InvalidJid) showFieldError(); }
 * ```
 */
export const PresenceErrorCode = {
  /** The JID argument is not a valid XMPP address (RFC 7622), or is our own. */
  InvalidJid: "invalid-jid",
  /** An argument other than a JID is wrong (bad policy, bad option). */
  InvalidArgument: "invalid-argument",
  /** The call needs a live session: `start()` has not resolved, or the connection is down. */
  NotConnected: "not-connected",
  /** `start()` could not connect or log in; `cause` has the reason (e.g. `not-authorized`). */
  ConnectionFailed: "connection-failed",
  /** The client was stopped, or `start()` was called twice. */
  InvalidState: "invalid-state",
  /** The server answered with a stanza error; `condition` says which (RFC 6120 §8.3.3). */
  StanzaError: "stanza-error",
  /** The server does not offer what the call needs (e.g. pre-approval, RFC 6121 §3.4). */
  FeatureNotSupported: "feature-not-supported",
  /** A reply came from an address that may not answer it (IQ reply spoofing). */
  SpoofedReply: "spoofed-reply",
  /** The server broke the XML stream rules (restricted XML, malformed or oversized data); the stream was closed. */
  ProtocolViolation: "protocol-violation",
  /** The runtime lacks something the call needs (e.g. `WebSocket` on Node 20). */
  UnsupportedEnvironment: "unsupported-environment",
} as const;
/** One of the {@link PresenceErrorCode} values. */
export type PresenceErrorCode = (typeof PresenceErrorCode)[keyof typeof PresenceErrorCode];

/** Options of {@link PresenceError}. */
export interface PresenceErrorOptions {
  cause?: unknown;
  /** The stanza error condition (RFC 6120 §8.3.3), e.g. `"item-not-found"`. */
  condition?: string;
  /** The JID the failed call was about, when there is one. */
  jid?: string;
}

/**
 * The one error type the SDK throws or emits. `code` says what went wrong;
 * `cause` keeps the underlying error.
 */
export class PresenceError extends Error {
  override name = "PresenceError" as const;
  /** What went wrong. */
  readonly code: PresenceErrorCode;
  /** The stanza error condition, for `code === "stanza-error"`. */
  readonly condition: string | undefined;
  /** The JID the call was about. */
  readonly jid: string | undefined;

  constructor(code: PresenceErrorCode, message: string, options: PresenceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.condition = options.condition;
    this.jid = options.jid;
  }
}

/**
 * Tells whether `value` is a {@link PresenceError}, also across realms (iframes, workers,
 * duplicated package copies), where `instanceof` fails.
 *
 * @example
 * ```ts
 * client.on("error", (e) => { if (isPresenceError(e)) console.warn(e.code, e.message); });
 * ```
 */
export function isPresenceError(value: unknown): value is PresenceError {
  if (value instanceof PresenceError) return true;
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { name?: unknown }).name === "PresenceError" &&
    typeof (value as { code?: unknown }).code === "string"
  );
}
