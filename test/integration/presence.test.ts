// RFC 6121 §4 presence against the real Prosody: per-resource presence and the best-resource
// rule, own resources, strangers, and what subscription changes do to presence.
import { describe, expect, it } from "vitest";
import { freshAccounts, online, server } from "../support/server.js";

describe(`RFC 6121 §4 presence on ${server.kind}`, () => {
  it("§4.7.2.3 two resources with different priorities: both tracked, best = highest priority", async () => {
    const [a, b] = await freshAccounts(2, "prio");
    const alice = await online(a!, { autoReply: "all" });
    const bobPhone = await online(b!, { resource: "phone", autoReply: "reverse" });
    await bobPhone.subscribe(a!.jid);
    await expect.poll(() => bobPhone.roster.get(a!.jid)?.subscription).toBe("to");
    await alice.subscribe(b!.jid);
    await expect.poll(() => alice.roster.get(b!.jid)?.subscription).toBe("both");

    await bobPhone.setPresence({ show: "away", status: "on the go", priority: 1 });
    const bobDesk = await online(b!, { resource: "desk", presence: { show: "dnd", priority: 10, status: "focus" } });
    await expect.poll(() => [...(alice.presence.get(b!.jid)?.keys() ?? [])].sort()).toEqual(["desk", "phone"]);
    expect(alice.presence.best(b!.jid)).toMatchObject({ resource: "desk", show: "dnd", priority: 10, status: "focus" });
    expect(alice.presence.getSnapshot().contacts.get(b!.jid)?.available).toBe(true);
    // Bob's two resources see each other as "own", never as a contact (§4.2.2, P-02).
    await expect.poll(() => [...bobPhone.presence.getSnapshot().own.keys()]).toEqual(["desk"]);
    expect(bobPhone.presence.getSnapshot().contacts.has(b!.jid)).toBe(false);

    await bobDesk.setPresence({ priority: -5 });
    await expect.poll(() => alice.presence.best(b!.jid)?.resource).toBe("phone");
    await bobDesk.stop();
    await expect.poll(() => [...(alice.presence.get(b!.jid)?.keys() ?? [])]).toEqual(["phone"]);
    await bobPhone.stop();
    await expect.poll(() => alice.presence.getSnapshot().contacts.get(b!.jid)?.available).toBe(false);
  });

  it("§3.1.3 Prosody's unavailable receipt after subscribe is not presence; §3.3.3 unsubscribe drops presence at once", async () => {
    const [a, b] = await freshAccounts(2, "receipt");
    const alice = await online(a!);
    const bob = await online(b!, { autoReply: "all" });
    await alice.subscribe(b!.jid);
    await expect.poll(() => alice.roster.get(b!.jid)?.subscription).toBe("to");
    await expect.poll(() => alice.presence.getSnapshot().contacts.get(b!.jid)?.available).toBe(true);

    const [c] = await freshAccounts(1, "receipt-c");
    await alice.subscribe(c!.jid); // c is offline: Prosody answers with a bare-JID unavailable
    await new Promise((r) => setTimeout(r, 300));
    expect(alice.presence.get(c!.jid)).toBeUndefined(); // unknown, not "offline"

    await alice.unsubscribe(b!.jid);
    expect(alice.presence.get(b!.jid)).toBeUndefined(); // at once, before any push (S-17)
    await expect.poll(() => alice.roster.get(b!.jid)?.subscription).toBe("none");
    await new Promise((r) => setTimeout(r, 200));
    expect(alice.presence.get(b!.jid)).toBeUndefined();
    expect(bob.online).toBe(true);
  });

  it("§4.6 directed presence from a stranger goes to 'others', never into the roster", async () => {
    const [a, s] = await freshAccounts(2, "stranger");
    const alice = await online(a!);
    const stranger = await online(s!);
    await stranger.sendPresence(a!.jid, { show: "chat", status: "hello" });
    await expect.poll(() => alice.presence.getSnapshot().others.get(s!.jid)?.best?.show).toBe("chat");
    expect(alice.presence.getSnapshot().contacts.has(s!.jid)).toBe(false);
    expect(alice.roster.getSnapshot().entries.size).toBe(0);
    await expect(stranger.sendPresence(a!.jid, { priority: 500 })).rejects.toMatchObject({ code: "invalid-argument" });
  });

  it("§4.5 when we go unavailable, every contact becomes unknown; available again, presence returns", async () => {
    const [a, b] = await freshAccounts(2, "unavail");
    const alice = await online(a!);
    await online(b!, { autoReply: "all" });
    await alice.subscribe(b!.jid);
    await expect.poll(() => alice.presence.getSnapshot().contacts.get(b!.jid)?.available).toBe(true);
    const told: number[] = [];
    alice.presence.listen((s) => void told.push(s.contacts.size));
    await alice.setPresence({ available: false });
    expect(alice.presence.getSnapshot().contacts.size).toBe(0);
    // Listeners are told (within the notification window, if one is open).
    await expect.poll(() => told.at(-1)).toBe(0);
    await alice.setPresence({ show: "chat" });
    await expect.poll(() => alice.presence.getSnapshot().contacts.get(b!.jid)?.available).toBe(true);
  });
});
