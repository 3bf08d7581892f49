// Type-level checks of the public API (checked by `tsc` in `npm test`; the runtime part only
// proves the file ran).
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createPresenceClient,
  type PresenceClient,
  type RosterEntry,
  type RosterSnapshot,
  type SubscriptionRequest,
  type SubscriptionState,
} from "../../src/index.js";
import { FakeXmpp } from "../support/fake-xmpp.js";

describe("public types", () => {
  it("types event payloads, the store and entries", () => {
    const client: PresenceClient = createPresenceClient({ xmpp: new FakeXmpp() });
    client.on("subscription:request", (request) => expectTypeOf(request).toEqualTypeOf<SubscriptionRequest>());
    client.on("subscription:approved", (jid) => expectTypeOf(jid).toBeString());
    client.on("error", (error) => expectTypeOf(error).toEqualTypeOf<Error>());
    // @ts-expect-error -- unknown events are a type error
    client.on("subscription:typo", () => undefined);
    expectTypeOf(client.roster.getSnapshot).returns.toEqualTypeOf<RosterSnapshot>();
    expectTypeOf<RosterSnapshot["entries"]>().toEqualTypeOf<ReadonlyMap<string, RosterEntry>>();
    expectTypeOf<RosterEntry["state"]>().toEqualTypeOf<SubscriptionState>();
    expectTypeOf<RosterEntry["subscription"]>().toEqualTypeOf<"none" | "to" | "from" | "both">();
    expectTypeOf(client.autoReply).parameter(0).toMatchTypeOf<"manual" | "reverse" | "all" | "mutual" | ((...a: never[]) => unknown)>();
    // useSyncExternalStore(subscribe, getSnapshot) shape, with methods usable unbound.
    const { listen, getSnapshot } = client.roster;
    expectTypeOf(listen).toMatchTypeOf<(onStoreChange: () => void) => () => void>();
    expect(getSnapshot().entries.size).toBe(0);
  });
});
