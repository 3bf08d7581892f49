/**
 * The chat UI example (examples/chat-ui) in headless Chromium against a real Prosody, with 10k and
 * 100k contacts: what a user waits for and what the page holds (issue 6: the SDK stays usable at
 * 100,000 contacts; Converse.js hangs above ~8,000, converse.js #3294). Reported, not judged.
 *
 * Per size, each run is a fresh page that signs in, then:
 * - "shown": from the click on "Sign in" to the first group's first page on screen (Prosody's work
 *   on the roster result included: ~1 s at 10k, ~8 s at 100k, bench/results.md);
 * - "heap": the page's JavaScript heap after a forced collection, less the heap of the same page
 *   before signing in, per contact;
 * - "push shown": another resource of the account renames a shown contact; from that request to
 *   the new name on screen, and to the server's answer to the request (Prosody rewrites the whole
 *   roster file before it answers and pushes: most of the time);
 * - "presence shown": a contact signs in; from its start to its row showing it available;
 * - "longest task": the longest main-thread task (Long Tasks API: only tasks of 50 ms or more are
 *   seen) during the sign-in, and over the push and the presence after it.
 *
 * `node --import tsx bench/chat-ui-scale.ts [sizes…]` (default 10000 100000); BENCH_UI_RUNS=n runs
 * per size (default 3). As part of `npm run bench` unless BENCH_SKIP_BROWSER=1 or
 * BENCH_SKIP_PROSODY=1 (BENCH_QUICK: 10k only).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { buildChatUi } from "../examples/chat-ui/build.mjs";
import { serveChatUi } from "../examples/chat-ui/serve.mjs";
import { createPresenceClient, type PresenceClient } from "../src/index.js";
import { startProsody, type ProsodyServer } from "../src/testing/prosody.js";
import type { SeedRosterItem, XmppTestAccount } from "../src/testing/server.js";
import { CHROMIUM } from "./browser.js";
import { fmtBytes, fmtMs } from "./format.js";
import { takeLongestTask, watchLongTasks, whenInPage } from "./page-timing.js";
import { median } from "./verdict.js";

const RUNS = Number(process.env["BENCH_UI_RUNS"] ?? 3);
const GROUPS = 10;

/** One size's figures, each a median over the runs with its range. */
export interface ChatUiScaleRow {
  contacts: number;
  shown: number[];
  heapPerContact: number[];
  pushShown: number[];
  /** When the server had answered the push's roster set (so the rest of pushShown is the page's). */
  pushAnswered: number[];
  presenceShown: number[];
  signInTask: number[];
  longestTask: number[];
}

function items(contacts: number, friend: XmppTestAccount, domain: string): SeedRosterItem[] {
  // Contacts sort after the friend ("ui…" < "x…"), who is in the first group's first page.
  const list: SeedRosterItem[] = Array.from({ length: contacts - 1 }, (_, i) => ({
    jid: `x${String(i).padStart(6, "0")}@${domain}`,
    name: `Contact ${i}`,
    groups: [`Team ${i % GROUPS}`],
  }));
  list.push({ jid: friend.jid, name: "Friend", groups: ["Team 0"], subscription: "both" });
  return list;
}

async function nodeClient(server: ProsodyServer, who: XmppTestAccount, resource: string): Promise<PresenceClient> {
  const client = createPresenceClient({
    service: server.service,
    domain: server.domain,
    username: who.username,
    password: who.password,
    saslMechanism: "PLAIN",
    resource,
    timeoutMs: 60_000,
  });
  client.on("error", () => undefined);
  await client.start();
  return client;
}

const fmtTask = (ms: number) => (ms === 0 ? "none ≥ 50 ms" : fmtMs(ms));

async function heapAfterGc(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number };
  await cdp.detach();
  return usedSize;
}

