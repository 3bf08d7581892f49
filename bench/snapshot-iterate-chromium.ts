/**
 * bench/snapshot-iterate.ts in headless Chromium (Debian's `chromium`, playwright-core): the same
 * reads, bundled for a page as an app would ship the SDK, with 100k roster items.
 * `node --import tsx bench/snapshot-iterate-chromium.ts`
 */
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM, pageBundle, servePage } from "./browser.js";

const served = await servePage(await pageBundle(fileURLToPath(new URL("./snapshot-iterate.ts", import.meta.url))));
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--js-flags=--expose-gc"] });
try {
  const page = await browser.newPage();
  const done = new Promise<void>((resolve, reject) => {
    page.on("pageerror", reject);
    page.on("console", (message) => {
      if (message.text() === "done") resolve();
      else console.log(message.text());
    });
  });
  await page.goto(served.url);
  await done;
} finally {
  await browser.close();
  served.server.close();
}
