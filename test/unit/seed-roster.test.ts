// The test harness's roster seeding refuses what a server would store wrongly or not at all, and
// writes ejabberd's Mnesia records exactly (the seeding itself is exercised on both real servers by
// test/integration/large-roster.test.ts).
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { seedEjabberdRoster } from "../../src/testing/ejabberd.js";
import { checkSeedItems } from "../../src/testing/process.js";

describe("checkSeedItems", () => {
  it("accepts lower-case bare JIDs with known subscriptions", () => {
    expect(() =>
      checkSeedItems([{ jid: "bob@localhost", subscription: "both" }, { jid: "localhost" }, { jid: "carol@localhost", subscription: "from", pendingOut: true }]),
    ).not.toThrow();
  });

  it.each([
    ["a full JID", [{ jid: "bob@localhost/phone" }], /not a lower-case bare JID/],
    ["upper case (servers key rosters by the prepared JID)", [{ jid: "Bob@localhost" }], /not a lower-case bare JID/],
    ["an empty JID", [{ jid: "" }], /not a lower-case bare JID/],
    ["a JID listed twice", [{ jid: "bob@localhost" }, { jid: "bob@localhost" }], /listed twice/],
    ["an unknown subscription", [{ jid: "bob@localhost", subscription: "remove" }], /unknown subscription/],
    ["a pending request with subscription to", [{ jid: "bob@localhost", subscription: "to", pendingOut: true }], /no pending request/],
    ["a pending request with subscription both", [{ jid: "bob@localhost", subscription: "both", pendingOut: true }], /no pending request/],
  ])("refuses %s", (_name, items, message) => {
    expect(() => checkSeedItems(items as never)).toThrow(message);
  });
});

describe("seedEjabberdRoster", () => {
  interface Call {
    command: string;
    body: Record<string, unknown>;
    file?: string;
  }
  let stub: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => stub?.close(resolve) ?? resolve(undefined));
    stub = undefined;
  });

  /** An HTTP API on loopback that records each call (and the file a `load` names, while it exists). */
  async function stubApi(answer: (command: string) => unknown = () => ""): Promise<{ url: string; calls: Call[] }> {
    const calls: Call[] = [];
    stub = createServer((request, response) => {
      let text = "";
      request.on("data", (chunk: Buffer) => (text += chunk.toString()));
      request.on("end", () => {
        const command = request.url?.split("/").pop() ?? "";
        const body = JSON.parse(text) as Record<string, unknown>;
        const call: Call = { command, body };
        if (command === "load") call.file = readFileSync(String(body["file"]), "utf8");
        calls.push(call);
        response.setHeader("content-type", "application/json");
        response.end(JSON.stringify(answer(command)));
      });
    });
    await new Promise<void>((resolve) => stub!.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(stub!.address() as AddressInfo).port}/api`, calls };
  }

  it("writes each item as a #roster{} record, then a new roster version, then clears the cache", async () => {
    const { url, calls } = await stubApi();
    await seedEjabberdRoster(
      url,
      "alice",
      [
        { jid: "bob@localhost", name: "Bob", groups: ["Friends", "Work"], subscription: "both" },
        { jid: "carol@localhost", name: 'Ann "A" \\ <&> ☃', groups: ["Ünï"], subscription: "from", pendingOut: true },
        { jid: "localhost" },
      ],
      "localhost",
    );
    expect(calls.map((call) => call.command)).toEqual(["load", "clear_cache"]);
    const lines = calls[0]!.file!.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\{tables,\[\{roster,\[\{record_name,roster\},\{attributes,\[usj,us,jid,name,subscription,ask,groups,askmessage,xs\]\}\]\}/);
    expect(lines[1]).toBe(
      '{roster,{<<"alice">>,<<"localhost">>,{<<"bob">>,<<"localhost">>,<<>>}},{<<"alice">>,<<"localhost">>},{<<"bob">>,<<"localhost">>,<<>>},<<"Bob">>,both,none,[<<"Friends">>,<<"Work">>],<<>>,[]}.',
    );
    // Quotes, backslashes and non-ASCII go as UTF-8 bytes; the pending request as ask=out.
    const name = `<<${Array.from(Buffer.from('Ann "A" \\ <&> ☃', "utf8")).join(",")}>>`;
    const group = `<<${Array.from(Buffer.from("Ünï", "utf8")).join(",")}>>`;
    expect(lines[2]).toBe(
      `{roster,{<<"alice">>,<<"localhost">>,{<<"carol">>,<<"localhost">>,<<>>}},{<<"alice">>,<<"localhost">>},{<<"carol">>,<<"localhost">>,<<>>},${name},from,out,[${group}],<<>>,[]}.`,
    );
    // A domain-only contact: empty user part; no name, no groups, subscription none.
    expect(lines[3]).toBe(
      '{roster,{<<"alice">>,<<"localhost">>,{<<>>,<<"localhost">>,<<>>}},{<<"alice">>,<<"localhost">>},{<<>>,<<"localhost">>,<<>>},<<>>,none,none,[],<<>>,[]}.',
    );
    expect(lines[4]).toMatch(/^\{roster_version,\{<<"alice">>,<<"localhost">>\},<<"seed-[0-9a-f]{16}">>\}\.$/);
    expect(lines).toHaveLength(5);
  });

  it("loads 5 000 records per call", async () => {
    const { url, calls } = await stubApi();
    const items = Array.from({ length: 5_000 }, (_, i) => ({ jid: `c${i}@localhost` }));
    await seedEjabberdRoster(url, "alice", items);
    // 5 000 items + the version record: two loads, each with the table definitions first.
    expect(calls.map((call) => call.command)).toEqual(["load", "load", "clear_cache"]);
    expect(calls.map((call) => call.file?.trimEnd().split("\n").length)).toEqual([5_001, 2, undefined]);
    expect(calls[1]!.file).toMatch(/\n\{roster_version,/);
  });

  it("fails with ejabberd's answer when a load fails, and sends nothing for no items", async () => {
    const failing = await stubApi((command) => (command === "load" ? "{error,{bad_type,roster}}" : ""));
    await expect(seedEjabberdRoster(failing.url, "alice", [{ jid: "bob@localhost" }])).rejects.toThrow(/load failed: .*bad_type/);
    expect(failing.calls.map((call) => call.command)).toEqual(["load"]);
    await seedEjabberdRoster(failing.url, "alice", []);
    expect(failing.calls).toHaveLength(1);
  });
});
