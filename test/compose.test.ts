// docker-compose.yml, read by a real compose CLI (Docker's `docker compose`, or Debian's docker-compose 1.29.2,
// which needs no Docker engine): the file is valid, it runs every process of the roster at the roster's port,
// all of them on Consul 1.16.3 (the last MPL-2.0 release) and NATS, and the CLI refuses a broken file, so that
// "valid" means something. No compose CLI is a failure naming the set-up that installs one, not a skip.
// The file runs the secure mode (docs/security.md): the one-shot `pki` service is run here, for real, on this
// machine's bash, openssl and node (its /ca and /pki moved to a temporary folder), and every /pki file the others
// are told to read must then exist; the broker configuration it writes must satisfy nats-server (`-t`).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { COURIERS, GATEWAY, GO_SERVICES, SERVICES } from "@ftgo/platform";
import { findNatsServer } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { commandsOf, ROOT, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

const run = promisify(execFile);
const COMPOSE_FILE = join(ROOT, "docker-compose.yml");
/** The override that runs NATS as three nodes: `docker compose -f docker-compose.yml -f docker-compose.cluster.yml`. */
const CLUSTER_FILE = join(ROOT, "docker-compose.cluster.yml");
/** The cluster's nodes, by compose service (host) name, and the configuration file each runs. */
const CLUSTER_NODES = { nats: "nats-1.json", "nats-2": "nats-2.json", "nats-3": "nats-3.json" } as const;
const CLUSTER_NATS_URL = "tls://nats:4222,tls://nats-2:4222,tls://nats-3:4222";
/** The override's PostgreSQL server, as its services reach it (POSTGRES_PASSWORD unset: the default). */
const CLUSTER_DATABASE_URL = "postgres://ftgo:ftgo-local@postgres:5432/ftgo";
const CONSUL_IMAGE = "hashicorp/consul:1.16.3";
const SETUP_HINT =
  "no docker compose CLI on this machine: run `bash scripts/setup.sh --with-test-tools` (`make test` does; it " +
  "installs Debian's docker-compose) or install Docker's compose plugin";

/** Every process of `make up` that listens: the saga's services, the Go services, the gateway. */
const LISTENERS = [...SERVICES, ...GO_SERVICES, GATEWAY];
const GRPC_SERVICES = [...SERVICES, ...GO_SERVICES];
/** Every process of the mesh: the listeners and the couriers (the compose services but pki, NATS and Consul). */
const MESH = [...LISTENERS.map((entry) => entry.name), ...COURIERS.map((courier) => courier.id)];
/** The compose services that are not a process of the mesh: the one-shot certificate maker and the infrastructure. */
const INFRASTRUCTURE = ["pki", "nats", "consul"];
/** What a service that reads the certificates waits for: the one-shot pki service, finished without an error. */
const PKI_DONE = "service_completed_successfully";
/** The identities scripts/pki.sh init issues a certificate for (its `role:name` list), by name. */
const PKI_IDENTITIES = (() => {
  const script = readFileSync(join(ROOT, "scripts", "pki.sh"), "utf8");
  const list = /^identities=\(([^)]*)\)/m.exec(script)?.[1] ?? "";
  return new Set([...list.matchAll(/\b[a-z]+:([A-Za-z0-9_-]+)/g)].map((match) => match[1]));
})();

/** A compose service as `config` prints it (normalised: long port syntax, lists as lists). */
interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context: string; readonly target?: string };
  readonly environment?: Record<string, string | number | null>;
  readonly ports?: readonly (string | { published?: string | number; target?: string | number })[];
  readonly depends_on?: Record<string, { condition?: string }> | readonly string[];
  readonly healthcheck?: { readonly test?: readonly string[] | string };
  readonly command?: readonly string[] | string;
  readonly volumes?: readonly (string | { source?: string; target?: string; read_only?: boolean })[];
  readonly restart?: string;
}

/** Each CLI run may wait for a busy machine: far above the second or two one takes. */
const CLI_TEST = { timeout: 120_000 };

/** The compose CLI, as the command and the arguments before a subcommand: Docker's plugin first. */
async function findComposeCli(): Promise<readonly string[]> {
  for (const cli of [["docker", "compose"], ["docker-compose"]]) {
    const [command = "", ...args] = cli;
    const answers = await run(command, [...args, "version"], { timeout: 30_000 }).then(
      () => true,
      () => false,
    );
    if (answers) return cli;
  }
  throw new Error(SETUP_HINT);
}

