/** A PresenceClient wired to a {@link FakeXmpp}, started with an empty (or given) roster. */
import { createPresenceClient, type AutoReplyPolicy, type PresenceClient } from "../../src/index.js";
import { FakeXmpp } from "./fake-xmpp.js";

export interface Started {
  client: PresenceClient;
  xmpp: FakeXmpp;
}

export async function startedFake(options: { items?: string; ver?: string; autoReply?: AutoReplyPolicy; errors?: Error[] } = {}): Promise<Started> {
  const xmpp = new FakeXmpp();
  const client = createPresenceClient({ xmpp, ...(options.autoReply === undefined ? {} : { autoReply: options.autoReply }) });
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
