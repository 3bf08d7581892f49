/**
 * React bindings: hooks that read the roster and presence stores with `useSyncExternalStore`,
 * so a component re-renders when, and only when, the snapshot it reads changes.
 *
 * `react` (18 or later) is an optional peer dependency: this entry point is the only one that
 * imports it.
 *
 * @example
 * ```tsx
 * import { useRoster } from "xmpp-presence/react";
 *
 * function Contacts({ client }: { client: PresenceClient }) {
 *   const { entries } = useRoster(client);
 *   return <ul>{[...entries.values()].map((e) => <li key={e.jid}>{e.jid}: {e.state}</li>)}</ul>;
 * }
 * ```
 *
 * @packageDocumentation
 */
import { useCallback, useSyncExternalStore } from "react";
import type { ResourcePresence } from "./presence/model.js";
import type { PresenceSnapshot, PresenceStore } from "./presence/store.js";
import type { RosterSnapshot, RosterStore } from "./roster/store.js";

/**
 * What the hooks need of a client: its two stores. A `PresenceClient` fits, and so does a fake
 * in an app's tests.
 */
export interface StoresLike {
  /** `client.roster`: only its read side is used. */
  readonly roster: Pick<RosterStore, "listen" | "getSnapshot">;
  /** `client.presence`: only its read side is used. */
  readonly presence: Pick<PresenceStore, "listen" | "getSnapshot" | "best">;
}

/**
 * The roster snapshot of `client` (contacts, pending requests, blocklist, `ready`). The same
 * object between changes, so it is safe to use in dependency arrays and `memo` comparisons.
 *
 * @example
 * ```tsx
 * const { entries, requests, ready } = useRoster(client);
 * ```
 */
export function useRoster(client: Pick<StoresLike, "roster">): RosterSnapshot {
  const { listen, getSnapshot } = client.roster;
  return useSyncExternalStore(listen, getSnapshot, getSnapshot);
}

/**
 * The presence snapshot of `client`: per-resource presence of contacts, other entities and our
 * own other resources.
 *
 * @example
 * ```tsx
 * const { contacts } = usePresence(client);
 * const online = [...contacts.values()].filter((c) => c.available).length;
 * ```
 */
export function usePresence(client: Pick<StoresLike, "presence">): PresenceSnapshot {
  const { listen, getSnapshot } = client.presence;
  return useSyncExternalStore(listen, getSnapshot, getSnapshot);
}

/**
 * The best available resource of one contact (`client.presence.best(jid)`: highest priority,
 * then the most available show), or `undefined` when it is offline or unknown. Re-renders only
 * when that contact's presence changes.
 *
 * @example
 * ```tsx
 * const best = useBestPresence(client, "bob@example.com");
 * return <span>{best ? best.show : "offline"}{best?.status ? `: ${best.status}` : ""}</span>;
 * ```
 */
export function useBestPresence(client: Pick<StoresLike, "presence">, jid: string): ResourcePresence | undefined {
  const { listen, best } = client.presence;
  const get = useCallback(() => best(jid), [best, jid]);
  return useSyncExternalStore(listen, get, get);
}
