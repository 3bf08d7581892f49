// Roster-cache storage (RFC 6121 §2.6): one contract suite for every adapter, then what is
// specific to the file (atomic writes, queue) and to the browser backends.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IDBFactory } from "fake-indexeddb";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { isPresenceError } from "../../src/errors.js";
import type { RosterItem } from "../../src/roster/model.js";
import { bareKeyOf } from "../../src/jid.js";
import { RosterStoreImpl, type SubscriptionRequest } from "../../src/roster/store.js";
import { fileStorage } from "../../src/storage/file.js";
import {
  applyMutation,
  indexedDbStorage,
  localStorageStorage,
  memoryStorage,
  parseCachedRoster,
  type CachedRoster,
  type PreApprovalIntent,
  type RosterMutation,
  type RosterStorage,
  type StorageLike,
} from "../../src/storage/index.js";

const ALICE = "alice@localhost";
const ZOE = "zoe@localhost";

const bob: RosterItem = { jid: "bob@localhost", name: "Bob", groups: ["Friends", "Work"], subscription: "to", pendingOut: false, approved: false };
const carol: RosterItem = { jid: "carol@localhost", groups: [], subscription: "none", pendingOut: true, approved: true };
const dave: RosterItem = { jid: "dave@localhost", groups: ["Family"], subscription: "both", pendingOut: false, approved: false };
const request: SubscriptionRequest = { from: "erin@localhost", status: "hi, it's Erin", receivedAt: 1_700_000_000_000 };
const bareRequest: SubscriptionRequest = { from: "frank@localhost", receivedAt: 1_700_000_000_001 };
const intent: PreApprovalIntent = { jid: "gina@localhost", createdAt: 1_700_000_000_000, expiresAt: 1_700_086_400_000 };
const openIntent: PreApprovalIntent = { jid: "hank@localhost", createdAt: 1_700_000_000_002 };

function roster(version: string | undefined, items: RosterItem[], more: Partial<CachedRoster> = {}): CachedRoster {
  return { version, items, requests: [], preApprovals: [], ...more };
}

const full = roster("7", [bob, carol], { requests: [request, bareRequest], preApprovals: [intent, openIntent] });

const push = (item: RosterItem | undefined, version: string | undefined, jid = item?.jid ?? "") =>
  ({ kind: "item", jid, item, version }) as const satisfies RosterMutation;

// ---- backends --------------------------------------------------------------------------------

/** Stored data planted before the storage is created: a string is raw stored text, anything else
 * is put where a cached roster goes (inside a valid envelope). */
type Planted = Record<string, unknown>;

interface Backend {
  name: string;
  create(planted?: Planted): Promise<RosterStorage>;
}

const temp = await mkdtemp(join(tmpdir(), "xmpp-presence-storage-"));
afterAll(() => rm(temp, { recursive: true, force: true }));
let fileCount = 0;
const freshPath = () => join(temp, `cache-${++fileCount}`, "roster.json");

/** A fresh path holding the same bytes as `path`: what another process would read. */
async function copied(path: string): Promise<string> {
  const copy = freshPath();
  await mkdir(join(copy, ".."), { recursive: true });
  await copyFile(path, copy);
  return copy;
}

class MapStorage implements StorageLike {
  readonly map = new Map<string, string>();
  constructor(private readonly quota = Infinity) {}
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    const used = [...this.map].reduce((n, [k, v]) => (k === key ? n : n + k.length + v.length), 0);
    if (used + key.length + value.length > this.quota) throw new DOMException("quota", "QuotaExceededError");
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

function idbRequest<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Writes raw records into the adapter's database (layout 2: a head and a base per account), as
 * another app version or a bug might. `head` and `base` are written as given when present.
 */
async function plantIdb(factory: IDBFactory, dbName: string, records: Record<string, { head?: unknown; base?: unknown }>): Promise<void> {
  await indexedDbStorage(dbName, factory).load(ALICE); // creates the schema
  const db = await idbRequest(factory.open(dbName, 2));
  const tx = db.transaction(["roster-heads", "roster-bases"], "readwrite");
  for (const [account, { head, base }] of Object.entries(records)) {
    if (head !== undefined) tx.objectStore("roster-heads").put(head, account);
    if (base !== undefined) tx.objectStore("roster-bases").put(base, account);
  }
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}

/** Reads the records the adapter wrote for `account`. */
async function idbRecords(factory: IDBFactory, dbName: string, account: string): Promise<{ head: any; base: any }> {
  const db = await idbRequest(factory.open(dbName, 2));
  const tx = db.transaction(["roster-heads", "roster-bases"], "readonly");
  const [head, base] = await Promise.all([idbRequest(tx.objectStore("roster-heads").get(account)), idbRequest(tx.objectStore("roster-bases").get(account))]);
  db.close();
  return { head, base };
}

/** A planted cache value as layout 2 holds it: its items in the base, the rest in the head. */
function asLogged(account: string, raw: unknown): { head?: unknown; base?: unknown } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { head: raw };
  const { items, ...rest } = raw as Record<string, unknown>;
  const id = `planted-${account}`; // base ids are unique (random) in real records
  return { head: { formatVersion: 2, baseId: id, changes: [], ...rest }, base: { id, items } };
}

const envelope = (value: unknown) => ({ formatVersion: 1, roster: value });

