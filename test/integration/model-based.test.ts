// Model-based testing (fast-check) of the subscription handshake on the real server: random
// command sequences across three accounts (subscribe / approve / deny / unsubscribe / revoke /
// remove, auto-reply policy changes, dropped connections). After every command each client's
// roster must equal a fresh server fetch, and the subscription states must equal what a
// reference model of RFC 6121 (Appendix A, as a relation per ordered pair) predicts.
// Runs: MODEL_RUNS (default 5) × up to MODEL_COMMANDS (default 25); `npm run test:soak` runs more.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AutoReplyPolicyName, PresenceClient } from "../../src/index.js";
import { freshAccounts, localRoster, onEjabberd, presenceClient, serverRoster } from "../support/server.js";

const NAMES = ["A", "B", "C"] as const;
type Name = (typeof NAMES)[number];
type Relation = "none" | "pending" | "subscribed"; // X → Y: does X receive (or ask for) Y's presence?
type Policy = Exclude<AutoReplyPolicyName, "all"> | "all";

interface Model {
  rel: Map<string, Relation>; // key "X>Y"
  item: Set<string>; // "X>Y": X has a roster item for Y
  /**
   * "X>Y": X's SDK still shows a request from Y that Y withdrew. ejabberd 23.01 does not deliver
   * the withdrawal when X is in "None + Pending In" (rfc6121-client §11.2, S-19); X learns it at
   * its next session. Prosody delivers it, so this stays empty there.
   */
  stale: Set<string>;
  policy: Record<Name, Policy>;
}
interface Real {
  clients: Record<Name, PresenceClient>;
  jid: Record<Name, string>;
}

let executed = 0;
const backgroundErrors: Error[] = [];
// xmpp.js 0.14 sometimes aborts stream-management enablement after a reconnect with this
// internal assertion (seen twice in 250 commands); the session goes on without XEP-0198 and the
// checks after each command still hold. Any other background error fails the test.
const KNOWN_UPSTREAM = /Stream Management assertion failure, queue should be empty after enable/;
const key = (x: Name, y: Name) => `${x}>${y}`;
const rel = (m: Model, x: Name, y: Name): Relation => m.rel.get(key(x, y)) ?? "none";
const setRel = (m: Model, x: Name, y: Name, r: Relation) => {
  m.rel.set(key(x, y), r);
  if (r !== "none") m.stale.delete(key(y, x));
};
// X withdraws its pending request to Y.
function withdraw(m: Model, x: Name, y: Name): void {
  // ejabberd keeps "None + Pending In" as a hidden (none, in) record and deletes it silently.
  if (rel(m, x, y) === "pending" && onEjabberd && rel(m, y, x) === "none") m.stale.add(key(y, x));
}

// The contact's auto-reply, applied until nothing changes (the SDK re-evaluates a pending request
// whenever the roster entry changes, and when the policy changes).
function settle(m: Model): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const x of NAMES) {
      for (const y of NAMES) {
        const p = m.policy[x];
        // The SDK cannot tell a stale request from a live one, so its policy answers a stale one
        // as it would a live one: "reverse" too, once X has or asks for Y's presence.
        if (x !== y && m.stale.has(key(x, y)) && p !== "manual" && (p !== "reverse" || rel(m, x, y) !== "none")) {
          // The SDK answers the stale request; the server has nothing to approve.
          m.stale.delete(key(x, y));
          if (p === "mutual" && rel(m, x, y) === "none") setRel(m, x, y, "pending");
          changed = true;
          continue;
        }
        if (x === y || rel(m, y, x) !== "pending") continue;
        const approve = p === "all" || p === "mutual" || (p === "reverse" && rel(m, x, y) !== "none");
        if (!approve) continue;
        setRel(m, y, x, "subscribed");
        m.item.add(key(x, y));
        if (p === "mutual" && rel(m, x, y) === "none") {
          setRel(m, x, y, "pending");
          m.item.add(key(x, y));
        }
        changed = true;
      }
    }
  }
}

function expected(m: Model, x: Name, y: Name) {
  const out = rel(m, x, y);
  const inn = rel(m, y, x);
  const to = out === "subscribed";
  const from = inn === "subscribed";
  return {
    subscription: to ? (from ? "both" : "to") : from ? "from" : "none",
    pendingOut: out === "pending",
    pendingIn: inn === "pending" || m.stale.has(key(x, y)),
  };
}

