/**
 * The page of test/e2e/react-large.test.ts: examples/react's <Contacts> on a real client over
 * WebSocket, rendered by React 19 in production mode. `presence.best()` is counted: the rows call
 * it (through useBestPresence) each time they render, and nothing else calls it on a roster change,
 * so after a roster push the count is the number of rows that rendered again.
 */
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { Contacts } from "../../examples/react/Contacts.js";
import { createPresenceClient, type PresenceClient } from "../../src/index.js";

export interface ReactPageApi {
  start(options: { service: string; domain: string; username: string; password: string }): Promise<void>;
  /** `presence.best()` calls so far. */
  bestCalls(): number;
  /** Our account's other resources the client knows online. */
  ownResources(): number;
  stop(): Promise<void>;
}

let client: PresenceClient | undefined;
let calls = 0;

/** The client with its presence store's `best` counted; methods stay bound to the client. */
function counted(target: PresenceClient): PresenceClient {
  const { presence } = target;
  const presenceCounted = {
    listen: presence.listen,
    subscribe: presence.subscribe,
    getSnapshot: presence.getSnapshot,
    best: (jid: string) => {
      calls++;
      return presence.best(jid);
    },
  };
  return new Proxy(target, {
    get(object, key) {
      if (key === "presence") return presenceCounted;
      const value: unknown = Reflect.get(object, key, object);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}

const api: ReactPageApi = {
  async start(options) {
    client = createPresenceClient({ ...options, saslMechanism: "PLAIN", resource: "react" });
    await client.start();
    const root = document.createElement("div");
    document.body.append(root);
    createRoot(root).render(createElement(Contacts, { client: counted(client) }));
  },
  bestCalls: () => calls,
  ownResources: () => client?.presence.getSnapshot().own.size ?? 0,
  async stop() {
    await client?.stop();
  },
};
(window as unknown as { reactPage: ReactPageApi }).reactPage = api;
