/**
 * One roster push at a time into the browser roster caches (`indexedDbStorage`,
 * `localStorageStorage`) in headless Chromium: the cost of a push into a large cache against
 * the same push into a small one, as the push target asks of the store (≤ 2×). Diagnostic, not
 * part of `npm run bench`: `node --import tsx bench/storage-push.ts`.
 */
import { fileURLToPath } from "node:url";
import commonjsPlugin from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import { chromium } from "playwright-core";
import { rollup } from "rollup";
import { CHROMIUM, servePage } from "./browser.js";
import type { PushTimes, StorageKind } from "./storage-page.js";
import { transpileTs } from "./transpile.js";

const commonjs = commonjsPlugin as unknown as (typeof commonjsPlugin)["default"];
const PUSHES = Number(process.env["PUSHES"] ?? 50);

async function script(): Promise<string> {
  const build = await rollup({
    input: fileURLToPath(new URL("./storage-page.ts", import.meta.url)),
    logLevel: "silent",
    plugins: [transpileTs(), nodeResolve({ browser: true, preferBuiltins: false }), commonjs()],
  });
  try {
    return (await build.generate({ format: "iife", inlineDynamicImports: true })).output[0].code;
  } finally {
    await build.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

const served = await servePage(await script());
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
