/**
 * Roster load in a real browser: headless Chromium (Debian's `/usr/bin/chromium`, driven by
 * playwright-core) runs raw xmpp.js and xmpp-presence, bundled for the browser as an app would
 * ship them (rollup, the packages' "browser" fields: WebSocket only), against the same replay
 * server and bytes as the Node lanes. Where a roster's size shows first for a user: Converse.js,
 * a browser app, hangs above ~8,000 contacts (converse.js #3294).
 *
 * One page per client, each run a fresh client in it; the two pages take turns run by run (the
 * order rotating), and the page's garbage is collected (untimed) before each run.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import commonjsPlugin from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import replacePlugin from "@rollup/plugin-replace";
import { chromium, type Page } from "playwright-core";
import { rollup } from "rollup";
import type { ReplayServer } from "./replay-server.js";
import { transpileTs } from "./transpile.js";

// Their types describe CommonJS modules under NodeNext, while Node loads their ESM builds.
const commonjs = commonjsPlugin as unknown as (typeof commonjsPlugin)["default"];
const replace = replacePlugin as unknown as (typeof replacePlugin)["default"];

export const CHROMIUM = "/usr/bin/chromium";
const ENTRY = fileURLToPath(new URL("./browser-page.ts", import.meta.url));

export type BrowserKind = "raw" | "sdk";

/**
 * BENCH_PROFILE=DIR: each measured run in Chromium also writes a V8 CPU profile there (taken
 * over the DevTools protocol, as `node --cpu-prof` does for the Node lanes; the same format, so
 * bench/profile-summary.ts reads both). Frames name the page's one bundled script.
 */
const PROFILE_DIR = process.env["BENCH_PROFILE"];

/** One client's timings at one roster size (ms, measured runs only, in run order). */
export interface BrowserTimes {
  kind: BrowserKind;
  rosterSize: number;
  runs: number[];
}

/** bench/browser-page.ts with xmpp.js and the SDK, as one classic script. */
export function pageScript(): Promise<string> {
  return pageBundle(ENTRY);
}

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
/** The package's own names, as the examples import them (tsconfig.json's `paths`), mapped to src/. */
const SELF: Record<string, string> = { "xmpp-presence": `${SRC}index.ts`, "xmpp-presence/react": `${SRC}react.ts` };

/**
 * The TypeScript module `entry` and everything it imports (the SDK, xmpp.js, React for
 * examples/react), bundled for a page as one classic script: WebSocket only, as an app would ship
 * it.
 */
export async function pageBundle(entry: string): Promise<string> {
  const build = await rollup({
    input: entry,
    logLevel: "silent",
    plugins: [
      { name: "self-reference", resolveId: (source: string) => SELF[source] ?? null },
      transpileTs(),
      nodeResolve({ browser: true, preferBuiltins: false }),
      commonjs(),
      // @xmpp/debug reads process.env, which a page does not have (see examples/chat-ui/build.mjs);
      // React's CommonJS build picks its production or development half by NODE_ENV.
      replace({ preventAssignment: true, values: { "process.env.XMPP_DEBUG": "undefined", "process.env.NODE_ENV": JSON.stringify("production") } }),
    ],
  });
  try {
    const { output } = await build.generate({ format: "iife", inlineDynamicImports: true });
    return output[0].code;
  } finally {
    await build.close();
  }
}

/**
 * Serves the page and its script from 127.0.0.1: a loopback origin is a secure context, where
 * `crypto.randomUUID()` (xmpp.js and the SDK make stanza ids with it) exists; about:blank is not.
 */
export async function servePage(script: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.url === "/bench.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(script);
      return;
    }
    response
      .writeHead(200, { "content-type": "text/html" })
      .end('<!doctype html><meta charset="utf-8"><title>xmpp-presence bench</title><script src="/bench.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Chromium with one page per client, each with the bench script loaded. */
async function withPages<T>(log: (line: string) => void, use: (pages: Map<BrowserKind, Page>) => Promise<T>): Promise<T> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  const served = await servePage(await pageScript());
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container with loopback only; `gc()` in the page for the untimed collections.
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--js-flags=--expose-gc"],
  });
  try {
    const pages = new Map<BrowserKind, Page>();
    for (const kind of KINDS) {
      const tab = await browser.newPage();
      tab.on("pageerror", (error) => log(`  (chromium ${kind} page error: ${error.message})`));
      tab.on("console", (message) => {
        if (message.type() === "error") log(`  (chromium ${kind}: ${message.text()})`);
      });
      await tab.goto(served.url);
      await tab.waitForFunction(() => "benchRoster" in globalThis && "benchFlood" in globalThis);
      pages.set(kind, tab);
    }
    return await use(pages);
  } finally {
    await browser.close();
    await new Promise((resolve) => served.server.close(resolve));
  }
}

