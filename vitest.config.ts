import { defineConfig } from "vitest/config";

// Unit tests run once; the integration suite runs once per real server (a project each, with its
// own throw-away server started by test/global-setup.ts from the project's name).
const shared = {
  pool: "forks" as const,
  testTimeout: 20_000,
  hookTimeout: 60_000,
  expect: { requireAssertions: true },
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { test: { ...shared, name: "prosody", include: ["test/integration/**/*.test.ts"], globalSetup: ["./test/global-setup.ts"] } },
      { test: { ...shared, name: "ejabberd", include: ["test/integration/**/*.test.ts"], globalSetup: ["./test/global-setup.ts"] } },
      // The examples end to end (chat UI in Chromium, the bot), on their own Prosody. The examples
      // import "xmpp-presence", which tsconfig.json's `paths` maps to src/ (no build needed).
      {
        resolve: { tsconfigPaths: true },
        test: { ...shared, name: "e2e", include: ["test/e2e/**/*.test.ts"], globalSetup: ["./test/global-setup.ts"] },
      },
    ],
  },
});
