/**
 * Vitest global setup: one throw-away XMPP server (loopback, temporary directory) for a test
 * project. Which one comes from the project name ("prosody" or "ejabberd"; anything else gets
 * Prosody). Its coordinates reach the test workers through `inject("server")` (and, for Prosody,
 * also `inject("prosody")`); workers create their own accounts (test/support/server.ts).
 */
import type { TestProject } from "vitest/node";
import { startTestServer, type XmppServerKind } from "../src/testing/server.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const kind: XmppServerKind = project.name === "ejabberd" ? "ejabberd" : "prosody";
  const server = await startTestServer(kind);
  const provided = {
    kind,
    domain: server.domain,
    service: server.service,
    websocketService: server.websocketService,
    c2sPort: server.c2sPort,
    httpPort: server.httpPort,
    dir: server.dir,
    configPath: "configPath" in server ? String(server.configPath) : "",
    apiUrl: "apiUrl" in server ? String(server.apiUrl) : "",
  };
  project.provide("server", provided);
  project.provide("prosody", provided);
  return async () => {
    await server.stop();
  };
}
