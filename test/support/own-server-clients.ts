/**
 * Node presence clients on a server a test file started itself (not the project's shared one),
 * all stopped by {@link OwnServerClients.stopAll}. The long `timeoutMs` is for a server still
 * busy with an earlier large-roster login. A client's `error` events are collected in
 * {@link OwnServerClients.errors}, so a test can assert there were none.
 */
import { createPresenceClient, type PresenceClient } from "../../src/index.js";
import type { XmppTestAccount, XmppTestServer } from "../../src/testing/server.js";

export interface OwnServerClients {
  /** A started client for `who` with resource `resource`, over TCP or (`websocket`) WebSocket. */
  online(who: XmppTestAccount, resource: string, websocket?: boolean): Promise<PresenceClient>;
  /** Every `error` event of these clients so far. */
  readonly errors: Error[];
  stopAll(): Promise<void>;
}

export function ownServerClients(server: () => XmppTestServer): OwnServerClients {
  const clients: PresenceClient[] = [];
  const errors: Error[] = [];
  return {
    errors,
    async online(who, resource, websocket = false) {
      const { service, websocketService, domain } = server();
      const client = createPresenceClient({
        service: websocket ? websocketService : service,
        domain,
        username: who.username,
        password: who.password,
        saslMechanism: "PLAIN",
        resource,
        timeoutMs: 15_000,
      });
      client.on("error", (error) => errors.push(error));
      clients.push(client);
      await client.start();
      return client;
    },
    async stopAll() {
      await Promise.all(clients.splice(0).map((client) => client.stop().catch(() => undefined)));
    },
  };
}
