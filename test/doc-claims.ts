// Which test runs which command block of the docs. A page's commands are a promise to a reader ("run this,
// you will see that"); each ```sh block must be claimed here by the test that keeps the promise, and
// test/docs-guard.test.ts fails on a block nobody claims and on a claim whose block is gone. The runners
// look their blocks up here too (test/make-up.test.ts runs every block it is named for, in this order), so
// a block cannot be claimed by a test that never reads it.

/** One claim: the block of `page` that contains `marker` ("*": every block of the page) is run by `runners`. */
export interface DocClaim {
  readonly page: string;
  readonly marker: string;
  /** Test files (or `.ci/run`, for the `make` targets CI runs), relative to the repository root. */
  readonly runners: readonly string[];
}

const MAKE_UP = "test/make-up.test.ts";
const MAKE_UP_SERVER_SIDE = "test/make-up-server-side.test.ts";

/** In the order test/make-up.test.ts runs them: the fault injection last, as it breaks Kitchen for a while. */
export const DOC_CLAIMS: readonly DocClaim[] = [
  { page: "README.md", marker: "make test", runners: [MAKE_UP, ".ci/run"] },
  { page: "README.md", marker: "127.0.0.1:50053 ftgo.kitchen.v1.KitchenService/GetMenu", runners: [MAKE_UP] },
  { page: "README.md", marker: "go/bin/ftgo order", runners: ["test/ftgo-cli.test.ts"] },
  { page: "docs/contracts.md", marker: "make generate", runners: [".ci/run"] },
  { page: "docs/contracts.md", marker: "describe ftgo.order.v1.OrderService", runners: [MAKE_UP] },
  { page: "docs/contracts.md", marker: '"quantity": 0', runners: [MAKE_UP] },
  { page: "docs/contracts.md", marker: "contracts:release -- 1.1.0", runners: ["test/contracts-release.test.ts"] },
  { page: "docs/contracts.md", marker: "contracts:breaking", runners: ["test/breaking-gate.test.ts"] },
  { page: "docs/sagas-and-messaging.md", marker: "AccountingService/GetAuthorization", runners: [MAKE_UP] },
  { page: "docs/sagas-and-messaging.md", marker: "KitchenService/AcceptTicket", runners: [MAKE_UP] },
  { page: "docs/operations.md", marker: "KitchenService/WatchTickets", runners: [MAKE_UP] },
  { page: "docs/operations.md", marker: "npm run -s trace", runners: [MAKE_UP] },
  { page: "docs/operations.md", marker: "dead-letters -- list", runners: [MAKE_UP] },
  { page: "docs/operations.md", marker: "docker compose config --services", runners: ["test/compose.test.ts"] },
  { page: "docs/operations.md", marker: "npm run soak", runners: ["test/soak.test.ts"] },
  { page: "docs/operations.md", marker: "make up-cluster", runners: ["test/make-up-cluster.test.ts"] },
  { page: "docs/gateway.md", marker: "/api/v1/auth/token", runners: [MAKE_UP, "test/make-up-tracing.test.ts"] },
  { page: "docs/gateway.md", marker: "Idempotency-Key", runners: ["test/gateway-versions.test.ts"] },
  { page: "docs/gateway.md", marker: `'{"restaurantId":"r-1"}'`, runners: [MAKE_UP] },
  {
    page: "docs/gateway.md",
    marker: "rpc/ftgo.order.v1.OrderService/CreateOrder",
    runners: ["test/gateway-connect.test.ts"],
  },
  { page: "docs/discovery-and-resilience.md", marker: "AdminService/SetFault", runners: [MAKE_UP] },
  {
    page: "docs/discovery-and-resilience.md",
    marker: "make up REGISTRY=consul",
    runners: ["test/make-up-consul.test.ts"],
  },
  { page: "docs/discovery-and-resilience.md", marker: "make up DISCOVERY=server", runners: [MAKE_UP_SERVER_SIDE] },
  {
    page: "docs/discovery-and-resilience.md",
    marker: "127.0.0.1:8090 ftgo.kitchen.v1.KitchenService/GetMenu",
    runners: [MAKE_UP_SERVER_SIDE],
  },
  { page: "docs/interaction-styles.md", marker: "*", runners: ["test/interaction-styles.test.ts"] },
  { page: "docs/observability.md", marker: "npm run -s trace", runners: ["test/make-up-tracing.test.ts"] },
  { page: "docs/observability.md", marker: "9551/metrics | grep", runners: ["test/make-up-metrics.test.ts"] },
  { page: "docs/observability.md", marker: "npm run screenshots", runners: ["test/screenshots.test.ts"] },
  { page: "docs/dashboard.md", marker: "/api/v1/auth/token", runners: ["test/dashboard.test.ts"] },
  { page: "docs/security.md", marker: "SECURE=1 make up", runners: ["test/make-up-secure.test.ts"] },
  {
    page: "docs/security.md",
    marker: `c-1001.key -d '{"restaurantId": "r-1"}'`,
    runners: ["test/make-up-secure.test.ts"],
  },
  { page: "docs/security.md", marker: "grpcurl -plaintext", runners: ["test/make-up-secure.test.ts"] },
  { page: "docs/benchmarks.md", marker: "make bench", runners: ["test/docs-benchmarks.test.ts"] },
  { page: "docs/evolving-order.md", marker: "*", runners: ["test/evolving-order.test.ts"] },
  { page: "docs/go-client.md", marker: "*", runners: ["test/ftgo-cli.test.ts"] },
  { page: "docs/break-it-and-watch.md", marker: "*", runners: ["test/break-and-watch.test.ts"] },
  { page: "docs/polyglot-loyalty.md", marker: "LoyaltyService/GetAccount", runners: ["test/loyalty.test.ts"] },
  {
    page: "docs/messaging-contract.md",
    marker: "npm run asyncapi -- --check",
    runners: ["test/asyncapi.test.ts", ".ci/run"],
  },
];

/** The claims `runner` must keep, in registry order. */
export function claimsOf(runner: string): DocClaim[] {
  return DOC_CLAIMS.filter((claim) => claim.runners.includes(runner));
}
