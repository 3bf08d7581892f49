/**
 * Vitest global setup: one throw-away Prosody server (loopback, temporary directory) for the whole
 * test run. Its coordinates are handed to the test workers with `inject("prosody")`; workers create
 * their own accounts with `registerAccount(configPath, ...)` from `src/testing/prosody.ts`.
 */
import type { TestProject } from "vitest/node";
import { startProsody } from "../src/testing/prosody.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startProsody();
  project.provide("prosody", {
    domain: server.domain,
    service: server.service,
    websocketService: server.websocketService,
    c2sPort: server.c2sPort,
    httpPort: server.httpPort,
    dir: server.dir,
    configPath: server.configPath,
  });
  return async () => {
    await server.stop();
  };
}
