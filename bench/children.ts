/**
 * Starts a benchmark client in a process of its own (bench/child.ts) and drives it run by run over
 * IPC: used by bench/run.ts for the replay server and by bench/real-server.ts for Prosody.
 *
 * Environment: BENCH_PROFILE=DIR (a V8 CPU profile per child), BENCH_NODE_FLAGS="…" (extra flags
 * for every child), BENCH_STOP_IDLE=0 (never SIGSTOP a child waiting for its turn).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildResult, ChildSpec } from "./child.js";
import { roundOrders } from "./verdict.js";

const env = process.env;
// Not while profiling: SIGSTOP stops V8's sampling thread too, and the first sample after
// SIGCONT carries the whole pause, charged to whatever frame was current (profiles showed
// seconds of "self time" in Node's timer internals that were the child being stopped).
const STOP_IDLE = process.platform !== "win32" && env["BENCH_STOP_IDLE"] !== "0" && !env["BENCH_PROFILE"];
const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface ChildHandle {
  /** Runs run `index`; the last one also brings the child's totals. */
  run(index: number): Promise<ChildResult["runs"][number] & { result?: ChildResult }>;
  /** Waits for the child to exit by itself (it does after its last run), else kills it. */
  close(): Promise<void>;
  /**
   * Stops (SIGSTOP) or continues (SIGCONT) the child's process. A client waiting for its next
   * run is stopped, so its V8 background threads (concurrent sweeping, the memory reducer,
   * returning pages to the OS after freeing a 100k roster) cannot run on the 2 cores while
   * another client is timed. No-op where signals do not stop processes (Windows).
   */
  pause(): void;
  resume(): void;
}

export function startChild(spec: ChildSpec): Promise<ChildHandle> {
  const profile = env["BENCH_PROFILE"]
    ? // One directory per child: the tsx loader thread writes a profile of its own.
      ["--cpu-prof", `--cpu-prof-dir=${env["BENCH_PROFILE"]}/${spec.kind}-${spec.scenario}-${spec.rosterSize}-${spec.service.slice(0, 2)}`]
    : [];
  const flags = env["BENCH_NODE_FLAGS"]?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, ["--expose-gc", ...flags, ...profile, "--import", "tsx", `${HERE}child.ts`, JSON.stringify(spec)], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  type Reply = { ready?: boolean; ok?: boolean; error?: string; figures?: ChildResult["runs"][number] & { result?: ChildResult } };
  let waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  child.on("message", (reply: Reply) => {
    const w = waiting;
    waiting = undefined;
    w?.resolve(reply);
  });
  child.on("exit", (code) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(new Error(`${spec.kind} ${spec.scenario} exited with ${code}`));
  });
  const next = (timeoutMs: number) =>
    new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${spec.kind} ${spec.scenario}: no answer in ${timeoutMs / 1000} s`));
      }, timeoutMs);
      waiting = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  return next(60_000).then(() => ({
    async run(index) {
      const reply = next(5 * 60_000);
      child.send({ index });
      const answer = await reply;
      if (!answer.ok || !answer.figures) throw new Error(`${spec.kind} ${spec.scenario}: ${answer.error ?? "failed"}`);
      return answer.figures;
    },
    pause() {
      if (STOP_IDLE && child.exitCode === null) child.kill("SIGSTOP");
    },
    resume() {
      if (STOP_IDLE && child.exitCode === null) child.kill("SIGCONT");
    },
    async close() {
      if (child.exitCode !== null) return;
      child.kill("SIGCONT"); // a stopped child would never exit
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  }));
}

/**
 * Runs `runs` runs on every child, run by run, every client in turn, so noise from elsewhere is
 * shared; the order changes from round to round (bench/verdict.ts), so no client always follows
 * the same other one. A child waits paused for its turn. Closes the children; resolves with each
 * one's totals, in the children's order.
 */
export async function runInTurns(children: readonly ChildHandle[], runs: number, settleMs: number): Promise<ChildResult[]> {
  const results: (ChildResult | undefined)[] = children.map(() => undefined);
  for (const child of children) child.pause();
  try {
    const orders = roundOrders(children.length, runs);
    for (let index = 0; index < runs; index++) {
      for (const lane of orders[index] as number[]) {
        const child = children[lane] as ChildHandle;
        child.resume();
        const figures = await child.run(index);
        if (figures.result) results[lane] = figures.result;
        // Let the finished client's process go quiet (concurrent sweeping, memory reducer)
        // before it is stopped and the next one is timed.
        await new Promise((resolve) => setTimeout(resolve, settleMs));
        child.pause();
      }
    }
  } finally {
    await Promise.all(children.map((child) => child.close()));
  }
  return results.map((result, lane) => {
    if (result === undefined) throw new Error(`client ${lane} brought no totals`);
    return result;
  });
}