const backends: Backend[] = [
  {
    name: "memoryStorage",
    create: async (planted = {}) => memoryStorage(planted as Record<string, CachedRoster>),
  },
  {
    name: "fileStorage",
    create: async (planted = {}) => {
      const path = freshPath();
      const entries = Object.entries(planted);
      if (entries.length > 0) {
        await mkdir(join(path, ".."), { recursive: true });
        const text = entries.find(([, raw]) => typeof raw === "string")?.[1];
        await writeFile(path, typeof text === "string" ? text : JSON.stringify({ formatVersion: 1, accounts: planted }));
      }
      return fileStorage(path);
    },
  },
  {
    name: "indexedDbStorage",
    create: async (planted = {}) => {
      const factory = new IDBFactory();
      const records = Object.fromEntries(Object.entries(planted).map(([k, raw]) => [k, asLogged(k, raw)]));
      await plantIdb(factory, "test-db", records);
      return indexedDbStorage("test-db", factory);
    },
  },
  {
    name: "localStorageStorage",
    create: async (planted = {}) => {
      const web = new MapStorage();
      for (const [account, raw] of Object.entries(planted)) {
        if (typeof raw === "string") {
          web.setItem(`xmpp-presence:roster:${account}`, raw);
          continue;
        }
        const { head, base } = asLogged(account, raw);
        web.setItem(`xmpp-presence:roster:${account}`, JSON.stringify(head));
        if (base !== undefined) web.setItem(`xmpp-presence:roster:${account}#items`, JSON.stringify(base));
      }
      return localStorageStorage(undefined, web);
    },
  },
];

// Shapes that must read as "no cache" (V-04: a corrupt cache bootstraps with ver='').
const badShapes: Array<[string, unknown]> = [
  ["subscription 'bogus'", roster("7", [{ ...bob, subscription: "bogus" } as unknown as RosterItem])],
  ["subscription 'remove'", roster("7", [{ ...bob, subscription: "remove" } as unknown as RosterItem])],
  ["groups not an array", { ...full, items: [{ ...bob, groups: "Friends" }] }],
  ["a group that is not a string", { ...full, items: [{ ...bob, groups: ["Friends", 1] }] }],
  ["a group that is null", { ...full, items: [{ ...bob, groups: [null] }] }],
  ["pendingOut a string", { ...full, items: [{ ...bob, pendingOut: "false" }] }],
  ["approved missing", { ...full, items: [{ jid: "bob@localhost", groups: [], subscription: "to", pendingOut: false }] }],
  ["name a number", { ...full, items: [{ ...bob, name: 42 }] }],
  ["name null", { ...full, items: [{ ...bob, name: null }] }],
  ["the only group a number", { ...full, items: [{ ...bob, groups: [7] }] }],
  ["a full JID as item jid", { ...full, items: [{ ...bob, jid: "bob@localhost/phone" }] }],
  ["an empty item jid", { ...full, items: [{ ...bob, jid: "" }] }],
  ["an item that is null", { ...full, items: [null] }],
  ["duplicate items", { ...full, items: [bob, { ...bob, name: "Robert" }] }],
  ["version a number", { ...full, version: 7 }],
  ["version null", { ...full, version: null }],
  ["items missing", { version: "7", requests: [], preApprovals: [] }],
  ["items an object", { ...full, items: { "bob@localhost": bob } }],
  ["requests missing", { version: "7", items: [bob], preApprovals: [] }],
  ["receivedAt a string", { ...full, requests: [{ from: "erin@localhost", receivedAt: "yesterday" }] }],
  ["request status a number", { ...full, requests: [{ ...request, status: 1 }] }],
  ["duplicate requests", { ...full, requests: [request, request] }],
  ["preApprovals missing", { version: "7", items: [], requests: [] }],
  ["createdAt null", { ...full, preApprovals: [{ jid: "gina@localhost", createdAt: null }] }],
  ["expiresAt a string", { ...full, preApprovals: [{ ...intent, expiresAt: "tomorrow" }] }],
  ["the roster null", null],
  ["the roster an array", [full]],
  ["the roster a number", 7],
];

