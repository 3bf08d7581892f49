/**
 * Counts the client round trips of a mutual subscription on a real Prosody (RFC 6121 §3 with §3.4
 * pre-approval): Alice calls `subscribe(bob, { preApprove: true })`; Bob runs `autoReply("mutual")`.
 * Every stanza each client sends and receives is logged until both rosters show `both`.
 *
 * A "turn" is a burst of stanzas one client sends without waiting for anything in between; a new
 * turn starts only when a client sends after receiving something. IQ results answering roster
 * pushes and XEP-0198 acks are not turns (nothing waits for them). The turns in sequence are the
 * round trips the handshake costs; the IQ requests the clients send are counted apart (the SDK
 * sends none: roster pushes are answered, not asked for).
 *
 * `node --import tsx bench/round-trips.ts`, or as part of `npm run bench`.
 */
import { createPresenceClient, type PresenceClient } from "../src/index.js";
import { startProsody } from "../src/testing/prosody.js";

interface Logged {
  at: number;
  who: "alice" | "bob";
  dir: "out" | "in";
  what: string;
}

function describe(el: { name: string; attrs: Record<string, string | undefined>; getChild(name: string): unknown }): string {
  const type = el.attrs["type"] ?? (el.name === "presence" ? "available" : "");
  if (el.name === "iq") {
    const query = (el as unknown as { children: Array<{ name?: string; attrs?: Record<string, string> }> }).children.find((c) => typeof c === "object");
    return `iq ${type}${query?.name ? ` ${query.name}` : ""}`;
  }
  return `${el.name} ${type}`.trim();
}

function watch(client: PresenceClient, who: "alice" | "bob", log: Logged[], t0: () => number): void {
  const xmpp = client.xmpp as unknown as { on(event: string, fn: (el: never) => void): void };
  xmpp.on("send", (el: never) => log.push({ at: performance.now() - t0(), who, dir: "out", what: describe(el) }));
  xmpp.on("stanza", (el: never) => log.push({ at: performance.now() - t0(), who, dir: "in", what: describe(el) }));
}

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a mutual subscription");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs the handshake once; resolves with a one-line summary (and logs the trace when asked). */
export async function countRoundTrips(verbose = false): Promise<string> {
  const server = await startProsody();
  const clients: PresenceClient[] = [];
  try {
    const [alice, bob] = await server.createAccounts(2, "rt");
    if (alice === undefined || bob === undefined) throw new Error("no accounts");
    const make = (account: typeof alice, autoReply: "reverse" | "mutual") => {
      const client = createPresenceClient({
        service: server.service,
        domain: server.domain,
        username: account.username,
        password: account.password,
        saslMechanism: "PLAIN",
        autoReply,
      });
      client.on("error", () => undefined);
      clients.push(client);
      return client;
    };
    const a = make(alice, "reverse");
    const b = make(bob, "mutual");
    await Promise.all([a.start(), b.start()]);
    const log: Logged[] = [];
    let start = 0;
    watch(a, "alice", log, () => start);
    watch(b, "bob", log, () => start);
    start = performance.now();
    await a.subscribe(bob.jid, { preApprove: true });
    await until(() => a.roster.get(bob.jid)?.subscription === "both" && b.roster.get(alice.jid)?.subscription === "both");
    const elapsed = performance.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 300)); // anything that still follows
    // Turns: per client, a send after something was received since its previous send.
    const turns: { who: string; at: number; sent: string[] }[] = [];
    const receivedSince = { alice: true, bob: true };
    const current: Record<string, { who: string; at: number; sent: string[] } | undefined> = {};
    for (const entry of log) {
      if (entry.dir === "in") {
        receivedSince[entry.who] = true;
        continue;
      }
      if (entry.what.startsWith("iq result") || entry.what.startsWith("iq error")) continue; // answers to pushes
      if (!/^(iq|presence|message)\b/.test(entry.what)) continue; // XEP-0198 <a/>, <r/>: acks, not turns
      if (receivedSince[entry.who] || current[entry.who] === undefined) {
        const turn = { who: entry.who, at: entry.at, sent: [] as string[] };
        turns.push(turn);
        current[entry.who] = turn;
        receivedSince[entry.who] = false;
      }
      current[entry.who]?.sent.push(entry.what);
    }
    const iqRequests = log.filter((e) => e.dir === "out" && /^iq (get|set)/.test(e.what)).length;
    const pushes = log.filter((e) => e.dir === "in" && e.what === "iq set query").length;
    if (verbose) for (const e of log) console.log(`${e.at.toFixed(1).padStart(7)} ms ${e.who.padEnd(5)} ${e.dir === "out" ? "→" : "←"} ${e.what}`);
    return (
      `${turns.length} client turns (${turns.map((t) => `${t.who}: ${t.sent.join(" + ")}`).join("; ")}), ` +
      `${iqRequests} IQ requests, ${pushes} roster pushes answered; both rosters "both" after ${elapsed.toFixed(0)} ms (Prosody, loopback)`
    );
  } finally {
    for (const client of clients) await client.stop().catch(() => undefined);
    await server.stop();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  console.log(await countRoundTrips(true));
}
