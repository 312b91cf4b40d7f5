// A start that fails leaves nothing behind: not the service that failed, not the ones started beside it,
// not the nats-server. (On a busy machine a failed start once left Kitchen and Accounting running for
// the rest of the run.)
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SERVICE_NAMES } from "@ftgo/platform/roster";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onChildSpawned, processExists, type TrackedChild } from "../src/child-processes.js";
import { startProcessMesh } from "../src/process-mesh.js";
import { startService } from "../src/service-instance.js";

/** A value Order's config refuses: the service exits with a configuration error while the others start. */
const BAD_ENV = { KITCHEN_BREAKER_FAILURES: "none" };

/** Collects every child the harness spawns while `run` runs. */
async function spawnedDuring<T>(run: () => Promise<T>): Promise<{ spawned: TrackedChild[]; outcome: T | Error }> {
  const spawned: TrackedChild[] = [];
  const stopListening = onChildSpawned((child) => spawned.push(child));
  try {
    return { spawned, outcome: await run().catch((err: Error) => err) };
  } finally {
    stopListening();
  }
}

/** The processes below this one that are services or nats-servers, by their command lines. */
function meshProcessesBelowUs(): string[] {
  const found: string[] = [];
  const visit = (pid: number) => {
    for (const child of childPids(pid)) {
      const command = readOrEmpty(`/proc/${child}/cmdline`).replaceAll("\0", " ");
      if (/nats-server|services\/\w+\/src\/main\.ts/.test(command)) found.push(`${child}: ${command}`);
      visit(child);
    }
  };
  visit(process.pid);
  return found;
}

function childPids(pid: number): number[] {
  const tasks = readOrEmpty(`/proc/${pid}/task/${pid}/children`);
  return tasks.split(" ").filter(Boolean).map(Number);
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

describe("startProcessMesh when one service cannot start", () => {
  it("stops every process it started, and the nats-server, before it rejects", async () => {
    const { spawned, outcome } = await spawnedDuring(() => startProcessMesh({ serviceEnv: { order: BAD_ENV } }));

    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/^order did not start: it exited with code 1/);
    expect((outcome as Error).message).toContain("KITCHEN_BREAKER_FAILURES");
    // Every service was spawned (they start side by side), and not one of them is still there.
    expect(spawned.map((child) => child.label).sort()).toEqual([...SERVICE_NAMES].sort());
    expect(spawned.filter((child) => processExists(child.pid))).toEqual([]);
    expect(meshProcessesBelowUs()).toEqual([]);
  });
});

describe("startService", () => {
  let nats: NatsServerHandle;
  let dataDir: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    dataDir = mkdtempSync(join(tmpdir(), "ftgo-failed-start-"));
  });

  afterAll(async () => {
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("rejects as soon as the process exits, with its output, and leaves no process", async () => {
    const { spawned, outcome } = await spawnedDuring(() =>
      startService({ name: "order", dataDir, natsUrl: nats.url, env: BAD_ENV }),
    );
    expect((outcome as Error).message).toMatch(/^order did not start: it exited with code 1 before it was ready/);
    expect((outcome as Error).message).toContain("KITCHEN_BREAKER_FAILURES");
    expect(spawned).toHaveLength(1);
    expect(spawned.filter((child) => processExists(child.pid))).toEqual([]);
  });

  it("kills the process and rejects when its start is abandoned", async () => {
    const abandon = new AbortController();
    // Abandoned the moment it is spawned: mid-start, as when a sibling's start fails.
    const stopListening = onChildSpawned(() => abandon.abort(new Error("a sibling failed")));
    const { spawned, outcome } = await spawnedDuring(() =>
      startService({ name: "kitchen", dataDir, natsUrl: nats.url, signal: abandon.signal }),
    ).finally(stopListening);
    if (!(outcome instanceof Error)) await outcome.stop(); // a failure of this test must not leave it running
    expect((outcome as Error).message).toBe("kitchen did not start: abandoned (a sibling failed)");
    expect(spawned).toHaveLength(1);
    expect(spawned.filter((child) => processExists(child.pid))).toEqual([]);
  });
});