const KINDS = ["raw", "sdk"] as const;
let serial = 0;

/**
 * Runs `warmup` + `runs` runs of each client, taking turns (the order alternating), with the
 * page's garbage collected (untimed) before each; `one(kind, run)` runs one in its page.
 */
async function takeTurns<R>(
  pages: Map<BrowserKind, Page>,
  warmup: number,
  runs: number,
  profileName: string,
  one: (tab: Page, kind: BrowserKind, run: number) => Promise<R>,
): Promise<Map<BrowserKind, R[]>> {
  const out = new Map<BrowserKind, R[]>(KINDS.map((kind) => [kind, []]));
  for (let run = 0; run < warmup + runs; run++) {
    for (const kind of run % 2 === 0 ? KINDS : [...KINDS].reverse()) {
      const tab = pages.get(kind) as Page;
      await tab.evaluate(() => (globalThis as unknown as { gc?: () => void }).gc?.());
      const profiled = PROFILE_DIR !== undefined && run >= warmup;
      const cdp = profiled ? await tab.context().newCDPSession(tab) : undefined;
      if (cdp) {
        await cdp.send("Profiler.enable");
        await cdp.send("Profiler.start");
      }
      const result = await one(tab, kind, run);
      if (cdp) {
        const { profile } = await cdp.send("Profiler.stop");
        await cdp.detach();
        const dir = `${PROFILE_DIR}/chromium-${profileName}-${kind}`;
        mkdirSync(dir, { recursive: true });
        writeFileSync(`${dir}/run-${run - warmup + 1}.cpuprofile`, JSON.stringify(profile));
      }
      if (run >= warmup) out.get(kind)?.push(result);
    }
  }
  return out;
}

/**
 * Times roster loads of `sizes` in Chromium: `warmup` + `runs` per client and size. Throws when
 * Chromium is missing or a run fails (the caller reports it as not measured).
 */
export function browserRosterLoad(
  wsService: string,
  sizes: number[],
  warmup: number,
  runs: number,
  log: (line: string) => void,
): Promise<BrowserTimes[]> {
  return withPages(log, async (pages) => {
    const out: BrowserTimes[] = [];
    for (const size of sizes) {
      const times = await takeTurns(pages, warmup, runs, `roster-${size}`, (tab, kind) => {
        const login = { service: wsService, username: `roster-${size}-chromium-${kind}-${serial++}`, password: "bench" };
        return tab.evaluate(
          ({ kind, login }) => (globalThis as unknown as { benchRoster: Record<string, (l: typeof login) => Promise<number>> }).benchRoster[kind]!(login),
          { kind, login },
        );
      });
      for (const kind of KINDS) out.push({ kind, rosterSize: size, runs: times.get(kind) ?? [] });
    }
    return out;
  });
}

/** One client's presence-flood timings in Chromium, with its calls (raw: stanzas; SDK: listener calls). */
export interface BrowserFlood extends BrowserTimes {
  calls: number[];
}

/**
 * A presence flood in Chromium: `workload(run)` (its stanzas, the last from the sentinel with
 * status `run <run>`) played to each client after it logs in with a roster of `contacts`.
 */
export function browserPresenceFlood(
  server: ReplayServer,
  contacts: number,
  workload: (run: number) => string[],
  warmup: number,
  runs: number,
  log: (line: string) => void,
): Promise<BrowserFlood[]> {
  server.warmRoster(contacts);
  return withPages(log, async (pages) => {
    const results = await takeTurns(pages, warmup, runs, `presence-${contacts}`, async (tab, kind, run) => {
      const key = `chromium-presence-${contacts}-${kind}-${run}`;
      const stanzas = workload(run);
      server.prepare(key, { stanzas });
      const login = { service: server.wsService, username: `presence-${contacts}-chromium-${kind}-${serial++}`, password: "bench" };
      try {
        return await tab.evaluate(
          ({ kind, login, key, last, status }) => {
            const flood = (globalThis as unknown as { benchFlood: Record<string, (l: typeof login, k: string, x: number | string) => Promise<{ ms: number; calls: number }>> }).benchFlood;
            return flood[kind]!(login, key, kind === "raw" ? last : status);
          },
          { kind, login, key, last: stanzas.length, status: `run ${run}` },
        );
      } finally {
        server.discard(key);
      }
    });
    return KINDS.map((kind) => {
      const list = results.get(kind) ?? [];
      return { kind, rosterSize: contacts, runs: list.map((r) => r.ms), calls: list.map((r) => r.calls) };
    });
  });
}
