/**
 * examples/chat-ui in real Chromium (Debian's `chromium`, driven by playwright-core) against the
 * test Prosody over WebSocket: the seed handshake done by clicking, and a denial. Screenshots of
 * each roster go to test-results/ (not committed).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildChatUi } from "../../examples/chat-ui/build.mjs";
import { serveChatUi } from "../../examples/chat-ui/serve.mjs";
import { registerAccounts, type ProsodyAccount } from "../../src/testing/prosody.js";
import { launchChromium } from "../support/chromium.js";

const SCREENSHOTS = "test-results/e2e";
const prosody = inject("prosody");

let browser: Browser;
let ui: { url: string; close(): Promise<void> };
let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "xmpp-presence-chat-ui-"));
  const [built, launched] = await Promise.all([buildChatUi({ outDir }), launchChromium()]);
  browser = launched;
  ui = await serveChatUi({ dir: built.outDir, config: { service: prosody.websocketService, domain: prosody.domain } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

const account = async (prefix: string): Promise<ProsodyAccount> =>
  (await registerAccounts(prosody.configPath, 1, { prefix, domain: prosody.domain }))[0]!;

/** A fresh browser context (its own storage, like a second browser) signed in as `who`. */
async function signIn(who: ProsodyAccount): Promise<Page & { errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
  const page = Object.assign(await context.newPage(), { errors: [] as string[] });
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (error) => page.errors.push(error.message));
  await page.goto(ui.url);
  await page.getByTestId("login-jid").fill(who.jid);
  await page.getByTestId("login-password").fill(who.password);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("whoami").getByText(who.jid).waitFor();
  return page;
}

const contact = (page: Page, jid: string) => page.locator(`[data-testid=contact][data-jid="${jid}"]`).first();
const request = (page: Page, jid: string) => page.locator(`[data-testid=request][data-jid="${jid}"]`);

/** Waits until `page` shows `jid`'s presence dot as `dot` ("available", "away", "offline", …). */
async function presenceOf(page: Page, jid: string, dot: string): Promise<string | null> {
  await page.locator(`[data-testid=contact][data-jid="${jid}"][data-presence="${dot}"]`).first().waitFor();
  return contact(page, jid).getByTestId("presence-text").textContent();
}

/** Waits until `page` shows `jid` in Appendix A `state`, and returns the state in words. */
async function stateOf(page: Page, jid: string, state: string): Promise<string | null> {
  await page.locator(`[data-testid=contact][data-jid="${jid}"][data-state="${state}"]`).first().waitFor();
  return contact(page, jid).getByTestId("state-words").textContent();
}

async function addContact(page: Page, jid: string): Promise<void> {
  await page.getByTestId("add-jid").fill(jid);
  await page.getByTestId("add-submit").click();
}

describe("examples/chat-ui in Chromium", () => {
  it("runs the seed handshake by clicking: Alice adds Bob, Bob approves and adds Alice, her auto-approve answers", async () => {
    const [alice, bob] = await Promise.all([account("alice"), account("bob")]);
    const [a, b] = await Promise.all([signIn(alice), signIn(bob)]);

    // §3.1.1 Alice asks to see Bob's presence.
    await addContact(a, bob.jid);
    expect(await stateOf(a, bob.jid, "None + Pending Out")).toBe("you asked to see their presence");

    // §3.1.3–3.1.4 Bob sees the request and approves it.
    await expect(request(b, alice.jid).textContent()).resolves.toContain("asks to see your presence");
    await request(b, alice.jid).getByTestId("approve").click();
    expect(await stateOf(a, bob.jid, "To")).toBe("you see their presence");
    expect(await stateOf(b, alice.jid, "From")).toBe("they see your presence");
    expect(await presenceOf(a, bob.jid, "available")).toBe("online"); // Bob's presence arrives

    // Alice turns on auto-approve for reverse requests; Bob subscribes back; nobody clicks.
    await a.getByTestId("auto-reverse").check();
    await addContact(b, alice.jid);
    expect(await stateOf(a, bob.jid, "Both")).toBe("you see each other's presence");
    expect(await stateOf(b, alice.jid, "Both")).toBe("you see each other's presence");
    await expect(a.getByTestId("log").textContent()).resolves.toContain(`auto-reply to ${bob.jid}: approve`);
    expect(await a.getByTestId("request").count()).toBe(0);

    // Mutual presence: each sees the other online.
    expect(await presenceOf(a, bob.jid, "available")).toBe("online");
    expect(await presenceOf(b, alice.jid, "available")).toBe("online");

    await a.screenshot({ path: `${SCREENSHOTS}/handshake-alice.png`, fullPage: true });
    await b.screenshot({ path: `${SCREENSHOTS}/handshake-bob.png`, fullPage: true });

    // Signing out and in again shows the roster the server keeps.
    await b.getByTestId("logout").click();
    await b.getByTestId("login-password").fill(bob.password);
    await b.getByTestId("login-submit").click();
    expect(await stateOf(b, alice.jid, "Both")).toBe("you see each other's presence");
    expect([...a.errors, ...b.errors]).toEqual([]);
  }, 40_000);

  it("shows a denial: Dave denies Carol's request, and her roster says so", async () => {
    const [carol, dave] = await Promise.all([account("carol"), account("dave")]);
    const [c, d] = await Promise.all([signIn(carol), signIn(dave)]);

    await addContact(c, dave.jid);
    await request(d, carol.jid).getByTestId("deny").click();
    // §3.2.3 a denied request leaves the item in place, with no subscription and no ask.
    expect(await stateOf(c, dave.jid, "None")).toBe("no subscription either way");
    await expect(c.getByTestId("log").textContent()).resolves.toContain(`${dave.jid} denied your request`);
    await request(d, carol.jid).waitFor({ state: "detached" });
    expect(await contact(d, carol.jid).count()).toBe(0);
    expect(await contact(c, dave.jid).getByTestId("subscribe").isVisible()).toBe(true); // she may ask again

    await c.screenshot({ path: `${SCREENSHOTS}/denial-carol.png`, fullPage: true });
    await d.screenshot({ path: `${SCREENSHOTS}/denial-dave.png`, fullPage: true });
    expect([...c.errors, ...d.errors]).toEqual([]);
  }, 40_000);

  it("refuses a wrong password with a message", async () => {
    const erin = await account("erin");
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(ui.url);
    await page.getByTestId("login-jid").fill(erin.jid);
    await page.getByTestId("login-password").fill("not-the-password");
    await page.getByTestId("login-submit").click();
    await page.getByTestId("login-error").getByText("not-authorized").waitFor();
    expect(await page.locator("#app").isHidden()).toBe(true);
    await context.close();
  });
});
