// Reproduction 6 of issue 10, on the mesh as `make up` runs it (every service its own process, a real
// nats-server) with the gateway in front: the registry's bucket deleted under the running mesh comes back
// at the next heartbeat with every instance in it, and meanwhile the gateway answers 503 with the reason;
// a registry that stays broken costs each service two log lines, not one per heartbeat; and a service
// stopped while it cannot deregister still runs the rest of its shutdown and says what failed.
import { generateKeyPairSync } from "node:crypto";
import { loadGatewayConfig, type RunningGateway, startGateway } from "@ftgo/gateway";
import { type ProcessMesh, startProcessMesh } from "@ftgo/harness/process-mesh.js";
import { silentLogger } from "@ftgo/platform";
import { SERVICE_NAMES } from "@ftgo/platform/roster";
import { breakRegistry, deleteRegistryStream } from "@ftgo/platform/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

/** Heartbeats every second (a third of the TTL), so that healing takes a beat, not the default's 3 s. */
const TTL_MS = 3_000;

let mesh: ProcessMesh;
let nc: NatsConnection;
let gateway: RunningGateway | undefined;
let url: string;

beforeAll(async () => {
  mesh = await startProcessMesh({ env: { REGISTRY_TTL_MS: String(TTL_MS), LOG_LEVEL: "info" } });
  nc = await connect({ servers: mesh.nats.url });
  const privateKeyPem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const config = loadGatewayConfig({
    PORT: "0",
    NATS_URL: mesh.nats.url,
    LOG_LEVEL: "silent",
    DEV_SIGN_IN: "1",
    JWT_PRIVATE_KEY: privateKeyPem,
    REGISTRY_TTL_MS: String(TTL_MS),
  });
  gateway = await startGateway(config, silentLogger());
  url = `http://127.0.0.1:${gateway.port}`;
  await untilReady();
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await nc?.close();
  await mesh?.stop();
});

const get = async (path: string, token?: string) => {
  const response = await fetch(`${url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  // biome-ignore lint/suspicious/noExplicitAny: the body is judged by the assertions, as a client would
  return { status: response.status, body: (await response.json()) as any };
};
const adminToken = async () => {
  const response = await fetch(`${url}/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ role: "admin" }),
  });
  return ((await response.json()) as { accessToken: string }).accessToken;
};
const untilReady = () =>
  vi.waitFor(
    async () => {
      const { status, body } = await get("/readyz");
      if (status !== 200) throw new Error(`not ready: ${status} ${JSON.stringify(body)}`);
    },
    { timeout: 30_000, interval: 100 },
  );
const instances = () => Object.values(mesh.instances).flat();
/** The JSON lines a service process logged since `since` (ms since the epoch). */
const loggedSince = (output: string, since: number) =>
  output.split("\n").flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { time?: string; msg?: string };
      return Date.parse(entry.time ?? "") >= since ? [entry] : [];
    } catch {
      return []; // not a log line (the harness's own notes)
    }
  });

describe("the registry heals and never takes a service down with it", () => {
  it("answers 503 with the reason while the bucket is gone, and lists every instance after the next heartbeat", async () => {
    const token = await adminToken();
    // Frozen services cannot heartbeat: the bucket stays gone for exactly as long as the checks take.
    await Promise.all(instances().map((service) => service.kill("SIGSTOP")));
    try {
      await deleteRegistryStream(nc);

      const ready = await get("/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.ready).toBe(false);
      expect(ready.body.error).toEqual({
        code: "UNAVAILABLE",
        message: "the service registry cannot be read: stream not found",
      });
      const admin = await get("/api/v1/admin/services", token);
      expect(admin.status).toBe(503);
      expect(admin.body.error.message).toMatch(/service registry cannot be read/);
    } finally {
      await Promise.all(instances().map((service) => service.kill("SIGCONT")));
    }

    await untilReady();
    const { status, body } = await get("/api/v1/admin/services", token);
    expect(status).toBe(200);
    for (const name of SERVICE_NAMES) {
      const listed = (body[name] as { address: string }[]).map((instance) => instance.address).sort();
      expect(listed, name).toEqual(mesh.instances[name].map((instance) => instance.address).sort());
    }
  });

  it("logs a failing heartbeat once when it starts failing and once when it recovers, not per attempt", async () => {
    const since = Date.now();
    const broken = await breakRegistry(nc);
    try {
      // A failing beat puts twice (once more after trying to recreate the bucket): four beats each.
      await vi.waitFor(
        () => {
          for (const name of SERVICE_NAMES) expect(broken.attempts(name), name).toBeGreaterThanOrEqual(8);
        },
        { timeout: 30_000, interval: 100 },
      );
      const ready = await get("/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.error.message).toMatch(/service registry cannot be read: .*not the registry bucket/);
    } finally {
      await broken.repair();
    }
    await untilReady();

    for (const service of instances()) {
      const lines = loggedSince(service.output(), since);
      const failing = lines.filter((line) => line.msg?.startsWith("registry heartbeat failing"));
      const recovered = lines.filter((line) => line.msg === "registry recovered");
      expect(failing, `${service.label}:\n${service.output()}`).toHaveLength(1);
      expect(recovered, `${service.label}:\n${service.output()}`).toHaveLength(1);
    }
  });

  it("stops a service that cannot deregister: every other step runs, the failure is reported, the exit code is 1", async () => {
    const broken = await breakRegistry(nc);
    try {
      await mesh.kitchen.stop();
    } finally {
      await broken.repair();
    }

    const output = mesh.kitchen.output();
    expect(output).toMatch(/"step":"deregister".*"msg":"shutdown step failed: deregister/);
    expect(output).toMatch(/"msg":"shutdown finished with 1 error"/);
    expect(output).not.toMatch(/"msg":"shutdown failed"/);
    expect(output).toMatch(/exited with code 1/);
  });
});
