/**
 * The browser roster caches (`indexedDbStorage`, `localStorageStorage`) in real Chromium
 * (Debian's `chromium`, driven by playwright-core), under a real client against the test Prosody
 * over WebSocket: a session's pushes (enough new JIDs for the IndexedDB log to fold at least once,
 * a removal and a re-add among them) end up in the browser's storage as the roster the session
 * ended with, and the next session shows that cache before the server answers.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CHROMIUM, pageBundle, servePage } from "../../bench/browser.js";
import { MAX_LOGGED_CHANGES } from "../../src/storage/change-log.js";
import { registerAccounts } from "../../src/testing/prosody.js";
import type { CacheRunOptions, CacheRunResult } from "./cache-page.js";

const prosody = inject("prosody");
const CONTACTS = MAX_LOGGED_CHANGES + 44; // more new JIDs than the log holds: at least one fold

let browser: Browser;
let served: Awaited<ReturnType<typeof servePage>>;

beforeAll(async () => {
  // chat-ui.test.ts installs chromium when it is missing; here it must be there.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`sudo apt-get install -y chromium\``);
  served = await servePage(await pageBundle(fileURLToPath(new URL("./cache-page.ts", import.meta.url))));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  served?.server.close();
});

async function page(): Promise<Page & { errors: string[] }> {
  const tab = Object.assign(await (await browser.newContext()).newPage(), { errors: [] as string[] });
  tab.on("pageerror", (error) => tab.errors.push(error.message));
  await tab.goto(served.url);
  await tab.waitForFunction(() => "cacheRun" in globalThis);
  return tab;
}

describe("browser roster caches in Chromium, against Prosody", () => {
  it.each(["indexeddb", "localstorage"] as const)(
    "%s: a session's pushes are cached as its roster, and the next session shows the cache first",
    async (storage) => {
      const [who] = await registerAccounts(prosody.configPath, 1, { prefix: `cache-${storage}`, domain: prosody.domain });
      if (who === undefined) throw new Error("no account");
      const tab = await page();
      const options: CacheRunOptions = {
        storage,
        service: prosody.websocketService,
        domain: prosody.domain,
        username: who.jid.split("@")[0] as string,
        password: who.password,
        contacts: CONTACTS,
      };
      const result = (await tab.evaluate((o) => (globalThis as unknown as { cacheRun: (o: unknown) => Promise<unknown> }).cacheRun(o), options)) as CacheRunResult;
      expect(tab.errors).toEqual([]);
      // Every fifth contact removed, c0 added back.
      expect(result.first.items).toHaveLength(CONTACTS - Math.ceil(CONTACTS / 5) + 1);
      expect(result.first.items).toContain(`c0@${prosody.domain}|Back again|none`);
      expect(result.cached).toEqual(result.first);
      expect(result.second.firstSource).toBe("cache");
      expect(result.second.items).toEqual(result.first.items);
      expect(result.second.version).toBe(result.first.version);
    },
    90_000,
  );

  it("indexeddb: a database an earlier version left (version 1) is upgraded, its caches dropped", async () => {
    const tab = await page();
    const result = await tab.evaluate(() => (globalThis as unknown as { upgradeRun: () => Promise<unknown> }).upgradeRun());
    expect(tab.errors).toEqual([]);
    expect(result).toEqual({
      before: null, // the old record is not read as a cache
      stores: ["roster-bases", "roster-heads"],
      after: { version: "8", items: [{ jid: "bob@example.org", groups: [], subscription: "both", pendingOut: false, approved: false }], requests: [], preApprovals: [] },
    });
  });
});
