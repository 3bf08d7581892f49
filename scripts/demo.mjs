#!/usr/bin/env node
/**
 * The browser demo: a throw-away Prosody with WebSocket on 127.0.0.1, accounts alice, bob and
 * bot, the bot (examples/bot, autoReply "mutual") running, and the chat UI (examples/chat-ui)
 * served on a local port. Runs until Ctrl-C, then stops everything and removes its temp dirs.
 *
 *   npm run demo                                     # everything local
 *   npm run demo -- --port 9000                      # the page on another port (default 8080, else any free one)
 *   npm run demo -- --service wss://chat.example.com/xmpp-websocket --domain example.com
 *                                                    # the page against another server (your accounts);
 *                                                    # with XMPP_BOT="bot:password", the bot runs there too
 *   XMPP_DEBUG=1 npm run demo                        # stanza traces: the bot's here, the page's in the browser console
 *
 * `npm run demo` builds the SDK first; this script uses the built package, as an app would.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildChatUi } from "../examples/chat-ui/build.mjs";
import { serveChatUi } from "../examples/chat-ui/serve.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_PORT = 8080;
const BOT_READY_TIMEOUT_MS = 20_000;

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const [dim, bold, green, red, cyan] = [2, 1, 32, 31, 36].map(paint);
const started = performance.now();
const say = (text) => console.log(`${dim(`[${String(Math.round(performance.now() - started)).padStart(5)} ms]`)} ${text}`);

const USAGE = `Usage: npm run demo [-- --port N] [-- --service WS_URL [--domain DOMAIN]]

Without --service: starts a throw-away Prosody on 127.0.0.1 (installing Debian's "prosody"
package first if it is missing and this runs as root), creates alice, bob and bot with fresh
passwords, starts the bot, and serves the chat UI. Ctrl-C stops all of it.
With --service (or XMPP_SERVICE): only serves the chat UI, prefilled with that WebSocket URL;
set XMPP_BOT="username:password" (and XMPP_BOT_SERVICE for a non-WebSocket URL) to run the bot too.
XMPP_DEBUG=1 prints the bot's stanza trace and ticks "stanza trace" on the login form.`;

let args;
try {
  args = parseArgs({
    options: {
      service: { type: "string", default: process.env.XMPP_SERVICE },
      domain: { type: "string", default: process.env.XMPP_DOMAIN },
      port: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (error) {
  console.error(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const debug = Boolean(process.env.XMPP_DEBUG) && process.env.XMPP_DEBUG !== "0";

// ---- what is started, and how it is stopped ----------------------------------------------------

let server; // the Prosody harness
let bot; // { child, exited }
let page; // the HTTP server
let workDir; // the built UI
let stopping;

function shutdown(reason) {
  stopping ??= (async () => {
    if (reason) console.log(`\n${reason}: stopping`);
    if (bot && bot.child.exitCode === null && bot.child.signalCode === null) {
      bot.child.kill("SIGINT"); // the bot goes offline cleanly (unavailable presence, stream close)
      const killer = setTimeout(() => bot.child.kill("SIGKILL"), 5000);
      await bot.exited;
      clearTimeout(killer);
      say("bot stopped");
    }
    await page?.close();
    if (server) {
      await server.stop(); // SIGTERM, then its temporary directory is removed
      say(`Prosody stopped, ${server.dir} removed`);
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  })();
  return stopping;
}

// Whatever happens (even a crash), the UI's directory goes; the harness does the same for Prosody's.
process.on("exit", () => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (stopping) {
      // A second Ctrl-C: leave now (the harness's exit handler still kills Prosody).
      process.exit(130);
    }
    shutdown(signal).then(
      () => process.exit(0),
      (error) => {
        console.error(red(`while stopping: ${error?.stack ?? error}`));
        process.exit(1);
      },
    );
  });
}

// ---- the pieces --------------------------------------------------------------------------------

function account(username, domain) {
  return { username, password: randomBytes(9).toString("base64url"), jid: `${username}@${domain}` };
}

/** Starts examples/bot/bot.ts in a child process; resolves once it reports that it is online. */
function startBot(env) {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "examples/bot/bot.ts")], {
    cwd: root, // tsx reads tsconfig.json here: "xmpp-presence" is the SDK's source
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((done) => child.once("exit", done));
  bot = { child, exited };
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bot did not come online within ${BOT_READY_TIMEOUT_MS} ms`)), BOT_READY_TIMEOUT_MS);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        console.log(`${cyan("  bot │")} ${line}`);
        if (line.startsWith("bot ready")) {
          clearTimeout(timer);
          resolveReady();
        }
      });
    }
    exited.then((code) => {
      clearTimeout(timer);
      if (!stopping) reject(new Error(`the bot exited (code ${code})`));
    });
  });
}

/** Serves the UI on `port` (or the default, falling back to any free port when it is taken). */
async function servePage(dir, config) {
  if (args.port !== undefined) return serveChatUi({ dir, config, port: Number(args.port) });
  try {
    return await serveChatUi({ dir, config, port: DEFAULT_PORT });
  } catch (error) {
    if (error?.code !== "EADDRINUSE") throw error;
    return serveChatUi({ dir, config, port: 0 });
  }
}

// ---- main --------------------------------------------------------------------------------------

async function main() {
  let service = args.service;
  let domain = args.domain;
  let accounts = [];
  let botEnv;

  if (service === undefined) {
    say("starting a throw-away Prosody on 127.0.0.1 (installing Debian's package first if it is missing)");
    const { startProsody } = await import("xmpp-presence/testing");
    server = await startProsody();
    service = server.websocketService;
    domain = server.domain;
    accounts = ["alice", "bob", "bot"].map((name) => account(name, domain));
    await Promise.all(accounts.map((a) => server.createAccount(a.username, a.password)));
    say(`Prosody ${green("up")} (pid ${server.pid}), accounts created`);
    const botAccount = accounts[2];
    botEnv = {
      XMPP_SERVICE: server.service, // the bot is a Node process: plain TCP on loopback
      XMPP_DOMAIN: domain,
      XMPP_USERNAME: botAccount.username,
      XMPP_PASSWORD: botAccount.password,
      XMPP_SASL: "PLAIN", // loopback only; on a real server let xmpp.js pick SCRAM
    };
  } else {
    domain ??= new URL(service).hostname;
    const [user, ...rest] = (process.env.XMPP_BOT ?? "").split(":");
    if (user && rest.length > 0) {
      botEnv = {
        XMPP_SERVICE: process.env.XMPP_BOT_SERVICE ?? service,
        XMPP_DOMAIN: domain,
        XMPP_USERNAME: user,
        XMPP_PASSWORD: rest.join(":"),
      };
    }
  }

  workDir = await mkdtemp(join(tmpdir(), "xmpp-presence-demo-"));
  const [{ ms }] = await Promise.all([
    buildChatUi({ outDir: workDir }),
    botEnv ? startBot(botEnv).then(() => say("bot online")) : undefined,
  ]);
  say(`chat UI built (${ms} ms)`);
  page = await servePage(workDir, {
    service,
    domain,
    debug,
    accounts: accounts.map(({ username, password }) => ({ username, password })),
  });

  const pad = Math.max(0, ...accounts.map((a) => a.jid.length));
  console.log(`
${bold("xmpp-presence demo")} is running.

  Open ${bold(page.url)} in two windows (a second browser, or a private window),
  ${accounts.length > 0 ? "sign in as alice in one and as bob in the other." : "and sign in with one of your accounts in each."}

  Server    ${service}${server ? ` (Prosody, domain ${domain})` : ""}
${accounts.map((a, i) => `  ${i === 0 ? "Accounts" : "        "}  ${a.jid.padEnd(pad)}  password ${bold(a.password)}`).join("\n")}
${botEnv ? `  The bot   ${botEnv.XMPP_USERNAME}@${domain} approves every request and asks back (autoReply "mutual"); message it.\n` : ""}
  Try: alice adds bob · bob approves · alice ticks "Auto-approve reverse requests" · bob adds alice
       → both see "you see each other's presence".${botEnv ? ` Then add ${botEnv.XMPP_USERNAME}@${domain}.` : ""}

  ${dim("Ctrl-C stops everything.")}
`);
}

try {
  await main();
} catch (error) {
  if (!stopping) {
    // The harness's "prosody is not installed: run `sudo apt-get install -y prosody`…" says it all.
    const known = /not installed/.test(String(error?.message));
    console.error(`\n${red("demo failed:")} ${known ? error.message : (error?.stack ?? error)}`);
    if (server) console.error(await server.logTail(20).catch(() => ""));
    await shutdown().catch(() => undefined);
    process.exit(1);
  }
}
