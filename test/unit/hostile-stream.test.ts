// Hostile and malformed input from a server (rfc6121-client SEC-02, SEC-05, SEC-07, SEC-08,
// XJS-06, XJS-07), from a scripted server on loopback: each is refused cleanly, the roster is
// untouched, and the process stays up.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createPresenceClient, isPresenceError, type PresenceClient, type PresenceClientOptions } from "../../src/index.js";
import { startStub, type StubOptions, type StubServer } from "../support/stub-server.js";
import { startedFake, tick } from "../support/fake-client.js";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f().catch(() => undefined)));
});

async function connected(stubOptions: StubOptions = {}, options: Partial<PresenceClientOptions> = {}) {
  const stub = await startStub(stubOptions);
  const errors: Error[] = [];
  const client = createPresenceClient({ service: stub.service, domain: "localhost", username: "alice", password: "pw", saslMechanism: "PLAIN", ...options } as PresenceClientOptions);
  client.on("error", (e) => void errors.push(e));
  cleanup.push(() => client.stop(), () => stub.close());
  await client.start();
  return { stub, client, errors };
}

const BOB = `<item jid='bob@localhost' subscription='both' name='Bob'/>`;

async function expectViolation(client: PresenceClient, errors: Error[], condition: string) {
  await expect.poll(() => errors.find((e) => isPresenceError(e) && e.code === "protocol-violation")).toBeDefined();
  const error = errors.find((e) => isPresenceError(e) && e.code === "protocol-violation");
  expect(isPresenceError(error) && error.condition).toBe(condition);
  expect(client.roster.get("bob@localhost")?.name).toBe("Bob"); // untouched
  expect(client.roster.get("mallory@localhost")).toBeUndefined();
}

describe("restricted and malformed XML from the server (RFC 6120 §11)", () => {
  it.each([
    ["a DOCTYPE (ltx would swallow the stream)", `<!DOCTYPE x [<!ENTITY a 'b'>]><iq type='set' id='p'><query xmlns='jabber:iq:roster'><item jid='mallory@localhost' subscription='both'/></query></iq>`, "restricted-xml"],
    ["a comment", `<!-- hello --><presence from='bob@localhost/x'/>`, "restricted-xml"],
    ["a processing instruction", `<?evil x?><presence from='bob@localhost/x'/>`, "restricted-xml"],
    ["a comment after text with '!' and '?' (the guard's scan starts at the first of them)", `<message from='bob@localhost/x'><body>Hi! Free? Yes!</body></message><!-- hello -->`, "restricted-xml"],
    ["an undefined entity (ltx throws)", `<message from='bob@localhost/x'><body>&lol;</body></message>`, "not-well-formed"],
  ])("%s: stream error, disconnect, roster untouched", async (_name, bytes, condition) => {
    const { stub, client, errors } = await connected({ roster: BOB });
    await stub.inject(bytes);
    await expectViolation(client, errors, condition);
    // The stream error went to the server before the connection closed.
    await expect.poll(() => stub.received.join("")).toContain(`<${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>`);
  });

  it("a restricted token split across two TCP segments is still caught", async () => {
    const { stub, client, errors } = await connected({ roster: BOB });
    await stub.inject("<presence from='bob@localhost/x'/><!-");
    await new Promise((r) => setTimeout(r, 50));
    await stub.inject("- split -->");
    await expectViolation(client, errors, "restricted-xml");
  });

  it("a CDATA section or the XML declaration cut by a segment boundary is not mistaken for a restricted token", async () => {
    const { stub, client, errors } = await connected({ roster: BOB });
    await stub.inject(`<iq type='set' id='p2'><query xmlns='jabber:iq:roster'><item jid='zoe@localhost' subscription='to'><group><!`);
    await new Promise((r) => setTimeout(r, 20));
    await stub.inject(`[CDATA[Friends & Co]]></group></item></query></iq>`);
    await expect.poll(() => client.roster.get("zoe@localhost")?.groups).toEqual(["Friends & Co"]);
    expect(errors.filter((e) => isPresenceError(e) && e.code === "protocol-violation")).toEqual([]);
    expect(client.online).toBe(true);
  });

  it("'!' and '?' in text, attributes and CDATA are not restricted tokens", async () => {
    const { stub, client, errors } = await connected({ roster: BOB });
    await stub.inject(`<presence from='bob@localhost/x'><status>Hi! Free? <![CDATA[a<b!]]></status></presence>`);
    await stub.inject(`<iq type='set' id='p3'><query xmlns='jabber:iq:roster'><item jid='zoe@localhost' name='Zoe?!' subscription='to'/></query></iq>`);
    await expect.poll(() => client.roster.get("zoe@localhost")?.name).toBe("Zoe?!");
    await expect.poll(() => client.presence.best("bob@localhost")?.status).toBe("Hi! Free? a<b!");
    expect(errors.filter((e) => isPresenceError(e) && e.code === "protocol-violation")).toEqual([]);
    expect(client.online).toBe(true);
  });

  it("an oversized stanza closes the stream with policy-violation before it is buffered whole", async () => {
    const { stub, client, errors } = await connected({ roster: BOB }, { maxStanzaBytes: 64 * 1024 });
    await stub.inject("<message from='bob@localhost/x'><body>");
    for (let i = 0; i < 20; i++) await stub.inject("x".repeat(8 * 1024));
    await expectViolation(client, errors, "policy-violation");
  });

  it("decodes a UTF-8 character split across TCP segments (XJS-07)", async () => {
    const { stub, client } = await connected({ roster: BOB });
    // A roster push in three segments; "é" (0xC3 0xA9) is split between two of them.
    const e = Buffer.from("é", "utf8");
    await stub.inject(`<iq type='set' id='p1'><query xmlns='jabber:iq:roster'><item jid='zoe@localhost' subscription='to' name='Zo`);
    await new Promise((r) => setTimeout(r, 20));
    await stub.inject(e.subarray(0, 1));
    await new Promise((r) => setTimeout(r, 20));
    await stub.inject(Buffer.concat([e.subarray(1), Buffer.from("'/></query></iq>")]));
    await expect.poll(() => client.roster.get("zoe@localhost")?.name).toBe("Zoé");
  });

  it("decodes clean chunks and cut ones in any order (the Buffer fast path and the stream decoder agree)", async () => {
    const { stub, client } = await connected({ roster: BOB });
    const pause = () => new Promise((r) => setTimeout(r, 20));
    const item = (jid: string, name: string) => `<iq type='set' id='${jid}'><query xmlns='jabber:iq:roster'><item jid='${jid}' subscription='to' name='${name}'/></query></iq>`;
    // Clean: whole characters, ends on ">".
    await stub.inject(item("a@localhost", "Ünïcødé ☃"));
    await pause();
    // Cut inside "☃" (3 bytes: E2 98 83) twice in a row, then clean again.
    const bytes = Buffer.from(item("b@localhost", "snow ☃ man") + item("c@localhost", "Çà"), "utf8");
    const snow = bytes.indexOf(0xe2);
    await stub.inject(bytes.subarray(0, snow + 1));
    await pause();
    await stub.inject(bytes.subarray(snow + 1, snow + 2));
    await pause();
    await stub.inject(bytes.subarray(snow + 2));
    await pause();
    await stub.inject(item("d@localhost", "après"));
    await expect.poll(() => ["a", "b", "c", "d"].map((x) => client.roster.get(`${x}@localhost`)?.name)).toEqual(["Ünïcødé ☃", "snow ☃ man", "Çà", "après"]);
  });
});

