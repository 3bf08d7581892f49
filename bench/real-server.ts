/**
 * Roster load from a real server on loopback: Prosody at 1k, 10k and 100k items, ejabberd at 1k and
 * 10k. Raw xmpp.js, xmpp-presence and StanzaJS over WebSocket, each in a process of its own
 * (bench/child.ts), run by run in turn.
 * The replay server (bench/replay-server.ts) times the clients alone; this lane times what an app
 * waits for, the server's work included: from the roster get leaving to the roster being held.
 * Reported, not judged (the issue's targets are set against the replay server).
 *
 * The roster is put into the server's storage (XmppTestServer.seedRoster): every item `none`, with a
 * name and a group. A `to`/`both` item would cost a probe at every login and a `from`/`both` one a
 * presence at every login and logout, work the server carries over into the next client's timed
 * window. ejabberd stops at 10k: its seeding (Mnesia's text load) slows down as the table grows,
 * 20k items took 22 s. The SDK asks for roster versioning (`ver`) and raw xmpp.js does not; ejabberd
 * then hashes the whole roster, which is in the SDK's time (~45 ms at 10k, bench/results.md).
 *
 * `node --import tsx bench/real-server.ts [prosody|ejabberd] [sizes…]`, or as part of `npm run
 * bench` (skipped with BENCH_SKIP_PROSODY=1). BENCH_REAL_RUNS=n measured runs per client (default
 * 5, after 1 warm-up).
 */
import { fileURLToPath } from "node:url";
import { startTestServer, type SeedRosterItem, type XmppServerKind } from "../src/testing/server.js";
import type { ChildResult } from "./child.js";
import { runInTurns, startChild, type ChildHandle } from "./children.js";
import { fmtMs as ms } from "./format.js";
import type { ClientKind } from "./clients.js";
import { median } from "./verdict.js";
import { SENTINEL } from "./workloads.js";

const RUNS = Number(process.env["BENCH_REAL_RUNS"] ?? 5);
const WARMUP = 1;
const KINDS: readonly ClientKind[] = ["raw", "sdk", "stanza"];
const SETTLE_MS = 300;

/** One client's roster-load times at one size. */
export interface RealServerRow {
  size: number;
  kind: ClientKind;
  median: number;
  min: number;
  max: number;
  /** Items the client held after its last run. */
  held: number | undefined;
}

function rosterOf(size: number): SeedRosterItem[] {
  const items: SeedRosterItem[] = Array.from({ length: size - 1 }, (_, i) => ({
    jid: `contact${i}@localhost`,
    name: `Contact ${i}`,
    groups: [`Group ${i % 20}`],
  }));
  // The SDK's bench client waits for this item (bench/clients.ts); never contacted (`none`).
  items.push({ jid: SENTINEL, name: "Sentinel" });
  return items;
}

/** The sizes each server is measured at by default. */
export const REAL_SERVER_SIZES: Readonly<Record<XmppServerKind, readonly number[]>> = {
  prosody: [1_000, 10_000, 100_000],
  ejabberd: [1_000, 10_000],
};

const SERVER_NAMES: Readonly<Record<XmppServerKind, string>> = { prosody: "Prosody", ejabberd: "ejabberd" };

/** Runs the lane on a server of `kind`; resolves with a row per (size, client) and the Markdown table. */
export async function measureRealServer(
  kind: XmppServerKind,
  log: (line: string) => void,
  sizes: readonly number[] = REAL_SERVER_SIZES[kind],
): Promise<{ rows: RealServerRow[]; table: string }> {
  const name = SERVER_NAMES[kind];
  const server = await startTestServer(kind);
  const rows: RealServerRow[] = [];
  try {
    for (const size of sizes) {
      const [account] = await server.createAccounts(1, "load");
      if (account === undefined) throw new Error("no account");
      const seeding = performance.now();
      await server.seedRoster(account.username, rosterOf(size));
      log(`  ${name} roster load ${size}: seeded in ${(performance.now() - seeding).toFixed(0)} ms`);
      const runs = Array.from({ length: WARMUP + RUNS }, (_, run) => ({ key: `real-${size}-${run}`, run, expectStanzas: 0, warmup: run < WARMUP }));
      const children: ChildHandle[] = await Promise.all(
        KINDS.map((client) =>
          startChild({
            kind: client,
            scenario: "roster",
            service: server.websocketService,
            rosterSize: size,
            runs,
            reuseSession: false,
            account: { username: account.username, password: account.password },
          }),
        ),
      );
      const results = await runInTurns(children, runs.length, SETTLE_MS);
      for (const [lane, client] of KINDS.entries()) {
        const measured = (results[lane] as ChildResult).runs.slice(WARMUP);
        const ms = measured.map((r) => r.ms);
        const row: RealServerRow = { size, kind: client, median: median(ms), min: Math.min(...ms), max: Math.max(...ms), held: measured.at(-1)?.held.rosterItems };
        rows.push(row);
        log(`  ${name} roster load ${String(size).padStart(6)} ${client.padEnd(6)} ${row.median.toFixed(0).padStart(6)} ms (${row.min.toFixed(0)}–${row.max.toFixed(0)})${row.held === undefined ? "" : `  held ${row.held}`}`);
      }
    }
  } finally {
    await server.stop();
  }
  return { rows, table: realServerTable(name, rows) };
}

/** The lane as a Markdown table: medians with min–max, and the SDK's ratios and extra time. */
export function realServerTable(serverName: string, rows: readonly RealServerRow[]): string {
  const lines = [
    `| roster from ${serverName} (ws) | raw xmpp.js | xmpp-presence | StanzaJS | SDK / raw | SDK / StanzaJS | SDK − raw |`,
    "|---|---|---|---|---|---|---|",
  ];
  for (const size of [...new Set(rows.map((row) => row.size))]) {
    const get = (kind: ClientKind) => rows.find((row) => row.size === size && row.kind === kind);
    const [raw, sdk, stanza] = [get("raw"), get("sdk"), get("stanza")];
    const cell = (row: RealServerRow | undefined) => (row ? `${ms(row.median)} (${ms(row.min)}–${ms(row.max)})` : "–");
    const ratio = (a: RealServerRow | undefined, b: RealServerRow | undefined) => (a && b ? `${(a.median / b.median).toFixed(2)}×` : "–");
    lines.push(
      `| ${size / 1000}k items | ${cell(raw)} | ${cell(sdk)} | ${cell(stanza)} | ${ratio(sdk, raw)} | ${ratio(sdk, stanza)} | ${sdk && raw ? ms(sdk.median - raw.median) : "–"} |`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const kinds = args.filter((arg): arg is XmppServerKind => arg === "prosody" || arg === "ejabberd");
  const sizes = args.map(Number).filter((n) => n > 0);
  for (const kind of kinds.length > 0 ? kinds : (["prosody", "ejabberd"] as const)) {
    const { table } = await measureRealServer(kind, (line) => console.log(line), sizes.length > 0 ? sizes : undefined);
    console.log(`\n${table}\n`);
  }
}
