/**
 * A contact's subscription state (RFC 6121 Appendix A, `entry.state`) in words, from the point of
 * view of the signed-in user: "you" are the account, "they" the contact.
 */
import type { RosterEntry, SubscriptionState } from "xmpp-presence";

const WORDS = {
  None: "no subscription either way",
  "None + Pending Out": "you asked to see their presence",
  "None + Pending In": "they asked to see yours",
  "None + Pending Out + Pending In": "you asked to see theirs; they asked to see yours",
  To: "you see their presence",
  "To + Pending In": "you see their presence; they asked to see yours",
  From: "they see your presence",
  "From + Pending Out": "they see yours; you asked to see theirs",
  Both: "you see each other's presence",
} as const satisfies Record<SubscriptionState, string>;

/** The state of `entry` in words, e.g. "you see their presence". */
export function stateInWords(entry: Pick<RosterEntry, "state">): string {
  return WORDS[entry.state];
}
