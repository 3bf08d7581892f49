/**
 * The pure subscription-state model of RFC 6121: roster facts in, Appendix A state out,
 * and the Appendix A transition table. No I/O; the client wires it to the transport.
 */

/** The `subscription` attribute of a roster item (RFC 6121 §2.1.2.5). */
export const Subscription = {
  None: "none",
  To: "to",
  From: "from",
  Both: "both",
} as const;
/** One of the {@link Subscription} values. */
export type Subscription = (typeof Subscription)[keyof typeof Subscription];

/** The nine subscription states of RFC 6121 Appendix A.1, by their RFC names. */
export const SubscriptionState = {
  None: "None",
  NonePendingOut: "None + Pending Out",
  NonePendingIn: "None + Pending In",
  NonePendingOutIn: "None + Pending Out + Pending In",
  To: "To",
  ToPendingIn: "To + Pending In",
  From: "From",
  FromPendingOut: "From + Pending Out",
  Both: "Both",
} as const;
/** One of the {@link SubscriptionState} names. */
export type SubscriptionState = (typeof SubscriptionState)[keyof typeof SubscriptionState];

/** The facts that decide a contact's state: what the server's roster says, plus pending-in. */
export interface SubscriptionFacts {
  subscription: Subscription;
  /** `ask="subscribe"`: our request to them is pending (RFC 6121 §2.1.2.2). */
  pendingOut: boolean;
  /** They asked to see our presence and we have not answered (not in the server roster). */
  pendingIn: boolean;
}

/** A roster item as the server reports it (RFC 6121 §2.1.2). */
export interface RosterItem {
  /** Normalised bare JID: the key of the entry. */
  readonly jid: string;
  readonly name?: string;
  readonly groups: readonly string[];
  readonly subscription: Subscription;
  /** `ask="subscribe"`: our subscription request is pending. */
  readonly pendingOut: boolean;
  /** `approved="true"`: we pre-approved their request (RFC 6121 §3.4). */
  readonly approved: boolean;
}

/** A roster item together with what the SDK knows beyond the server roster. */
export interface RosterEntry extends RosterItem {
  /** They asked to see our presence; we have not answered yet. */
  readonly pendingIn: boolean;
  /** The RFC 6121 Appendix A state name, derived from the facts. */
  readonly state: SubscriptionState;
}

/** True when we receive the contact's presence (`to` or `both`). */
export function hasTo(subscription: Subscription): boolean {
  return subscription === "to" || subscription === "both";
}

/** True when the contact receives our presence (`from` or `both`). */
export function hasFrom(subscription: Subscription): boolean {
  return subscription === "from" || subscription === "both";
}

/**
 * The Appendix A state for a set of facts. Combinations the RFC rules out are folded into the
 * nearest real state: a pending-out request is moot once we are subscribed (`to`/`both`), and a
 * pending-in request once they are (`from`/`both`).
 */
export function stateOf(facts: SubscriptionFacts): SubscriptionState {
  const out = facts.pendingOut && !hasTo(facts.subscription);
  const inn = facts.pendingIn && !hasFrom(facts.subscription);
  switch (facts.subscription) {
    case "both":
      return "Both";
    case "to":
      return inn ? "To + Pending In" : "To";
    case "from":
      return out ? "From + Pending Out" : "From";
    default:
      if (out && inn) return "None + Pending Out + Pending In";
      if (out) return "None + Pending Out";
      if (inn) return "None + Pending In";
      return "None";
  }
}

/** The facts of a state: the inverse of {@link stateOf}. */
export function factsOf(state: SubscriptionState): SubscriptionFacts {
  return STATE_FACTS[state];
}

const STATE_FACTS: Record<SubscriptionState, SubscriptionFacts> = {
  None: { subscription: "none", pendingOut: false, pendingIn: false },
  "None + Pending Out": { subscription: "none", pendingOut: true, pendingIn: false },
  "None + Pending In": { subscription: "none", pendingOut: false, pendingIn: true },
  "None + Pending Out + Pending In": { subscription: "none", pendingOut: true, pendingIn: true },
  To: { subscription: "to", pendingOut: false, pendingIn: false },
  "To + Pending In": { subscription: "to", pendingOut: false, pendingIn: true },
  From: { subscription: "from", pendingOut: false, pendingIn: false },
  "From + Pending Out": { subscription: "from", pendingOut: true, pendingIn: false },
  Both: { subscription: "both", pendingOut: false, pendingIn: false },
};

/** A subscription presence, sent by the user (`out`) or received from the contact (`in`). */
export type SubscriptionEvent =
  | "out:subscribe"
  | "out:unsubscribe"
  | "out:subscribed"
  | "out:unsubscribed"
  | "in:subscribe"
  | "in:unsubscribe"
  | "in:subscribed"
  | "in:unsubscribed";

/** The result of one Appendix A cell. */
export interface Transition {
  /** The state after the event. */
  state: SubscriptionState;
  /**
   * Whether the server routes (`out:*`) or delivers (`in:*`) the stanza. `false` for the
   * "MUST NOT"/"SHOULD NOT" cells: such a stanza is a no-op, and one that arrives anyway is stale.
   */
  routed: boolean;
}

