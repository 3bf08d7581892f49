#!/usr/bin/env node
/**
 * The RFC 6121 §3 subscription handshake, narrated: Alice subscribes to Bob, Bob approves,
 * Bob subscribes back and Alice's "reverse" policy approves him, so both end in "Both".
 *
 *   npm run demo:terminal             # a throw-away Prosody on loopback (installed if missing, as root)
 *   XMPP_ALICE=alice:pw XMPP_BOB=bob:pw node scripts/demo-terminal.mjs --service xmpp://host:5222 --domain example.com
 *
 * Uses the built package (`npm run build` first), through its own name, as an app would.
 */
import { randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { parseArgs } from "node:util";
import { createPresenceClient } from "xmpp-presence";

const STEP_TIMEOUT_MS = 10_000;
const started = performance.now();
let stepStarted = started;

// ---- output ---------------------------------------------------------------------------------

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const dim = paint(2);
const bold = paint(1);
const green = paint(32);
const red = paint(31);

const stamp = () => dim(`[${String(Math.round(performance.now() - started)).padStart(5)} ms]`);
const say = (text) => console.log(`${stamp()} ${text}`);
let stepNo = 0;
function step(title) {
  stepStarted = performance.now();
  console.log(`\n${stamp()} ${bold(`${++stepNo}. ${title}`)}`);
}
function done(text) {
  say(`${green("✓")} ${text} ${dim(`(${Math.round(performance.now() - stepStarted)} ms)`)}`);
}

// ---- options --------------------------------------------------------------------------------

const USAGE = `Usage: node scripts/demo-terminal.mjs [--service URL --domain DOMAIN]

Without --service, starts a throw-away Prosody on 127.0.0.1 (installing Debian's "prosody"
package if it is missing and this runs as root) with fresh accounts alice and bob.
With --service, uses an existing server; the accounts come from the environment:
  XMPP_ALICE="alice:password" XMPP_BOB="bob:password"   (or "alice@domain:password")
Those two accounts should not yet be subscribed to each other; the demo resets them if they are.`;

let args;
try {
  args = parseArgs({
    options: { service: { type: "string" }, domain: { type: "string" }, help: { type: "boolean", short: "h" } },
  }).values;
} catch (error) {
  console.error(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

function accountFromEnv(name) {
  const value = process.env[name];
  const colon = value?.indexOf(":") ?? -1;
  if (!value || colon < 1) {
    console.error(`--service needs ${name}="username:password" in the environment.\n\n${USAGE}`);
    process.exit(2);
  }
  const user = value.slice(0, colon);
  const at = user.indexOf("@");
  return {
    username: at < 0 ? user : user.slice(0, at),
    password: value.slice(colon + 1),
    domain: at < 0 ? undefined : user.slice(at + 1),
  };
}

// ---- helpers --------------------------------------------------------------------------------

/** Resolves with the arguments of the next `event` of `client`; rejects after a timeout. */
function nextEvent(client, event, label = event) {
  const promise = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, on);
      reject(new Error(`timed out after ${STEP_TIMEOUT_MS} ms waiting for ${label}`));
    }, STEP_TIMEOUT_MS);
    const on = (...eventArgs) => {
      clearTimeout(timer);
      resolve(eventArgs);
    };
    client.once(event, on);
  });
  promise.catch(() => {}); // awaited later; a timeout meanwhile must not crash as "unhandled"
  return promise;
}

/** Resolves once `predicate(snapshot)` holds for `client`'s roster (checked now and on every change). */
function rosterState(client, predicate, label) {
  return new Promise((resolve, reject) => {
    let stop;
    let settled = false;
    const timer = setTimeout(() => {
      stop?.();
      reject(new Error(`timed out after ${STEP_TIMEOUT_MS} ms waiting for ${label}`));
    }, STEP_TIMEOUT_MS);
    stop = client.roster.subscribe((snapshot) => {
      if (settled || !predicate(snapshot)) return;
      settled = true;
      clearTimeout(timer);
      stop?.(); // undefined when `subscribe` calls us at once, before returning: handled below
      resolve(snapshot);
    });
    if (settled) stop();
  });
}

