/**
 * examples/react's <Contacts> in real Chromium with a 10,000-contact roster on a real Prosody:
 * React 19 (production build) on `xmpp-presence/react`'s hooks. The list shows a page of
 * contacts; after a roster push only the changed row renders again (the rows are memoised and an
 * entry is the same object until that contact changes), and a contact's presence reaches its row
 * and the summary line (`usePresence`).
 *
 * A Prosody of its own, as in chat-ui-large.test.ts.
 */
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageBundle, servePage } from "../../bench/browser.js";
import { startProsody, type ProsodyServer } from "../../src/testing/prosody.js";
import type { SeedRosterItem } from "../../src/testing/server.js";
import { launchChromium } from "../support/chromium.js";
import { ownServerClients } from "../support/own-server-clients.js";
import type { ReactPageApi } from "./react-page.js";

const CONTACTS = 10_000;
const PAGE = 200; // examples/react/Contacts.tsx

let server: ProsodyServer;
let browser: Browser;
let served: Awaited<ReturnType<typeof servePage>>;
const clients = ownServerClients(() => server);

beforeAll(async () => {
  const [started, script, launched] = await Promise.all([
    startProsody(),
    pageBundle(fileURLToPath(new URL("./react-page.ts", import.meta.url))),
    launchChromium(),
  ]);
  server = started;
  browser = launched;
  served = await servePage(script);
}, 60_000);

afterAll(async () => {
  await clients.stopAll();
  await browser?.close();
  await new Promise((resolve) => served?.server.close(resolve));
  await server?.stop();
});


const bestCalls = (page: Page) => page.evaluate(() => (window as unknown as { reactPage: ReactPageApi }).reactPage.bestCalls());
/** The summary line (usePresence). */
const summary = (page: Page) => page.getByTestId("summary").textContent();
/** The row with `text` as a whole word ("Contact 12" is not "Contact 123"). */
const row = (page: Page, text: string) => page.locator("li", { hasText: new RegExp(`\\b${text}\\b`) });

describe(`examples/react with ${CONTACTS} contacts`, () => {
  it("renders a page of contacts; a roster push renders one row again; presence reaches its row", async () => {
    const [big] = await server.createAccounts(1, "u");
    const items: SeedRosterItem[] = [];
    for (let i = 0; i < CONTACTS; i++) items.push({ jid: `x${String(i).padStart(5, "0")}@${server.domain}`, name: `Contact ${i}` });
    await server.seedRoster(big!.username, items);

    const page = Object.assign(await (await browser.newContext()).newPage(), { errors: [] as string[] });
    page.setDefaultTimeout(30_000);
    page.on("pageerror", (error) => page.errors.push(error.message));
    await page.goto(served.url);
    await page.evaluate(
      (options) => (window as unknown as { reactPage: ReactPageApi }).reactPage.start(options),
      { service: server.websocketService, domain: server.domain, username: big!.username, password: big!.password },
    );
    await page.getByRole("button", { name: /^Show more/ }).waitFor();
    expect(await page.locator("li").count()).toBe(PAGE);
    expect(await page.getByRole("button", { name: /^Show more/ }).textContent()).toBe(`Show more (${CONTACTS - PAGE} not shown)`);

    // Which contacts are shown is the snapshot's order (the server's): pick two of them.
    const shownItem = async (index: number) => {
      const name = /Contact \d+/.exec((await page.locator("li").nth(index).textContent()) ?? "")?.[0];
      const item = items.find((candidate) => candidate.name === name);
      expect(item, name).toBeDefined();
      return item as SeedRosterItem;
    };
    const [renamed, online] = [await shownItem(5), await shownItem(7)];
    // Another resource of the account, signed in first: its presence reaches the page as our own
    // resource's, which has every row's hook check its contact once.
    const other = await clients.online(big!, "node");
    await expect.poll(() => page.evaluate(() => (window as unknown as { reactPage: ReactPageApi }).reactPage.ownResources())).toBe(1);
    await expect.poll(() => summary(page)).toBe("0 online · 1 other device of yours");
    await page.waitForTimeout(50); // the notification window (16 ms) that tells the rows
    const before = await bestCalls(page);
    await other.roster.update(renamed.jid, { name: "Renamed" });
    await row(page, "Renamed").waitFor();
    // The push also re-rendered <Contacts>; of its rows only the renamed one rendered again.
    expect((await bestCalls(page)) - before).toBe(1);
    expect(await page.locator("li").count()).toBe(PAGE);

    const more = page.getByRole("button", { name: /^Show more/ });
    await more.click();
    await expect.poll(() => page.locator("li").count()).toBe(2 * PAGE);

    // A shown contact comes online: the account is made now, and its presence is sent to us
    // directly (RFC 6121 §4.6; the item is "none", so nothing else would bring it). Every shown
    // row's hook checks its contact's presence (a call each), and that row renders again.
    const username = online.jid.slice(0, online.jid.indexOf("@"));
    await server.createAccount(username, "pw");
    const contact = await clients.online({ username, password: "pw", jid: online.jid }, "node");
    const shown = await page.locator("li").count();
    const beforePresence = await bestCalls(page);
    await contact.sendPresence(big!.jid);
    await row(page, online.name as string).getByText("● available").waitFor();
    const presenceCalls = (await bestCalls(page)) - beforePresence;
    expect(presenceCalls).toBeGreaterThanOrEqual(1);
    expect(presenceCalls).toBeLessThanOrEqual(2 * (shown + 1));
    await expect.poll(() => summary(page)).toBe("1 online · 1 other device of yours");

    // Both go offline: the contact and our other resource.
    await contact.sendPresence(big!.jid, { available: false });
    await other.stop();
    await expect.poll(() => summary(page)).toBe("0 online");
    await row(page, online.name as string).getByText("○ offline").waitFor();
    expect(page.errors).toEqual([]);
    await page.evaluate(() => (window as unknown as { reactPage: ReactPageApi }).reactPage.stop());
  }, 120_000);
});
