/**
 * Auto-reply policies for inbound subscription requests. RFC 6121 §3.1.4: an interactive client
 * MUST ask the person unless they configured otherwise, so the default is `"manual"`; the others
 * are opt-in and, for `"reverse"`, scoped as XEP-0379 §3.6 and Kaidan#220 teach.
 */
import { hasTo, type RosterEntry } from "../roster/model.js";
import type { SubscriptionRequest } from "../roster/store.js";

/** What to do with one request. `undefined` leaves it pending for the app. */
export type AutoReplyDecision = "approve" | "approve-and-subscribe" | "deny" | undefined;

/** A custom policy: decides per request, may be async. `entry` is the roster entry, if any. */
export type AutoReplyFunction = (
  request: SubscriptionRequest,
  entry: RosterEntry | undefined,
) => AutoReplyDecision | Promise<AutoReplyDecision>;

/** The built-in policies, by name. */
export const AutoReplyPolicyName = {
  /** Leave every request to the app (the default; RFC 6121 §3.1.4). */
  Manual: "manual",
  /** Approve only contacts we subscribed to (`to`/`both`) or asked (pending out). */
  Reverse: "reverse",
  /** Approve everyone (bots). */
  All: "all",
  /** Approve everyone and subscribe back, so every subscription becomes mutual. */
  Mutual: "mutual",
} as const;
/** One of the {@link AutoReplyPolicyName} values. */
export type AutoReplyPolicyName = (typeof AutoReplyPolicyName)[keyof typeof AutoReplyPolicyName];

/** A built-in policy name or a function. */
export type AutoReplyPolicy = AutoReplyPolicyName | AutoReplyFunction;

const NAMES: ReadonlySet<unknown> = new Set(Object.values(AutoReplyPolicyName));

/** True when `value` is a valid {@link AutoReplyPolicy}. */
export function isAutoReplyPolicy(value: unknown): value is AutoReplyPolicy {
  return typeof value === "function" || NAMES.has(value);
}

/**
 * Whether a reverse request is one we invited: we already receive their presence, or we asked
 * for it. An item that merely exists proves nothing: anyone can make the server create one with
 * `subscription="none"` (by approving a request we never sent, or after a denial).
 */
export function isReverseRequest(entry: RosterEntry | undefined): boolean {
  if (entry === undefined) return false;
  return hasTo(entry.subscription) || entry.pendingOut;
}

/** The decision of a built-in policy, or of a function policy (awaited). */
export async function decide(
  policy: AutoReplyPolicy,
  request: SubscriptionRequest,
  entry: RosterEntry | undefined,
): Promise<AutoReplyDecision> {
  switch (policy) {
    case "manual":
      return undefined;
    case "reverse":
      return isReverseRequest(entry) ? "approve" : undefined;
    case "all":
      return "approve";
    case "mutual":
      return "approve-and-subscribe";
    default: {
      const decision = await policy(request, entry);
      if (decision === undefined || decision === "approve" || decision === "approve-and-subscribe" || decision === "deny") {
        return decision;
      }
      throw new TypeError(`autoReply function returned ${JSON.stringify(decision)}; expected "approve", "approve-and-subscribe", "deny" or undefined`);
    }
  }
}
