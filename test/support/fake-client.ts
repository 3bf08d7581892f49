/** A PresenceClient wired to a {@link FakeXmpp}, started with an empty (or given) roster. */
import { createPresenceClient, type AutoReplyPolicy, type PresenceClient, type RosterStorage } from "../../src/index.js";
import { FakeXmpp } from "./fake-xmpp.js";

export interface Started {
  client: PresenceClient;
  xmpp: FakeXmpp;
}

export interface FakeOptions {
  items?: string;
  ver?: string;
  autoReply?: AutoReplyPolicy;
  errors?: Error[];
  /** Advertised stream-feature namespaces. */
  features?: string[];
  storage?: RosterStorage;
  /**
   * The client's notification window. Default 0 here (the client's default is 16 ms): these
   * tests count listener calls per synchronous run; the window has tests of its own.
   */
  notificationWindowMs?: number;
}

export async function startedFake(options: FakeOptions = {}): Promise<Started> {
  const xmpp = new FakeXmpp();
  for (const ns of options.features ?? []) xmpp.advertised.add(ns);
  const client = createPresenceClient({
    xmpp,
    ...(options.autoReply === undefined ? {} : { autoReply: options.autoReply }),
    ...(options.storage === undefined ? {} : { storage: options.storage }),
    notificationWindowMs: options.notificationWindowMs ?? 0,
  });
  client.on("error", (error) => void (options.errors ?? []).push(error));
  const started = client.start();
  await tick();
  xmpp.answerRoster(options.items ?? "", options.ver);
  await started;
  return { client, xmpp };
}

/** Lets queued promise callbacks run. */
export async function tick(times = 3): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((resolve) => setImmediate(resolve));
}