function observed(r: Real, x: Name, y: Name) {
  const entry = r.clients[x].roster.get(r.jid[y]);
  return {
    subscription: entry?.subscription ?? "none",
    pendingOut: entry?.pendingOut ?? false,
    pendingIn: r.clients[x].roster.getSnapshot().requests.has(r.jid[y]),
  };
}

async function check(m: Model, r: Real, label: string): Promise<void> {
  const pairs = NAMES.flatMap((x) => NAMES.filter((y) => y !== x).map((y) => [x, y] as const));
  const want = Object.fromEntries(pairs.map(([x, y]) => [key(x, y), expected(m, x, y)]));
  await expect
    .poll(() => Object.fromEntries(pairs.map(([x, y]) => [key(x, y), observed(r, x, y)])), { timeout: 5_000, interval: 50 })
    .toEqual(want);
  // The mirror may converge a moment later than the states: after the stanzas where ejabberd
  // changes an item without a push, the SDK re-fetches the roster after 2 s (S-24).
  for (const x of NAMES) {
    await expect
      .poll(async () => JSON.stringify([localRoster(r.clients[x]), await serverRoster(r.clients[x])].map((o) => Object.entries(o).sort())), {
        timeout: 5_000,
        interval: 250,
      })
      .toSatisfy((pair: string) => {
        const [local, server] = JSON.parse(pair) as [unknown, unknown];
        return JSON.stringify(local) === JSON.stringify(server);
      }, `${label}: ${x}'s roster vs server`);
  }
}

// A command acts for account `x` on one of the contacts the model says it can act on (chosen by
// `k`), so that random sequences stay meaningful instead of being mostly skipped.
abstract class Command implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly x: Name,
    readonly k: number,
  ) {}
  abstract valid(m: Model, y: Name): boolean;
  abstract act(m: Model, r: Real, y: Name): Promise<void>;
  abstract verb: string;
  #target: Name | undefined;
  targets(m: Model): Name[] {
    return NAMES.filter((y) => y !== this.x && this.valid(m, y));
  }
  check(m: Readonly<Model>): boolean {
    return this.targets(m as Model).length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    executed++;
    const targets = this.targets(m);
    const y = targets[this.k % targets.length]!;
    this.#target = y;
    await this.act(m, r, y);
    settle(m);
    await check(m, r, this.toString());
  }
  toString(): string {
    return `${this.x}.${this.verb}(${this.#target ?? `#${this.k}`})`;
  }
}

class Subscribe extends Command {
  verb = "subscribe";
  valid = () => true;
  async act(m: Model, r: Real, y: Name) {
    await r.clients[this.x].subscribe(r.jid[y]);
    if (rel(m, this.x, y) === "none") setRel(m, this.x, y, "pending");
    m.item.add(key(this.x, y));
  }
}
class Approve extends Command {
  verb = "approve";
  valid = (m: Model, y: Name) => rel(m, y, this.x) === "pending";
  async act(m: Model, r: Real, y: Name) {
    await r.clients[this.x].approve(r.jid[y]);
    setRel(m, y, this.x, "subscribed");
    m.item.add(key(this.x, y));
  }
}
class Deny extends Command {
  verb = "deny";
  valid = (m: Model, y: Name) => rel(m, y, this.x) === "pending";
  async act(m: Model, r: Real, y: Name) {
    await r.clients[this.x].deny(r.jid[y]);
    setRel(m, y, this.x, "none");
  }
}
class Unsubscribe extends Command {
  verb = "unsubscribe";
  valid = (m: Model, y: Name) => rel(m, this.x, y) !== "none";
  async act(m: Model, r: Real, y: Name) {
    await r.clients[this.x].unsubscribe(r.jid[y]);
    withdraw(m, this.x, y);
    setRel(m, this.x, y, "none");
  }
}
class Revoke extends Command {
  verb = "revoke";
  valid = (m: Model, y: Name) => rel(m, y, this.x) === "subscribed";
  async act(m: Model, r: Real, y: Name) {
    await r.clients[this.x].revoke(r.jid[y]);
    setRel(m, y, this.x, "none");
  }
}
class Remove extends Command {
  // RFC 6121 §2.5: removing the item cancels both directions.
  verb = "roster.remove";
  valid = (m: Model, y: Name) => m.item.has(key(this.x, y)) && rel(m, y, this.x) !== "pending";
  async act(m: Model, r: Real, y: Name) {
    await r.clients[this.x].roster.remove(r.jid[y]);
    withdraw(m, this.x, y); // the SDK withdraws a pending request before removing (R-26)
    // The removal push also ends a request from Y that the SDK still shows as stale
    // (rfc6121-client S-25): the item, and any request tied to it, is gone.
    m.stale.delete(key(this.x, y));
    setRel(m, this.x, y, "none");
    setRel(m, y, this.x, "none");
    m.item.delete(key(this.x, y));
  }
}
class SetPolicy implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly x: Name,
    readonly policy: Policy,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    executed++;
    r.clients[this.x].autoReply(this.policy);
    m.policy[this.x] = this.policy;
    settle(m);
    await check(m, r, this.toString());
  }
  toString = () => `${this.x}.autoReply("${this.policy}")`;
}
class Drop implements fc.AsyncCommand<Model, Real> {
  constructor(readonly x: Name) {}
  check = () => true;
  async run(m: Model, r: Real) {
    executed++;
    const client = r.clients[this.x];
    const back = new Promise<void>((resolve) => client.once("online", () => resolve()));
    (client.xmpp.socket as { destroy(): void }).destroy();
    await back;
    await check(m, r, this.toString());
  }
  toString = () => `${this.x}.dropConnection()`;
}