/** Runs the compose CLI in `cwd` with a neutral environment (no SAGA_MODE of the caller leaks into the file). */
async function compose(cli: readonly string[], cwd: string, ...args: string[]) {
  const [command = "", ...before] = cli;
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir() };
  try {
    const { stdout, stderr } = await run(command, [...before, ...args], { cwd, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The ports a service publishes, as `published → target` numbers, whichever syntax the CLI printed. */
function portsOf(service: ComposeService): { published: number; target: number }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === "string") {
      const [published, target] = port.split("/")[0]?.split(":").slice(-2) ?? [];
      return { published: Number(published), target: Number(target ?? published) };
    }
    return { published: Number(port.published), target: Number(port.target) };
  });
}

/** The volumes a service mounts, as `source → { target, readOnly }`, whichever syntax the CLI printed. */
function mountsOf(service: ComposeService): Record<string, { target: string; readOnly: boolean }> {
  return Object.fromEntries(
    (service.volumes ?? []).map((volume) => {
      if (typeof volume === "string") {
        const [source = "", target = "", mode = ""] = volume.split(":");
        return [source, { target, readOnly: mode.split(",").includes("ro") }];
      }
      return [volume.source ?? "", { target: volume.target ?? "", readOnly: volume.read_only === true }];
    }),
  );
}

/** A service's command as one line (a list's words joined by spaces). */
function commandOf(service: ComposeService | undefined): string {
  return [service?.command ?? []].flat().join(" ");
}

function dependencies(service: ComposeService): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, "service_started"]));
  return Object.fromEntries(
    Object.entries(deps as Record<string, { condition?: string }>).map(([name, dep]) => [
      name,
      dep.condition ?? "service_started",
    ]),
  );
}

/** The compose CLI (looked for once); each test awaits it, so that without one every test fails saying why. */
let found: Promise<readonly string[]> | undefined;
function composeCli(): Promise<readonly string[]> {
  found ??= findComposeCli();
  return found;
}

/** The services of docker-compose.yml as the CLI normalises them (`config`), read once. */
let normalised: Promise<Record<string, ComposeService>> | undefined;
function composeServices(): Promise<Record<string, ComposeService>> {
  normalised ??= composeCli().then(async (cli) => {
    const config = await compose(cli, ROOT, "-f", COMPOSE_FILE, "config");
    if (config.code !== 0) throw new Error(`${cli.join(" ")} config refuses docker-compose.yml:\n${config.stderr}`);
    return parse(config.stdout).services;
  });
  return normalised;
}

/** The services of docker-compose.yml with docker-compose.cluster.yml over it, as the CLI merges them, read once. */
let merged: Promise<Record<string, ComposeService>> | undefined;
function clusterServices(): Promise<Record<string, ComposeService>> {
  merged ??= composeCli().then(async (cli) => {
    const config = await compose(cli, ROOT, "-f", COMPOSE_FILE, "-f", CLUSTER_FILE, "config");
    if (config.code !== 0) throw new Error(`${cli.join(" ")} config refuses the cluster override:\n${config.stderr}`);
    return parse(config.stdout).services;
  });
  return merged;
}

