// xmpp.js 0.14 ships no type declarations. Only src/xmpp.ts imports these modules (and
// src/jid-fast-path.ts, `JID` for its prototype); xmpp.ts re-exposes what the SDK uses through
// the typed interfaces it declares.
declare module "@xmpp/client" {
  export function client(options: Record<string, unknown>): unknown;
}
declare module "@xmpp/debug" {
  export default function debug(entity: unknown, force?: boolean): void;
}
declare module "@xmpp/jid" {
  interface JIDInstance {
    local: string;
    domain: string;
    resource: string;
    bare(): JIDInstance;
    toString(): string;
  }
  export function jid(address: string): JIDInstance;
  export function jid(local: string | null, domain: string, resource?: string | null): JIDInstance;
  export const JID: { new (local: string | null | undefined, domain: string, resource?: string | null): JIDInstance; prototype: object };
}
declare module "@xmpp/xml" {
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: unknown[]): unknown;
}
