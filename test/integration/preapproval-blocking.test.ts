// RFC 6121 §3.4 pre-approval and XEP-0191 blocking, against the real Prosody.
import { describe, expect, it } from "vitest";
import { xml } from "../../src/xmpp.js";
import { freshAccounts, onEjabberd, online, record, stateIn, server } from "../support/server.js";

describe(`RFC 6121 §3.4 pre-approval on ${server.kind}`, () => {
  it("§3.4 subscribe({ preApprove }) + a 'mutual' peer: both in Both, with no request ever shown to us", async () => {
    const [a, b] = await freshAccounts(2, "preapp");
    const alice = await online(a!);
    expect(alice.supportsPreApproval).toBe(!onEjabberd); // ejabberd 23.01 has no pre-approval
    const bob = await online(b!, { autoReply: "mutual" });
    const aliceSaw = record(alice);
    await alice.subscribe(b!.jid, { preApprove: true });
    await expect.poll(() => [stateIn(alice, b!.jid), stateIn(bob, a!.jid)]).toEqual(["Both", "Both"]);
    if (onEjabberd) {
      // No server pre-approval: Bob's request reached Alice's SDK, which approved it itself.
      expect(aliceSaw["subscription:request"]?.map(([r]) => r.from)).toEqual([b!.jid]);
      expect(aliceSaw["subscription:auto-reply"]).toEqual([[{ jid: b!.jid, decision: "approve" }]]);
    } else {
      expect(aliceSaw["subscription:request"]).toBeUndefined(); // the server answered for us
    }
    expect(alice.roster.getSnapshot().preApprovals.size).toBe(0); // fulfilled, so forgotten
  });

  it("§3.4 approve() with no pending request pre-approves; a later roster set keeps it working (Prosody drops it)", async () => {
    const [a, b] = await freshAccounts(2, "preapp2");
    const alice = await online(a!);
    const bob = await online(b!);
    if (onEjabberd) {
      // §3.4.1: without the feature the client MUST NOT send a pre-approval.
      await expect(alice.approve(b!.jid)).rejects.toMatchObject({ code: "feature-not-supported" });
      return;
    }
    await alice.approve(b!.jid);
    await expect.poll(() => alice.roster.get(b!.jid)?.approved).toBe(true);
    expect(alice.roster.getSnapshot().preApprovals.has(b!.jid)).toBe(true);
    await alice.roster.update(b!.jid, { name: "Bob" }); // Prosody forgets `approved` here
    // A round trip on Alice's stream: the server has handled everything she sent before it.
    await alice.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    const aliceSaw = record(alice);
    await bob.subscribe(a!.jid);
    await expect.poll(() => stateIn(bob, a!.jid)).toBe("To");
    expect(stateIn(alice, b!.jid)).toBe("From");
    expect(aliceSaw["subscription:request"]).toBeUndefined();
  });
});

describe(`XEP-0191 blocking on ${server.kind}`, () => {
  it("deny({ block: true }) silences a spam requester; unblock lifts it", async () => {
    const [a, s] = await freshAccounts(2, "block");
    const alice = await online(a!);
    expect(alice.supportsBlocking).toBe(true);
    const spammer = await online(s!);
    await spammer.subscribe(a!.jid, { status: "buy now" });
    await expect.poll(() => alice.roster.getSnapshot().requests.has(s!.jid)).toBe(true);
    await alice.deny(s!.jid, { block: true });
    expect(alice.roster.getSnapshot().blocked.has(s!.jid)).toBe(true);
    expect(alice.roster.getSnapshot().requests.size).toBe(0);

    const aliceSaw = record(alice);
    await spammer.unsubscribe(a!.jid);
    await spammer.subscribe(a!.jid); // the server drops it now
    await new Promise((r) => setTimeout(r, 400));
    expect(aliceSaw["subscription:request"]).toBeUndefined();

    // A second session of Alice's gets the blocklist at start.
    const alice2 = await online(a!, { resource: "second" });
    expect([...alice2.roster.getSnapshot().blocked]).toEqual([s!.jid]);
    await alice.unblock(s!.jid);
    expect(alice.roster.getSnapshot().blocked.size).toBe(0);
    await expect.poll(() => alice2.roster.getSnapshot().blocked.size).toBe(0); // the push reached the other resource
    await spammer.subscribe(a!.jid);
    await expect.poll(() => alice.roster.getSnapshot().requests.has(s!.jid)).toBe(true);
  });
});