/** The pki service's script (its command's last word), with its /ca and /pki moved under `dir`. */
function movedScript(service: ComposeService | undefined, dir: string): string {
  const script = [service?.command ?? []].flat().at(-1) ?? "";
  // The container's /ca and /pki, moved: every path that starts with either (after a space, a quote or an `=`).
  const moved = script.replace(/(?<=[\s='"])\/(ca|pki)(?=[/\s'"]|$)/g, (_, volume) => join(dir, volume));
  expect(moved, "the script names both volumes").not.toMatch(/(?<=[\s='"])\/(ca|pki)(?=[/\s'"]|$)/);
  return moved;
}

describe("docker-compose.yml, as the compose CLI reads it", CLI_TEST, () => {
  it("runs every process of the roster, beside NATS and Consul", async () => {
    const services = await composeServices();
    expect(Object.keys(services).sort()).toEqual([...MESH, ...INFRASTRUCTURE].sort());
  });

  it.each(LISTENERS.map((entry) => [entry.name, entry.port] as const))(
    "publishes %s at the roster's port %i, the port it listens on",
    async (name, port) => {
      const service = (await composeServices())[name] as ComposeService;
      expect(portsOf(service)).toContainEqual({ published: port, target: port });
      expect(String(service.environment?.PORT)).toBe(String(port));
    },
  );

  it("gives each courier the roster's terms", async () => {
    const services = await composeServices();
    for (const courier of COURIERS) {
      const env = services[courier.id]?.environment ?? {};
      expect({ id: env.COURIER_ID, minutes: Number(env.COURIER_MINUTES), price: Number(env.COURIER_PRICE) }).toEqual(
        courier,
      );
    }
  });

  it("pins Consul to 1.16.3, the last release under the MPL-2.0", async () => {
    expect((await composeServices()).consul?.image).toBe(CONSUL_IMAGE);
  });

  it.each(MESH)("points %s at NATS over TLS and registers it in Consul (REGISTRY=consul)", async (name) => {
    const env = (await composeServices())[name]?.environment ?? {};
    expect(env).toMatchObject({ REGISTRY: "consul", NATS_URL: "tls://nats:4222", CONSUL_HTTP_ADDR: "consul:8500" });
  });

  it.each(MESH)("runs %s as itself: its own certificate, from the pki volume, once pki has made it", async (name) => {
    const service = (await composeServices())[name] as ComposeService;
    // Named after the process, as `SECURE=1 make up` does (scripts/lib/secure-mode.ts): the identity the access
    // table and the broker's users know it by. pki.sh must issue that identity, or the file would never exist.
    expect(PKI_IDENTITIES.has(name), `scripts/pki.sh init issues ${name}`).toBe(true);
    expect(service.environment).toMatchObject({
      FTGO_TLS_CA: "/pki/ca.crt",
      FTGO_TLS_CERT: `/pki/${name}.crt`,
      FTGO_TLS_KEY: `/pki/${name}.key`,
    });
    expect(mountsOf(service).pki).toEqual({ target: "/pki", readOnly: true });
    expect(dependencies(service)).toMatchObject({ pki: PKI_DONE, nats: "service_healthy" });
  });

  it.each(GRPC_SERVICES.map((entry) => [entry.name, entry.port] as const))(
    "registers %s under its own host name, and checks its grpc.health.v1 at port %i over mTLS",
    async (name, port) => {
      const service = (await composeServices())[name] as ComposeService;
      // Consul's agent runs its gRPC check against the registered address: another container's loopback would fail.
      expect(service.environment?.FTGO_ADVERTISE_HOST).toBe(name);
      const probe = [service.healthcheck?.test].flat().join(" ");
      expect(probe).toContain(`grpc-health-probe -addr=127.0.0.1:${port} -tls `);
      // The server asks for a client certificate: the admin's; and its own certificate is valid for its name.
      for (const flag of [
        "-tls-ca-cert=/pki/ca.crt",
        "-tls-client-cert=/pki/admin.crt",
        "-tls-client-key=/pki/admin.key",
        `-tls-server-name=${name}`,
      ]) {
        expect(probe.split(" ")).toContain(flag);
      }
      expect(dependencies(service)).toMatchObject({
        pki: PKI_DONE,
        nats: "service_healthy",
        consul: "service_healthy",
      });
    },
  );

  it("runs nats-server with the secure configuration the pki service writes, and Consul with TLS checks", async () => {
    const services = await composeServices();
    const { nats, consul, pki } = services;
    expect(commandOf(pki)).toMatch(
      /node --import tsx scripts\/broker-config\.ts --pki-dir \/pki --out \/pki\/nats\.json/,
    );
    expect(commandOf(nats)).toMatch(/^-c \/pki\/nats\.json /);
    // The registry's own certificate, presented by the gRPC checks the services register with GRPCUseTLS, as
    // packages/harness/src/consul-agent.ts configures the agent of `SECURE=1 make up REGISTRY=consul`.
    const hcl = [consul?.command ?? []].flat();
    const fragment = hcl[hcl.indexOf("-hcl") + 1] ?? "";
    expect(hcl).toContain("-hcl");
    expect(fragment).toMatch(/^enable_agent_tls_for_checks = true$/m);
    expect(fragment).toMatch(/^\s*ca_file = "\/pki\/ca\.crt"$/m);
    expect(fragment).toMatch(/^\s*cert_file = "\/pki\/consul\.crt"$/m);
    expect(fragment).toMatch(/^\s*key_file = "\/pki\/consul\.key"$/m);
    // The image's entrypoint would otherwise run the agent as its `consul` user, who cannot read root's 0600 key.
    expect(consul?.environment).toHaveProperty("CONSUL_DISABLE_PERM_MGMT");
    for (const name of ["nats", "consul"]) {
      expect(mountsOf(services[name] as ComposeService).pki, name).toEqual({ target: "/pki", readOnly: true });
      expect(dependencies(services[name] as ComposeService), name).toEqual({ pki: PKI_DONE });
    }
  });

  it("makes the certificates first, in a one-shot service that alone writes them and alone holds the CA's key", async () => {
    const services = await composeServices();
    const pki = services.pki as ComposeService;
    expect(commandOf(pki)).toMatch(/FTGO_PKI_DIR=\/ca bash scripts\/pki\.sh init/);
    expect(pki.restart ?? "no").toBe("no");
    expect(pki.depends_on ?? {}).toEqual({});
    expect(mountsOf(pki)).toEqual({
      "pki-ca": { target: "/ca", readOnly: false },
      pki: { target: "/pki", readOnly: false },
    });
    for (const [name, service] of Object.entries(services)) {
      if (name === "pki") continue;
      expect(mountsOf(service)["pki-ca"], `${name} mounts the CA's volume`).toBeUndefined();
      expect(mountsOf(service).pki?.readOnly, `${name} mounts the pki volume read-only`).toBe(true);
      expect(dependencies(service).pki, `${name} waits for pki`).toBe(PKI_DONE);
    }
  });

  it("the pki service's script, run here, writes every /pki file the file names, and a broker configuration nats-server takes", async () => {
    const services = await composeServices();
    const dir = mkdtempSync(join(tmpdir(), "ftgo-compose-pki-"));
    try {
      const [ca, pkiDir] = [join(dir, "ca"), join(dir, "pki")];
      mkdirSync(ca);
      mkdirSync(pkiDir);
      const moved = movedScript(services.pki, dir);
      const result = await compose(["bash"], ROOT, "-c", moved);
      expect(result.code, result.stderr).toBe(0);
      // Every file the other services are told to read under /pki (environment, health checks, commands).
      const { pki: _pki, ...readers } = services;
      const named = new Set([...JSON.stringify(readers).matchAll(/\/pki\/([\w.-]+)/g)].map((match) => match[1] ?? ""));
      expect(named.size).toBeGreaterThan(MESH.length * 2);
      for (const file of named) expect(existsSync(join(pkiDir, file)), `/pki/${file}`).toBe(true);
      expect(existsSync(join(pkiDir, "ca.key")), "the CA's key stays out of the pki volume").toBe(false);
      expect(existsSync(join(ca, "ca.key"))).toBe(true);
      const check = await compose([await findNatsServer()], ROOT, "-c", join(pkiDir, "nats.json"), "-t");
      expect(check.code, check.stderr).toBe(0);
      const config = JSON.parse(readFileSync(join(pkiDir, "nats.json"), "utf8"));
      expect(config.tls).toMatchObject({ ca_file: join(pkiDir, "ca.crt"), verify_and_map: true });
      const users = config.authorization.users.map((user: { user: string }) => user.user);
      for (const name of [...MESH, "admin"]) expect(users).toContain(`${name}@ftgo.mesh`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("builds Loyalty from the Go module, without cgo, in the Dockerfile's loyalty target", async () => {
    expect((await composeServices()).loyalty?.build?.target).toBe("loyalty");
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM \S+ AS loyalty$/m);
    expect(dockerfile).toMatch(/CGO_ENABLED=0/);
    expect(dockerfile).toMatch(/go build .*\.\/cmd\/loyalty/);
  });

  it("gives the images what the secure mode needs, and no developer's .pki", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    const stages = dockerfile.split(/^(?=FROM )/m);
    const loyalty = stages.find((stage) => /^FROM \S+ AS loyalty$/m.test(stage)) ?? "";
    // The distroless image holds no repository to find proto/access.json in by walking up: it is told where.
    const copied = /^COPY proto\/access\.json (\S+)$/m.exec(loyalty)?.[1];
    expect(copied, "the loyalty stage copies proto/access.json").toBeDefined();
    expect(loyalty).toMatch(new RegExp(`^ENV .*\\bFTGO_ACCESS_FILE=${copied}(\\s|$)`, "m"));
    // The default image is the pki service's: scripts/pki.sh runs the openssl CLI.
    expect(stages.at(-1)).toMatch(/^RUN apt-get update && apt-get install -y [^\n]*\bopenssl\b/m);
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((line) => line.trim());
    expect(ignored, "COPY . . would put a developer's CA key in the image").toContain(".pki");
  });

  it("starts the gateway once the saga's services are healthy, as make up does", async () => {
    const deps = dependencies((await composeServices()).gateway as ComposeService);
    for (const { name } of SERVICES) expect(deps[name], name).toBe("service_healthy");
  });
});

describe("docker-compose.cluster.yml over docker-compose.yml, as the compose CLI merges them", CLI_TEST, () => {
  it("is an override the CLI accepts (config --quiet)", async () => {
    const result = await compose(await composeCli(), ROOT, "-f", COMPOSE_FILE, "-f", CLUSTER_FILE, "config", "--quiet");
    expect(result.code, result.stderr).toBe(0);
  });

  it("runs three NATS nodes beside the mesh, each on its own store, with ports published by the first only", async () => {
    const services = await clusterServices();
    expect(Object.keys(services).sort()).toEqual([...MESH, ...INFRASTRUCTURE, "nats-2", "nats-3", "postgres"].sort());
    const stores = new Set<string>();
    for (const [name, file] of Object.entries(CLUSTER_NODES)) {
      const node = services[name] as ComposeService;
      expect(node.image, name).toBe(services.nats?.image);
      expect(commandOf(node), name).toMatch(new RegExp(`^-c /pki/${file.replace(".", "\\.")} -m 8222$`));
      expect(mountsOf(node).pki, name).toEqual({ target: "/pki", readOnly: true });
      expect(dependencies(node), name).toEqual({ pki: PKI_DONE });
      expect([node.healthcheck?.test].flat().join(" "), name).toContain("/healthz");
      const store = Object.entries(mountsOf(node)).find(([, mount]) => mount.target === "/data")?.[0];
      expect(store, `${name} keeps its store in a volume at /data`).toBeDefined();
      stores.add(store ?? "");
    }
    expect(stores.size, "one store volume per node").toBe(3);
    expect(portsOf(services.nats as ComposeService)).toEqual([
      { published: 4222, target: 4222 },
      { published: 8222, target: 8222 },
    ]);
    expect(portsOf(services["nats-2"] as ComposeService)).toEqual([]);
    expect(portsOf(services["nats-3"] as ComposeService)).toEqual([]);
  });

  it.each(MESH)(
    "points %s at all three nodes, keeps three copies of each stream, and waits for the nodes",
    async (name) => {
      const service = (await clusterServices())[name] as ComposeService;
      expect(service.environment).toMatchObject({
        NATS_URL: CLUSTER_NATS_URL,
        FTGO_STREAM_REPLICAS: "3",
        REGISTRY: "consul",
        FTGO_TLS_CERT: `/pki/${name}.crt`,
      });
      for (const node of Object.keys(CLUSTER_NODES)) expect(dependencies(service)[node], node).toBe("service_healthy");
      // The services that keep data keep it in PostgreSQL (a schema each), once it accepts connections.
      const keepsData = [...SERVICES, ...GO_SERVICES].some((entry) => entry.name === name && entry.database);
      expect(service.environment?.DATABASE_URL, name).toBe(keepsData ? CLUSTER_DATABASE_URL : undefined);
      expect(dependencies(service).postgres, name).toBe(keepsData ? "service_healthy" : undefined);
    },
  );

  it("runs PostgreSQL with its data in a volume, no published port, and a health check the services wait for", async () => {
    const postgres = (await clusterServices()).postgres as ComposeService;
    expect(postgres.image).toMatch(/^postgres:15/);
    expect(postgres.environment).toMatchObject({ POSTGRES_USER: "ftgo", POSTGRES_DB: "ftgo" });
    expect(Object.values(mountsOf(postgres)).map((mount) => mount.target)).toEqual(["/var/lib/postgresql/data"]);
    expect(portsOf(postgres)).toEqual([]);
    expect([postgres.healthcheck?.test].flat().join(" ")).toContain("pg_isready");
  });

  it("runs docker-compose.yml's pki script, then writes each node's configuration: routes over TLS, the broker's certificate only", async () => {
    const [single, services] = await Promise.all([composeServices(), clusterServices()]);
    const script = (service: ComposeService | undefined) => [service?.command ?? []].flat().at(-1) ?? "";
    // Not two scripts that could drift: the override's is the file's, and then the cluster's configurations.
    expect(script(services.pki).startsWith(script(single.pki).trimEnd())).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "ftgo-compose-cluster-pki-"));
    try {
      const [ca, pkiDir] = [join(dir, "ca"), join(dir, "pki")];
      mkdirSync(ca);
      mkdirSync(pkiDir);
      const result = await compose(["bash"], ROOT, "-c", movedScript(services.pki, dir));
      expect(result.code, result.stderr).toBe(0);
      const nodeNames = Object.keys(CLUSTER_NODES);
      // Every route dials a node by its compose host name: the broker's certificate must be valid for each.
      const sans = await run("openssl", ["x509", "-in", join(pkiDir, "nats.crt"), "-noout", "-ext", "subjectAltName"]);
      for (const host of nodeNames)
        expect(sans.stdout, `nats.crt names ${host}`).toMatch(new RegExp(`DNS:${host}(,|$)`, "m"));
      const names = new Set<string>();
      for (const [host, file] of Object.entries(CLUSTER_NODES)) {
        const path = join(pkiDir, file);
        const check = await compose([await findNatsServer()], ROOT, "-c", path, "-t");
        expect(check.code, `${file}: ${check.stderr}`).toBe(0);
        const config = JSON.parse(readFileSync(path, "utf8"));
        names.add(config.server_name);
        expect(config).toMatchObject({ ping_interval: "2s", ping_max: 2, jetstream: { store_dir: "/data" } });
        expect(config.tls).toMatchObject({ verify_and_map: true, cert_file: join(pkiDir, "nats.crt") });
        expect(config.cluster).toMatchObject({
          name: "ftgo",
          listen: "0.0.0.0:6222",
          advertise: `${host}:6222`,
          tls: { verify_and_map: true, ca_file: join(pkiDir, "ca.crt"), cert_file: join(pkiDir, "nats.crt") },
          authorization: { user: "nats@ftgo.mesh" },
        });
        const others = nodeNames.filter((other) => other !== host).map((other) => `nats-route://${other}:6222`);
        expect(config.cluster.routes, file).toEqual(others);
      }
      expect(names.size, "a server_name per node").toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the compose CLI", CLI_TEST, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ftgo-compose-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** docker-compose.yml with one change, in a folder of its own: what the CLI says of it. */
  async function configOf(name: string, change: (text: string) => string) {
    const text = readFileSync(COMPOSE_FILE, "utf8");
    const broken = change(text);
    expect(broken, "the change applies").not.toBe(text);
    const file = join(dir, `${name}.yml`);
    writeFileSync(file, broken);
    return compose(await composeCli(), dir, "-f", file, "config", "--quiet");
  }

  it("refuses a misspelt setting", async () => {
    const result = await configOf("misspelt", (text) =>
      text.replace("  restart: unless-stopped", "  restrat: unless-stopped"),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("restrat");
  });

  it("refuses a dependency on a service the file does not have", async () => {
    const result = await configOf("undefined-dependency", (text) =>
      text.replace("order: { condition: service_healthy }", "ordr: { condition: service_healthy }"),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("ordr");
  });

  it("refuses a port that is not one", async () => {
    const result = await configOf("bad-port", (text) =>
      text.replace('ports: ["8080:8080"]', "ports: [{ target: eighty }]"),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/ports|target/);
  });
});

describe("docs/operations.md › Docker compose", CLI_TEST, () => {
  it.each(claimsOf("test/compose.test.ts").map((claim) => [claim.marker, claim] as const))(
    "the block with `%s` runs as written, with the compose CLI found here",
    async (_marker, claim) => {
      const cli = await composeCli();
      for (const { line } of commandsOf(shBlock(claim.page, claim.marker))) {
        expect(line, "a page's compose commands start with `docker compose`").toMatch(/^docker compose /);
        // Debian's docker-compose takes the plugin's arguments: only the command differs.
        const result = await compose(["bash"], ROOT, "-c", line.replaceAll("docker compose ", `${cli.join(" ")} `));
        expect(result.code, `${line}\n${result.stderr}`).toBe(0);
        if (line.includes("--services")) {
          const nodes = line.includes("docker-compose.cluster.yml")
            ? [...Object.keys(CLUSTER_NODES), "postgres"]
            : ["nats"];
          const expected = new Set([...MESH, ...INFRASTRUCTURE, ...nodes]);
          expect(result.stdout.trim().split("\n").sort()).toEqual([...expected].sort());
        }
      }
    },
  );
});
