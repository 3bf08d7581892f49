// The notification window (Listeners.defer, client option notificationWindowMs): a burst of
// stanzas notifies store listeners once per window, even when each stanza is a task of its own
// (a browser dispatches every WebSocket message as a task, with a microtask checkpoint after it).
import { describe, expect, it } from "vitest";
import { createPresenceClient, isPresenceError } from "../../src/index.js";
import { Listeners } from "../../src/observable.js";
import { startedFake, tick } from "../support/fake-client.js";
import { FakeXmpp } from "../support/fake-xmpp.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** One macrotask, as a browser gives each WebSocket message. */
const nextTask = () => new Promise((resolve) => setImmediate(resolve));

function listeners(windowMs: number) {
  let state = 0;
  const notify = new Listeners(() => state, (error) => {
    throw error;
  });
  notify.windowMs = windowMs;
  const seen: number[] = [];
  notify.listen((snapshot) => seen.push(snapshot));
  const write = (value: number) => {
    notify.defer();
    state = value;
    notify.changed();
  };
  return { notify, seen, write };
}

describe("Listeners notification window", () => {
  it("tells a change after a quiet spell at the end of its run, and later ones once the window is up", async () => {
    const { seen, write } = listeners(60);
    write(1);
    expect(seen).toEqual([]);
    await Promise.resolve();
    expect(seen).toEqual([1]); // leading edge: no wait
    for (let i = 2; i <= 20; i++) {
      write(i);
      await nextTask(); // each its own task, as in a browser
    }
    expect(seen).toEqual([1]); // held: within the window
    await sleep(100);
    expect(seen).toEqual([1, 20]); // one call, with the last state
  });

  it("with a window of 0, every synchronous run is told at its end", async () => {
    const { seen, write } = listeners(0);
    for (let i = 1; i <= 5; i++) {
      write(i);
      await nextTask();
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("flush() tells what is held at once, and the window's timer then finds nothing to tell", async () => {
    const { notify, seen, write } = listeners(60);
    write(1);
    await Promise.resolve();
    write(2);
    await nextTask();
    expect(seen).toEqual([1]);
    notify.flush();
    expect(seen).toEqual([1, 2]);
    await sleep(100);
    expect(seen).toEqual([1, 2]);
    notify.flush(); // nothing held: nothing told
    expect(seen).toEqual([1, 2]);
  });
});

describe("client notificationWindowMs", () => {
  const flood = (xmpp: FakeXmpp, i: number) =>
    xmpp.receive(`<presence from="c${i % 10}@localhost/r${i % 3}" to="alice@localhost/desk"><status>s${i}</status></presence>`);
  const contacts = Array.from({ length: 10 }, (_, i) => `<item jid="c${i}@localhost" subscription="both"/>`).join("");

  it("by default, a presence flood delivered one stanza per task notifies a few times, not once per stanza", async () => {
    const { client, xmpp } = await startedFake({ items: contacts, notificationWindowMs: 16 });
    await sleep(30); // past the window of the roster's own notification
    const seen: string[] = [];
    // c9's resource r1 gets the last stanza (i = 199).
    client.presence.listen((s) => seen.push(s.contacts.get("c9@localhost")?.resources.get("r1")?.status ?? "none"));
    for (let i = 0; i < 200; i++) {
      void flood(xmpp, i);
      await nextTask();
    }
    await sleep(40);
    expect(client.presence.get("c9@localhost")?.get("r1")?.status).toBe("s199");
    expect(seen.at(-1)).toBe("s199"); // the last call has the final state
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.length).toBeLessThan(200 / 4); // a 200-task burst: one call per window, not per stanza
  });

  it("with 0, the same flood notifies once per stanza (each is a run of its own)", async () => {
    const { client, xmpp } = await startedFake({ items: contacts, notificationWindowMs: 0 });
    let calls = 0;
    client.presence.listen(() => calls++);
    for (let i = 0; i < 50; i++) {
      void flood(xmpp, i);
      await nextTask();
    }
    await tick();
    expect(calls).toBe(50);
  });

  it("stop() tells listeners what the window holds before it resolves", async () => {
    const { client, xmpp } = await startedFake({ items: contacts, notificationWindowMs: 10_000 });
    const seen: string[] = [];
    client.presence.listen((s) => seen.push(s.contacts.get("c1@localhost")?.best?.status ?? "none"));
    void flood(xmpp, 1);
    await nextTask();
    const before = seen.length;
    void flood(xmpp, 11); // within the 10 s window: held
    await nextTask();
    expect(seen.length).toBe(before);
    await client.stop();
    expect(seen.length).toBeGreaterThan(before); // told at stop(), not 10 s later
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, "16"])("rejects notificationWindowMs %j with invalid-argument", (value) => {
    let error: unknown;
    try {
      createPresenceClient({ xmpp: new FakeXmpp(), notificationWindowMs: value as number });
    } catch (e) {
      error = e;
    }
    expect(isPresenceError(error) && error.code).toBe("invalid-argument");
  });
});
