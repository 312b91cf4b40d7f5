// One service of the tree under judgement, running for the length of a check: real gRPC on a free port, its
// own SQLite file and its own nats-server in the check's scratch folder. The service comes from the tree's
// code (its `@ftgo/<name>` resolves inside that tree), so a check sees the learner's service, not ours.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { type Env, type Logger, type RunningService, silentLogger } from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";

/** What a check gets while its service runs. */
export interface ServiceUnderCheck {
  readonly service: RunningService;
  /** The service's data folder: its `<name>.db` is here. */
  readonly dataDir: string;
  readonly nats: NatsServerHandle;
}

/** How a service of ours starts: its `start<Name>(load<Name>Config(env), log)`. */
export type StartService = (env: Env, log: Logger) => Promise<RunningService>;

/**
 * Starts NATS and the service, runs `use`, and stops both whatever `use` did: a check that fails must not
 * leave a server behind.
 */
export async function withService<T>(
  scratch: string,
  start: StartService,
  use: (running: ServiceUnderCheck) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(scratch, "service-"));
  const nats = await startNatsServer({ storeDir: join(dataDir, "jetstream") });
  try {
    const env = { PORT: "0", DATA_DIR: dataDir, NATS_URL: nats.url, LOG_LEVEL: "silent" };
    const service = await start(env, silentLogger());
    try {
      return await use({ service, dataDir, nats });
    } finally {
      await service.stop();
    }
  } finally {
    await nats.stop();
  }
}
