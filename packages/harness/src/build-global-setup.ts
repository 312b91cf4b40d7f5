// vitest globalSetup: the services' bundles built once, before any test file runs, so that the tests that start
// service processes (service-instance.ts, `make up`) find them fresh and none of them writes a bundle while
// another one is starting from it.
import { buildServices } from "./service-build.js";

export async function setup(): Promise<void> {
  await buildServices();
}
