// The end-user claims the gateway sends into the mesh in the secure mode: signed with its certificate's key,
// verifiable by a service against that certificate, one per caller reused for less than its lifetime, and
// none at all in the learner's mode or for an anonymous caller.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { END_USER_HEADER, type MeshTls, verifyEndUser } from "@ftgo/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEndUserClaims, END_USER_CLAIM_MARGIN_SECONDS, END_USER_CLAIM_TTL_SECONDS } from "../src/end-user.js";

const PKI_SCRIPT = fileURLToPath(new URL("../../../scripts/pki.sh", import.meta.url));
let dir: string;
let tls: MeshTls;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gateway-pki-"));
  execFileSync("bash", [PKI_SCRIPT, "init"], { env: { ...process.env, FTGO_PKI_DIR: dir }, stdio: "ignore" });
  const files = { ca: join(dir, "ca.crt"), cert: join(dir, "gateway.crt"), key: join(dir, "gateway.key") };
  tls = { ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key), files };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const consumer = { role: "consumer", subject: "c-1001" } as const;
const tokenOf = (headers: Readonly<Record<string, string>>) => headers[END_USER_HEADER] ?? "";

describe("createEndUserClaims", () => {
  it("sends no claim in the learner's mode, nor for an anonymous caller", async () => {
    expect(await createEndUserClaims(undefined).headersFor(consumer)).toEqual({});
    expect(await createEndUserClaims(tls).headersFor({ role: "anonymous" })).toEqual({});
  });

  it("signs the caller as a claim a service verifies against the gateway's certificate", async () => {
    const claims = createEndUserClaims(tls);
    const gatewayCert = new X509Certificate(tls.cert).raw;
    const asConsumer = tokenOf(await claims.headersFor(consumer));
    expect(await verifyEndUser(asConsumer, gatewayCert, "gateway")).toEqual(consumer);
    const asAdmin = tokenOf(await claims.headersFor({ role: "admin", subject: "admin" }));
    expect(await verifyEndUser(asAdmin, gatewayCert, "gateway")).toEqual({ role: "admin", subject: "admin" });
  });

  it("reuses a caller's claim for its lifetime less the margin, then signs a fresh one", async () => {
    let now = 1_000_000;
    const claims = createEndUserClaims(tls, { now: () => now });
    const [first, concurrent] = await Promise.all([claims.headersFor(consumer), claims.headersFor(consumer)]);
    expect(tokenOf(concurrent)).toBe(tokenOf(first));
    expect(tokenOf(await claims.headersFor({ role: "consumer", subject: "c-2002" }))).not.toBe(tokenOf(first));
    now += (END_USER_CLAIM_TTL_SECONDS - END_USER_CLAIM_MARGIN_SECONDS) * 1000 - 1;
    expect(tokenOf(await claims.headersFor(consumer))).toBe(tokenOf(first));
    now += 2;
    const fresh = tokenOf(await claims.headersFor(consumer));
    expect(fresh).not.toBe(tokenOf(first));
    expect(await verifyEndUser(fresh, new X509Certificate(tls.cert).raw, "gateway")).toEqual(consumer);
  });
});
