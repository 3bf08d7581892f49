// RFC 6121 §2.6 roster versioning across process restarts, with the file cache, on Prosody:
// each login is a separate Node process sharing only the cache file.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { freshAccounts, online, server, stateIn } from "../support/server.js";

const run = promisify(execFile);
const child = fileURLToPath(new URL("./fixtures/cache-session.ts", import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Seen {
  sentVer?: string;
  resultHadQuery?: boolean;
  fromCache?: { source: string; ready: boolean; roster: Record<string, string> };
  source: string;
  version?: string;
  roster: Record<string, string>;
}

async function session(account: { username: string; password: string }, cache: string, subscribeTo?: string): Promise<Seen> {
  const args = ["--import", "tsx", child, server.service, server.domain, account.username, account.password, cache];
  if (subscribeTo) args.push(subscribeTo);
  const { stdout } = await run(process.execPath, args, { timeout: 20_000 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Seen;
}

describe("RFC 6121 §2.6 versioned roster cache across processes (file storage)", () => {
  it("§2.6.2 a new process sends the cached ver; changes made while away arrive; no change gives an empty result", async () => {
    const [a, b] = await freshAccounts(2, "cache");
    const dir = await mkdtemp(join(tmpdir(), "xmpp-presence-cache-"));
    dirs.push(dir);
    const cache = join(dir, "roster.json");
    const bob = await online(b!, { autoReply: "all" });

    // Process 1: empty cache → bootstrap with ver="", subscribe to Bob, who approves.
    const first = await session(a!, cache, b!.jid);
    expect(first.sentVer).toBe("");
    expect(first.roster).toEqual({ [b!.jid]: "to" });
    expect(first.version).toBeDefined();

    // While Alice is away, Bob cancels her subscription: her server roster changes.
    await bob.revoke(a!.jid);
    await expect.poll(() => stateIn(bob, a!.jid)).toBe("None");

    // Process 2: shows the cached roster first, sends the cached ver, gets the change.
    const second = await session(a!, cache);
    expect(second.sentVer).toBe(first.version);
    expect(second.fromCache).toEqual({ source: "cache", ready: false, roster: { [b!.jid]: "to" } });
    expect(second.resultHadQuery).toBe(true); // stale ver: Prosody sends the whole roster
    expect(second.roster).toEqual({ [b!.jid]: "none" });
    expect(second.source).toBe("server");

    // Process 3: nothing changed, so the server confirms the cache (empty result) and the
    // roster still equals what the server holds.
    const third = await session(a!, cache);
    expect(third.sentVer).toBe(second.version);
    expect(third.resultHadQuery).toBe(false); // §2.6.3: "your version is current"
    expect(third.roster).toEqual(second.roster);
    expect(third.version).toBe(second.version);
  });
});
