// How `npm run mesh` talks to the running `make up`: a small HTTP endpoint of `up`, on loopback only, whose
// address and a per-run token `up` writes to <DATA_DIR>/mesh.json (readable by its owner alone). HTTP rather
// than signals or a pid file: `up` alone knows which process is which, restarts them, and can answer in a
// sentence; the token keeps other users of the machine from killing your services.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { ControlAnswer, ProcessStatus } from "./supervisor.js";

/** What `up` writes for `npm run mesh`, and removes when it stops. */
export interface MeshFile {
  readonly pid: number;
  readonly url: string;
  readonly token: string;
}

/** The commands the endpoint serves. */
export interface MeshControl {
  status(): ProcessStatus[];
  start(name: string): Promise<ControlAnswer>;
  kill(name: string, signal: NodeJS.Signals): Promise<ControlAnswer>;
}

/** The signals `kill` may send: a crash, or a request to stop. */
export const KILL_SIGNALS: readonly NodeJS.Signals[] = ["SIGKILL", "SIGTERM", "SIGINT"];

export function meshFilePath(dataDir: string): string {
  return join(dataDir, "mesh.json");
}

export interface ControlServer {
  readonly url: string;
  /** Stops answering and removes mesh.json. */
  close(): Promise<void>;
}

/**
 * Serves `control` on 127.0.0.1 (a free port) and writes mesh.json into `dataDir`:
 * `GET /status` → `{processes}`; `POST /start` and `POST /kill` with `{name, signal?}` → a ControlAnswer.
 */
export async function startControlServer(control: MeshControl, dataDir: string): Promise<ControlServer> {
  const token = randomBytes(24).toString("hex");
  const server = createServer((req, res) => {
    handle(control, token, req)
      .then(([status, body]) => reply(res, status, body))
      .catch((err: unknown) =>
        reply(res, 500, { ok: false, message: err instanceof Error ? err.message : String(err) }),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = meshFilePath(dataDir);
  const content: MeshFile = { pid: process.pid, url, token };
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  return {
    url,
    async close() {
      await rm(file, { force: true });
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function handle(control: MeshControl, token: string, req: IncomingMessage): Promise<[number, unknown]> {
  if (!authorized(req.headers.authorization, token)) return [401, { ok: false, message: "wrong or missing token" }];
  if (req.method === "GET" && req.url === "/status") return [200, { processes: control.status() }];
  if (req.method !== "POST" || (req.url !== "/start" && req.url !== "/kill")) {
    return [404, { ok: false, message: `${req.method} ${req.url}: no such command` }];
  }
  const { name, signal = "SIGKILL" } = JSON.parse(await readBody(req)) as { name?: string; signal?: string };
  if (typeof name !== "string") return [400, { ok: false, message: "which process? (a name is missing)" }];
  if (!status(control, name)) {
    const names = control.status().map((p) => p.name);
    return [404, { ok: false, message: `no process named ${name}: the mesh runs ${names.join(", ")}` }];
  }
  if (req.url === "/start") return [200, await control.start(name)];
  if (!KILL_SIGNALS.includes(signal as NodeJS.Signals)) {
    return [400, { ok: false, message: `kill sends ${KILL_SIGNALS.join(", ")}; not ${signal}` }];
  }
  return [200, await control.kill(name, signal as NodeJS.Signals)];
}

function status(control: MeshControl, name: string): ProcessStatus | undefined {
  return control.status().find((p) => p.name === name);
}

function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.once("end", () => resolve(body || "{}"));
    req.once("error", reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** Thrown by the client when no `make up` answers: the message says what to do. */
export class NoMeshError extends Error {
  override readonly name = "NoMeshError";
}

/**
 * Sends one command to the `make up` whose mesh.json is in `dataDir`. `GET /status` when `body` is absent.
 * Throws NoMeshError when there is no mesh.json, or nobody answers at its address.
 */
export async function callMesh(dataDir: string, path: string, body?: object): Promise<unknown> {
  const file = meshFilePath(dataDir);
  let mesh: MeshFile;
  try {
    mesh = JSON.parse(await readFile(file, "utf8")) as MeshFile;
  } catch {
    throw new NoMeshError(
      `no \`make up\` is running with this data dir (no ${file}). Start one with \`make up\` in another terminal; ` +
        "both need the same DATA_DIR.",
    );
  }
  let response: Response;
  try {
    response = await fetch(`${mesh.url}${path}`, {
      method: body ? "POST" : "GET",
      headers: { authorization: `Bearer ${mesh.token}`, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new NoMeshError(
      `no \`make up\` answers at ${mesh.url}: ${file} is left from one (pid ${mesh.pid}) that has ended. ` +
        "Start one with `make up`.",
    );
  }
  return response.json();
}
