/**
 * Timing a page from Node: when something appears in its DOM, and its longest main-thread task
 * (the Long Tasks API: only tasks of 50 ms or more are reported). For the chat UI's scale lane
 * (bench/chat-ui-scale.ts) and its test (test/e2e/chat-ui-large.test.ts).
 */
import type { Page } from "playwright-core";

/** Starts recording the page's longest task; read (and restart) it with {@link takeLongestTask}. */
export async function watchLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { longest: number };
    w.longest = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longest = Math.max(w.longest, entry.duration);
    }).observe({ type: "longtask" });
  });
}

/** The longest task since {@link watchLongTasks} or the last call, in ms (0: none of 50 ms or more). */
export function takeLongestTask(page: Page): Promise<number> {
  return page.evaluate(() => {
    const w = window as unknown as { longest: number };
    const longest = w.longest;
    w.longest = 0;
    return longest;
  });
}

/**
 * Resolves with the wall-clock time (`Date.now()`, the same clock as this process's) at which an
 * element matching `selector` (and containing `text`) is in the page's DOM, seen by a
 * MutationObserver in the page. Call it before the action. Playwright's `waitFor` checks at
 * intervals that grow while it waits, so a time taken after it is late: a roster push measured
 * that way showed 0.3–0.5 s after the server's answer, this way within 50 ms of it.
 */
export function whenInPage(page: Page, selector: string, text = ""): Promise<number> {
  return page.evaluate(
    ({ selector, text }) =>
      new Promise<number>((resolve) => {
        // No named functions in here: tsx would wrap them in a helper (`__name`) the page lacks.
        const observer = new MutationObserver(() => {
          const element = document.querySelector(selector);
          if (element === null || !(element.textContent ?? "").includes(text)) return;
          observer.disconnect();
          resolve(Date.now());
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
        // Already there: the first mutation from now on tells (an attribute of our own on <body>).
        document.body.dataset["whenInPage"] = String(Date.now());
      }),
    { selector, text },
  );
}
