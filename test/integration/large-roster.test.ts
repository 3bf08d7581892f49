// A large roster on a real server (issue 6: the SDK stays exact and cheap at roster scale). The
// roster is put straight into the server's storage (XmppTestServer.seedRoster: a file write on
// Prosody, Mnesia records on ejabberd), then the SDK logs in and must mirror it item by item; a
// change must reach the mirror without copying the other entries, and a new session with the
// cached version must not download the roster again (RFC 6121 §2.6).
//
// The test starts a server of its own, of the project's kind: a 10 000-contact login keeps the
// server busy for a second or more (the roster result, then our presence to every contact and the
// probes; all of it on Prosody's single thread), and the project's shared server would make other
// test files' logins time out meanwhile.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PresenceClient, RosterEntry } from "../../src/index.js";
import { startTestServer, type SeedRosterItem, type XmppTestAccount, type XmppTestServer } from "../../src/testing/server.js";
import { NS_ROSTER } from "../../src/roster/codec.js";
import { ownServerClients } from "../support/own-server-clients.js";
import { localRoster, newSession, server, serverRoster } from "../support/server.js";

const SIZE = 10_000;
// Every kind, but mostly "none": each "to"/"both" item costs the server a probe at every login, and
// each "from"/"both" one a presence at every login and logout.
const SUBSCRIPTIONS = ["both", "to", "from", ...Array<"none">(17).fill("none")] as const;
const GROUPS = ["Friends", "Work", "Family & Co", "Ünïcödé", "<tags>"];

/** A varied roster: every subscription, names with markup characters, 0–3 groups, pending requests. */
function seedItems(prefix: string): SeedRosterItem[] {
  return Array.from({ length: SIZE }, (_, i) => {
    const subscription = SUBSCRIPTIONS[i % SUBSCRIPTIONS.length]!;
    const item: SeedRosterItem = {
      jid: `${prefix}${i}@${server.domain}`,
      subscription,
      groups: Array.from({ length: i % 4 }, (_, g) => GROUPS[(i + g) % GROUPS.length] as string),
    };
    if (i % 7 !== 0) item.name = i % 11 === 0 ? `Ann "${i}" \\ <&> ☃` : `Contact ${i}`;
    if ((subscription === "none" || subscription === "from") && i % 3 === 0) item.pendingOut = true;
    return item;
  });
}

let own: XmppTestServer | undefined;
beforeAll(async () => {
  own = await startTestServer(server.kind, { domain: server.domain });
}, 120_000);
afterAll(async () => {
  await own?.stop();
});

const clients = ownServerClients(() => own!);
afterEach(async () => {
  await clients.stopAll();
  expect(clients.errors.splice(0)).toEqual([]);
});

/** A fresh account with `items` as its roster. */
async function seeded(items: readonly SeedRosterItem[]): Promise<XmppTestAccount> {
  const [account] = await own!.createAccounts(1, "big");
  await own!.seedRoster(account!.username, items);
  return account!;
}

/** A started client; the server may still be busy with an earlier login (a 15 s timeout). */
function online(account: XmppTestAccount, websocket = false): Promise<PresenceClient> {
  return clients.online(account, websocket ? "ws" : "tcp", websocket);
}

function expectMirrors(entry: RosterEntry | undefined, item: SeedRosterItem): void {
  expect(entry, item.jid).toBeDefined();
  expect({
    jid: entry?.jid,
    name: entry?.name,
    groups: [...(entry?.groups ?? [])].sort(),
    subscription: entry?.subscription,
    pendingOut: entry?.pendingOut,
  }).toEqual({
    jid: item.jid,
    name: item.name,
    groups: [...(item.groups ?? [])].sort(),
    subscription: item.subscription,
    pendingOut: item.pendingOut ?? false,
  });
}

type Stanza = { name: string; attrs: Record<string, string | undefined>; getChild(name: string, ns: string): { children: unknown[] } | undefined };

/** Items in the result of each roster get the client sends from now on (0 for an empty result). */
function countResultItems(client: PresenceClient): number[] {
  const counts: number[] = [];
  const asked = new Set<string | undefined>();
  client.xmpp.on("send", (stanza: Stanza) => {
    if (stanza.name === "iq" && stanza.attrs["type"] === "get" && stanza.getChild("query", NS_ROSTER)) asked.add(stanza.attrs["id"]);
  });
  client.xmpp.on("stanza", (stanza: Stanza) => {
    if (stanza.name !== "iq" || stanza.attrs["type"] !== "result" || !asked.has(stanza.attrs["id"])) return;
    counts.push(stanza.getChild("query", NS_ROSTER)?.children.filter((child) => typeof child !== "string").length ?? 0);
  });
  return counts;
}

describe(`a ${SIZE}-item roster on ${server.kind}`, () => {
  it("is mirrored item by item over TCP and WebSocket, and groups() partitions it", async () => {
    const items = seedItems("m");
    const account = await seeded(items);
    const tcp = await online(account);
    const snapshot = tcp.roster.getSnapshot();
    expect(snapshot.ready).toBe(true);
    expect(snapshot.entries.size).toBe(SIZE);
    for (const item of items) expectMirrors(snapshot.entries.get(item.jid), item);

    const { groups, ungrouped } = tcp.roster.groups();
    for (const name of GROUPS) {
      const expected = items.filter((item) => item.groups?.includes(name)).map((item) => item.jid).sort();
      expect(groups.get(name)?.map((entry) => entry.jid) ?? [], name).toEqual(expected);
    }
    expect(ungrouped.length).toBe(items.filter((item) => (item.groups ?? []).length === 0).length);

    // A second resource over WebSocket gets the same roster.
    const ws = await online(account, true);
    expect(localRoster(ws)).toEqual(localRoster(tcp));
  }, 120_000);

  it("a change reaches the mirror without touching the other entries; a new session does not download the roster again", async () => {
    const items = seedItems("c");
    const client = await online(await seeded(items));
    const before = client.roster.getSnapshot();
    const removed = items[1]!.jid;
    const renamed = items[2]!.jid;
    const added = `new-contact@${server.domain}`;

    await client.roster.remove(removed);
    await client.roster.update(renamed, { name: "Renamed" });
    await client.roster.add(added, { name: "New", groups: ["Friends"] });
    await expect.poll(() => client.roster.get(added)?.name, { timeout: 10_000 }).toBe("New");
    await expect.poll(() => client.roster.get(removed), { timeout: 10_000 }).toBeUndefined();
    await expect.poll(() => client.roster.get(renamed)?.name, { timeout: 10_000 }).toBe("Renamed");

    const after = client.roster.getSnapshot();
    expect(after.entries.size).toBe(SIZE);
    expect(before.entries.get(removed)).toBeDefined(); // the earlier snapshot is unchanged
    expect(before.entries.size).toBe(SIZE);
    let same = 0;
    for (const item of items) if (after.entries.get(item.jid) === before.entries.get(item.jid)) same++;
    expect(same).toBe(SIZE - 2); // every entry but the two changed is the very same object
    expect(localRoster(client)).toEqual(await serverRoster(client));

    // RFC 6121 §2.6.3: with the version cached, the server answers the roster get of the next
    // session with no items (empty result, or one push per change since).
    const counts = countResultItems(client);
    await newSession(client);
    await expect.poll(() => counts.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(counts).toEqual([0]);
    expect(client.roster.getSnapshot().entries.size).toBe(SIZE);
    expect(localRoster(client)).toEqual(await serverRoster(client));
  }, 120_000);
});