describe.each(backends)("$name (RosterStorage contract)", ({ create }) => {
  it("loads undefined when nothing is stored", async () => {
    const storage = await create();
    expect(await storage.load(ALICE)).toBeUndefined();
  });

  it("round-trips a full roster with requests and pre-approvals", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "replace", roster: full });
    expect(await storage.load(ALICE)).toEqual(full);
  });

  it("hands out copies: changing a loaded or a saved object changes nothing stored", async () => {
    const storage = await create();
    const mine = structuredClone(full);
    await storage.save(ALICE, { kind: "replace", roster: mine });
    (mine.items as RosterItem[]).pop();
    const loaded = (await storage.load(ALICE)) as unknown as { items: Array<{ groups: string[] }> };
    loaded.items[0]?.groups.push("Hacked");
    loaded.items.length = 0;
    expect(await storage.load(ALICE)).toEqual(full);
  });

  it("persists a push's item and version together (V-07)", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "replace", roster: full });
    const renamed = { ...bob, name: "Robert", subscription: "both" } as const;
    await storage.save(ALICE, push(renamed, "8"));
    const loaded = await storage.load(ALICE);
    expect(loaded?.version).toBe("8");
    expect(loaded?.items).toEqual([renamed, carol]); // replaced in place, order kept
  });

  it("adds a pushed item at the end and drops a removed one, each with its version", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "replace", roster: full });
    await storage.save(ALICE, push(dave, "8"));
    expect(await storage.load(ALICE)).toMatchObject({ version: "8", items: [bob, carol, dave] });
    await storage.save(ALICE, push(undefined, "9", "carol@localhost"));
    expect(await storage.load(ALICE)).toMatchObject({ version: "9", items: [bob, dave] });
    await storage.save(ALICE, push(undefined, "10", "nobody@localhost")); // removal of an unknown JID
    expect(await storage.load(ALICE)).toEqual({ ...full, version: "10", items: [bob, dave] });
  });

  it("applies interim pushes after an empty result like live ones (V-06)", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "replace", roster: roster("v8", [bob, carol]) });
    await storage.save(ALICE, push(dave, "v9"));
    await storage.save(ALICE, push(undefined, "v10", carol.jid));
    await storage.save(ALICE, push({ ...bob, subscription: "both" }, "v11"));
    expect(await storage.load(ALICE)).toEqual(roster("v11", [{ ...bob, subscription: "both" }, dave]));
  });

  it("marks the cache unversioned after a push without ver (V-08)", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "replace", roster: full });
    await storage.save(ALICE, push(dave, undefined));
    const loaded = await storage.load(ALICE);
    expect(loaded?.version).toBeUndefined();
    expect(loaded?.items).toEqual([bob, carol, dave]);
  });

  it("keeps a push with nothing cached unversioned: one item is not the roster at that ver (V-11)", async () => {
    const storage = await create();
    await storage.save(ALICE, push(dave, "12"));
    expect(await storage.load(ALICE)).toEqual(roster(undefined, [dave]));
  });

  it("stores an empty full roster unversioned (Prosody reports ver 1 twice)", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "replace", roster: roster("1", [], { requests: [request] }) });
    expect(await storage.load(ALICE)).toEqual(roster(undefined, [], { requests: [request] }));
    await storage.save(ALICE, push(bob, "1")); // the first change, at the same ver
    expect(await storage.load(ALICE)).toEqual(roster("1", [bob], { requests: [request] }));
  });

  it("records and forgets pending-in requests and pre-approvals", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "replace", roster: roster("3", [bob]) });
    await storage.save(ALICE, { kind: "request", jid: request.from, request });
    await storage.save(ALICE, { kind: "request", jid: bareRequest.from, request: bareRequest });
    await storage.save(ALICE, { kind: "pre-approval", jid: intent.jid, intent });
    await storage.save(ALICE, { kind: "pre-approval", jid: openIntent.jid, intent: openIntent });
    expect(await storage.load(ALICE)).toEqual(roster("3", [bob], { requests: [request, bareRequest], preApprovals: [intent, openIntent] }));
    const again = { ...request, status: "second try" };
    await storage.save(ALICE, { kind: "request", jid: request.from, request: again });
    await storage.save(ALICE, { kind: "request", jid: bareRequest.from, request: undefined });
    await storage.save(ALICE, { kind: "pre-approval", jid: intent.jid, intent: undefined });
    expect(await storage.load(ALICE)).toEqual(roster("3", [bob], { requests: [again], preApprovals: [openIntent] }));
  });

  it("keeps requests and pre-approvals across pushes and starts a cache from them", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "request", jid: request.from, request });
    expect(await storage.load(ALICE)).toEqual(roster(undefined, [], { requests: [request] }));
    await storage.save(ALICE, { kind: "replace", roster: roster("5", [bob], { requests: [request] }) });
    await storage.save(ALICE, push(carol, "6"));
    expect(await storage.load(ALICE)).toEqual(roster("6", [bob, carol], { requests: [request] }));
  });

  it("keeps accounts apart, and clear() forgets one only", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "replace", roster: full });
    await storage.save(ZOE, { kind: "replace", roster: roster("z1", [dave]) });
    await storage.save(ZOE, push(undefined, "z2", dave.jid));
    expect(await storage.load(ALICE)).toEqual(full);
    expect(await storage.load(ZOE)).toEqual(roster("z2", []));
    await storage.clear(ALICE);
    await storage.clear("nobody@localhost"); // nothing stored: resolves all the same
    expect(await storage.load(ALICE)).toBeUndefined();
    expect(await storage.load(ZOE)).toEqual(roster("z2", []));
  });

  it("drops properties that are not cache facts (a RosterEntry's pendingIn and state)", async () => {
    const storage = await create();
    const entry = { ...bob, pendingIn: true, state: "To + Pending In" };
    await storage.save(ALICE, { kind: "replace", roster: { ...roster("4", [entry]), extra: 1 } as CachedRoster });
    await storage.save(ALICE, push({ ...carol, state: "None + Pending Out" } as RosterItem, "5"));
    expect(await storage.load(ALICE)).toStrictEqual(roster("5", [bob, carol]));
  });

  it("rejects malformed mutations and accounts before writing anything", async () => {
    const storage = await create();
    await storage.save(ALICE, { kind: "replace", roster: full });
    const bad: unknown[] = [
      push(dave, "8", "someone-else@localhost"), // item.jid ≠ jid
      push({ ...dave, subscription: "remove" } as unknown as RosterItem, "8"),
      push(dave, 8 as unknown as string),
      { kind: "replace", roster: { ...full, items: [bob, bob] } },
      { kind: "replace", roster: undefined },
      { kind: "request", jid: "x@localhost", request },
      { kind: "request", jid: request.from, request: { from: request.from } },
      { kind: "pre-approval", jid: intent.jid, intent: { ...intent, createdAt: Number.NaN } },
      { kind: "rename", jid: bob.jid },
      null,
    ];
    for (const mutation of bad) {
      const error: unknown = await storage.save(ALICE, mutation as RosterMutation).catch((e: unknown) => e);
      expect(isPresenceError(error) && error.code).toBe("invalid-argument");
    }
    for (const account of ["", "alice@localhost/phone", 42]) {
      const error: unknown = await storage.save(account as string, push(dave, "8")).catch((e: unknown) => e);
      expect(isPresenceError(error) && error.code).toBe("invalid-jid");
      await expect(storage.load(account as string)).rejects.toMatchObject({ code: "invalid-jid" });
    }
    expect(await storage.load(ALICE)).toEqual(full);
  });

  it.each(badShapes)("loads undefined when stored data has %s, and the next save replaces it", async (_, raw) => {
    const storage = await create({ [ALICE]: raw, [ZOE]: full });
    expect(await storage.load(ALICE)).toBeUndefined();
    expect(await storage.load(ZOE)).toEqual(full); // the other account's cache is unaffected
    await storage.save(ALICE, push(dave, "9"));
    expect(await storage.load(ALICE)).toEqual(roster(undefined, [dave])); // no base: unversioned
  });

  it.each([
    ["garbage", "%%% this is not JSON {{{"],
    ["truncated JSON", JSON.stringify({ formatVersion: 1, accounts: { [ALICE]: full } }).slice(0, 60)],
    ["an empty string", ""],
    ["JSON null", "null"],
  ])("loads undefined when the stored text is %s, and the next save replaces it", async (_, text) => {
    const storage = await create({ [ALICE]: text });
    expect(await storage.load(ALICE)).toBeUndefined();
    await storage.save(ALICE, { kind: "replace", roster: full });
    expect(await storage.load(ALICE)).toEqual(full);
  });

  it("loads a cache whose optional fields are present as undefined (structured clones keep them)", async () => {
    const raw = { ...full, version: undefined, items: [{ ...bob, name: undefined }], requests: [{ ...request, status: undefined }] };
    const storage = await create({ [ALICE]: raw });
    expect(await storage.load(ALICE)).toStrictEqual({
      version: undefined,
      items: [{ jid: bob.jid, groups: bob.groups, subscription: "to", pendingOut: false, approved: false }],
      requests: [{ from: request.from, receivedAt: request.receivedAt }],
      preApprovals: full.preApprovals,
    });
  });

  it("works unbound", async () => {
    const { load, save, clear } = await create();
    await save(ALICE, { kind: "replace", roster: full });
    expect(await load(ALICE)).toEqual(full);
    await clear(ALICE);
    expect(await load(ALICE)).toBeUndefined();
  });

  it("ends where applyMutation's fold ends, for any sequence of mutations", async () => {
    // memoryStorage keeps keyed maps (O(1) per push) instead of applying applyMutation to
    // arrays: whatever the representation, what loads must be the fold of the contract function.
    const jids = ["bob@localhost", "carol@localhost", "dave@localhost"];
    const mutation: fc.Arbitrary<RosterMutation> = fc.oneof(
      fc.record({
        kind: fc.constant("item" as const),
        jid: fc.constantFrom(...jids),
        item: fc.option(fc.constantFrom(bob, carol, dave), { nil: undefined }),
        version: fc.option(fc.constantFrom("1", "2"), { nil: undefined }),
      }).map((m) => ({ ...m, item: m.item && { ...m.item, jid: m.jid } })),
      fc.record({ kind: fc.constant("request" as const), jid: fc.constantFrom(...jids), on: fc.boolean() })
        .map(({ jid, on }) => ({ kind: "request" as const, jid, request: on ? { from: jid, receivedAt: 1 } : undefined })),
      fc.record({ kind: fc.constant("pre-approval" as const), jid: fc.constantFrom(...jids), on: fc.boolean() })
        .map(({ jid, on }) => ({ kind: "pre-approval" as const, jid, intent: on ? { jid, createdAt: 2 } : undefined })),
      fc.constantFrom<RosterMutation>({ kind: "replace", roster: full }, { kind: "replace", roster: roster("9", []) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { maxLength: 12 }), async (mutations) => {
        const storage = await create();
        let expected: CachedRoster | undefined;
        for (const m of mutations) {
          await storage.save(ALICE, m);
          expected = applyMutation(expected, m);
        }
        expect(await storage.load(ALICE)).toEqual(expected);
      }),
      { numRuns: Number(process.env["STORAGE_RUNS"] ?? 40) },
    );
  });
});