async function measureSize(
  server: ProsodyServer,
  browser: Browser,
  url: string,
  contacts: number,
  log: (line: string) => void,
): Promise<ChatUiScaleRow> {
  const [big, friend] = await server.createAccounts(2, "ui");
  if (big === undefined || friend === undefined) throw new Error("no accounts");
  const roster = items(contacts, friend, server.domain);
  await server.seedRoster(big.username, roster);
  await server.seedRoster(friend.username, [{ jid: big.jid, subscription: "both" }]);
  const row: ChatUiScaleRow = { contacts, shown: [], heapPerContact: [], pushShown: [], pushAnswered: [], presenceShown: [], signInTask: [], longestTask: [] };
  const other = await nodeClient(server, big, "other");
  try {
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(120_000);
        await page.goto(url);
        const before = await heapAfterGc(page);
        await watchLongTasks(page);
        await page.getByTestId("login-jid").fill(big.jid);
        await page.getByTestId("login-password").fill(big.password);
        const signedIn = whenInPage(page, `[data-testid=contact][data-jid="${friend.jid}"]`);
        const signingIn = Date.now();
        await page.getByTestId("login-submit").click();
        row.shown.push((await signedIn) - signingIn);
        await page.waitForTimeout(100);
        row.signInTask.push(await takeLongestTask(page));
        row.heapPerContact.push(((await heapAfterGc(page)) - before) / contacts);
        await takeLongestTask(page); // not the collection's
        // A contact in the first group's first page (the friend's group sorts its members by JID).
        const renamed = roster[GROUPS * (run + 1)]!.jid;
        const name = `Renamed ${run}`;
        const pushShown = whenInPage(page, `[data-testid=contact][data-jid="${renamed}"]`, name);
        const pushing = Date.now();
        await other.roster.update(renamed, { name });
        row.pushAnswered.push(Date.now() - pushing);
        row.pushShown.push((await pushShown) - pushing);

        // The previous run's friend session may still show as available (its unavailable presence
        // can reach this session's probe late): wait until the row says otherwise.
        await page.locator(`[data-testid=contact][data-jid="${friend.jid}"]:not([data-presence="available"])`).waitFor();
        const presenceShown = whenInPage(page, `[data-testid=contact][data-jid="${friend.jid}"][data-presence="available"]`);
        const arriving = Date.now();
        const friendClient = await nodeClient(server, friend, `run${run}`);
        row.presenceShown.push((await presenceShown) - arriving);
        await page.waitForTimeout(100);
        row.longestTask.push(await takeLongestTask(page));
        await friendClient.stop();
        log(
          `  chat UI ${contacts} contacts, run ${run + 1}: shown ${fmtMs(row.shown.at(-1)!)} (longest task ${fmtTask(row.signInTask.at(-1)!)}), ` +
            `heap ${fmtBytes(Math.round(row.heapPerContact.at(-1)!))}/contact, push ${fmtMs(row.pushShown.at(-1)!)} (answered ${fmtMs(row.pushAnswered.at(-1)!)}), ` +
            `presence ${fmtMs(row.presenceShown.at(-1)!)}, longest task after sign-in ${fmtTask(row.longestTask.at(-1)!)}`,
        );
      } finally {
        await context.close();
      }
    }
  } finally {
    await other.stop();
  }
  return row;
}

/** Runs the lane; resolves with a row per size and the Markdown table. */
export async function measureChatUiScale(
  log: (line: string) => void,
  sizes: readonly number[] = [10_000, 100_000],
): Promise<{ rows: ChatUiScaleRow[]; table: string }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  const outDir = await mkdtemp(join(tmpdir(), "xmpp-presence-chat-ui-scale-"));
  const server = await startProsody();
  let ui: { url: string; close(): Promise<void> } | undefined;
  let browser: Browser | undefined;
  try {
    await buildChatUi({ outDir });
    ui = await serveChatUi({ dir: outDir, config: { service: server.websocketService, domain: server.domain } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
    });
    const rows: ChatUiScaleRow[] = [];
    for (const size of sizes) rows.push(await measureSize(server, browser, ui.url, size, log));
    return { rows, table: chatUiScaleTable(rows) };
  } finally {
    await browser?.close();
    await ui?.close();
    await server.stop();
    await rm(outDir, { recursive: true, force: true });
  }
}

/** The lane as a Markdown table: medians with min–max, and the longest tasks of the worst run. */
export function chatUiScaleTable(rows: readonly ChatUiScaleRow[]): string {
  const cell = (values: readonly number[], format: (value: number) => string) =>
    values.length === 0 ? "–" : `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
  return [
    "| chat UI in Chromium, Prosody (ws) | signed in and shown | longest task during sign-in (worst run) | JS heap per contact | roster push shown (server's answer) | contact's presence shown | longest task after sign-in (worst run) |",
    "|---|---|---|---|---|---|---|",
    ...rows.map(
      (row) =>
        `| ${row.contacts / 1000}k contacts | ${cell(row.shown, fmtMs)} | ${fmtTask(Math.max(...row.signInTask))} | ${cell(row.heapPerContact, (b) => fmtBytes(Math.round(b)))} | ` +
        `${cell(row.pushShown, fmtMs)} (${fmtMs(median(row.pushAnswered))}) | ${cell(row.presenceShown, fmtMs)} | ${fmtTask(Math.max(...row.longestTask))} |`,
    ),
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const { table } = await measureChatUiScale((line) => console.log(line), sizes.length > 0 ? sizes : undefined);
  console.log(`\n${table}`);
}
