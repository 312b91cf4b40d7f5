import { defineConfig } from "vitest/config";

// The suites that run once per database engine: every test of whole sagas, and the chaos tests. The first
// project runs everything on SQLite (the default, `make up`); the second runs these again with each mesh on a
// PostgreSQL server of its own (FTGO_TEST_DATABASE, packages/harness/src/test-database.ts).
const ON_BOTH_ENGINES = [
  "test/saga.test.ts",
  "test/orchestration.test.ts",
  "test/watch-across-instances.test.ts",
  "test/database-engine.test.ts",
  "test/chaos/**/*.test.ts",
];

const shared = {
  // One nats-server (random port, temp store) per project; tests read its URL with inject("natsUrl").
  // And the services' bundles (services/*/dist/main.js) built before any test file starts (vitest runs the
  // projects' global setups one after the other, all before the first test).
  globalSetup: ["packages/platform/src/testing/global-setup.ts", "packages/harness/src/build-global-setup.ts"],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: "sqlite",
          include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "test/**/*.test.ts"],
        },
      },
      {
        test: {
          ...shared,
          name: "postgres",
          include: ON_BOTH_ENGINES,
          env: { FTGO_TEST_DATABASE: "postgres" },
        },
      },
    ],
  },
});
