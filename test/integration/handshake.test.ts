// The RFC 6121 §3 subscription handshake, end to end, against the real Prosody of global-setup.
import { describe, expect, it } from "vitest";
import { freshAccounts, localRoster, newSession, onEjabberd, online, record, serverRoster, stateIn, server } from "../support/server.js";

describe(`RFC 6121 §3 subscription handshake on ${server.kind}`, () => {
  it("§3.1 seed scenario: subscribe, approve, subscribe back, 'reverse' auto-approves, both end in Both", async () => {
    const [a, b] = await freshAccounts(2, "seed");
    const alice = await online(a!, { autoReply: "reverse" });
    const bob = await online(b!);
    const aliceSaw = record(alice);
    const bobSaw = record(bob);

    await alice.subscribe(b!.jid, { status: "Hi Bob, it's Alice" });
    await expect.poll(() => stateIn(alice, b!.jid)).toBe("None + Pending Out");
    await expect.poll(() => bobSaw["subscription:request"]?.length).toBe(1);
    expect(bobSaw["subscription:request"]![0]![0]).toMatchObject({ from: a!.jid, status: "Hi Bob, it's Alice" });
    expect(bob.roster.getSnapshot().requests.has(a!.jid)).toBe(true);

    await bob.approve(a!.jid);
    await expect.poll(() => stateIn(alice, b!.jid)).toBe("To");
    await expect.poll(() => stateIn(bob, a!.jid)).toBe("From");
    expect(aliceSaw["subscription:approved"]).toEqual([[b!.jid]]);
    expect(bob.roster.getSnapshot().requests.size).toBe(0);

    await bob.subscribe(a!.jid);
    await expect.poll(() => stateIn(alice, b!.jid)).toBe("Both");
    await expect.poll(() => stateIn(bob, a!.jid)).toBe("Both");
    expect(aliceSaw["subscription:auto-reply"]).toEqual([[{ jid: b!.jid, decision: "approve" }]]);
    await expect.poll(() => bobSaw["subscription:approved"]).toEqual([[a!.jid]]);
    expect(alice.roster.getSnapshot().requests.size).toBe(0);

    // §2.1.4: the mirror equals what the server says now.
    expect(localRoster(alice)).toEqual(await serverRoster(alice));
    expect(localRoster(bob)).toEqual(await serverRoster(bob));
    expect(localRoster(alice)).toEqual({ [b!.jid]: "both||" });
  });

  it("§3.2 denying a request: the requester sees 'denied' and ends in None, the roster item stays", async () => {
    const [a, b] = await freshAccounts(2, "deny");
    const alice = await online(a!);
    const bob = await online(b!);
    const aliceSaw = record(alice);

    await alice.subscribe(b!.jid);
    await expect.poll(() => bob.roster.getSnapshot().requests.has(a!.jid)).toBe(true);
    await bob.deny(a!.jid);
    await expect.poll(() => aliceSaw["subscription:denied"]).toEqual([[b!.jid]]);
    expect(stateIn(alice, b!.jid)).toBe("None");
    expect(bob.roster.getSnapshot().requests.size).toBe(0);
    expect(stateIn(bob, a!.jid)).toBe("-"); // §3.1.3: no item is created for a denied requester
    expect(localRoster(alice)).toEqual(await serverRoster(alice));
    expect(localRoster(bob)).toEqual(await serverRoster(bob));
  });

  it("§3.3 unsubscribing and §3.2.1 revoking from Both: each side sees the right event and state", async () => {
    const [a, b] = await freshAccounts(2, "unsub");
    const alice = await online(a!, { autoReply: "mutual" });
    const bob = await online(b!, { autoReply: "reverse" });
    await alice.subscribe(b!.jid);
    await expect.poll(() => bob.roster.getSnapshot().requests.has(a!.jid)).toBe(true);
    await bob.approve(a!.jid, { subscribeBack: true });
    await expect.poll(() => [stateIn(alice, b!.jid), stateIn(bob, a!.jid)]).toEqual(["Both", "Both"]);

    const aliceSaw = record(alice);
    const bobSaw = record(bob);
    // Alice stops receiving Bob's presence: Bob learns that Alice no longer receives his.
    await alice.unsubscribe(b!.jid);
    await expect.poll(() => [stateIn(alice, b!.jid), stateIn(bob, a!.jid)]).toEqual(["From", "To"]);
    await expect.poll(() => bobSaw["subscription:unsubscribed"]).toEqual([[a!.jid]]);
    expect(aliceSaw["subscription:denied"]).toBeUndefined(); // our own unsubscribe is not a denial

    // Alice revokes Bob's subscription to her: for Bob, that is "denied" (cancelled).
    await alice.revoke(b!.jid);
    await expect.poll(() => [stateIn(alice, b!.jid), stateIn(bob, a!.jid)]).toEqual(["None", "None"]);
    await expect.poll(() => bobSaw["subscription:denied"]).toEqual([[a!.jid]]);
    expect(aliceSaw["subscription:unsubscribed"]).toBeUndefined();
    expect(localRoster(alice)).toEqual(await serverRoster(alice));
    expect(localRoster(bob)).toEqual(await serverRoster(bob));
  });

  it("§3.1.3 a request sent while the contact is offline is pending after their start(), once", async () => {
    const [a, b] = await freshAccounts(2, "offline");
    const alice = await online(a!);
    await alice.subscribe(b!.jid);
    await expect.poll(() => stateIn(alice, b!.jid)).toBe("None + Pending Out");

    const bob = await online(b!);
    const bobSaw = record(bob);
    await expect.poll(() => bob.roster.getSnapshot().requests.get(a!.jid)?.from).toBe(a!.jid);
    // A second session of Bob's (another resource) gets it re-delivered, but still one request each.
    const bob2 = await online(b!, { resource: "second" });
    const bob2Saw = record(bob2);
    await expect.poll(() => bob2.roster.getSnapshot().requests.size).toBe(1);
    await alice.subscribe(b!.jid); // a repeated request is not forwarded again, and never duplicates
    await new Promise((r) => setTimeout(r, 300));
    expect(bob.roster.getSnapshot().requests.size).toBe(1);
    expect((bobSaw["subscription:request"] ?? []).length).toBeLessThanOrEqual(1);
    expect((bob2Saw["subscription:request"] ?? []).length).toBeLessThanOrEqual(1);

    // Answering from one resource clears it on the other too (the 'from' push makes it moot).
    await bob.approve(a!.jid);
    await expect.poll(() => bob2.roster.getSnapshot().requests.size).toBe(0);
    await expect.poll(() => stateIn(bob2, a!.jid)).toBe("From");
  });

  it("§3.3 a contact withdrawing an unanswered request clears it (ejabberd: at the next session, S-19)", async () => {
    const [a, b] = await freshAccounts(2, "withdraw");
    const alice = await online(a!);
    const bob = await online(b!, { redeliveryWindowMs: 1000 });
    const bobSaw = record(bob);
    await alice.subscribe(b!.jid);
    await expect.poll(() => bob.roster.getSnapshot().requests.has(a!.jid)).toBe(true);
    await alice.unsubscribe(b!.jid);
    if (onEjabberd) {
      // ejabberd deletes the request without telling Bob (no roster item for Alice on his side);
      // a new session shows it: the request is not delivered again, so it is dropped.
      await new Promise((r) => setTimeout(r, 300));
      expect(bob.roster.getSnapshot().requests.has(a!.jid)).toBe(true);
      await newSession(bob);
    }
    await expect.poll(() => bob.roster.getSnapshot().requests.size).toBe(0);
    expect(bobSaw["subscription:withdrawn"]).toEqual([[a!.jid]]);
    await expect.poll(() => stateIn(alice, b!.jid)).toBe("None");
  });

  it("§3.1.4 'manual' (the default) never answers by itself", async () => {
    const [a, b] = await freshAccounts(2, "manual");
    const alice = await online(a!);
    const bob = await online(b!);
    await alice.subscribe(b!.jid);
    await expect.poll(() => bob.roster.getSnapshot().requests.size).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(stateIn(alice, b!.jid)).toBe("None + Pending Out");
    expect(bob.roster.getSnapshot().requests.size).toBe(1);
    // Turning a policy on applies it to what is already pending.
    bob.autoReply("all");
    await expect.poll(() => stateIn(alice, b!.jid)).toBe("To");
  });

  it("'reverse' does not approve a stranger whose item merely exists with subscription none", async () => {
    const [a, b] = await freshAccounts(2, "stranger");
    const alice = await online(a!, { autoReply: "reverse" });
    const bob = await online(b!);
    // Alice denies Bob once: Bob's roster keeps an item for Alice with subscription none and no ask...
    await bob.subscribe(a!.jid);
    await expect.poll(() => alice.roster.getSnapshot().requests.has(b!.jid)).toBe(true);
    // 'reverse' left the unsolicited request pending: Alice has neither 'to' nor an own request.
    await new Promise((r) => setTimeout(r, 300));
    expect(alice.roster.getSnapshot().requests.has(b!.jid)).toBe(true);
    expect(stateIn(bob, a!.jid)).toBe("None + Pending Out");
  });
});
