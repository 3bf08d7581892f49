/**
 * Judging a ratio target from paired runs without letting one noisy run decide it.
 *
 * Each measured run of the SDK is paired with the raw client's run of the same index (taken in
 * the same round, bench/run.ts), so each pair saw the same machine and its ratio cancels most of
 * that round's noise. The target is judged on the median of those ratios, and on a confidence
 * interval for that median that assumes nothing about how the noise is distributed: the order
 * statistics [x(k), x(n+1-k)] hold the true median with probability 1 - 2·P(B ≤ k-1), B binomial
 * (n, 1/2) (the sign-test interval). A target inside the interval is reported as UNSURE: on a
 * machine whose own speed swings by tens of percent from one second to the next (a shared
 * virtual machine; bench/results.md measures it), a bare ratio of medians passes or fails by
 * chance.
 */

/** PASS: the whole interval meets the target; FAIL: none of it does; UNSURE: it straddles. */
export type Verdict = "pass" | "fail" | "unsure";

export interface MedianInterval {
  median: number;
  low: number;
  high: number;
  /** The interval's coverage (e.g. 0.93): the chance it holds the true median. */
  coverage: number;
  n: number;
}

function medianOfSorted(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  return medianOfSorted([...values].sort((a, b) => a - b));
}

/** P(B ≤ k) for B binomial(n, 1/2). */
function binomialHalfCdf(n: number, k: number): number {
  let term = 2 ** -n; // P(B = 0)
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
}

/**
 * The median of `values` and the narrowest sign-test interval for it whose coverage is at least
 * `confidence` (the widest one, min–max, when even that falls short: few runs).
 *
 * @example medianInterval([1.2, 1.3, 1.25, 1.4, 1.1, 1.35, 1.28, 1.22, 1.31, 1.27, 1.33])
 *   // { median: 1.28, low: 1.22, high: 1.33, coverage: 0.935, n: 11 }
 */
export function medianInterval(values: readonly number[], confidence = 0.9): MedianInterval {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) throw new RangeError("medianInterval: no finite values");
  let k = 1;
  while (k + 1 <= (n + 1) / 2 && 1 - 2 * binomialHalfCdf(n, k) >= confidence) k++;
  const coverage = Math.min(1, 1 - 2 * binomialHalfCdf(n, k - 1));
  return { median: medianOfSorted(sorted), low: sorted[k - 1] as number, high: sorted[n - k] as number, coverage, n };
}

/** Whether the interval lies wholly at or under `limit` (pass), wholly over it (fail), or across it. */
export function judgeAtMost(interval: MedianInterval, limit: number): Verdict {
  if (interval.high <= limit) return "pass";
  if (interval.low > limit) return "fail";
  return "unsure";
}

/** SDK / raw per run index, where both have a run of that index. */
export function pairedRatios(sdkRuns: readonly number[], rawRuns: readonly number[]): number[] {
  return sdkRuns.map((ms, i) => ms / (rawRuns[i] ?? Number.NaN)).filter(Number.isFinite);
}

/**
 * The order in which `lanes` clients take their turns in each of `rounds` rounds: shuffles
 * seeded by the round, so no client always follows the same other one (a fixed rotation kept
 * each lane's predecessor the same in every round, so whatever one client leaves behind on the
 * machine always landed on the same next one). A round never starts with the lane that ended
 * the round before (no client runs twice in a row). Deterministic: a rerun uses the same orders.
 *
 * @example roundOrders(3, 2) // e.g. [[2, 0, 1], [0, 2, 1]]
 */
export function roundOrders(lanes: number, rounds: number): number[][] {
  const orders: number[][] = [];
  for (let round = 0; round < rounds; round++) {
    const order = Array.from({ length: lanes }, (_, i) => i);
    // mulberry32, seeded by the round number.
    let seed = Math.imul(round + 1, 0x9e3779b9);
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (let i = lanes - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const last = orders[round - 1]?.[lanes - 1];
    if (lanes > 1 && order[0] === last) order.push(order.shift() as number);
    orders.push(order);
  }
  return orders;
}