// ---- memoryStorage and the roster store's sealed rosters --------------------------------------

/** The `replace` mutations a real roster store hands its cache (their items are sealed). */
function storeReplaces(items: RosterItem[], version: string): RosterMutation[] {
  const mutations: RosterMutation[] = [];
  const store = new RosterStoreImpl(bareKeyOf, () => undefined, (m) => void mutations.push(m));
  store.replaceItems(items, version);
  return mutations.filter((m) => m.kind === "replace");
}

describe("memoryStorage and whole rosters from the client's own store", () => {
  it("keeps the store's sealed items without a copy, and still loads fresh plain items", async () => {
    const [replace] = storeReplaces([bob, carol, dave], "3");
    if (replace?.kind !== "replace") throw new Error("no replace mutation");
    expect(replace.roster.items[0]).toHaveProperty("state"); // the store's entries stand for their items
    const storage = memoryStorage();
    await storage.save(ALICE, replace);
    const loaded = await storage.load(ALICE);
    expect(loaded).toStrictEqual(roster("3", [bob, carol, dave])); // known fields only
    expect(loaded?.items.some((item) => replace.roster.items.includes(item))).toBe(false);
    (loaded?.items[0]?.groups as string[]).push("Changed"); // a loaded copy is the caller's own
    expect((await storage.load(ALICE))?.items[0]?.groups).toEqual(bob.groups);
    // Pushes apply on top, as to any other cache.
    await storage.save(ALICE, push({ ...bob, subscription: "both" }, "4"));
    expect(await storage.load(ALICE)).toStrictEqual(roster("4", [{ ...bob, subscription: "both" }, carol, dave]));
  });

  it("still checks a whole roster whose items only look like the store's (frozen, not sealed)", async () => {
    const [replace] = storeReplaces([bob, carol], "3");
    if (replace?.kind !== "replace") throw new Error("no replace mutation");
    const storage = memoryStorage();
    await storage.save(ALICE, { kind: "replace", roster: roster("1", [dave]) });
    const bogus = Object.freeze({ ...carol, subscription: "bogus" }) as unknown as RosterItem;
    const lookalikes: unknown[] = [
      Object.freeze([...replace.roster.items, bogus]), // a copy of a sealed list is not sealed
      Object.freeze([replace.roster.items[0], replace.roster.items[0]]), // a duplicate JID
    ];
    for (const items of lookalikes) {
      const mutation = { kind: "replace", roster: { ...replace.roster, items } } as RosterMutation;
      await expect(storage.save(ALICE, mutation)).rejects.toSatisfy(isPresenceError);
    }
    // Sealed items do not vouch for the rest of the roster: a malformed request is refused.
    const badRequest = { kind: "replace", roster: { ...replace.roster, requests: [{ from: "x@localhost" }] } } as unknown as RosterMutation;
    await expect(storage.save(ALICE, badRequest)).rejects.toSatisfy(isPresenceError);
    expect(await storage.load(ALICE)).toStrictEqual(roster("1", [dave])); // nothing was written
  });
});

