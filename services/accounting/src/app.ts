import { AccountingService } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import {
  type BaseConfig,
  databaseLocation,
  type Env,
  implement,
  type Logger,
  loadConfig,
  type RunningService,
  startSagaService,
} from "@ftgo/platform";
import { accountingSaga } from "./saga.js";
import { createAccountingService } from "./service.js";
import { openAccountingStore } from "./store.js";

export type AccountingConfig = BaseConfig;

/** Accounting's configuration: only the common settings (PORT default 50054). */
export function loadAccountingConfig(env: Env): AccountingConfig {
  return loadConfig(env, { service: "accounting", port: 50054 });
}

/** Starts Accounting Service: its database, its part in the sagas, its gRPC API. Used by main.ts and by tests. */
export async function startAccounting(config: AccountingConfig, log: Logger): Promise<RunningService> {
  const store = openAccountingStore(databaseLocation(config, "accounting"), config);
  return startSagaService({
    config,
    log,
    store,
    subscriptions: accountingSaga({ store, log, mode: config.sagaMode }),
    services: () => [implement(AccountingService, createAccountingService({ store }))],
  });
}
