// Ports for the servers the tests start, picked so that nothing else takes them between the pick and the bind.
// The kernel's own pick (listen on port 0) comes from the ephemeral range, the same pool every outgoing
// connection takes its local port from: on a busy run (fuzzers, soaks, thousands of client connections) one of
// them could take a picked port in the seconds before its server binds it (EADDRINUSE). So a port is picked
// below that range, where no outgoing connection ever lands, checked free, and not handed out twice.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const HOST = "127.0.0.1";
/** The lowest port picked: above the ports people commonly run things on (8080, 9090, 16686 stays possible). */
const LOWEST = 20_000;
/** Linux's default ephemeral range starts here; /proc says what this machine uses. */
const DEFAULT_EPHEMERAL_LOW = 32_768;
const handedOut = new Set<number>();

/** A port nothing listens on right now, outside the ephemeral range, never given twice by this process. */
export async function freePort(): Promise<number> {
  const highest = ephemeralLow() - 1;
  for (let attempt = 0; highest > LOWEST && attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (highest - LOWEST + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port); // taken at once: a concurrent pick in this process must not check the same port
    if (await bindable(port)) return port;
  }
  return kernelPick(); // a machine whose ephemeral range leaves no room below it
}

function ephemeralLow(): number {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    return low && Number.isInteger(low) ? low : DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

function kernelPick(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