// ---- the pure helpers ------------------------------------------------------------------------

describe("applyMutation", () => {
  it("never modifies its input and shares untouched items", () => {
    const before = structuredClone(full);
    const next = applyMutation(full, push(dave, "8"));
    expect(full).toEqual(before);
    expect(next.items[0]).toBe(full.items[0]);
    expect(next.items).toEqual([bob, carol, dave]);
  });

  it("throws PresenceError invalid-argument for a malformed mutation", () => {
    expect(() => applyMutation(full, push(dave, "8", "bob@localhost"))).toThrow(expect.objectContaining({ code: "invalid-argument" }));
  });
});

describe("parseCachedRoster", () => {
  it("accepts a valid roster, rejects every bad shape, and never throws", () => {
    expect(parseCachedRoster(JSON.parse(JSON.stringify(full)))).toEqual(full);
    for (const [, raw] of badShapes) expect(parseCachedRoster(raw)).toBeUndefined();
    const sparse: unknown[] = [];
    sparse[1] = bob; // a hole at index 0
    expect(parseCachedRoster({ ...full, items: sparse })).toBeUndefined();
    expect(parseCachedRoster({ ...full, items: [{ ...bob, groups: ["a", , "b"] }] })).toBeUndefined();
  });
});

// ---- fileStorage -----------------------------------------------------------------------------

async function tempsIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(".tmp"));
}

