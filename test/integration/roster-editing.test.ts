// RFC 6121 §2.3–§2.5 roster editing against the real Prosody.
import { describe, expect, it } from "vitest";
import { freshAccounts, localRoster, online, server, serverRoster, stateIn } from "../support/server.js";

describe(`RFC 6121 §2.3–2.5 roster editing on ${server.kind}`, () => {
  it("§2.3 add, §2.4 update (read-modify-write keeps what is not given), move and rename groups", async () => {
    const [a, b, c] = await freshAccounts(3, "edit");
    const alice = await online(a!);
    const sets: string[] = [];
    alice.xmpp.on("send", (el: { name: string; toString(): string; attrs: Record<string, string> }) => {
      if (el.name === "iq" && el.attrs["type"] === "set") sets.push(el.toString());
    });

    await alice.roster.add(b!.jid, { name: "Bob", groups: ["Friends", "Friends", " ", "Work"] });
    expect(alice.roster.get(b!.jid)).toMatchObject({ name: "Bob", subscription: "none", state: "None" });
    expect([...alice.roster.get(b!.jid)!.groups].sort()).toEqual(["Friends", "Work"]); // a set: servers reorder
    await alice.roster.add(c!.jid);
    await alice.roster.update(b!.jid, { name: "Robert" });
    expect(alice.roster.get(b!.jid)?.name).toBe("Robert");
    expect([...alice.roster.get(b!.jid)!.groups].sort()).toEqual(["Friends", "Work"]);
    await alice.roster.update(b!.jid, { groups: ["Family"] });
    expect(alice.roster.get(b!.jid)).toMatchObject({ name: "Robert", groups: ["Family"] });
    await alice.roster.move(c!.jid, undefined, "Family");
    await alice.roster.renameGroup("Family", "Kin");
    const { groups, ungrouped } = alice.roster.groups();
    expect([...groups.keys()]).toEqual(["Kin"]);
    expect(groups.get("Kin")!.map((e) => e.jid).sort()).toEqual([b!.jid, c!.jid].sort());
    expect(ungrouped).toEqual([]);
    expect(alice.roster.groups()).toBe(alice.roster.groups()); // derived once per snapshot

    // §2.1.2.1–2: never ask or approved in a set; §2.1.5: one item each.
    expect(sets.some((s) => / ask=| approved=/.test(s))).toBe(false);
    expect(sets.every((s) => (s.match(/<item /g) ?? []).length === 1)).toBe(true);
    expect(localRoster(alice)).toEqual(await serverRoster(alice));
  });

  it("§2.5 remove cancels the subscriptions both ways; removing what is not there succeeds", async () => {
    const [a, b] = await freshAccounts(2, "remove");
    const alice = await online(a!, { autoReply: "mutual" });
    const bob = await online(b!, { autoReply: "reverse" });
    await alice.subscribe(b!.jid);
    await expect.poll(() => bob.roster.getSnapshot().requests.size).toBe(1);
    await bob.approve(a!.jid, { subscribeBack: true });
    await expect.poll(() => [stateIn(alice, b!.jid), stateIn(bob, a!.jid)]).toEqual(["Both", "Both"]);

    await alice.roster.remove(b!.jid);
    expect(alice.roster.get(b!.jid)).toBeUndefined();
    await expect.poll(() => stateIn(bob, a!.jid)).toBe("None");
    await alice.roster.remove(b!.jid); // §2.5.3: idempotent
    await alice.roster.remove("nobody@localhost");
    expect(localRoster(alice)).toEqual(await serverRoster(alice));
    expect(localRoster(bob)).toEqual(await serverRoster(bob));
  });

  it("§2.3.3 refuses our own JID and bad input locally, and maps server errors to typed errors", async () => {
    const [a] = await freshAccounts(1, "editerr");
    const alice = await online(a!);
    await expect(alice.roster.add(a!.jid)).rejects.toMatchObject({ code: "invalid-jid" });
    await expect(alice.roster.add("not a jid")).rejects.toMatchObject({ code: "invalid-jid" });
    await expect(alice.roster.add("x@localhost", { groups: "Friends" as never })).rejects.toMatchObject({ code: "invalid-argument" });
    await expect(alice.roster.update("ghost@localhost", { name: "G" })).rejects.toMatchObject({ code: "stanza-error", condition: "item-not-found" });
    // Prosody refuses a roster item for our own bare JID (§2.3.3 not-allowed) when asked directly;
    // ejabberd accepts it. The SDK refuses it locally on both.
    const { xml } = await import("../../src/xmpp.js");
    const own = xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: a!.jid })));
    const error = await alice.xmpp.iqCaller.request(own).catch((e: { condition?: string }) => e);
    expect((error as { condition?: string }).condition).toBe(server.kind === "ejabberd" ? undefined : "not-allowed");
  });
});
