// Issue 17 §2: credentials never reach the logs. A real gateway whose logger writes to the test: a request with a
// bearer token and the dashboard's session cookie leaves a request line that says both came, redacted, and no line
// holds either value.
import { generateKeyPairSync } from "node:crypto";
import { loadGatewayConfig, type RunningGateway, startGateway } from "@ftgo/gateway";
import { createLogger, REDACTED } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

describe("the gateway's logs", () => {
  const lines: string[] = [];
  let gateway: RunningGateway;
  let url: string;
  beforeAll(async () => {
    const config = loadGatewayConfig({
      PORT: "0",
      FTGO_HOST: "127.0.0.1",
      NATS_URL: inject("natsUrl"),
      LOG_LEVEL: "debug",
      JWT_PRIVATE_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      DEV_SIGN_IN: "1",
    });
    const log = createLogger(config, { write: (line: string) => void lines.push(line) });
    gateway = await startGateway(config, log);
    url = `http://127.0.0.1:${gateway.port}`;
  });
  afterAll(() => gateway?.stop());

  /** The request line of the request with this id, once the gateway has written it (after the response). */
  async function requestLine(requestId: string): Promise<Record<string, unknown>> {
    return waitFor(() =>
      lines.map((line) => JSON.parse(line)).find((line) => line.msg === "request" && line.requestId === requestId),
    );
  }

  it("redacts the bearer token and the session cookie, and says they were there", async () => {
    const signIn = await fetch(`${url}/api/v1/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "redact-sign-in" },
      body: JSON.stringify({ consumerId: "c-1001" }),
    });
    const { accessToken } = (await signIn.json()) as { accessToken: string };
    const cookie = `ftgo_dashboard=${accessToken}-session; theme=dark-secret-value`;
    const response = await fetch(`${url}/api/v1/orders`, {
      headers: { authorization: `Bearer ${accessToken}`, cookie, "x-request-id": "redact-orders" },
    });
    await response.body?.cancel();

    const line = await requestLine("redact-orders");
    expect(line).toMatchObject({
      route: "/api/v1/orders",
      subject: "c-1001",
      headers: { authorization: REDACTED, cookie: REDACTED },
    });
    await requestLine("redact-sign-in");
    const everything = lines.join("");
    for (const secret of [accessToken, accessToken.split(".")[2] ?? "", "session", "dark-secret-value"]) {
      expect(everything).not.toContain(secret);
    }
  });

  it("redacts a refused token too", async () => {
    const forged = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJjLTEifQ.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw";
    const response = await fetch(`${url}/api/v1/orders`, {
      headers: { authorization: `Bearer ${forged}`, "x-request-id": "redact-refused" },
    });
    expect(response.status).toBe(401);
    expect(await requestLine("redact-refused")).toMatchObject({ status: 401, headers: { authorization: REDACTED } });
    expect(lines.join("")).not.toContain("c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw");
  });
});