describe("fileStorage", () => {
  it("writes a snapshot line, then appends one line per save, readable only by its owner, and no temp files", async () => {
    const path = freshPath(); // its directory does not exist yet
    const storage = fileStorage(path);
    await storage.save(ALICE, { kind: "replace", roster: full });
    await storage.save(ZOE, push(dave, "z1"));
    await storage.clear(ALICE);
    const lines = (await readFile(path, "utf8")).split("\n").map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual([
      { formatVersion: 2, accounts: { [ALICE]: full } },
      { account: ZOE, mutation: push(dave, "z1") },
      { account: ALICE, clear: true },
    ]);
    expect(await fileStorage(await copied(path)).load(ZOE)).toEqual(roster(undefined, [dave]));
    // A whole roster goes into a new snapshot, not into the log.
    await storage.save(ZOE, { kind: "replace", roster: full });
    expect((await readFile(path, "utf8")).split("\n").map((line) => JSON.parse(line) as unknown)).toEqual([{ formatVersion: 2, accounts: { [ZOE]: full } }]);
    if (process.platform !== "win32") expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await tempsIn(join(path, ".."))).toEqual([]);
  });

  it("after a crash mid-write (stray temp, truncated target) loads undefined, then recovers", async () => {
    const path = freshPath();
    const dir = join(path, "..");
    await mkdir(dir, { recursive: true });
    const complete = JSON.stringify({ formatVersion: 1, accounts: { [ALICE]: full } });
    await writeFile(join(dir, ".roster.json.0b4e3a77-crash.tmp"), complete); // never renamed: not committed
    await writeFile(path, complete.slice(0, complete.length / 2));
    const storage = fileStorage(path);
    expect(await storage.load(ALICE)).toBeUndefined();
    expect(await tempsIn(dir)).toEqual([]); // the stray temp is swept on first read
    await storage.save(ALICE, push(dave, "9"));
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ formatVersion: 2, accounts: { [ALICE]: roster(undefined, [dave]) } });
  });

  it("after a crash before the rename keeps the previous complete file", async () => {
    const path = freshPath();
    const dir = join(path, "..");
    await mkdir(dir, { recursive: true });
    await writeFile(path, JSON.stringify({ formatVersion: 1, accounts: { [ALICE]: full } }));
    await writeFile(join(dir, ".roster.json.1c2d-crash.tmp"), '{"formatVersion":1,"accounts":{"alice@localhost":{"ver');
    expect(await fileStorage(path).load(ALICE)).toEqual(full);
  });

  it("treats a file of another format version as empty and overwrites it", async () => {
    const path = freshPath();
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, JSON.stringify({ formatVersion: 3, accounts: { [ALICE]: full } }));
    const storage = fileStorage(path);
    expect(await storage.load(ALICE)).toBeUndefined();
    await storage.save(ZOE, { kind: "replace", roster: full });
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ formatVersion: 2, accounts: { [ZOE]: full } });
  });

  it("serialises 50 concurrent saves from two handles into one consistent file", async () => {
    const path = freshPath();
    const one = fileStorage(path);
    const two = fileStorage(path); // same path, same process: shares the queue and the copy
    await one.save(ALICE, { kind: "replace", roster: roster("0", [bob]) });
    const items = Array.from({ length: 50 }, (_, i): RosterItem => ({ ...dave, jid: `c${i}@localhost`, name: `#${i}` }));
    await Promise.all(
      items.map((item, i) =>
        i % 2 === 0 ? one.save(ALICE, push(item, String(i + 1))) : two.save(ZOE, { kind: "request", jid: item.jid, request: { from: item.jid, receivedAt: i } }),
      ),
    );
    // A fresh process (here: a fresh path with the same bytes) reads all of it back.
    const onDisk = fileStorage(await copied(path));
    const alice = await onDisk.load(ALICE);
    expect(alice?.items.map((item) => item.jid)).toEqual([bob.jid, ...items.filter((_, i) => i % 2 === 0).map((item) => item.jid)]);
    expect(alice?.version).toBe("49");
    expect((await onDisk.load(ZOE))?.requests).toHaveLength(25);
    expect(alice).toEqual(await one.load(ALICE));
    expect(await tempsIn(join(path, ".."))).toEqual([]);
  });

  it("is never observed torn while saves run", async () => {
    const path = freshPath();
    const storage = fileStorage(path);
    await storage.save(ALICE, { kind: "replace", roster: full });
    let done = false;
    let reads = 0;
    const reader = (async () => {
      while (!done) {
        // The snapshot line is replaced whole (rename); only the line being appended may be cut.
        const [first, ...log] = (await readFile(path, "utf8")).split("\n");
        const data = JSON.parse(first ?? "") as { formatVersion: number; accounts: Record<string, unknown> };
        expect(data.formatVersion).toBe(2);
        expect(parseCachedRoster(data.accounts[ALICE])).toBeDefined();
        for (const line of log.slice(0, -1)) expect(() => JSON.parse(line)).not.toThrow();
        reads++;
      }
    })();
    const padding = "x".repeat(2_000); // bigger writes make a torn read likelier, if one were possible
    for (let i = 0; i < 100; i++) {
      const item: RosterItem = { ...dave, jid: `n${i}@localhost`, name: `${i}${padding}` };
      const saves = [storage.save(ALICE, push(item, String(i))), storage.save(ZOE, push(item, String(i)))];
      if (i % 10 === 0) await Promise.all(saves); // mostly let them pile up and group
    }
    await storage.load(ALICE); // queued after every save
    done = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect((await storage.load(ALICE))?.items).toHaveLength(102);
  });

  it("rejects a failed write, leaves no temp file, and keeps serving the last committed state", async () => {
    const path = freshPath();
    const storage = fileStorage(path);
    await storage.save(ALICE, { kind: "replace", roster: full });
    await unlink(path);
    await mkdir(path); // a directory where the file goes: the rename fails
    await expect(storage.save(ALICE, push(dave, "8"))).rejects.toMatchObject({ code: expect.stringMatching(/^E/) });
    expect(await tempsIn(join(path, ".."))).toEqual([]);
    expect(await storage.load(ALICE)).toEqual(full);
    await rmdir(path);
    await storage.save(ZOE, push(carol, "z1")); // nothing to append to: a new snapshot
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({
      formatVersion: 2,
      accounts: { [ALICE]: full, [ZOE]: roster(undefined, [carol]) },
    });
  });

  it("keeps a push to one appended line, and folds the log into a new snapshot once it outweighs the snapshot", async () => {
    const path = freshPath();
    const storage = fileStorage(path);
    const oracle = memoryStorage();
    const many = Array.from({ length: 300 }, (_, i): RosterItem => ({ ...dave, jid: `c${i}@localhost`, name: `Contact ${i}` }));
    const first = { kind: "replace", roster: roster("1", many) } as const;
    await storage.save(ALICE, first);
    await oracle.save(ALICE, first);
    const snapshot = (await readFile(path, "utf8")).split("\n")[0];
    let lines = 1;
    for (let i = 0; lines > 0 && i < 2_000; i++) {
      const m = push({ ...dave, jid: `c${i % 400}@localhost`, name: `n${i}` }, String(i + 2));
      await storage.save(ALICE, m);
      await oracle.save(ALICE, m);
      const text = await readFile(path, "utf8");
      const [head, ...log] = text.split("\n");
      if (head !== snapshot) {
        // The fold: a new snapshot holding everything, and no log.
        expect(log).toEqual([]);
        expect(i).toBeGreaterThan(100);
        lines = 0;
        break;
      }
      expect(log).toHaveLength(i + 1); // one line per push, the snapshot untouched
      lines = log.length;
    }
    expect(lines).toBe(0); // it did fold
    expect(await fileStorage(await copied(path)).load(ALICE)).toEqual(await oracle.load(ALICE));
  });

  it("replays the log up to a line cut short by a crash, then rewrites the snapshot", async () => {
    const path = freshPath();
    await mkdir(join(path, ".."), { recursive: true });
    const line = (record: unknown) => JSON.stringify(record);
    await writeFile(path, [line({ formatVersion: 2, accounts: { [ALICE]: full } }), line({ account: ALICE, mutation: push(dave, "8") }), line({ account: ALICE, mutation: push(carol, "9") }).slice(0, 30)].join("\n"));
    const storage = fileStorage(path);
    expect(await storage.load(ALICE)).toEqual({ ...full, version: "8", items: [...full.items, dave] });
    await storage.save(ZOE, push(bob, "z1"));
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({
      formatVersion: 2,
      accounts: { [ALICE]: { ...full, version: "8", items: [...full.items, dave] }, [ZOE]: roster(undefined, [bob]) },
    });
  });

  it("rejects when the file cannot be read, and reads it on the next call", async () => {
    const path = freshPath();
    await mkdir(path, { recursive: true }); // EISDIR on read
    const storage = fileStorage(path);
    await expect(storage.load(ALICE)).rejects.toMatchObject({ code: "EISDIR" });
    await rmdir(path);
    await writeFile(path, JSON.stringify({ formatVersion: 1, accounts: { [ALICE]: full } }));
    expect(await storage.load(ALICE)).toEqual(full);
  });
});

