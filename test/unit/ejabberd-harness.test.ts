// The ejabberd test harness (src/testing/ejabberd.ts) on its own: start, accounts, logins over TCP
// (PLAIN and SCRAM) and WebSocket, a crash and restart on the same spool, and a stop that leaves
// nothing behind. Prints the figures it measured (start, accounts, logins, stop, memory).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { client } from "@xmpp/client";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { EJABBERD_API_COMMANDS, startEjabberd } from "../../src/testing/ejabberd.js";
import type { EjabberdAccount, EjabberdServer } from "../../src/testing/ejabberd.js";
import { startTestServer } from "../../src/testing/server.js";
import type { XmppTestServer } from "../../src/testing/server.js";

// Node 20 has no global WebSocket (@xmpp/websocket uses the global one).
(globalThis as { WebSocket?: unknown }).WebSocket ??= (await import("ws")).WebSocket;

/** The part of an `@xmpp/client` entity this test uses (xmpp.js 0.14 ships no types). */
interface Address {
  resource: string;
  bare(): Address;
  toString(): string;
}
interface Element {
  name: string;
  getChild(name: string, xmlns?: string): Element | undefined;
  toString(): string;
}
interface Client {
  jid: Address | null;
  start(): Promise<Address>;
  stop(): Promise<unknown>;
  on(event: "error", listener: (error: unknown) => void): unknown;
  on(event: "element", listener: (element: Element) => void): unknown;
}

const figures: Record<string, string> = {};
const ms = (start: number): number => Math.round(performance.now() - start);

let server: EjabberdServer;
let alice: EjabberdAccount;
let bob: EjabberdAccount;

/** Connect and log in; resolves with the client, its bound JID, the last `<stream:features/>` and the time taken. */
async function login(
  account: EjabberdAccount,
  options: { websocket?: boolean; plain?: boolean } = {},
): Promise<{ xmpp: Client; jid: Address; features: Element | undefined; ms: number }> {
  const xmpp = client({
    service: options.websocket === true ? server.websocketService : server.service,
    domain: server.domain,
    username: account.username,
    password: account.password,
    ...(options.plain === true && {
      credentials: (auth: (creds: { username: string; password: string }, mechanism: string) => Promise<void>) =>
        auth({ username: account.username, password: account.password }, "PLAIN"),
    }),
  }) as Client;
  xmpp.on("error", () => {
    // Failures surface through start().
  });
  let features: Element | undefined;
  xmpp.on("element", (element) => {
    // The last <stream:features/> is the one after authentication (on TCP and WebSocket alike).
    if (element.name === "stream:features" || element.name === "features") features = element;
  });
  const started = performance.now();
  try {
    const jid = await xmpp.start();
    return { xmpp, jid, features, ms: ms(started) };
  } catch (error) {
    await xmpp.stop().catch(() => {});
    throw error;
  }
}

/** RSS of a process in MB (from /proc), or NaN. */
function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? Number.NaN : Math.round(Number(kb) / 1024);
  } catch {
    return Number.NaN;
  }
}

/** Whether `pid` is a live process (a zombie has exited; it only waits to be reaped). */
function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Live processes that mention `dir` in their command line or environment, and their descendants:
 * everything a server (ejabberdctl, su, sh, beam.smp, erl_child_setup, the watchdog) started.
 */
