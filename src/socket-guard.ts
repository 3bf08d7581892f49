/**
 * Keeps a socket that xmpp.js has let go of from ending the process.
 *
 * xmpp.js 0.14 closes a connection by sending `</stream:stream>`, then ending the socket, and
 * waits `timeout` ms (2000 by default) for each answer. When the server does not answer in time,
 * it removes its listeners from the socket, its `error` listener among them, and leaves the
 * socket half-open. A reset the server sends later (RFC 6120 §4.4 lets it close the TCP
 * connection any way it likes) is then an `error` event with no listener, which Node throws as an
 * uncaught exception: the app dies after it has already stopped the client. A busy Prosody does
 * exactly that: after a 100 000-contact login it answers probes for tens of seconds and then
 * resets the connections it could not close (bench/results.md, eleventh pass).
 *
 * Each socket gets an `error` listener of its own for its whole life (xmpp.js' listener still
 * reports errors while it is attached), and a socket still open when xmpp.js reports the
 * connection gone is destroyed, so nothing arrives on it later.
 */
import type { XmppClientLike } from "./xmpp.js";

interface GuardedSocket {
  on?(event: "error", listener: (error: unknown) => void): unknown;
  /** Node's net.Socket / tls.TLSSocket; the WebSocket transport's wrapper has none. */
  destroy?(): unknown;
  destroyed?: boolean;
}

// Errors after xmpp.js let go of the socket concern a connection the client has given up on.
const ignore = (): void => undefined;

/** Installs the guard on every socket the client opens from now on, reconnections included. */
export function installSocketGuard(xmpp: XmppClientLike): void {
  let current: GuardedSocket | undefined;
  xmpp.on("connect", () => {
    const socket = xmpp.socket as GuardedSocket | null | undefined;
    if (socket == null || socket === current) return;
    current = socket;
    socket.on?.("error", ignore);
  });
  xmpp.on("disconnect", () => {
    const socket = current;
    current = undefined;
    if (socket !== undefined && socket.destroyed === false) socket.destroy?.();
  });
}
