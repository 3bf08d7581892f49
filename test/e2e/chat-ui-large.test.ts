/**
 * examples/chat-ui in real Chromium with a 10,000-contact roster on a real Prosody (issue 6: the
 * SDK stays usable at roster scale; Converse.js hangs above ~8,000). The page must show each
 * group's first page of members, and a change (a roster push, a contact's presence, "show more")
 * must rebuild only the rows it concerns: rows are marked after the first render, and the unmarked
 * ones counted after each change.
 *
 * A Prosody of its own: a 10,000-contact login keeps Prosody busy for seconds, which would make the
 * other e2e files' logins time out on the shared one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { takeLongestTask, watchLongTasks, whenInPage } from "../../bench/page-timing.js";
import { buildChatUi } from "../../examples/chat-ui/build.mjs";
import { PAGE } from "../../examples/chat-ui/roster-view.js";
import { serveChatUi } from "../../examples/chat-ui/serve.mjs";
import { startProsody, type ProsodyServer } from "../../src/testing/prosody.js";
import type { SeedRosterItem } from "../../src/testing/server.js";
import { launchChromium } from "../support/chromium.js";
import { ownServerClients } from "../support/own-server-clients.js";

const GROUPS = 10;
const PER_GROUP = 1_000;

let server: ProsodyServer;
let browser: Browser;
let ui: { url: string; close(): Promise<void> };
let outDir: string;
const clients = ownServerClients(() => server);

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "xmpp-presence-chat-ui-large-"));
  const [started, built, launched] = await Promise.all([startProsody(), buildChatUi({ outDir }), launchChromium()]);
  server = started;
  browser = launched;
  ui = await serveChatUi({ dir: built.outDir, config: { service: server.websocketService, domain: server.domain } });
}, 60_000);

afterAll(async () => {
  await clients.stopAll();
  await browser?.close();
  await ui?.close();
  await server?.stop();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});


const rows = (page: Page, selector = "[data-testid=contact]") => page.locator(selector).count();
/** Rows built since {@link markRows}. */
const unmarked = (page: Page) => rows(page, "[data-testid=contact]:not([data-marked])");
const markRows = (page: Page, selector = "[data-testid=contact]") =>
  page.evaluate((rowSelector) => {
    document.querySelectorAll<HTMLElement>(rowSelector).forEach((row) => {
      row.dataset["marked"] = "";
    });
  }, selector);

/** The longest main-thread task while `action` runs and the page catches up, in ms. */
async function longestTask(page: Page, action: () => Promise<void>): Promise<number> {
  await watchLongTasks(page);
  await action();
  await page.waitForTimeout(100);
  return takeLongestTask(page);
}

describe(`examples/chat-ui with ${GROUPS * PER_GROUP} contacts`, () => {
  it("shows a page of each group and rebuilds only the rows a change concerns", async () => {
    const [big, friend] = await server.createAccounts(2, "u");
    // Contacts sort after the friend ("u…" < "x…"), who is in the first group's first page.
    const items: SeedRosterItem[] = Array.from({ length: GROUPS * PER_GROUP - 1 }, (_, i) => ({
      jid: `x${String(i).padStart(5, "0")}@${server.domain}`,
      name: `Contact ${i}`,
      groups: [`Team ${i % GROUPS}`],
    }));
    items.push({ jid: friend!.jid, name: "Friend", groups: ["Team 0"], subscription: "both" });
    await server.seedRoster(big!.username, items);
    await server.seedRoster(friend!.username, [{ jid: big!.jid, subscription: "both" }]);

    const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
    const page = Object.assign(await context.newPage(), { errors: [] as string[] });
    page.setDefaultTimeout(30_000);
    page.on("pageerror", (error) => page.errors.push(error.message));
    await page.goto(ui.url);
    await page.getByTestId("login-jid").fill(big!.jid);
    await page.getByTestId("login-password").fill(big!.password);
    const shown = whenInPage(page, `[data-testid=contact][data-jid="${friend!.jid}"]`);
    const signingIn = Date.now();
    await page.getByTestId("login-submit").click();
    const shownAfter = (await shown) - signingIn;

    // A page of each group, and a button for the rest.
    expect(await rows(page)).toBe(GROUPS * PAGE);
    const team1 = page.locator('[data-group="Team 1"]');
    expect(await team1.getByTestId("show-more").textContent()).toBe(`Show ${PAGE} more (${PER_GROUP - PAGE} not shown)`);

    // A roster push (another resource renames a shown contact): one row rebuilt.
    await markRows(page);
    const other = await clients.online(big!, "node");
    const renamed = items[5]!.jid;
    let pushShownAfter = 0;
    const pushTask = await longestTask(page, async () => {
      const pushShown = whenInPage(page, `[data-testid=contact][data-jid="${renamed}"]`, "Renamed");
      const pushing = Date.now();
      await other.roster.update(renamed, { name: "Renamed" });
      pushShownAfter = (await pushShown) - pushing;
    });
    expect(await unmarked(page)).toBe(1);

    // The friend comes online: their row alone is rebuilt with the new presence.
    await clients.online(friend!, "node");
    await page.locator(`[data-testid=contact][data-jid="${friend!.jid}"][data-presence="available"]`).waitFor();
    expect(await unmarked(page)).toBe(2);

    // Subscription requests: a new one builds its own row; the rows of those already pending are
    // kept, through the next request and through a roster push.
    const [first, second] = await server.createAccounts(2, "s");
    await (await clients.online(first!, "node")).subscribe(big!.jid);
    await page.locator(`[data-testid=request][data-jid="${first!.jid}"]`).waitFor();
    await markRows(page, "[data-testid=request]");
    await (await clients.online(second!, "node")).subscribe(big!.jid);
    await page.locator(`[data-testid=request][data-jid="${second!.jid}"]`).waitFor();
    await other.roster.update(renamed, { name: "Renamed again" });
    await page.locator(`[data-testid=contact][data-jid="${renamed}"]`).getByText("Renamed again").waitFor();
    expect(await rows(page, "[data-testid=request]")).toBe(2);
    expect(await rows(page, "[data-testid=request]:not([data-marked])")).toBe(1);
    expect(await rows(page, `[data-testid=request][data-jid="${first!.jid}"][data-marked]`)).toBe(1);
    await markRows(page);

    // "Show more" in one group adds a page of rows there and rebuilds nothing else.
    await team1.getByTestId("show-more").click();
    await expect.poll(() => rows(page, '[data-group="Team 1"] [data-testid=contact]')).toBe(2 * PAGE);
    expect(await unmarked(page)).toBe(PAGE);
    expect(await team1.getByTestId("show-more").textContent()).toBe(`Show ${PAGE} more (${PER_GROUP - 2 * PAGE} not shown)`);

    console.log(
      `chat-ui, ${GROUPS * PER_GROUP} contacts on Prosody: signed in and shown after ${shownAfter.toFixed(0)} ms; ` +
        `one roster push shown after ${pushShownAfter.toFixed(0)} ms, longest main-thread task meanwhile ${pushTask.toFixed(0)} ms (0: none over 50 ms)`,
    );
    expect(page.errors).toEqual([]);
    await context.close();
  }, 120_000);
});
