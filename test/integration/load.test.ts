// Load (bounded, loopback only): one bot with autoReply("mutual") and 200 accounts subscribing to
// it at once. Every pair must reach Both on both sides, and the bot's roster must equal the
// server's. Time and memory are printed for the record (not asserted: see `npm run bench`).
import { describe, expect, it } from "vitest";
import type { PresenceClient } from "../../src/index.js";
import { freshAccounts, localRoster, online, serverRoster, server } from "../support/server.js";

const ACCOUNTS = 200;

describe(`load on ${server.kind}`, () => {
  it(`a 'mutual' bot and ${ACCOUNTS} accounts subscribing concurrently: every pair ends in Both`, async () => {
    const [botAccount, ...accounts] = await freshAccounts(ACCOUNTS + 1, "load");
    const bot = await online(botAccount!, { autoReply: "mutual" });
    const users: PresenceClient[] = [];
    for (let i = 0; i < accounts.length; i += 25) {
      users.push(...(await Promise.all(accounts.slice(i, i + 25).map((a) => online(a, { autoReply: "reverse" })))));
    }
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();

    await Promise.all(users.map((user) => user.subscribe(botAccount!.jid)));
    const allBoth = () =>
      users.every((u) => u.roster.get(botAccount!.jid)?.state === "Both") &&
      accounts.every((a) => bot.roster.get(a.jid)?.state === "Both");
    await expect.poll(allBoth, { timeout: 60_000, interval: 100 }).toBe(true);
    const elapsed = performance.now() - started;
    const heapAfter = process.memoryUsage().heapUsed;

    expect(bot.roster.getSnapshot().entries.size).toBe(ACCOUNTS);
    expect(bot.roster.getSnapshot().requests.size).toBe(0);
    expect(localRoster(bot)).toEqual(await serverRoster(bot));
    console.log(
      `load: ${ACCOUNTS} mutual subscriptions in ${elapsed.toFixed(0)} ms; ` +
        `heap ${(heapBefore / 1048576).toFixed(1)} → ${(heapAfter / 1048576).toFixed(1)} MiB (whole test process, ${ACCOUNTS + 1} clients)`,
    );
  }, 120_000);
});
