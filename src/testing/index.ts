/**
 * `xmpp-presence/testing` (Node only): throw-away Prosody and ejabberd servers on loopback, for
 * testing an app against real servers the way this SDK tests itself.
 *
 * @packageDocumentation
 */
export * from "./prosody.js";
export * from "./ejabberd.js";
export * from "./server.js";
