import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "test/**/*.test.ts"],
    // One nats-server (random port, temp store) for the whole run; tests read its URL with inject("natsUrl").
    // And the services' bundles (services/*/dist/main.js) built once, before the tests that run them start.
    globalSetup: ["packages/platform/src/testing/global-setup.ts", "packages/harness/src/build-global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
