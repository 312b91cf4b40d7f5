import { describe, expect, it } from "vitest";
import { createLogger, REDACTED } from "../src/log.js";

describe("createLogger", () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger(
      { service: "test", logLevel: "info" },
      { write: (line) => void lines.push(JSON.parse(line)) },
    );
    return { log, lines };
  };

  it("redacts credentials at the top of a line, one level down and in a request's headers", () => {
    const { log, lines } = capture();
    log.info(
      {
        authorization: "Bearer top",
        token: "t-1",
        headers: { authorization: "Bearer h", cookie: "ftgo_dashboard=c", "set-cookie": ["s=1"], "user-agent": "curl" },
        req: { headers: { cookie: "ftgo_dashboard=r" } },
        body: { accessToken: "a-1" },
        config: { auth: { privateKeyPem: "-----BEGIN PRIVATE KEY-----" } },
      },
      "credentials",
    );
    expect(lines[0]).toMatchObject({
      authorization: REDACTED,
      token: REDACTED,
      headers: { authorization: REDACTED, cookie: REDACTED, "set-cookie": REDACTED, "user-agent": "curl" },
      req: { headers: { cookie: REDACTED } },
      body: { accessToken: REDACTED },
      config: { auth: { privateKeyPem: REDACTED } },
    });
  });

  it("redacts a child logger's bindings as well", () => {
    const { log, lines } = capture();
    log.child({ token: "t-2", orderId: "o-1" }).info("child");
    expect(lines[0]).toMatchObject({ token: REDACTED, orderId: "o-1" });
  });
});
