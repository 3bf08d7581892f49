/**
 * How much the machine itself moves: the same fixed piece of work, timed several times in a
 * fresh Node process with nothing else of the bench running. Printed with the results so that a
 * reader can tell a ratio the SDK earned from one the machine handed out (a shared virtual
 * machine here swung 2× on a plain arithmetic loop from one second to the next, bench/results.md).
 */
import { execFileSync } from "node:child_process";

export interface MachineNoise {
  /** Each repetition's time, in ms, in the order taken. */
  ms: number[];
  min: number;
  max: number;
  /** max / min. */
  spread: number;
}

// Integer arithmetic and short-lived objects (what a parse and a store do, minus the XML): about
// 50–100 ms per repetition on the bench machines. The first repetition warms the JIT up, untimed.
const WORK = `
const work = () => { let s = 0; for (let i = 0; i < 2e7; i++) s += i % 7; const a = []; for (let i = 0; i < 2e5; i++) a.push({ i, t: "x" + i }); return s + a.length; };
work();
const out = [];
for (let r = 0; r < REPS; r++) { const t = performance.now(); work(); out.push(performance.now() - t); }
process.stdout.write(JSON.stringify(out));
`;

/** Times the fixed work `repetitions` times in a child process. */
export function measureMachineNoise(repetitions = 9): MachineNoise {
  const out = execFileSync(process.execPath, ["-e", WORK.replace("REPS", String(repetitions))], { encoding: "utf8", timeout: 120_000 });
  const ms = JSON.parse(out) as number[];
  const min = Math.min(...ms);
  const max = Math.max(...ms);
  return { ms, min, max, spread: max / min };
}
