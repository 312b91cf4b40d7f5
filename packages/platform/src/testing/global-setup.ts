import type { TestProject } from "vitest/node";
import { startNatsServer } from "./nats-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test run's shared nats-server (JetStream on, temp store): `connect({ servers: inject("natsUrl") })`. */
    natsUrl: string;
  }
}

/**
 * vitest globalSetup: one nats-server for the whole run, on a free port with a temp store. Tests share
 * it and stay apart by unique subjects, stream and consumer names; a test that needs to crash or
 * restart the broker starts its own with startNatsServer(). Returns the teardown, which waits for the
 * server to exit so that JetStream can close its store.
 */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const nats = await startNatsServer();
  project.provide("natsUrl", nats.url);
  return () => nats.stop();
}