// ---- browser backends ------------------------------------------------------------------------

describe("indexedDbStorage", () => {
  it("loads undefined for a head of another format, a head and base that are not a pair, or a bad logged change", async () => {
    const factory = new IDBFactory();
    const good = asLogged(ALICE, full);
    const head = good.head as Record<string, unknown>;
    await plantIdb(factory, "db", {
      [ALICE]: { head: { ...head, formatVersion: 3 }, base: good.base },
      [ZOE]: { head: envelope(full), base: good.base }, // the first layout's record
      "x@localhost": { head: { ...head, baseId: "another" }, base: good.base },
      "y@localhost": { head: { ...head, changes: [{ jid: "dave@localhost", item: { ...dave, jid: "erin@localhost" } }] }, base: good.base },
      "z@localhost": { head: { ...head, changes: [{ jid: "dave@localhost" }, { jid: "dave@localhost" }] }, base: good.base },
      "w@localhost": { head },
    });
    const storage = indexedDbStorage("db", factory);
    for (const account of [ALICE, ZOE, "x@localhost", "y@localhost", "z@localhost", "w@localhost"]) {
      expect(await storage.load(account), account).toBeUndefined();
    }
    await plantIdb(factory, "db", { [ALICE]: good });
    expect(await storage.load(ALICE)).toEqual(full); // the same records, paired: a cache
  });

  it("upgrades a database of the first layout by dropping its caches", async () => {
    const factory = new IDBFactory();
    const open = factory.open("db", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("rosters");
    const old = await idbRequest(open);
    const tx = old.transaction("rosters", "readwrite");
    tx.objectStore("rosters").put(envelope(full), ALICE);
    await new Promise((resolve) => (tx.oncomplete = resolve));
    old.close();
    const storage = indexedDbStorage("db", factory);
    expect(await storage.load(ALICE)).toBeUndefined();
    await storage.save(ALICE, { kind: "replace", roster: full });
    expect(await storage.load(ALICE)).toEqual(full);
    const db = await idbRequest(factory.open("db", 2));
    expect(Array.from(db.objectStoreNames).sort()).toEqual(["roster-bases", "roster-heads"]);
    db.close();
  });

  it("writes a push into the small head only, and folds the log into the base every 256 pushed JIDs", async () => {
    const factory = new IDBFactory();
    const storage = indexedDbStorage("db", factory);
    const oracle = memoryStorage();
    const items = Array.from({ length: 400 }, (_, i): RosterItem => ({ ...dave, jid: `c${i}@localhost` }));
    const first = { kind: "replace", roster: roster("1", items) } as const;
    await storage.save(ALICE, first);
    await oracle.save(ALICE, first);
    const { base } = await idbRecords(factory, "db", ALICE);
    for (let i = 0; i < 256; i++) {
      const m = i % 5 === 4 ? { kind: "item" as const, jid: `c${i}@localhost`, item: undefined, version: String(i + 2) } : push({ ...dave, jid: `c${i}@localhost`, name: `n${i}` }, String(i + 2));
      await storage.save(ALICE, m);
      await oracle.save(ALICE, m);
    }
    for (const again of [push({ ...dave, jid: "c4@localhost", name: "back" }, "299"), push({ ...dave, jid: "c0@localhost", name: "again" }, "300")]) {
      await storage.save(ALICE, again); // logged JIDs again: c4 was removed (it moves to the end), c0 changes in place
      await oracle.save(ALICE, again);
    }
    let records = await idbRecords(factory, "db", ALICE);
    expect(records.base).toEqual(base); // not rewritten by any push so far
    expect(records.head.changes).toHaveLength(256);
    expect(await storage.load(ALICE)).toEqual(await oracle.load(ALICE)); // items in the same order too
    expect((await storage.load(ALICE))?.version).toBe("300");
    // The next new JID folds the log: a new base, an empty log, the same cache.
    const fold = push({ ...dave, jid: "new@localhost" }, "301");
    await storage.save(ALICE, fold);
    await oracle.save(ALICE, fold);
    records = await idbRecords(factory, "db", ALICE);
    expect(records.base.id).not.toBe(base.id);
    expect(records.head.changes).toEqual([]);
    expect(records.base.items).toHaveLength(400 - 51 + 1 + 1); // 51 pushes removed an item, one came back
    const loaded = await storage.load(ALICE);
    expect(loaded).toEqual(await oracle.load(ALICE));
    expect(loaded?.version).toBe("301");
  });

  it("replaces a cache whose base is corrupt on the next save, even when its head is sound", async () => {
    const factory = new IDBFactory();
    const good = asLogged(ALICE, full);
    await plantIdb(factory, "db", { [ALICE]: { head: good.head, base: { id: "planted-alice@localhost", items: [{ ...bob, subscription: "bogus" }] } } });
    const storage = indexedDbStorage("db", factory);
    await storage.save(ALICE, { kind: "request", jid: "erin@localhost", request });
    expect(await storage.load(ALICE)).toEqual({ version: undefined, items: [], requests: [request], preApprovals: [] });
  });

  it("keeps every one of many concurrent saves from two handles on one database", async () => {
    const factory = new IDBFactory();
    const one = indexedDbStorage("db", factory);
    const two = indexedDbStorage("db", factory);
    await one.save(ALICE, { kind: "replace", roster: roster("0", [bob]) });
    const items = Array.from({ length: 30 }, (_, i): RosterItem => ({ ...dave, jid: `c${i}@localhost` }));
    await Promise.all(items.map((item, i) => (i % 2 === 0 ? one : two).save(ALICE, push(item, String(i + 1)))));
    const loaded = await indexedDbStorage("db", factory).load(ALICE);
    expect(loaded?.items).toHaveLength(31);
    expect(loaded?.version).toBe("30");
  });

  it("rejects with unsupported-environment when there is no IndexedDB", async () => {
    expect("indexedDB" in globalThis).toBe(false);
    await expect(indexedDbStorage().load(ALICE)).rejects.toMatchObject({ code: "unsupported-environment" });
  });
});

describe("localStorageStorage", () => {
  it("stores a head under prefix + account and the items under prefix + account + '#items', and leaves other keys alone", async () => {
    const web = new MapStorage();
    web.setItem("unrelated", "keep me");
    const storage = localStorageStorage("app:", web);
    await storage.save(ALICE, { kind: "replace", roster: full });
    expect([...web.map.keys()].sort()).toEqual(["app:alice@localhost", "app:alice@localhost#items", "unrelated"]);
    const head = JSON.parse(web.getItem("app:alice@localhost") ?? "");
    const base = JSON.parse(web.getItem("app:alice@localhost#items") ?? "");
    expect(head).toMatchObject({ formatVersion: 2, version: full.version, requests: full.requests, preApprovals: full.preApprovals, changes: [] });
    expect(base).toEqual({ id: head.baseId, items: full.items });
    // A push rewrites the head only.
    await storage.save(ALICE, push(dave, "8"));
    expect(JSON.parse(web.getItem("app:alice@localhost#items") ?? "")).toEqual(base);
    expect(JSON.parse(web.getItem("app:alice@localhost") ?? "").changes).toEqual([{ jid: dave.jid, item: dave }]);
    expect(await storage.load(ALICE)).toEqual({ ...full, version: "8", items: [...full.items, dave] });
    await storage.clear(ALICE);
    expect([...web.map.keys()]).toEqual(["unrelated"]);
  });

  it("reads a value of the first layout as no cache, and replaces it", async () => {
    const web = new MapStorage();
    web.setItem("xmpp-presence:roster:alice@localhost", JSON.stringify(envelope(full)));
    const storage = localStorageStorage(undefined, web);
    expect(await storage.load(ALICE)).toBeUndefined();
    await storage.save(ALICE, push(dave, "3"));
    expect(await storage.load(ALICE)).toEqual(roster(undefined, [dave]));
  });

  it("rejects a save over quota and keeps the previous value", async () => {
    const web = new MapStorage(2_000);
    const storage = localStorageStorage(undefined, web);
    await storage.save(ALICE, { kind: "replace", roster: roster("1", [bob]) });
    const big = { ...dave, name: "x".repeat(5_000) };
    await expect(storage.save(ALICE, push(big, "2"))).rejects.toMatchObject({ name: "QuotaExceededError" });
    expect(await storage.load(ALICE)).toEqual(roster("1", [bob]));
  });

  it("never pairs a new base with an old head: a head write that fails leaves no cache, not a wrong one", async () => {
    const web = new MapStorage();
    const storage = localStorageStorage(undefined, web);
    await storage.save(ALICE, { kind: "replace", roster: roster("1", [bob]) });
    const setItem = web.setItem.bind(web);
    web.setItem = (key, value) => {
      if (key === "xmpp-presence:roster:alice@localhost") throw new DOMException("quota", "QuotaExceededError");
      setItem(key, value);
    };
    await expect(storage.save(ALICE, { kind: "replace", roster: roster("2", [carol, dave]) })).rejects.toMatchObject({ name: "QuotaExceededError" });
    expect(await localStorageStorage(undefined, web).load(ALICE)).toBeUndefined(); // the items are new, the head old
    web.setItem = setItem;
    await storage.save(ALICE, { kind: "replace", roster: roster("3", [dave]) });
    expect(await storage.load(ALICE)).toEqual(roster("3", [dave]));
  });

  it("rejects with unsupported-environment when there is no localStorage", async () => {
    expect("localStorage" in globalThis).toBe(false);
    await expect(localStorageStorage().save(ALICE, push(bob, "1"))).rejects.toMatchObject({ code: "unsupported-environment" });
  });
});
