import { join } from "node:path";
import { AccountingService } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import {
  type BaseConfig,
  type Env,
  implement,
  type Logger,
  loadConfig,
  type RunningService,
  serveGrpc,
  startParticipant,
} from "@ftgo/platform";
import { accountingSaga } from "./saga.js";
import { createAccountingService } from "./service.js";
import { openAccountingStore } from "./store.js";

export type AccountingConfig = BaseConfig;

/** Accounting's configuration: only the common settings (PORT default 50054). */
export function loadAccountingConfig(env: Env): AccountingConfig {
  return loadConfig(env, { service: "accounting", port: 50054 });
}

/** Starts Accounting Service: database, saga participation (NATS, outbox relay, consumers), gRPC server. */
export async function startAccounting(config: AccountingConfig, log: Logger): Promise<RunningService> {
  const store = openAccountingStore(join(config.dataDir, "accounting.db"), config);
  const messaging = await startParticipant({
    config,
    log,
    db: store.db,
    outbox: store.outbox,
    subscriptions: accountingSaga({ store, log }),
  });
  const server = await serveGrpc({
    host: config.host,
    port: config.port,
    log,
    services: [implement(AccountingService, createAccountingService({ store }))],
  });
  log.info({ address: server.address }, "accounting serving");
  return {
    address: server.address,
    port: server.port,
    async stop() {
      server.setServing(false);
      await messaging.stopConsuming();
      await server.close();
      await messaging.close();
      store.close();
    },
  };
}