/** Waits until `client` shows `jid` in `state` (an RFC 6121 Appendix A name). */
async function stateOfContact(client, name, jid, state) {
  await rosterState(client, (s) => s.entries.get(jid)?.state === state, `${name}'s roster to show ${jid} as "${state}"`);
  say(`${name}'s roster: ${jid} is ${bold(`"${state}"`)}`);
}

function printRoster(name, client) {
  const { entries, requests } = client.roster.getSnapshot();
  console.log(`   ${bold(`${name}'s roster`)} (${client.jid})`);
  for (const entry of entries.values()) {
    console.log(`     ${entry.jid.padEnd(28)} subscription=${entry.subscription.padEnd(5)} state="${entry.state}"`);
  }
  if (entries.size === 0) console.log("     (empty)");
  if (requests.size > 0) console.log(`     pending requests: ${[...requests.keys()].join(", ")}`);
}

function onPath(name) {
  const dirs = (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** For an existing server: cancel whatever the two accounts already have between them. */
async function reset(pairs) {
  let changed = false;
  for (const [me, other] of pairs) {
    const entry = me.client.roster.get(other.jid);
    const requested = me.client.roster.getSnapshot().requests.has(other.jid);
    if (entry?.subscription === "to" || entry?.subscription === "both" || entry?.pendingOut) {
      await me.client.unsubscribe(other.jid);
      changed = true;
    }
    if (entry?.subscription === "from" || entry?.subscription === "both" || requested) {
      await me.client.revoke(other.jid);
      changed = true;
    }
  }
  if (!changed) return;
  say("these accounts already had subscriptions to each other: cancelled them");
  await Promise.all(
    pairs.map(([me, other]) =>
      rosterState(
        me.client,
        (s) => !s.requests.has(other.jid) && (s.entries.get(other.jid)?.state ?? "None") === "None",
        `${me.name}'s roster to reset`,
      ),
    ),
  );
}

// ---- the demo -------------------------------------------------------------------------------

let server;
const clients = [];
let stopping;
let interrupted = false;

function shutdown() {
  stopping ??= (async () => {
    await Promise.allSettled(clients.map((client) => client.stop()));
    if (server) {
      await server.stop();
      say("Prosody stopped");
    }
  })();
  return stopping;
}

process.on("SIGINT", () => {
  interrupted = true;
  console.log(`\n${stamp()} interrupted: stopping`);
  // A second Ctrl-C exits at once; the harness's exit handler still kills the server.
  process.once("SIGINT", () => process.exit(130));
  shutdown().finally(() => process.exit(130));
});

async function main() {
  let service = args.service;
  let domain = args.domain;
  let aliceAccount;
  let bobAccount;

  if (service === undefined) {
    if (args.domain !== undefined) {
      console.error(`--domain needs --service.\n\n${USAGE}`);
      process.exit(2);
    }
    step("Start a throw-away Prosody on 127.0.0.1");
    if (!onPath("prosody")) say("prosody is not installed: installing Debian's package (needs root; may take a minute)");
    const { startProsody } = await import("xmpp-presence/testing");
    server = await startProsody();
    service = server.service;
    domain = server.domain;
    aliceAccount = { username: "alice", password: randomBytes(12).toString("base64url") };
    bobAccount = { username: "bob", password: randomBytes(12).toString("base64url") };
    await Promise.all([
      server.createAccount(aliceAccount.username, aliceAccount.password),
      server.createAccount(bobAccount.username, bobAccount.password),
    ]);
    done(`Prosody (pid ${server.pid}) at ${service}, accounts alice@${domain} and bob@${domain}`);
  } else {
    aliceAccount = accountFromEnv("XMPP_ALICE");
    bobAccount = accountFromEnv("XMPP_BOB");
    domain ??= aliceAccount.domain ?? bobAccount.domain ?? new URL(service).hostname;
  }

  step("Connect Alice (autoReply: \"reverse\") and Bob (default: \"manual\")");
  const connect = (account, extra = {}) => {
    const client = createPresenceClient({
      service,
      domain,
      username: account.username,
      password: account.password,
      // PLAIN is fine on a loopback server; on another server let xmpp.js pick SCRAM.
      ...(server ? { saslMechanism: "PLAIN" } : {}),
      ...extra,
    });
    client.on("error", (error) => say(red(`${account.username}: background error: ${error.message}`)));
    clients.push(client);
    return client;
  };
  const alice = connect(aliceAccount, { autoReply: "reverse" });
  const bob = connect(bobAccount);
  await Promise.all([alice.start(), bob.start()]);
  const aliceJid = `${aliceAccount.username}@${domain}`.toLowerCase();
  const bobJid = `${bobAccount.username}@${domain}`.toLowerCase();
  done(`online as ${alice.jid} and ${bob.jid}`);
  await reset([
    [{ name: "Alice", client: alice, jid: aliceJid }, { name: "Bob", client: bob, jid: bobJid }],
    [{ name: "Bob", client: bob, jid: bobJid }, { name: "Alice", client: alice, jid: aliceJid }],
  ]);

  step(`Alice subscribes to Bob (RFC 6121 §3.1.1)`);
  const bobSeesRequest = nextEvent(bob, "subscription:request", "Bob's subscription:request");
  await alice.subscribe(bobJid, { status: "Hi Bob, it's Alice" });
  say(`alice → <presence type="subscribe" to="${bobJid}"/>`);
  await stateOfContact(alice, "Alice", bobJid, "None + Pending Out");
  const [request] = await bobSeesRequest;
  say(`Bob gets subscription:request from ${request.from} with status "${request.status ?? ""}"`);
  await rosterState(bob, (s) => s.requests.has(aliceJid), "Bob's roster store to list the request");
  say(`Bob's roster store lists the request: requests = [${[...bob.roster.getSnapshot().requests.keys()].join(", ")}]`);
  done("the request is pending on both sides");

  step("Bob approves (§3.1.4)");
  const aliceSeesApproval = nextEvent(alice, "subscription:approved", "Alice's subscription:approved");
  await bob.approve(aliceJid);
  say(`bob → <presence type="subscribed" to="${aliceJid}"/>`);
  const [approvedBy] = await aliceSeesApproval;
  say(`Alice gets subscription:approved from ${approvedBy}`);
  await Promise.all([stateOfContact(alice, "Alice", bobJid, "To"), stateOfContact(bob, "Bob", aliceJid, "From")]);
  done("Alice now receives Bob's presence");

  step("Bob subscribes back; Alice's \"reverse\" policy approves him (§3.1.1, §3.1.4)");
  const aliceSeesRequest = nextEvent(alice, "subscription:request", "Alice's subscription:request");
  const aliceAutoReplies = nextEvent(alice, "subscription:auto-reply", "Alice's subscription:auto-reply");
  const bobSeesApproval = nextEvent(bob, "subscription:approved", "Bob's subscription:approved");
  await bob.subscribe(aliceJid);
  say(`bob → <presence type="subscribe" to="${aliceJid}"/>`);
  const [backRequest] = await aliceSeesRequest;
  say(`Alice gets subscription:request from ${backRequest.from}`);
  const [reply] = await aliceAutoReplies;
  say(`Alice's policy answers: subscription:auto-reply ${JSON.stringify(reply)} (she is subscribed to Bob: "To")`);
  const [approvedBack] = await bobSeesApproval;
  say(`Bob gets subscription:approved from ${approvedBack}`);
  await Promise.all([stateOfContact(alice, "Alice", bobJid, "Both"), stateOfContact(bob, "Bob", aliceJid, "Both")]);
  done("mutual subscription");

  step("Final rosters");
  printRoster("Alice", alice);
  printRoster("Bob", bob);

  step("Stop");
  await shutdown();
  done(`total ${Math.round(performance.now() - started)} ms`);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  // After Ctrl-C, whatever was in flight fails (the terminal interrupts Prosody too): not news.
  if (interrupted) await new Promise(() => {}); // the SIGINT handler exits
  console.error(`\n${stamp()} ${red("demo failed:")} ${error?.stack ?? error}`);
  if (server) console.error(await server.logTail(20).catch(() => ""));
  await shutdown().catch(() => undefined);
  process.exit(1);
}
