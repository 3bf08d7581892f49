/**
 * One client, one workload, one size, in a process of its own (so JIT state and heap of one
 * client never colour another's figures). Run by bench/run.ts as
 * `node --expose-gc --import tsx bench/child.ts '<spec json>'`, driven over IPC one run at a time.
 */
import { PerformanceObserver, performance, type PerformanceEntry } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";
import { WebSocket } from "ws";
import { createBenchClient, type BenchClient, type ClientKind, type Held, type Scenario } from "./clients.js";

// Node 20 has no global WebSocket; xmpp.js (raw and SDK) needs one for ws:// services.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

export interface ChildSpec {
  kind: ClientKind;
  scenario: Scenario;
  service: string;
  /** Roster size the session logs in with (the server reads it from the username). */
  rosterSize: number;
  /** One entry per run, warm-ups first. */
  runs: { key: string; run: number; expectStanzas: number; warmup: boolean }[];
  /** Keep one session for all runs (pushes), instead of a fresh login per run. */
  reuseSession: boolean;
  /** A real server's account to log in with (bench/real-server.ts), instead of the replay server's made-up one. */
  account?: { username: string; password: string };
}

export interface RunFigures {
  ms: number;
  /** Main-thread GC pauses (V8 "gc" performance entries) that began within the timed window, in ms. */
  gcPauseMs: number;
  listenerCalls: number;
  batches?: number;
  held: Held;
}

export interface ChildResult {
  runs: RunFigures[];
  /** Heap retained by the client and its state after the first run (after GC), in bytes. */
  retainedBytes: number;
  maxRssBytes: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

// Every GC pause of this process, as V8 reports them; read per run by gcPauseWithin.
const gcEntries: PerformanceEntry[] = [];
const gcObserver = new PerformanceObserver((list) => void gcEntries.push(...list.getEntries()));
gcObserver.observe({ entryTypes: ["gc"] });

/**
 * The summed duration of the GC pauses that began between `start` and `end`. Node creates a gc
 * entry in an immediate after the pause, so this waits two turns of the event loop first.
 */
async function gcPauseWithin(start: number, end: number): Promise<number> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  gcEntries.push(...gcObserver.takeRecords());
  let total = 0;
  for (const entry of gcEntries) if (entry.startTime >= start && entry.startTime < end) total += entry.duration;
  gcEntries.length = 0;
  return total;
}

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Runs run `index` of the spec when the parent asks (IPC `{ index }`), so the parent can interleave
 * the clients run by run: a burst of load from elsewhere on the machine then hits them all alike.
 */
function worker(spec: ChildSpec): void {
  const runs: RunFigures[] = [];
  let client: BenchClient | undefined;
  let serial = 0;
  const connect = async (): Promise<number> => {
    client = createBenchClient(spec.kind, {
      service: spec.service,
      username: spec.account?.username ?? `${spec.scenario}-${spec.rosterSize}-${process.pid}-${serial++}`,
      password: spec.account?.password ?? "bench",
      // "1 push at a time" measures the cost of one push with its own snapshot and listener
      // call; the default notification window would fold the pushes of 16 ms into one.
      ...(spec.scenario === "lockstep" ? { notificationWindowMs: 0 } : {}),
    });
    return client.login();
  };
  // Retained = heap with the client alive after the first (warm-up) run minus the heap before
  // any client existed: no stopped client of an earlier run can be collected in between and
  // blur the figure.
  let retainedBytes = 0;
  const stop = async (): Promise<void> => {
    await (client as BenchClient).stop();
    client = undefined;
  };
  const runOne = async (index: number): Promise<RunFigures & { result?: ChildResult }> => {
    const run = spec.runs[index];
    if (run === undefined) throw new Error(`no run ${index}`);
    const last = index === spec.runs.length - 1;
    const base = index === 0 ? heap() : 0;
    let figures: RunFigures;
    if (spec.scenario === "roster") {
      heap(); // the previous run's garbage is not this run's
      const ms = await connect();
      // The timed window ended as connect() returned: it is the last `ms` before now.
      const end = performance.now();
      figures = { ms, gcPauseMs: await gcPauseWithin(end - ms, end), listenerCalls: 0, held: (client as BenchClient).held() };
    } else if (spec.scenario === "reload") {
      if (client === undefined) await connect(); // the first roster, untimed
      heap();
      const ms = await (client as BenchClient).reload();
      const end = performance.now();
      figures = { ms, gcPauseMs: await gcPauseWithin(end - ms, end), listenerCalls: 0, held: (client as BenchClient).held() };
    } else {
      if (client === undefined) await connect();
      heap(); // collect the login's garbage outside the timed window
      const played = await (client as BenchClient).play(run.key, spec.scenario, run.run, run.expectStanzas);
      const end = performance.now();
      figures = { ...played, gcPauseMs: await gcPauseWithin(end - played.ms, end), held: (client as BenchClient).held() };
    }
    if (index === 0) {
      retainedBytes = heap() - base;
      const dir = process.env["BENCH_HEAPSNAPSHOT"];
      if (dir) writeHeapSnapshot(`${dir}/${spec.kind}-${spec.scenario}-${spec.rosterSize}-${spec.service.slice(0, 2)}.heapsnapshot`);
    }
    runs.push(figures);
    if (last || spec.scenario === "roster" || !spec.reuseSession) await stop();
    // Collect this run's garbage now, untimed: left to V8's background threads it would be
    // collected while the next client (another process, same 2 cores) is being timed.
    heap();
    if (!last) return figures;
    return { ...figures, result: { runs, retainedBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 } };
  };
  process.on("message", (message: { index: number }) => {
    runOne(message.index).then(
      (figures) =>
        // After the last run, exit on our own (a CPU profile is only written on a normal exit).
        process.send?.({ ok: true, figures }, undefined, {}, () => {
          if (figures.result) process.exit(0);
        }),
      (error: unknown) => {
        console.error(error);
        process.send?.({ ok: false, error: String(error) });
      },
    );
  });
  process.send?.({ ready: true });
}

worker(JSON.parse(process.argv[2] ?? "{}") as ChildSpec);
