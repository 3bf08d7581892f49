/**
 * One roster push at a time into the roster caches: the browser ones (`indexedDbStorage`,
 * `localStorageStorage`) in headless Chromium, then `fileStorage` and `memoryStorage` in this
 * Node process. The cost of a push into a large cache against the same push into a small one,
 * as the push target asks of the store (≤ 2×). Diagnostic, not part of `npm run bench`:
 * `node --import tsx bench/storage-push.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM, pageBundle, servePage } from "./browser.js";
import type { PushTimes, StorageKind } from "./storage-page.js";
import { fileStorage } from "../src/storage/file.js";
import { memoryStorage } from "../src/storage/memory.js";
import type { RosterItem } from "../src/roster/model.js";
import type { RosterStorage } from "../src/storage/types.js";

const PUSHES = Number(process.env["PUSHES"] ?? 50);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

const served = await servePage(await pageBundle(fileURLToPath(new URL("./storage-page.ts", import.meta.url))));
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(served.url);
  const cases: Array<[StorageKind, number[]]> = [
    ["indexeddb", [100, 10_000, 100_000]],
    ["localstorage", [100, 10_000]], // 100k items are ~13 MB of JSON: over localStorage's quota
  ];
  for (const [kind, sizes] of cases) {
    let small: number | undefined;
    for (const size of sizes) {
      const times = (await page.evaluate(
        ([k, n, p]) => (globalThis as unknown as { storagePush: (k: string, n: number, p: number) => Promise<unknown> }).storagePush(k, n, p),
        [kind, size, PUSHES] as const,
      )) as PushTimes;
      const push = median(times.pushMs.slice(5)); // the first few warm up
      small ??= push;
      console.log(
        `${kind.padEnd(12)} ${String(size).padStart(6)} items: replace ${times.replaceMs.toFixed(1)} ms, one push median ${push.toFixed(2)} ms ` +
          `(min ${Math.min(...times.pushMs).toFixed(2)}, ${(push / small).toFixed(1)}× the push into ${sizes[0]}), load ${times.loadMs.toFixed(1)} ms`,
      );
    }
  }
} finally {
  await browser.close();
  served.server.close();
}

// The Node caches, the same way (bench/storage-page.ts does it in the page).
function item(i: number, name: string): RosterItem {
  return { jid: `contact${i}@example.org`, name, groups: i % 3 === 0 ? [] : ["Friends"], subscription: "both", pendingOut: false, approved: false };
}
for (const kind of ["file", "memory"] as const) {
  let small: number | undefined;
  for (const size of [100, 10_000, 100_000]) {
    const dir = mkdtempSync(join(tmpdir(), "xmpp-presence-bench-"));
    const storage: RosterStorage = kind === "file" ? fileStorage(join(dir, "roster.json")) : memoryStorage();
    let start = performance.now();
    await storage.save("bench@localhost", { kind: "replace", roster: { version: "1", items: Array.from({ length: size }, (_, i) => item(i, `Contact ${i}`)), requests: [], preApprovals: [] } });
    const replaceMs = performance.now() - start;
    const pushMs: number[] = [];
    for (let p = 0; p < PUSHES; p++) {
      const i = (p * 7919) % size;
      start = performance.now();
      await storage.save("bench@localhost", { kind: "item", jid: `contact${i}@example.org`, item: item(i, `Renamed ${p}`), version: String(p + 2) });
      pushMs.push(performance.now() - start);
    }
    rmSync(dir, { recursive: true, force: true });
    const push = median(pushMs.slice(5));
    small ??= push;
    console.log(
      `${`${kind}Storage`.padEnd(13)} ${String(size).padStart(6)} items: replace ${replaceMs.toFixed(1)} ms, one push median ${push.toFixed(2)} ms ` +
        `(min ${Math.min(...pushMs).toFixed(2)}, ${(push / small).toFixed(1)}× the push into 100)`,
    );
  }
}
