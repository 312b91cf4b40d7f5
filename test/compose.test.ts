// docker-compose.yml, read by a real compose CLI (Docker's `docker compose`, or Debian's docker-compose 1.29.2,
// which needs no Docker engine): the file is valid, it runs every process of the roster at the roster's port,
// all of them on Consul 1.16.3 (the last MPL-2.0 release) and NATS, and the CLI refuses a broken file, so that
// "valid" means something. No compose CLI is a failure naming the set-up that installs one, not a skip.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { COURIERS, GATEWAY, GO_SERVICES, SERVICES } from "@ftgo/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { commandsOf, ROOT, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

const run = promisify(execFile);
const COMPOSE_FILE = join(ROOT, "docker-compose.yml");
const CONSUL_IMAGE = "hashicorp/consul:1.16.3";
const SETUP_HINT =
  "no docker compose CLI on this machine: run `bash scripts/setup.sh --with-test-tools` (`make test` does; it " +
  "installs Debian's docker-compose) or install Docker's compose plugin";

/** Every process of `make up` that listens: the saga's services, the Go services, the gateway. */
const LISTENERS = [...SERVICES, ...GO_SERVICES, GATEWAY];
const GRPC_SERVICES = [...SERVICES, ...GO_SERVICES];
/** Every process of the mesh: the listeners and the couriers (the compose services but NATS and Consul). */
const MESH = [...LISTENERS.map((entry) => entry.name), ...COURIERS.map((courier) => courier.id)];

/** A compose service as `config` prints it (normalised: long port syntax, lists as lists). */
interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context: string; readonly target?: string };
  readonly environment?: Record<string, string | number | null>;
  readonly ports?: readonly (string | { published?: string | number; target?: string | number })[];
  readonly depends_on?: Record<string, { condition?: string }> | readonly string[];
  readonly healthcheck?: { readonly test?: readonly string[] | string };
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

describe("docker-compose.yml, as the compose CLI reads it", CLI_TEST, () => {
  it("runs every process of the roster, beside NATS and Consul", async () => {
    const services = await composeServices();
    expect(Object.keys(services).sort()).toEqual([...MESH, "nats", "consul"].sort());
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

  it.each(MESH)("points %s at NATS and registers it in Consul (REGISTRY=consul)", async (name) => {
    const env = (await composeServices())[name]?.environment ?? {};
    expect(env).toMatchObject({ REGISTRY: "consul", NATS_URL: "nats://nats:4222", CONSUL_HTTP_ADDR: "consul:8500" });
  });

  it.each(GRPC_SERVICES.map((entry) => [entry.name, entry.port] as const))(
    "registers %s under its own host name, and checks its grpc.health.v1 at port %i",
    async (name, port) => {
      const service = (await composeServices())[name] as ComposeService;
      // Consul's agent runs its gRPC check against the registered address: another container's loopback would fail.
      expect(service.environment?.FTGO_ADVERTISE_HOST).toBe(name);
      expect([service.healthcheck?.test].flat().join(" ")).toContain(`grpc-health-probe -addr=127.0.0.1:${port}`);
      expect(dependencies(service)).toMatchObject({ nats: "service_healthy", consul: "service_healthy" });
    },
  );

  it("builds Loyalty from the Go module, without cgo, in the Dockerfile's loyalty target", async () => {
    expect((await composeServices()).loyalty?.build?.target).toBe("loyalty");
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM \S+ AS loyalty$/m);
    expect(dockerfile).toMatch(/CGO_ENABLED=0/);
    expect(dockerfile).toMatch(/go build .*\.\/cmd\/loyalty/);
  });

  it("starts the gateway once the saga's services are healthy, as make up does", async () => {
    const deps = dependencies((await composeServices()).gateway as ComposeService);
    for (const { name } of SERVICES) expect(deps[name], name).toBe("service_healthy");
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
          expect(result.stdout.trim().split("\n").sort()).toEqual([...MESH, "nats", "consul"].sort());
        }
      }
    },
  );
});
