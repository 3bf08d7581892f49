/**
 * xmpp-presence: XMPP presence subscriptions (RFC 6121 §3) and an observable roster that
 * mirrors the server's (RFC 6121 §2), for the browser and Node.js, on xmpp.js.
 *
 * @packageDocumentation
 */
export {
  createPresenceClient,
  PresenceClient,
  type ApproveOptions,
  type ClientOptions,
  type ConnectOptions,
  type DenyOptions,
  type PresenceClientOptions,
  type Roster,
  type SubscribeOptions,
  type WrapOptions,
} from "./client.js";
export { isPresenceError, PresenceError, PresenceErrorCode, type PresenceErrorOptions } from "./errors.js";
export type { AutoReplied, ClientEvents, RejectedPush } from "./events.js";
export { toBareJid } from "./jid.js";
export { bestResource, compareResources, Show, SHOW_ORDER, type ParsedPresence, type ResourcePresence } from "./presence/model.js";
export type { OwnPresence } from "./presence/outbound.js";
export type { ContactPresence, PresenceListener, PresenceSnapshot, PresenceStore } from "./presence/store.js";
export {
  hasFrom,
  hasTo,
  stateOf,
  Subscription,
  SubscriptionState,
  transition,
  type RosterEntry,
  type RosterItem,
  type SubscriptionEvent,
  type SubscriptionFacts,
  type Transition,
} from "./roster/model.js";
export type { RosterEditor, RosterGroups, RosterItemFields } from "./roster/editor.js";
export type {
  ItemChange,
  RosterListener,
  RosterSnapshot,
  RosterStore,
  SubscriptionRequest,
} from "./roster/store.js";
export {
  AutoReplyPolicyName,
  isReverseRequest,
  type AutoReplyDecision,
  type AutoReplyFunction,
  type AutoReplyPolicy,
} from "./subscription/policy.js";
export type { XmlElement, XmppClientLike } from "./xmpp.js";
export {
  applyMutation,
  indexedDbStorage,
  localStorageStorage,
  memoryStorage,
  type CachedRoster,
  type PreApprovalIntent,
  type RosterMutation,
  type RosterStorage,
} from "./storage/index.js";
