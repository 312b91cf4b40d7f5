// `SECURE=1 make up REGISTRY=consul` (docs/security.md; docker compose runs this combination): every service
// registers with the Consul agent up.ts starts, whose gRPC health checks must pass against mTLS servers. The agent
// presents its own certificate of the mesh CA (enable_agent_tls_for_checks) and registrations ask for TLS
// (GRPCUseTLS), so a check that went out in plaintext, or without the certificate, would leave every service
// critical and nothing discoverable. Through the gateway, which finds every service in Consul, an order is approved.
import { orderApprovedThroughGateway } from "@ftgo/harness/gateway-calls.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { PROGRESS_CAP_MS } from "@ftgo/harness/readiness.js";
import { GO_SERVICES, SERVICE_NAMES } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Every process that registers itself: the TypeScript services and the Go ones. */
const REGISTERED = [...SERVICE_NAMES, ...GO_SERVICES.map((service) => service.name)];

let up: MakeUpRun;

beforeAll(async () => {
  up = await launchMakeUp({ consul: true, env: { SECURE: "1" }, readyTimeoutMs: PROGRESS_CAP_MS });
}, PROGRESS_CAP_MS + 30_000);

afterAll(() => up?.dispose());

interface Check {
  readonly Status: string;
  readonly Type: string;
  readonly Output: string;
  readonly ServiceName: string;
  readonly Definition?: { readonly TLSSkipVerify?: boolean };
}

async function checksOf(service: string): Promise<Check[]> {
  const response = await fetch(`http://${up.consulAddr}/v1/health/checks/${service}`);
  return (await response.json()) as Check[];
}

describe("SECURE=1 make up REGISTRY=consul", () => {
  it("registers every service with a gRPC check that passes over TLS", async () => {
    for (const service of REGISTERED) {
      await waitFor(
        async () => {
          const checks = await checksOf(service);
          return checks.length > 0 && checks.every((check) => check.Type === "grpc" && check.Status === "passing");
        },
        { timeoutMs: 30_000, message: `${service}'s gRPC check passing` },
      );
    }
  });

  it("approves a consumer's order through the gateway, which finds every service in Consul", async () => {
    await orderApprovedThroughGateway(`http://127.0.0.1:${up.gatewayPort}`, "c-1001");
    expect(up.output()).not.toMatch(/(Permissions|Publish|Subscription) Violation/i);
  });

  it("on Ctrl-C, stops everything it started, the agent included", async () => {
    const tracked = [...up.processTree(), ...up.natsPids(), ...up.consulPids()];
    expect(await up.interrupt(60_000)).toBe(0);
    await waitFor(() => tracked.every((pid) => !alive(pid)), { timeoutMs: 15_000, message: "every process gone" });
  });
});
