// The harness's nats-server in the secure mode (startNatsServer({ pkiDir })): TLS only, certificates mapped to
// users, across a restart; and a PKI directory without the broker's certificate refused before anything starts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerPkiError } from "../src/messaging/broker-config.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/nats-server.js";

const pkiDir = mkdtempSync(join(tmpdir(), "ftgo-nats-secure-pki-"));
const tls = (identity: string) => ({
  caFile: join(pkiDir, "ca.crt"),
  certFile: join(pkiDir, `${identity}.crt`),
  keyFile: join(pkiDir, `${identity}.key`),
});

describe("startNatsServer({ pkiDir })", () => {
  let nats: NatsServerHandle;
  beforeAll(async () => {
    execFileSync("bash", ["scripts/pki.sh", "init"], {
      cwd: join(import.meta.dirname, "../../.."),
      env: { ...process.env, FTGO_PKI_DIR: pkiDir },
      stdio: "ignore",
    });
    nats = await startNatsServer({ pkiDir });
  });
  afterAll(async () => {
    await nats?.stop();
    rmSync(pkiDir, { recursive: true, force: true });
  });

  it("serves TLS at a tls:// url, to mesh certificates only, also after a restart", async () => {
    expect(nats.url).toMatch(/^tls:\/\/127\.0\.0\.1:\d+$/);
    for (let round = 0; round < 2; round++) {
      const nc = await connect({ servers: nats.url, tls: tls("kitchen"), reconnect: false });
      expect(nc.info?.tls_required).toBe(true);
      await nc.close();
      await expect(connect({ servers: nats.url, reconnect: false, timeout: 2_000 })).rejects.toThrow();
      if (round === 0) await nats.restart();
    }
  });

  it("refuses a PKI directory without the broker's certificate, naming the command that makes it", async () => {
    const empty = mkdtempSync(join(tmpdir(), "ftgo-nats-secure-empty-"));
    try {
      await expect(startNatsServer({ pkiDir: empty })).rejects.toThrow(BrokerPkiError);
      await expect(startNatsServer({ pkiDir: empty })).rejects.toThrow(/scripts\/pki\.sh init/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
