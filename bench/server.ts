// A benchmark server in a process of its own: `node --import tsx bench/server.ts <contender>`.
// It prints its port as its first stdout line, and exits on SIGTERM/SIGINT or when the parent that
// forked it goes away (its IPC channel closes), so that no run can leave a server behind.
import { CONTENDERS, isContenderName } from "./suites/unary/contenders.js";

const name = process.argv[2] ?? "";
if (!isContenderName(name)) {
  throw new Error(`usage: bench/server.ts <${Object.keys(CONTENDERS).join("|")}>, got "${name}"`);
}
const contender = await CONTENDERS[name].load();
const server = await contender.serve();
process.stdout.write(`${server.port}\n`);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.once("disconnect", () => process.exit(0));