function processesMentioning(dir: string): number[] {
  const all: { pid: number; ppid: number }[] = [];
  const roots: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const pid = Number(entry);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      all.push({ pid, ppid: Number(fields[1]) });
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      let environ = "";
      try {
        environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      } catch {
        // Not ours to read.
      }
      if (cmdline.includes(dir) || environ.includes(dir)) roots.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  const found = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const { pid, ppid } of all) {
      if (found.has(ppid) && !found.has(pid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}

/** The local addresses (`ip:port`) a process listens on (TCP, from /proc). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.add(match[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, state, inode] = [cols[1], cols[3], cols[9]];
      if (local === undefined || state !== "0A" || inode === undefined || !inodes.has(inode)) continue;
      const [hexIp = "", hexPort = ""] = local.split(":");
      const ip =
        hexIp.length === 8
          ? [3, 2, 1, 0].map((i) => Number.parseInt(hexIp.slice(i * 2, i * 2 + 2), 16)).join(".")
          : `[${hexIp}]`;
      out.push(`${ip}:${Number.parseInt(hexPort, 16)}`);
    }
  }
  return out.sort();
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

describe("ejabberd test harness", { timeout: 120_000 }, () => {
  beforeAll(async () => {
    let started = performance.now();
    server = await startTestServer("ejabberd");
    figures["start"] = `${ms(started)} ms`;
    started = performance.now();
    [alice, bob] = (await server.createAccounts(2, "harness")) as [EjabberdAccount, EjabberdAccount];
    figures["create 2 accounts"] = `${ms(started)} ms`;
    started = performance.now();
    await server.createAccounts(20, "bulk");
    figures["create 20 accounts"] = `${ms(started)} ms`;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    console.info(`ejabberd harness figures:\n${Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join("\n")}`);
  });

  it("starts a loopback-only server in its own directory", () => {
    expectTypeOf(server).toEqualTypeOf<EjabberdServer>();
    expectTypeOf(server).toMatchTypeOf<XmppTestServer>();
    expect(server.kind).toBe("ejabberd");
    expect(server.dir).toMatch(/\/xmpp-presence-ejabberd-[^/]+$/);
    expect(server.service).toBe(`xmpp://127.0.0.1:${server.c2sPort}`);
    expect(server.websocketService).toBe(`ws://127.0.0.1:${server.httpPort}/xmpp-websocket`);
    expect(server.running).toBe(true);
    expect(readFileSync(`${server.dir}/ejabberd.pid`, "utf8").trim()).toBe(String(server.pid));
    expect(readFileSync(`/proc/${server.pid}/cmdline`, "utf8")).toContain("beam");
    // c2s, HTTP and Erlang distribution, all on 127.0.0.1; no epmd (it would listen on 0.0.0.0:4369).
    expect(listeningAddresses(server.pid)).toEqual(
      [server.c2sPort, server.httpPort, server.distPort].map((port) => `127.0.0.1:${port}`).sort(),
    );
    const ours = processesMentioning(server.dir);
    const names = ours.map((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "");
    expect(names.some((name) => name.endsWith("epmd"))).toBe(false);
    figures["processes of one server"] = names.map((n) => n.split("/").pop()).join(", ");
  });

  it("creates accounts through the HTTP API, and resets the password of an existing one", async () => {
    const users = (await server.api("registered_users", { host: server.domain })) as string[];
    expect(users).toEqual(expect.arrayContaining([alice.username, bob.username]));
    expect(users).toHaveLength(22);
    expect(EJABBERD_API_COMMANDS).toContain("register");
    const password = `${alice.password}-new`;
    await server.createAccount(alice.username, password);
    alice = { ...alice, password };
    const { xmpp, jid } = await login(alice, { plain: true });
    expect(jid.bare().toString()).toBe(alice.jid);
    await xmpp.stop();
    await expect(server.createAccount("no spaces", "x")).rejects.toThrow(/invalid XMPP username/);
  });

  it("logs two accounts in over TCP with PLAIN and advertises roster versioning", async () => {
    const a = await login(alice, { plain: true });
    const b = await login(bob, { plain: true });
    try {
      expect(a.jid.bare().toString()).toBe(alice.jid);
      expect(b.jid.bare().toString()).toBe(bob.jid);
      expect(a.jid.resource).not.toBe("");
      expect(a.features?.getChild("ver", "urn:xmpp:features:rosterver")).toBeDefined();
      // servers.md: ejabberd 23.01 does not advertise pre-approval (RFC 6121 §3.4).
      const preApproval = a.features?.getChild("sub", "urn:xmpp:features:pre-approval") !== undefined;
      expect(preApproval).toBe(false);
      figures["login TCP PLAIN"] = `${a.ms} ms, ${b.ms} ms`;
      figures["features after auth"] = a.features?.toString() ?? "(none)";
    } finally {
      await Promise.all([a.xmpp.stop(), b.xmpp.stop()]);
    }
  });

  it("logs in over TCP with the default mechanism (SCRAM)", async () => {
    const a = await login(bob);
    try {
      expect(a.jid.bare().toString()).toBe(bob.jid);
      figures["login TCP SCRAM (default)"] = `${a.ms} ms`;
    } finally {
      await a.xmpp.stop();
    }
  });

  it("logs in over WebSocket", async () => {
    const a = await login(alice, { websocket: true, plain: true });
    try {
      expect(a.jid.bare().toString()).toBe(alice.jid);
      expect(a.features?.getChild("ver", "urn:xmpp:features:rosterver")).toBeDefined();
      figures["login WebSocket PLAIN"] = `${a.ms} ms`;
    } finally {
      await a.xmpp.stop();
    }
  });

  it("keeps its accounts across kill() and restart()", async () => {
    const before = server.pid;
    figures["RSS of beam.smp after logins"] = `${rssMb(before)} MB`;
    // ejabberd writes its database with a ~2 s delay; a crash loses what changed in that time.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    server.kill();
    expect(await waitUntil(() => !server.running, 5_000)).toBe(true);
    expect(isLive(before)).toBe(false);
    expect(existsSync(server.dir)).toBe(true);
    await expect(login(bob, { plain: true })).rejects.toThrow();

    const started = performance.now();
    await server.restart();
    figures["restart after kill"] = `${ms(started)} ms`;
    expect(server.running).toBe(true);
    expect(server.pid).not.toBe(before);
    const a = await login(alice, { plain: true });
    try {
      expect(a.jid.bare().toString()).toBe(alice.jid);
    } finally {
      await a.xmpp.stop();
    }
    figures["RSS of beam.smp after restart"] = `${rssMb(server.pid)} MB`;
  });

  it("stop() leaves no process behind and removes the directory", async () => {
    const ours = processesMentioning(server.dir);
    expect(ours).toContain(server.pid);
    const started = performance.now();
    await server.stop();
    figures["stop"] = `${ms(started)} ms`;
    expect(ours.filter(isLive)).toEqual([]);
    expect(processesMentioning(server.dir)).toEqual([]);
    expect(existsSync(server.dir)).toBe(false);
    expect(server.running).toBe(false);
    await server.stop(); // idempotent
    expect(existsSync(server.dir)).toBe(false);
  });

  it("rejects with the log tail, and cleans up, when the server cannot start", async () => {
    const error = await startEjabberd({ extraModules: { mod_roster: { no_such_option: true } } }).then(
      () => new Error("started"),
      (reason: unknown) => reason as Error,
    );
    expect(error.message).toMatch(/exited during startup/);
    expect(error.message).toMatch(/Unknown option: no_such_option/);
    const dir = /\(dir (\S+)\)/.exec(error.message)?.[1] ?? "";
    expect(dir).toContain("xmpp-presence-ejabberd-");
    expect(existsSync(dir)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
  });

  it("cleans up when the Node.js process that started it is SIGKILLed", async () => {
    // A separate Node.js process starts a server, reports it, and is killed without any chance to
    // clean up: the watchdog must kill the VM and remove the directory.
    const code = `
      const { startEjabberd } = await import(${JSON.stringify(new URL("../../src/testing/ejabberd.ts", import.meta.url).href)});
      const server = await startEjabberd();
      process.stdout.write(JSON.stringify({ dir: server.dir, pid: server.pid }) + "\\n");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buffer = "";
      child.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        if (buffer.includes("\n")) resolve(buffer.split("\n")[0] ?? "");
      });
      child.once("exit", (exitCode) => reject(new Error(`child exited early (${String(exitCode)})`)));
    });
    const { dir, pid } = JSON.parse(line) as { dir: string; pid: number };
    expect(isLive(pid)).toBe(true);
    child.kill("SIGKILL");
    const started = performance.now();
    expect(await waitUntil(() => processesMentioning(dir).length === 0 && !existsSync(dir), 15_000)).toBe(true);
    figures["cleanup after SIGKILL of Node.js"] = `${ms(started)} ms`;
    expect(isLive(pid)).toBe(false);
  });
});
