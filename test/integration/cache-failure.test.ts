// RFC 6121 §2.6: a cache that could not be written must not claim a version it does not hold.
// A failed save (here: a whole roster refused, as a full localStorage quota refuses it) left the
// previous cache in place, and the pushes that followed were saved on top of it with their
// versions: the next login sent that version, the server answered "current", and the roster
// showed the stale items. Against the project's real server.
import { describe, expect, it } from "vitest";
import { memoryStorage, type PresenceClient, type RosterMutation, type RosterStorage } from "../../src/index.js";
import type { ProsodyAccount } from "../../src/testing/prosody.js";
import { freshAccounts, online, server } from "../support/server.js";

/**
 * A memoryStorage whose next `replace` save rejects once `failNextReplace` is set; with
 * `clearFails`, so does every `clear` (a storage that cannot even be emptied).
 */
function flakyStorage(clearFails: boolean): RosterStorage & { failNextReplace: boolean } {
  const inner = memoryStorage();
  const storage = {
    failNextReplace: false,
    load: inner.load,
    clear: async (account: string) => {
      if (clearFails) throw new Error("clear failed too");
      await inner.clear(account);
    },
    save: async (account: string, mutation: RosterMutation) => {
      if (mutation.kind === "replace" && storage.failNextReplace) {
        storage.failNextReplace = false;
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      }
      await inner.save(account, mutation);
    },
  };
  return storage;
}

function session(account: ProsodyAccount, storage: RosterStorage | undefined, errors: unknown[] = []): Promise<PresenceClient> {
  return online(account, { ...(storage === undefined ? {} : { storage }), errors });
}

const jids = (client: PresenceClient) => [...client.roster.getSnapshot().entries.keys()].sort();

describe("RFC 6121 §2.6 a roster cache that a save failed to update", () => {
  it.each([
    ["is cleared", false],
    ["cannot even be cleared: later pushes are saved without their version", true],
  ])("%s, so the next login fetches the whole roster instead of trusting a stale version", async (_, clearFails) => {
    const [alice] = await freshAccounts(1, "flaky");
    const x = `x-${alice!.username}@${server.domain}`;
    const y = `y-${alice!.username}@${server.domain}`;
    const z = `z-${alice!.username}@${server.domain}`;
    const storage = flakyStorage(clearFails);

    // Session 1 caches a roster holding X.
    const one = await session(alice!, storage);
    await one.roster.add(x);
    await one.flushStorage();
    await one.stop();

    // Elsewhere (no cache), the roster changes: X goes, Y comes.
    const elsewhere = await session(alice!, undefined);
    await elsewhere.roster.remove(x);
    await elsewhere.roster.add(y);
    await elsewhere.stop();

    // Session 2: the server's roster (Y) cannot be cached; then a push (Z) arrives.
    storage.failNextReplace = true;
    const errors: unknown[] = [];
    const two = await session(alice!, storage, errors);
    expect(jids(two)).toEqual([y]);
    await two.roster.add(z);
    await two.flushStorage();
    expect(errors).toHaveLength(clearFails ? 2 : 1); // the failed save (and clear) are reported
    const cached = await storage.load(`${alice!.username}@${server.domain}`);
    // Whatever is cached now must not claim a version: it never held the roster at one.
    expect(cached?.version).toBeUndefined();
    // And once cleared, it no longer holds the stale item to show at the next login.
    if (!clearFails) expect(cached?.items.map((item) => item.jid)).toEqual([z]);
    await two.stop();

    // Session 3 ends with the server's roster, not the stale cache.
    const three = await session(alice!, storage);
    expect(jids(three)).toEqual([y, z].sort());
    expect(three.roster.getSnapshot().source).toBe("server");
  });
});
