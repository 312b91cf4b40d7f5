// `SECURE=1 make up`, kept by a test (docs/security.md): the real scripts/up.ts with the repository's mesh CA
// (.pki, made by setup), every process started with its own certificate and nats-server with TLS and a user per
// process. Every command of docs/security.md runs verbatim (only the ports differ) and prints what the page says:
// the learner certificate's calls work, a plaintext call, an order for another consumer and a learner's
// AdminService call are refused. Through the gateway a consumer's order is approved (the end-user claim, mTLS and
// the broker's permissions together), with no permissions violation in nats-server's log; and Ctrl-C leaves no
// process behind.
import { runShell, withPorts } from "@ftgo/harness/docs-shell.js";
import { call, orderApprovedThroughGateway, signIn } from "@ftgo/harness/gateway-calls.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { PROGRESS_CAP_MS } from "@ftgo/harness/readiness.js";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, shBlock } from "./doc-blocks.js";

const PAGE = "docs/security.md";
const COMMAND_TIMEOUT_MS = 20_000;

let up: MakeUpRun;

beforeAll(async () => {
  up = await launchMakeUp({ env: { SECURE: "1" }, readyTimeoutMs: PROGRESS_CAP_MS });
}, PROGRESS_CAP_MS + 30_000);

afterAll(() => up?.dispose());

/** Runs one documented line against this test's mesh. */
function run(line: string) {
  return runShell(withPorts(line, up.ports), { timeoutMs: COMMAND_TIMEOUT_MS });
}

describe("SECURE=1 make up", () => {
  it("is the page's command, and says in its ready table that it is the secure mode", () => {
    const commands = commandsOf(shBlock(PAGE, "SECURE=1 make up")).map((command) => command.line);
    expect(commands).toEqual(["SECURE=1 make up"]); // launched above as `npm start` with SECURE=1, as make up is
    expect(up.output()).toMatch(/security\s+secure \(SECURE=1\): mTLS on every gRPC call/);
    expect(up.output()).not.toContain("-plaintext"); // its Try: lines carry the learner certificate instead
  });

  it("serves the page's grpcurl calls made with the learner certificate", async () => {
    const [menu, order] = commandsOf(shBlock(PAGE, `c-1001.key -d '{"restaurantId": "r-1"}'`));
    expect(menu?.line).toContain("-cert .pki/c-1001.crt");
    const menuResult = await run(menu?.line ?? "");
    expect(menuResult.code, menuResult.stderr).toBe(0);
    expect(menuResult.stdout).toContain('"name": "Pho Hanoi"');
    const orderResult = await run(order?.line ?? "");
    expect(orderResult.code, orderResult.stderr).toBe(0);
    expect(orderResult.stdout).toContain("ORDER_STATE_APPROVAL_PENDING");
  });

  it("refuses a plaintext call, an order for another consumer and a learner's AdminService call", async () => {
    const [plaintext, otherConsumer, admin] = commandsOf(shBlock(PAGE, "grpcurl -plaintext"));
    const refused = await run(plaintext?.line ?? "");
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain("Pho Hanoi");
    const forOther = await run(otherConsumer?.line ?? "");
    expect(forOther.code).not.toBe(0);
    expect(forOther.stderr).toContain("PermissionDenied");
    expect(forOther.stderr).toContain("c-1002");
    const fault = await run(admin?.line ?? "");
    expect(fault.code).not.toBe(0);
    expect(fault.stderr).toContain("PermissionDenied");
    expect(fault.stderr).toContain("AdminService");
  });

  it("lets the admin certificate reach AdminService", async () => {
    const line = `grpcurl -cacert .pki/ca.crt -cert .pki/admin.crt -key .pki/admin.key 127.0.0.1:50053 ftgo.admin.v1.AdminService/ListFaults`;
    const result = await run(line);
    expect(result.code, result.stderr).toBe(0);
  });

  it("approves a consumer's order placed through the gateway, with no permissions violation at the broker", async () => {
    const gateway = `http://127.0.0.1:${up.gatewayPort}`;
    const { orderId } = await orderApprovedThroughGateway(gateway, "c-1001");
    // Another consumer's token does not see it (the gateway's check, and Order's behind it).
    const other = await signIn(gateway, { consumerId: "c-1002" });
    expect((await call(`${gateway}/api/v1/orders/${orderId}`, other)).status).toBe(404);
    expect(up.output()).not.toMatch(/(Permissions|Publish|Subscription) Violation/i);
  });

  it("on Ctrl-C, stops everything it started", async () => {
    const tracked = [...up.processTree(), ...up.natsPids()];
    expect(await up.interrupt(60_000)).toBe(0);
    await waitFor(() => tracked.every((pid) => !alive(pid)), { timeoutMs: 15_000, message: "every process gone" });
  });
});