// Appendix A.2 (outbound) and A.3 (inbound) as deltas on the three facts. Every one of the 72
// cells follows from these rules; test/unit/appendix-a.test.ts checks each against the RFC data.
function transitionFacts(f: SubscriptionFacts, event: SubscriptionEvent): { facts: SubscriptionFacts; routed: boolean } {
  const to = hasTo(f.subscription);
  const from = hasFrom(f.subscription);
  const out = f.pendingOut && !to;
  const inn = f.pendingIn && !from;
  const make = (t: boolean, fr: boolean, o: boolean, i: boolean) => ({
    subscription: (t ? (fr ? "both" : "to") : fr ? "from" : "none") as Subscription,
    pendingOut: o && !t,
    pendingIn: i && !fr,
  });
  switch (event) {
    // A.2.1: routed always; adds pending-out unless already subscribed.
    case "out:subscribe":
      return { facts: make(to, from, !to, inn), routed: true };
    // A.2.2: routed always; drops "to" and pending-out.
    case "out:unsubscribe":
      return { facts: make(false, from, false, inn), routed: true };
    // A.2.3: only answers a pending-in request (otherwise it is a pre-approval, or nothing).
    case "out:subscribed":
      return inn ? { facts: make(to, true, out, false), routed: true } : { facts: f, routed: false };
    // A.2.4: cancels "from" or denies pending-in; otherwise not routed.
    case "out:unsubscribed":
      return from || inn ? { facts: make(to, false, out, false), routed: true } : { facts: f, routed: false };
    // A.3.1: delivered only when it creates pending-in.
    case "in:subscribe":
      return !from && !inn ? { facts: make(to, from, out, true), routed: true } : { facts: f, routed: false };
    // A.3.2: delivered only when it withdraws pending-in or cancels "from".
    case "in:unsubscribe":
      return from || inn ? { facts: make(to, false, out, false), routed: true } : { facts: f, routed: false };
    // A.3.3: delivered only when it answers our pending-out request.
    case "in:subscribed":
      return out ? { facts: make(true, from, false, inn), routed: true } : { facts: f, routed: false };
    // A.3.4: delivered only when it denies pending-out or cancels "to".
    case "in:unsubscribed":
      return to || out ? { facts: make(false, from, false, inn), routed: true } : { facts: f, routed: false };
  }
}

/**
 * One cell of RFC 6121 Appendix A: the state after `event` in `state`, and whether the server
 * routes or delivers the stanza. Without pre-approval (A.2.3's "pre-approval" cells are the
 * server's concern).
 *
 * @example
 * ```ts
 * transition("None + Pending Out", "in:subscribed"); // { state: "To", routed: true }
 * transition("None", "in:subscribed");               // { state: "None", routed: false }: stale
 * ```
 */
export function transition(state: SubscriptionState, event: SubscriptionEvent): Transition {
  const { facts, routed } = transitionFacts(factsOf(state), event);
  return { state: stateOf(facts), routed };
}

/** Shared by every entry without groups (most of a large roster): one frozen array, not one each. */
export const NO_GROUPS: readonly string[] = Object.freeze([]);

/**
 * `groups` frozen: as it is when it is (the codec's lists), else a frozen copy (e.g. from a
 * cache an app's storage loaded), leaving the caller's array as it was. Snapshots are immutable
 * all the way down, and sealed-items relies on it. With `shared`, a one-group list is the one
 * frozen list `shared` keeps for that name, as the codec does within a roster result: a 100k
 * cache then holds one list per group name, not one per item.
 */
export function frozenGroups(groups: readonly string[], shared?: Map<string, readonly string[]>): readonly string[] {
  if (Object.isFrozen(groups)) return groups;
  if (groups.length === 0) return NO_GROUPS;
  const only = groups.length === 1 ? groups[0] : undefined;
  if (only === undefined || shared === undefined) return Object.freeze([...groups]);
  let list = shared.get(only);
  if (list === undefined) shared.set(only, (list = Object.freeze([only])));
  return list;
}

/**
 * A frozen roster entry from its facts, built field by field (no spreads): one allocation, on
 * the path that runs once per item of a roster result. `groups` must be frozen (the codec's
 * lists are; see frozenGroups), so that an entry can never change, not even through its groups.
 */
export function rosterEntry(
  jid: string,
  name: string | undefined,
  groups: readonly string[],
  subscription: Subscription,
  pendingOut: boolean,
  approved: boolean,
  pendingIn: boolean,
): RosterEntry {
  const state = stateOf({ subscription, pendingOut, pendingIn });
  return Object.freeze(
    name === undefined
      ? { jid, groups, subscription, pendingOut, approved, pendingIn, state }
      : { jid, name, groups, subscription, pendingOut, approved, pendingIn, state },
  );
}

/** Whether `item` is an entry already (frozen, with its state): one made by {@link rosterEntry}. */
export function isRosterEntry(item: RosterItem): item is RosterEntry {
  return "state" in item && Object.isFrozen(item);
}
