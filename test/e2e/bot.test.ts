/**
 * examples/bot against the test Prosody: its policies, and its answer to a chat message.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { botPolicy, describeRelationship, startBot, type Bot } from "../../examples/bot/bot.js";
import { createPresenceClient, type PresenceClient, type RosterSnapshot, type XmlElement } from "../../src/index.js";
import { registerAccounts, startProsody } from "../../src/testing/prosody.js";
import { xml } from "../../src/xmpp.js";

const prosody = inject("prosody");
const running: Array<Bot | PresenceClient> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop().catch(() => undefined)));
});

async function accounts(prefix: string, n = 1) {
  return registerAccounts(prosody.configPath, n, { prefix, domain: prosody.domain });
}

async function bot(account: { username: string; password: string }, allow?: string[]): Promise<Bot> {
  const lines: string[] = [];
  const started = await startBot({
    service: prosody.service,
    domain: prosody.domain,
    username: account.username,
    password: account.password,
    saslMechanism: "PLAIN",
    log: (line) => lines.push(line),
    ...(allow ? { allow } : {}),
  });
  running.push(started);
  return started;
}

async function user(account: { username: string; password: string }): Promise<PresenceClient> {
  const client = createPresenceClient({
    service: prosody.service,
    domain: prosody.domain,
    username: account.username,
    password: account.password,
    saslMechanism: "PLAIN",
  });
  running.push(client);
  await client.start();
  return client;
}

describe("examples/bot", () => {
  it('approves a request and subscribes back with autoReply("mutual"), then answers a message with the roster state', async () => {
    const [botAccount] = await accounts("bot");
    const [userAccount] = await accounts("user");
    await bot(botAccount!);
    const alice = await user(userAccount!);

    await alice.subscribe(botAccount!.jid);
    // The bot's subscribe-back arrives as a request; approving it makes the subscription mutual.
    await expect.poll(() => alice.roster.getSnapshot().requests.has(botAccount!.jid)).toBe(true);
    await alice.approve(botAccount!.jid);
    await expect.poll(() => alice.roster.get(botAccount!.jid)?.state).toBe("Both");
    await expect.poll(() => alice.presence.best(botAccount!.jid)?.show).toBe("chat");

    const reply = new Promise<string>((resolve) => {
      alice.xmpp.on("stanza", (stanza: XmlElement) => {
        const body = stanza.is("message") ? stanza.getChildText("body") : null;
        if (body) resolve(body);
      });
    });
    await alice.xmpp.send(xml("message", { to: botAccount!.jid, type: "chat" }, xml("body", {}, "hello?")));
    expect(await reply).toContain('You are in my roster as "Both"');
  });

  it("with an allow-list, denies everyone else", async () => {
    const [botAccount] = await accounts("bot");
    const [friend, stranger] = await accounts("user", 2);
    const b = await bot(botAccount!, [friend!.jid]);
    const [f, s] = await Promise.all([user(friend!), user(stranger!)]);
    await Promise.all([f.subscribe(botAccount!.jid), s.subscribe(botAccount!.jid)]);
    await expect.poll(() => f.roster.get(botAccount!.jid)?.state).toBe("To + Pending In");
    await expect.poll(() => s.roster.get(botAccount!.jid)?.state).toBe("None");
    expect(b.client.roster.get(stranger!.jid)).toBeUndefined();
  });

  it("reconnects when the server restarts, and keeps answering requests", async () => {
    const own = await startProsody(); // a server of its own: restarting the shared one would hurt other tests
    try {
      const [botAccount, userAccount] = await own.createAccounts(2, "r");
      const lines: string[] = [];
      const b = await startBot({
        service: own.service,
        domain: own.domain,
        username: botAccount!.username,
        password: botAccount!.password,
        saslMechanism: "PLAIN",
        log: (line) => lines.push(line),
      });
      running.push(b);
      await own.restart();
      await expect.poll(() => lines.some((l) => l.startsWith("connection lost")), { timeout: 10_000 }).toBe(true);
      await expect.poll(() => b.client.online, { timeout: 10_000 }).toBe(true);

      const alice = createPresenceClient({
        service: own.service,
        domain: own.domain,
        username: userAccount!.username,
        password: userAccount!.password,
        saslMechanism: "PLAIN",
      });
      running.push(alice);
      await alice.start();
      await alice.subscribe(botAccount!.jid);
      await expect.poll(() => alice.roster.get(botAccount!.jid)?.state).toBe("To + Pending In");
    } finally {
      await Promise.all(running.splice(0).map((c) => c.stop().catch(() => undefined)));
      await own.stop();
    }
  }, 30_000);

  it("describes a relationship in its answer; allow-list patterns match whole JIDs or a domain", () => {
    const policy = botPolicy(["*@example.com", "bob@example.net"]);
    expect(botPolicy()).toBe("mutual");
    expect(typeof policy).toBe("function");
    const decide = policy as Exclude<typeof policy, string>;
    const request = (from: string) => ({ from, receivedAt: 0 });
    expect(decide(request("ann@example.com"), undefined)).toBe("approve-and-subscribe");
    expect(decide(request("bob@example.net"), undefined)).toBe("approve-and-subscribe");
    expect(decide(request("eve@notexample.com"), undefined)).toBe("deny");
    expect(decide(request("bob@example.net.evil"), undefined)).toBe("deny");
    const empty: RosterSnapshot = {
      ready: true,
      source: "server",
      entries: new Map(),
      requests: new Map(),
      blocked: new Set<string>(),
      preApprovals: new Map(),
    };
    expect(describeRelationship(empty, "x@example.com")).toMatch(/not in my roster.*0 contact/);
  });
});
