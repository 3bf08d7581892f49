/**
 * Node presence clients on a server a test file started itself (not the project's shared one),
 * all stopped by {@link OwnServerClients.stopAll}. The long `timeoutMs` is for a server still
 * busy with an earlier large-roster login.
 */
import { createPresenceClient, type PresenceClient } from "../../src/index.js";
import type { XmppTestAccount, XmppTestServer } from "../../src/testing/server.js";

export interface OwnServerClients {
  /** A started client for `who` over TCP, with resource `resource`. */
  online(who: XmppTestAccount, resource: string): Promise<PresenceClient>;
  stopAll(): Promise<void>;
}

export function ownServerClients(server: () => XmppTestServer): OwnServerClients {
  const clients: PresenceClient[] = [];
  return {
    async online(who, resource) {
      const { service, domain } = server();
      const client = createPresenceClient({ service, domain, username: who.username, password: who.password, saslMechanism: "PLAIN", resource, timeoutMs: 15_000 });
      clients.push(client);
      await client.start();
      return client;
    },
    async stopAll() {
      await Promise.all(clients.splice(0).map((client) => client.stop().catch(() => undefined)));
    },
  };
}
