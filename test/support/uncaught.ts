/** Uncaught exceptions while `run` runs, and for `settleMs` after (recorded, so the process stays up). */
export async function uncaughtDuring(run: () => Promise<void>, settleMs = 150): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (error: unknown) => void seen.push(error);
  process.prependListener("uncaughtException", listener);
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, settleMs));
  } finally {
    process.removeListener("uncaughtException", listener);
  }
  return seen;
}