const name = fc.constantFrom(...NAMES);
const pick = fc.tuple(name, fc.nat(5));
const commands = [
  pick.map(([x, k]) => new Subscribe(x, k)),
  pick.map(([x, k]) => new Approve(x, k)),
  pick.map(([x, k]) => new Deny(x, k)),
  pick.map(([x, k]) => new Unsubscribe(x, k)),
  pick.map(([x, k]) => new Revoke(x, k)),
  pick.map(([x, k]) => new Remove(x, k)),
  fc.tuple(name, fc.constantFrom<Policy>("manual", "reverse", "all", "mutual")).map(([x, p]) => new SetPolicy(x, p)),
  name.map((x) => new Drop(x)),
];

const RUNS = Number(process.env["MODEL_RUNS"] ?? 5);
const MAX_COMMANDS = Number(process.env["MODEL_COMMANDS"] ?? 25);
// Replays a reported counterexample: MODEL_SEED, MODEL_PATH and MODEL_REPLAY_PATH are the seed,
// path and replayPath of fast-check's failure report (the seed alone reruns the whole failing run).
const REPLAY_SEED = process.env["MODEL_SEED"];
const REPLAY_RUN_PATH = process.env["MODEL_PATH"];
const REPLAY = {
  ...(REPLAY_SEED === undefined ? {} : { seed: Number(REPLAY_SEED) }),
  ...(REPLAY_RUN_PATH === undefined ? {} : { path: REPLAY_RUN_PATH }),
};
const REPLAY_PATH = process.env["MODEL_REPLAY_PATH"];

describe("RFC 6121 Appendix A model-based test on the real server", () => {
  it(`§3 random handshakes across three accounts match the model and the server (${RUNS} runs × ≤${MAX_COMMANDS} commands)`, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_COMMANDS, size: "max", ...(REPLAY_PATH === undefined ? {} : { replayPath: REPLAY_PATH }) }), async (cmds) => {
        runs++;
        const accounts = await freshAccounts(3, "model");
        const clients = Object.fromEntries(
          await Promise.all(
            NAMES.map(async (n, i) => {
              const client = presenceClient(accounts[i]!);
              // Background errors are collected and checked below instead of thrown.
              client.removeAllListeners("error");
              client.on("error", (error) => void backgroundErrors.push(error));
              await client.start();
              return [n, client] as const;
            }),
          ),
        ) as Record<Name, PresenceClient>;
        const jid = Object.fromEntries(NAMES.map((n, i) => [n, accounts[i]!.jid])) as Record<Name, string>;
        const model: Model = { rel: new Map(), item: new Set(), stale: new Set(), policy: { A: "manual", B: "manual", C: "manual" } };
        try {
          await fc.asyncModelRun(() => ({ model, real: { clients, jid } }), cmds);
        } finally {
          await Promise.all(NAMES.map((n) => clients[n].stop()));
        }
      }),
      { numRuns: RUNS, endOnFailure: false, verbose: 1, ...REPLAY },
    );
    expect(runs).toBeGreaterThanOrEqual(REPLAY_RUN_PATH === undefined ? RUNS : 1);
    expect(executed).toBeGreaterThan(0);
    expect(backgroundErrors.filter((e) => !KNOWN_UPSTREAM.test(e.message))).toEqual([]);
    console.log(
      `model-based: ${runs} runs, ${executed} commands executed against the server, 0 counterexamples, ` +
        `${backgroundErrors.length} xmpp.js stream-management assertions`,
    );
  }, 600_000);
});
