// `npm run mesh -- status|kill|start`: break the running `make up` and watch, from another terminal
// (docs/break-it-and-watch.md). It asks `up` through its control endpoint (lib/control.ts), found in
// <DATA_DIR>/mesh.json, so DATA_DIR must be the same as that of `make up` (./data by default).
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatTable, runCli, UsageError } from "./lib/cli.js";
import { callMesh, KILL_SIGNALS } from "./lib/control.js";
import type { ControlAnswer, ProcessStatus } from "./lib/supervisor.js";

const USAGE = `usage: npm run mesh -- status              every process of the running \`make up\`: pid, state, restarts
       npm run mesh -- kill <name> [--signal KILL|TERM|INT]
                                            SIGKILL by default: a crash; the rest keep running
       npm run mesh -- start <name>         start it again; waits until it is ready
(make status, make kill SVC=<name>, make start SVC=<name> are the same)`;

const dataDir = resolve(process.env.DATA_DIR || join(fileURLToPath(new URL("..", import.meta.url)), "data"));

await runCli(
  async () => {
    const { positionals, values } = parseArgs({
      allowPositionals: true,
      options: { signal: { type: "string", default: "KILL" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) throw new UsageError("");
    const [command, name, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`one process at a time, not ${[name, ...rest].join(" ")}`);
    if (command === "status") {
      if (name) throw new UsageError("status takes no name: it lists every process");
      const { processes } = (await callMesh(dataDir, "/status")) as { processes: ProcessStatus[] };
      console.log(formatStatus(processes));
      return;
    }
    if (command !== "kill" && command !== "start")
      throw new UsageError(command ? `no command ${command}` : "status, kill or start?");
    if (!name) throw new UsageError(`${command} which process? e.g. npm run mesh -- ${command} kitchen`);
    const signal = `SIG${values.signal.toUpperCase().replace(/^SIG/, "")}`;
    if (!KILL_SIGNALS.includes(signal as NodeJS.Signals)) throw new UsageError(`--signal ${values.signal}?`);
    const answer = (await callMesh(dataDir, `/${command}`, { name, signal })) as ControlAnswer;
    if (!answer.ok) throw new Error(answer.message);
    console.log(answer.message);
  },
  { name: "mesh", usage: USAGE },
);

/** One row per process; an exited one says how it ended. */
function formatStatus(processes: readonly ProcessStatus[]): string {
  return formatTable(
    ["NAME", "KIND", "PID", "STATE", "RESTARTS", "ADDRESS"],
    processes.map((p) => [
      p.name,
      p.kind,
      p.pid,
      p.how ? `${p.state}: ${p.how}` : p.state,
      p.restarts,
      p.address ?? "(no port)",
    ]),
  );
}
