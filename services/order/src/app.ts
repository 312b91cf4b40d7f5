import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderService as OrderServiceV1 } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderService as OrderServiceV2 } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import {
  type BaseConfig,
  createMeshClient,
  databaseLocation,
  describePolicies,
  type Env,
  type EnvReader,
  implement,
  type Logger,
  loadConfig,
  loadPolicyConfig,
  type MeshClient,
  type PolicyConfig,
  type RunningService,
  startSagaService,
} from "@ftgo/platform";
import { createOrchestrator, type Orchestrator } from "./orchestration/orchestrator.js";
import { createPageTokens, PAGE_TOKEN_KEY_BYTES } from "./page-token.js";
import { orderSaga } from "./saga.js";
import { createOrders, KITCHEN_MENU_FALLBACK, type SagaStarter } from "./service.js";
import { type OrderStore, openOrderStore } from "./store.js";
import { createDeprecationNotes } from "./v1/deprecation.js";
import { createOrderServiceV1 } from "./v1/service.js";
import { createOrderServiceV2 } from "./v2/service.js";

export interface OrderConfig extends BaseConfig {
  /**
   * How Order calls the services it depends on: deadline, bulkhead, circuit breaker, retry (KITCHEN_TIMEOUT_MS,
   * KITCHEN_BULKHEAD_LIMIT, KITCHEN_BREAKER_FAILURES, … — see the README's policy table).
   */
  readonly policies: PolicyConfig<"kitchen">;
  /** Orchestration only: how long a saga step waits for its reply (SAGA_STEP_TIMEOUT_MS, default 10 s). */
  readonly sagaStepTimeoutMs: number;
  /**
   * The key ListOrders' page tokens are sealed with, 32 bytes in base64 (ORDER_PAGE_TOKEN_KEY, e.g. from
   * `openssl rand -base64 32`); unset: one made at start, so a token outlives neither the process nor reaches
   * another instance.
   */
  readonly pageTokenKey: Buffer | undefined;
}

/** Order's configuration (PORT default 50051) and its policies for calling Kitchen. */
export function loadOrderConfig(env: Env): OrderConfig {
  return loadConfig(env, { service: "order", port: 50051 }, (read) => ({
    policies: loadPolicyConfig(read, ["kitchen"]),
    sagaStepTimeoutMs: read.int("SAGA_STEP_TIMEOUT_MS", 10_000, 1),
    pageTokenKey: loadPageTokenKey(read),
  }));
}

function loadPageTokenKey(read: EnvReader): Buffer | undefined {
  const value = read.string("ORDER_PAGE_TOKEN_KEY", "");
  if (value === "") return undefined;
  const key = Buffer.from(value, "base64");
  if (key.length === PAGE_TOKEN_KEY_BYTES && /^[A-Za-z0-9+/]+=*$/.test(value)) return key;
  // The value itself is not quoted: it is a secret.
  read.problem(`ORDER_PAGE_TOKEN_KEY is not ${PAGE_TOKEN_KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
  return undefined;
}

/**
 * Starts Order Service: its database, its part in the sagas, its gRPC API in both versions (v2, and the
 * deprecated v1 beside it, over the same orders), and its client of Kitchen, which finds Kitchen's
 * instances through the service registry and calls them under Order's policies.
 */
export async function startOrder(config: OrderConfig, log: Logger): Promise<RunningService> {
  const store = openOrderStore(databaseLocation(config, "order"), config);
  const orchestrator =
    config.sagaMode === "orchestration"
      ? createOrchestrator({ store, log, stepTimeoutMs: config.sagaStepTimeoutMs })
      : undefined;
  let kitchen: MeshClient<typeof KitchenService> | undefined;
  log.info({ sagaMode: config.sagaMode }, "coordinating sagas");
  return startSagaService({
    config,
    log,
    store,
    subscriptions: orchestrator ? orchestrator.subscriptions : orderSaga({ store, log }),
    services: ({ relay, registry }) => {
      kitchen = createMeshClient(KitchenService, {
        target: "kitchen",
        registry,
        policy: config.policies.kitchen,
        log,
        fallbacks: { GetMenu: KITCHEN_MENU_FALLBACK },
        tls: config.tls, // the secure mode: mTLS as "order", which the access table admits to GetMenu
      });
      log.info({ policies: describePolicies(config.policies) }, "calling other services with these policies");
      orchestrator?.run(relay);
      const orders = createOrders({
        store,
        sagas: sagaStarter(store, orchestrator),
        kitchen,
        relay,
        pageTokens: createPageTokens(config.pageTokenKey),
        log,
      });
      const noteV1Call = createDeprecationNotes({ log, successor: OrderServiceV2.typeName });
      return [
        implement(OrderServiceV2, createOrderServiceV2(orders)),
        implement(OrderServiceV1, createOrderServiceV1(orders, noteV1Call)),
      ];
    },
    targets: () => (kitchen ? [kitchen] : []),
    sagaMoves: orchestrator?.sagas.movesOf,
    onStop: () => {
      orchestrator?.stop();
      kitchen?.close();
    },
  });
}

/** Choreography: the order and its event start the saga. Orchestration: the orchestrator starts it too, in the same transaction. */
function sagaStarter(store: OrderStore, orchestrator: Orchestrator | undefined): SagaStarter {
  if (!orchestrator) return { createOrder: store.createPending, cancelOrder: store.requestCancel };
  return {
    createOrder: store.db.transaction((order: Parameters<SagaStarter["createOrder"]>[0]) => {
      const created = store.createPending(order);
      orchestrator.startCreateOrder(created, order.requestId);
      return created;
    }),
    cancelOrder: store.db.transaction((orderId: string, requestId?: string) => {
      const cancelling = store.requestCancel(orderId, requestId);
      orchestrator.startCancelOrder(cancelling, requestId);
      return cancelling;
    }),
  };
}
