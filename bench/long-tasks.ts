/**
 * The longest main-thread task of a page (the Long Tasks API: only tasks of 50 ms or more are
 * reported), for the chat UI's scale lane (bench/chat-ui-scale.ts) and its test
 * (test/e2e/chat-ui-large.test.ts).
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