describe("forged replies and floods", () => {
  it("a forged roster result with the right id from a wrong sender is ignored; the real one wins (SEC-02)", async () => {
    const forged = `<iq type='result' id='$ID' from='mallory@localhost/x'><query xmlns='jabber:iq:roster'><item jid='mallory@localhost' name='Mom' subscription='both'/></query></iq>`;
    const stub = await startStub({ roster: BOB, beforeRosterResult: forged });
    const client = createPresenceClient({ service: stub.service, domain: "localhost", username: "alice", password: "pw", saslMechanism: "PLAIN" });
    const refused: unknown[] = [];
    client.on("iq:rejected-reply", (r) => void refused.push(r));
    cleanup.push(() => client.stop(), () => stub.close());
    await client.start();
    expect([...client.roster.getSnapshot().entries.keys()]).toEqual(["bob@localhost"]);
    expect(refused).toEqual([{ from: "mallory@localhost/x", id: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);
  });

  it("a flood of requests, from one sender and from many, stays de-duplicated and bounded", async () => {
    const { stub, client } = await connected({ roster: BOB }, { maxPendingRequests: 500 });
    const overflow: string[] = [];
    let events = 0;
    client.on("subscription:overflow", (jid) => void overflow.push(jid));
    client.on("subscription:request", () => void events++);
    const same = `<presence type='subscribe' from='spam@localhost'/>`.repeat(2000);
    const many = Array.from({ length: 3000 }, (_, i) => `<presence type='subscribe' from='s${i}@spam.example'/>`).join("");
    await stub.inject(same + many + `<iq type='get' id='marker'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await expect.poll(() => stub.received.join("").includes(`id="marker"`), { timeout: 15_000 }).toBe(true);
    expect(client.roster.getSnapshot().requests.size).toBe(500);
    expect(events).toBe(500);
    expect(overflow).toEqual(["s499@spam.example"]); // told once
    expect(client.roster.getSnapshot().requests.has("spam@localhost")).toBe(true);
    expect(client.online).toBe(true);
  });
});

describe("invalid JIDs at every public entry point (fuzzed)", () => {
  it("throws invalid-jid (or invalid-argument) and sends nothing, for any string that is not a valid JID", async () => {
    const { client, xmpp } = await startedFake();
    const sent = () => xmpp.sent.length + xmpp.blockingRequests.length;
    const before = sent();
    const calls: Array<(jid: string) => Promise<unknown>> = [
      (j) => client.subscribe(j),
      (j) => client.approve(j),
      (j) => client.deny(j),
      (j) => client.unsubscribe(j),
      (j) => client.revoke(j),
      (j) => client.probe(j),
      (j) => client.sendPresence(j),
      (j) => client.block(j),
      (j) => client.roster.add(j),
      (j) => client.roster.update(j, { name: "x" }),
      (j) => client.roster.remove(j),
    ];
    const invalid = fc.oneof(
      fc.constantFrom("", " ", "@", "a@", "@b", "a@b/", "a b@c", "a@b@c", "a@b..c", "<x>@y", "a\u0000@b"),
      // Without a "/": after one, the trailing "@" would be in the resourcepart ("#@(/@" is valid).
      fc.string().filter((s) => !s.includes("/")).map((s) => `${s}@`),
      fc.string({ minLength: 1 }).map((s) => `"${s}@x`),
    );
    await fc.assert(
      fc.asyncProperty(invalid, fc.integer({ min: 0, max: calls.length - 1 }), async (jid, i) => {
        const error = await calls[i]!(jid).then(() => undefined, (e: unknown) => e);
        expect(isPresenceError(error) && ["invalid-jid", "invalid-argument"].includes(error.code)).toBe(true);
      }),
      { numRuns: 300 },
    );
    await tick();
    expect(sent()).toBe(before);
  });
});
