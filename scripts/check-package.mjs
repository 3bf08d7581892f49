#!/usr/bin/env node
/**
 * Checks the package as an app gets it from the registry: builds, lints the package (publint,
 * are-the-types-wrong), packs it, installs the tarball into a temporary project (its dependencies
 * come from the registry), then
 *   - imports it from plain ESM JavaScript and runs a handshake on a throw-away Prosody with it,
 *   - type-checks a small TypeScript consumer against it (NodeNext and Bundler resolution, strict,
 *     `skipLibCheck: false`, no DOM or Node types: the public types must stand on their own).
 * Slow (an `npm install`), so not part of `npm test`:  npm run check:package [-- --keep]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
const keep = process.argv.includes("--keep");
const started = performance.now();
const timings = [];

function run(title, command, args, options = {}) {
  const t0 = performance.now();
  console.log(`\n==> ${title}\n$ ${[command, ...args].join(" ")}`);
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: options.capture ? ["ignore", "pipe", "inherit"] : "inherit",
    encoding: "utf8",
    ...options,
  });
  const ms = Math.round(performance.now() - t0);
  timings.push([title, ms]);
  if (result.status !== 0) {
    if (options.capture) process.stdout.write(result.stdout ?? "");
    throw new Error(`${title} failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
  console.log(`(${ms} ms)`);
  return result.stdout;
}

const work = mkdtempSync(join(tmpdir(), "xmpp-presence-package-"));
const app = join(work, "app");

// The consumer code, kept here rather than in test/ so that the project's own typecheck does not
// need a built dist/.
const CONSUMER_JS = `
import assert from "node:assert/strict";
import * as sdk from "xmpp-presence";
import * as testing from "xmpp-presence/testing";
import * as fileStorage from "xmpp-presence/file-storage";

assert.equal(typeof sdk.createPresenceClient, "function");
assert.equal(typeof fileStorage.fileStorage, "function");
assert.equal(typeof sdk.isPresenceError, "function");
assert.equal(typeof testing.startProsody, "function");
console.log("exports:", Object.keys(sdk).join(", "));
console.log("testing exports:", Object.keys(testing).join(", "));
console.log("file-storage exports:", Object.keys(fileStorage).join(", "));

// Bad arguments are refused before anything is sent, with a typed error.
assert.throws(
  () => sdk.createPresenceClient({ service: "", username: "a", password: "b" }),
  (e) => sdk.isPresenceError(e) && e.code === sdk.PresenceErrorCode.InvalidArgument,
);

// A handshake on a throw-away Prosody, with the packed code only.
const server = await testing.startProsody();
const clients = [];
let stopping = false;
try {
  const [a, b] = await server.createAccounts(2, "pkg");
  const connect = (account, autoReply) => {
    const client = sdk.createPresenceClient({
      service: server.service, domain: server.domain, username: account.username,
      password: account.password, saslMechanism: "PLAIN", autoReply,
    });
    client.on("error", (error) => {
      // A push that arrives while the stream closes cannot be answered; xmpp.js reports that.
      if (stopping) console.log("(error during stop, ignored: " + error.message + ")");
      else throw error;
    });
    clients.push(client);
    return client;
  };
  const alice = connect(a, "manual");
  const bob = connect(b, "all");
  await Promise.all([alice.start(), bob.start()]);
  const { listen, getSnapshot } = alice.roster; // store methods work unbound
  const shows = (client, jid, state) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for " + state)), 10_000);
      const stop = client.roster.listen((snapshot) => {
        if (snapshot.entries.get(jid)?.state !== state) return;
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  const states = Promise.all([shows(alice, b.jid, "To"), shows(bob, a.jid, "From")]);
  await alice.subscribe(b.jid);
  await states;
  listen(() => {})();
  assert.equal(getSnapshot().entries.get(b.jid)?.subscription, "to");
  console.log("handshake on Prosody: ok (" + a.jid + " -> " + b.jid + ": To)");
} finally {
  stopping = true;
  await Promise.allSettled(clients.map((client) => client.stop()));
  await server.stop();
}
`;

const CONSUMER_TS = `
import {
  createPresenceClient,
  isPresenceError,
  PresenceErrorCode,
  SubscriptionState,
  type AutoReplyFunction,
  type ClientEvents,
  type PresenceClient,
  type RosterEntry,
  type RosterSnapshot,
  type XmppClientLike,
} from "xmpp-presence";
import { startProsody, type ProsodyServer } from "xmpp-presence/testing";
import { fileStorage } from "xmpp-presence/file-storage";
import type { RosterStorage } from "xmpp-presence";

export const storage: RosterStorage = fileStorage("/tmp/roster-cache");

export async function consumer(xmpp: XmppClientLike): Promise<string[]> {
  const client: PresenceClient = createPresenceClient({
    service: "xmpp://127.0.0.1:5222",
    domain: "localhost",
    username: "alice",
    password: "secret",
    autoReply: "reverse",
  });
  const wrapped: PresenceClient = createPresenceClient({ xmpp, autoReply: "manual" });
  const policy: AutoReplyFunction = async (request, entry) =>
    request.from.endsWith("@example.com") && entry?.state === SubscriptionState.To ? "approve" : undefined;
  const restore: () => void = client.autoReply(policy);
  restore();
  // @ts-expect-error: not a policy
  client.autoReply("sometimes");

  client.on("subscription:request", (request) => {
    const from: string = request.from;
    const status: string | undefined = request.status;
    void [from, status];
  });
  client.on("subscription:auto-reply", ({ decision }) => {
    const d: "approve" | "approve-and-subscribe" | "deny" = decision;
    void d;
  });
  // @ts-expect-error: no such event
  client.on("subscription:requested", () => {});
  const request: ClientEvents["subscription:request"][0] | undefined = undefined;
  void request;

  const { getSnapshot, listen, subscribe, get } = client.roster;
  const snapshot: RosterSnapshot = getSnapshot();
  const entries: RosterEntry[] = [...snapshot.entries.values()];
  const states: string[] = entries.map((entry) => \`\${entry.jid} \${entry.subscription} \${entry.state}\`);
  const stopListening: () => void = listen((s) => void s.ready);
  const stopSubscribing: () => void = subscribe((s) => void s.requests.size);
  stopListening();
  stopSubscribing();
  const entry: RosterEntry | undefined = get("bob@example.com");
  void entry?.pendingIn;

  try {
    await client.approve("bob@example.com", { subscribeBack: true });
  } catch (error) {
    if (isPresenceError(error) && error.code === PresenceErrorCode.NotConnected) states.push(error.code);
  }
  await Promise.all([client.stop(), wrapped.stop()]);

  const server: ProsodyServer = await startProsody({ iterationCount: 1, logLevel: "warn" });
  const [account] = await server.createAccounts(1, "alice");
  if (account !== undefined) states.push(account.jid);
  await server.stop();
  return states;
}
`;

const tsconfig = (moduleResolution, module) =>
  JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        module,
        moduleResolution,
        lib: ["ES2022"],
        types: [],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        skipLibCheck: false,
        noEmit: true,
      },
      files: ["consumer.ts"],
    },
    null,
    2,
  );

let failed = false;
try {
  run("build", "npm", ["run", "build", "--silent"]);
  run("publint", bin("publint"), ["--strict"]);

  const packed = JSON.parse(run("npm pack", "npm", ["pack", "--json", "--pack-destination", work], { capture: true }));
  const { filename, files, size, unpackedSize } = packed[0];
  const tarball = join(work, filename);
  console.log(`${filename}: ${size} bytes packed, ${unpackedSize} unpacked`);
  for (const file of files) console.log(`  ${String(file.size).padStart(7)}  ${file.path}`);
  const unexpected = files.map((f) => f.path).filter((p) => !/^(dist\/|package\.json$|README\.md$|LICENSE)/.test(p));
  if (unexpected.length > 0) throw new Error(`unexpected files in the package: ${unexpected.join(", ")}`);

  run("are-the-types-wrong", bin("attw"), [tarball, "--profile", "esm-only"]);

  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
  run("npm install <tarball>", "npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", tarball], { cwd: app });

  writeFileSync(join(app, "consumer.mjs"), CONSUMER_JS);
  run("import from plain ESM + handshake on Prosody", process.execPath, ["consumer.mjs"], { cwd: app });

  writeFileSync(join(app, "consumer.ts"), CONSUMER_TS);
  writeFileSync(join(app, "tsconfig.nodenext.json"), tsconfig("NodeNext", "NodeNext"));
  writeFileSync(join(app, "tsconfig.bundler.json"), tsconfig("Bundler", "ESNext"));
  // Both, even when the first fails: they tell different things.
  const errors = [];
  for (const [title, config] of [
    ["tsc (NodeNext)", "tsconfig.nodenext.json"],
    ["tsc (Bundler)", "tsconfig.bundler.json"],
  ]) {
    try {
      run(title, bin("tsc"), ["-p", config], { cwd: app });
    } catch (error) {
      errors.push(error.message);
    }
  }
  if (errors.length > 0) throw new Error(errors.join("; "));
} catch (error) {
  failed = true;
  console.error(`\n✗ ${error.message}`);
} finally {
  if (keep || failed) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

console.log("\ntimings:");
for (const [title, ms] of timings) console.log(`  ${String(ms).padStart(6)} ms  ${title}`);
console.log(`  ${String(Math.round(performance.now() - started)).padStart(6)} ms  total`);
console.log(failed ? "\npackage check FAILED" : "\npackage check passed");
process.exit(failed ? 1 : 0);
