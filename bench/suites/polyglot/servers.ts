import { fileURLToPath } from "node:url";
import { buildGoProgram } from "@ftgo/harness/go-toolchain.js";
import { waitUntilReady } from "@ftgo/harness/readiness.js";
import { freePort } from "@ftgo/harness/service-instance.js";
import { describeExit, type ServiceProcess, startServiceProcess } from "@ftgo/harness/service-process.js";
import { type ServerChild, startServerChild } from "../../lib/child.js";
import { HOST } from "../unary/contenders.js";

/*
 * The two GetMenu servers of the polyglot suite, each in a process of its own, started once for the
 * whole suite: the TypeScript one is the unary suite's (a), our platform's `serveGrpc` exactly as the
 * services use it; the Go one is go/cmd/menu-server, grpc-go with the code generated in gen/go. Both
 * answer with Kitchen's seed menu for r-1, built once, and check each request against the contract's
 * buf.validate rules, so that what differs is the language and its gRPC stack.
 */

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SERVER_SCRIPT = fileURLToPath(new URL("../../server.ts", import.meta.url));
/** Output lines of the Go server passed on to stderr: its start line, and whatever it says on failing. */
const ECHOED_LINES = 20;

export interface MenuServers {
  /** host:port of the TypeScript server. */
  readonly ts: string;
  /** host:port of the Go server. */
  readonly go: string;
  /** Stops both; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Builds go/cmd/menu-server (scripts/build-go.sh: a no-op when nothing changed) and starts both servers;
 * a failed start stops whatever had started. The Go server gets GOMAXPROCS=1: on a two-core machine the
 * server has one core and the client the other, as a Node server, single-threaded, effectively has.
 */
export async function startMenuServers(progress: (line: string) => void): Promise<MenuServers> {
  const binary = await buildGoProgram("menu-server");
  let ts: ServerChild | undefined;
  let go: ServiceProcess | undefined;
  const close = async () => {
    await Promise.all([ts?.stop(), go?.stop()]);
  };
  try {
    ts = await startServerChild(SERVER_SCRIPT, ["platform"]);
    const goAddress = `${HOST}:${await freePort()}`;
    const started = startGoServer(binary, goAddress);
    go = started;
    // An exit before the server is ready fails the start at once, instead of after the readiness timeout.
    const gaveUp = new AbortController();
    let ready = false;
    await Promise.race([
      waitUntilReady(goAddress, { signal: gaveUp.signal }).then(() => {
        ready = true;
      }),
      started.exited.then((status) => {
        if (!ready) throw new Error(`menu-server ${describeExit(status)} before it was ready`);
      }),
    ]).finally(() => gaveUp.abort());
    progress(`polyglot: TypeScript server on ${HOST}:${ts.port}, Go server on ${goAddress}`);
    return { ts: `${HOST}:${ts.port}`, go: goAddress, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function startGoServer(binary: string, address: string): ServiceProcess {
  let echoed = 0;
  return startServiceProcess({
    name: "menu-server",
    command: binary,
    args: ["-addr", address],
    cwd: ROOT,
    env: { PATH: process.env.PATH, GOMAXPROCS: "1" },
    onLine: (line) => {
      if (echoed++ < ECHOED_LINES) process.stderr.write(`[menu-server] ${line}\n`);
    },
  });
}
