// The benchmark's judging of ratio targets (bench/verdict.ts): the sign-test interval for a
// median, the three verdicts, and the per-round order of the clients.
import { describe, expect, it } from "vitest";
import { judgeAtMost, medianInterval, pairedRatios, roundOrders } from "../../bench/verdict.js";

describe("medianInterval", () => {
  it("takes the narrowest order-statistic interval with at least 90% coverage", () => {
    const values = [1.2, 1.3, 1.25, 1.4, 1.1, 1.35, 1.28, 1.22, 1.31, 1.27, 1.33];
    const interval = medianInterval(values);
    expect(interval.median).toBe(1.28);
    // n = 11: [x(3), x(9)] covers 1 - 2·67/2048 = 93.5%; [x(4), x(8)] only 77.3%.
    expect(interval.low).toBe(1.22);
    expect(interval.high).toBe(1.33);
    expect(interval.coverage).toBeCloseTo(1 - (2 * 67) / 2048, 10);
    expect(interval.n).toBe(11);
  });

  it("falls back to min–max, with its real coverage, when there are too few runs", () => {
    const interval = medianInterval([3, 1, 2]);
    expect(interval).toEqual({ median: 2, low: 1, high: 3, coverage: 0.75, n: 3 });
  });

  it("uses min–max for 7 runs (98.4%: the next interval in covers only 87.5%)", () => {
    const interval = medianInterval([1.27, 1.61, 1.44, 1.3, 1.5, 1.35, 1.42]);
    expect([interval.low, interval.high, interval.median]).toEqual([1.27, 1.61, 1.42]);
    expect(interval.coverage).toBeCloseTo(1 - 2 / 128, 10);
    // At 85% it narrows to [x(2), x(6)].
    const looser = medianInterval([1.27, 1.61, 1.44, 1.3, 1.5, 1.35, 1.42], 0.85);
    expect([looser.low, looser.high]).toEqual([1.3, 1.5]);
  });

  it("averages the middle pair for an even count and ignores non-finite values", () => {
    const interval = medianInterval([4, Number.NaN, 1, 3, 2, Number.POSITIVE_INFINITY]);
    expect(interval.median).toBe(2.5);
    expect(interval.n).toBe(4);
  });

  it("rejects an empty sample", () => {
    expect(() => medianInterval([])).toThrow(RangeError);
  });
});

describe("judgeAtMost", () => {
  const at = (low: number, high: number) => ({ median: (low + high) / 2, low, high, coverage: 0.9, n: 11 });
  it("passes only when the whole interval meets the limit", () => {
    expect(judgeAtMost(at(1.1, 1.3), 1.3)).toBe("pass");
    expect(judgeAtMost(at(1.1, 1.31), 1.3)).toBe("unsure");
  });
  it("fails only when the whole interval misses the limit", () => {
    expect(judgeAtMost(at(1.31, 1.6), 1.3)).toBe("fail");
    expect(judgeAtMost(at(1.3, 1.6), 1.3)).toBe("unsure");
  });
});

describe("pairedRatios", () => {
  it("pairs runs by index and drops runs without a partner", () => {
    expect(pairedRatios([200, 300, 400], [100, 200])).toEqual([2, 1.5]);
  });
});

describe("roundOrders", () => {
  it("gives a permutation per round, the same on every call", () => {
    const orders = roundOrders(6, 20);
    expect(orders).toHaveLength(20);
    for (const order of orders) expect([...order].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(roundOrders(6, 20)).toEqual(orders);
  });

  it("never runs a lane twice in a row, and gives each lane several predecessors", () => {
    for (const lanes of [2, 3, 4, 6]) {
      const sequence = roundOrders(lanes, 12).flat();
      const predecessors = new Map<number, Set<number>>();
      for (let i = 1; i < sequence.length; i++) {
        const lane = sequence[i] as number;
        const previous = sequence[i - 1] as number;
        expect(previous).not.toBe(lane);
        predecessors.set(lane, (predecessors.get(lane) ?? new Set<number>()).add(previous));
      }
      // A fixed rotation gives every lane exactly one predecessor. With 6 lanes, 12 seeded
      // rounds give each 4 or 5 of the 5 others; with up to 4 lanes, all of them.
      for (let lane = 0; lane < lanes; lane++) {
        expect(predecessors.get(lane)?.size).toBeGreaterThanOrEqual(lanes <= 4 ? lanes - 1 : 4);
      }
    }
  });
});
