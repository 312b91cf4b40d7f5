// The soak's faults: a schedule planned from the run's length, run one event at a time beside the load, so
// that no two faults overlap (never two kills of one service, never a kill while the broker is down) and each
// has recovered before the next begins. Every event is what an operator fears in production: a process gone
// with SIGKILL and started again, the broker restarted on its store, a backend slow or failing for a while
// (AdminService faults), a client flooding the edge.
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";
import type { NatsServerHandle } from "@ftgo/platform/testing";
import type { ServiceInstance } from "./service-instance.js";

/** The kinds of event; the soak's summary and its test count each. */
export const CHAOS_KINDS = ["kill", "nats-restart", "latency", "errors", "flood"] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];

/** One step of the schedule. */
export type ChaosStep =
  | { readonly kind: "kill"; readonly service: string }
  | { readonly kind: "nats-restart"; readonly signal: "SIGKILL" | "SIGTERM" }
  | { readonly kind: "latency"; readonly service: string; readonly method: string; readonly latencyMs: number }
  | { readonly kind: "errors"; readonly service: string; readonly method: string; readonly probability: number }
  | { readonly kind: "flood" };

/** One step as it happened. */
export interface ChaosEvent {
  /** Since the load started, in ms. */
  readonly atMs: number;
  readonly kind: ChaosKind;
  /** What was done and how it went, in a line. */
  readonly what: string;
  readonly tookMs: number;
  /** Set when the step failed (its error); the schedule goes on with the next one. */
  readonly failed?: string;
}

/** How long a fault is held, and a flood lasts at most. */
const FAULT_HOLD_MS = 4_000;
const FLOOD_MAX_MS = 8_000;
/** How long a killed process (or the broker) stays down before it is started again. */
const DOWN_MS = 1_000;
/** The schedule starts this long after the load, and leaves this long at the end for the mesh to recover under load. */
const LEAD_IN_MS = 5_000;
const QUIET_TAIL_MS = 15_000;
/** One slot per event: room for a restart on a busy machine. */
const SLOT_MS = 9_000;

/**
 * One turn of the schedule: each participant killed in turn, with the other kinds between the kills, so that a
 * 2-minute run holds every kind at least once and a longer one repeats the turn.
 */
export const CHAOS_TURN: readonly ChaosStep[] = [
  { kind: "kill", service: "order" },
  { kind: "latency", service: "kitchen", method: "/ftgo.kitchen.v1.KitchenService/GetMenu", latencyMs: 250 },
  { kind: "kill", service: "consumer" },
  { kind: "nats-restart", signal: "SIGKILL" },
  { kind: "kill", service: "kitchen" },
  { kind: "flood" },
  { kind: "kill", service: "accounting" },
  { kind: "errors", service: "order", method: "/ftgo.order.v2.OrderService/CreateOrder", probability: 0.3 },
  { kind: "kill", service: "delivery" },
  { kind: "kill", service: "loyalty" },
  { kind: "nats-restart", signal: "SIGTERM" },
];

/** A step and when it is due, in ms since the load started. */
export interface PlannedStep {
  readonly atMs: number;
  readonly step: ChaosStep;
}

/**
 * The schedule for a load of `durationMs`: slots of SLOT_MS between the lead-in and the quiet tail, filled by
 * CHAOS_TURN over and over — but always one whole turn, even when it does not fit (the run then lasts longer).
 */
export function planChaos(durationMs: number, turn: readonly ChaosStep[] = CHAOS_TURN): PlannedStep[] {
  const window = durationMs - LEAD_IN_MS - QUIET_TAIL_MS;
  const slots = Math.max(turn.length, Math.floor(window / SLOT_MS));
  const every = Math.max(0, window) / slots;
  return Array.from({ length: slots }, (_, i) => ({
    atMs: Math.round(LEAD_IN_MS + i * every),
    step: turn[i % turn.length] as ChaosStep,
  }));
}

/** What the chaos acts on. */
export interface ChaosTargets {
  /** By name: the five participants and Loyalty. */
  readonly services: Readonly<Record<string, ServiceInstance>>;
  readonly nats: NatsServerHandle;
  /** The gateway, `http://127.0.0.1:<port>`. */
  readonly gatewayUrl: string;
}

export interface ChaosRun {
  readonly events: readonly ChaosEvent[];
  /** Resolves once the last step has ended (or the run was aborted and the step in progress ended). */
  readonly done: Promise<void>;
}

/**
 * Runs `plan` against `targets`, one step at a time, each at its time (or at once when the one before ran
 * late), logging each event as it ends. `signal` stops it after the step in progress.
 */
export function runChaos(
  plan: readonly PlannedStep[],
  targets: ChaosTargets,
  {
    signal,
    log,
    startedAt = performance.now(),
  }: { signal?: AbortSignal; log: (line: string) => void; startedAt?: number },
): ChaosRun {
  const events: ChaosEvent[] = [];
  const done = (async () => {
    for (const { atMs, step } of plan) {
      const wait = atMs - (performance.now() - startedAt);
      if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
      if (signal?.aborted) return;
      const at = performance.now() - startedAt;
      let what = describeStep(step);
      let failed: string | undefined;
      try {
        what = await runStep(step, targets);
      } catch (err) {
        failed = (err as Error).message.split("\n")[0];
      }
      const event = { atMs: at, kind: step.kind, what, tookMs: performance.now() - startedAt - at, failed };
      events.push(event);
      log(formatEvent(event));
    }
  })();
  return { events, done };
}

/** `[+01:05.2] kill      order: SIGKILL, restarted (SERVING) in 2.3 s`. */
export function formatEvent(event: ChaosEvent): string {
  const s = event.atMs / 1000;
  const clock = `${String(Math.floor(s / 60)).padStart(2, "0")}:${(s % 60).toFixed(1).padStart(4, "0")}`;
  const how = event.failed ? `FAILED: ${event.failed}` : `${(event.tookMs / 1000).toFixed(1)} s`;
  return `[+${clock}] ${event.kind.padEnd(12)} ${event.what} (${how})`;
}

function describeStep(step: ChaosStep): string {
  switch (step.kind) {
    case "kill":
      return `${step.service}: SIGKILL, then restart`;
    case "nats-restart":
      return `nats-server: ${step.signal}, then restart on the same port and store`;
    case "latency":
      return `${step.service}: +${step.latencyMs} ms on ${step.method}`;
    case "errors":
      return `${step.service}: UNAVAILABLE with probability ${step.probability} on ${step.method}`;
    case "flood":
      return "gateway: flood of bad tokens and unknown routes from 127.0.0.2";
  }
}

async function runStep(step: ChaosStep, targets: ChaosTargets): Promise<string> {
  switch (step.kind) {
    case "kill": {
      const service = targetService(targets, step.service);
      await service.kill("SIGKILL");
      await sleep(DOWN_MS);
      const started = performance.now();
      await service.restart();
      return `${step.service}: SIGKILL, down ${DOWN_MS / 1000} s, SERVING again ${seconds(performance.now() - started)} after the restart`;
    }
    case "nats-restart": {
      const started = performance.now();
      if (step.signal === "SIGKILL") {
        targets.nats.kill("SIGKILL");
        await sleep(DOWN_MS);
      }
      await targets.nats.restart();
      return `nats-server: ${step.signal}, back on port ${targets.nats.port} with its store after ${seconds(performance.now() - started)}`;
    }
    case "latency":
    case "errors": {
      const fault =
        step.kind === "latency"
          ? { method: step.method, latencyMs: step.latencyMs }
          : { method: step.method, statusCode: 14, probability: step.probability };
      const applied = await holdFault(targetService(targets, step.service), fault, FAULT_HOLD_MS);
      return `${describeStep(step)} for ${seconds(FAULT_HOLD_MS)}: ${applied} call(s) affected, then cleared`;
    }
    case "flood": {
      const flood = await floodGateway(targets.gatewayUrl, FLOOD_MAX_MS);
      const statuses = [...flood.statuses].map(([status, n]) => `${n}× ${status}`).join(", ");
      return `gateway: ${flood.requests} bad-token/unknown-route requests from 127.0.0.2 in ${seconds(flood.ms)}: ${statuses}`;
    }
  }
}

function targetService(targets: ChaosTargets, name: string): ServiceInstance {
  const service = targets.services[name];
  if (!service) throw new Error(`no service ${name} to act on`);
  return service;
}

/** Sets `fault` on the server, holds it for `holdMs`, clears it; how many calls it affected. */
async function holdFault(
  service: ServiceInstance,
  fault: { method: string; latencyMs?: number; statusCode?: number; probability?: number },
  holdMs: number,
): Promise<number> {
  const transport = createGrpcTransport({ address: service.address });
  const admin = createGrpcClient(AdminService, transport);
  try {
    await admin.setFault({ fault }, { timeoutMs: 5_000 });
    await sleep(holdMs);
    const { faults } = await admin.listFaults({}, { timeoutMs: 5_000 });
    await admin.clearFaults({ method: fault.method }, { timeoutMs: 5_000 });
    return Number(faults.find((f) => f.method === fault.method)?.appliedCount ?? 0n);
  } finally {
    transport.close();
  }
}

/** What a flood sent and what came back. */
export interface FloodResult {
  readonly requests: number;
  /** Answers by status ("429", "401", "404") or error code. */
  readonly statuses: ReadonlyMap<string, number>;
  readonly ms: number;
}

/**
 * Floods the gateway from 127.0.0.2 (its own address, so its own edge bucket: the soak's customers on
 * 127.0.0.1 keep theirs) with requests no client should send — invalid tokens and unknown routes — 64 at a
 * time, until the edge limit has answered 429 a hundred times or `maxMs` has passed.
 */
export async function floodGateway(url: string, maxMs: number): Promise<FloodResult> {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const statuses = new Map<string, number>();
  const started = performance.now();
  let requests = 0;
  const enough = () => (statuses.get("429") ?? 0) >= 100 || performance.now() - started >= maxMs;
  const one = (path: string, token?: string) =>
    new Promise<string>((resolve) => {
      const req = request(
        {
          host: hostname,
          port,
          path,
          agent,
          localAddress: "127.0.0.2",
          headers: token ? { authorization: `Bearer ${token}` } : {},
          timeout: 5_000,
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(String(res.statusCode)));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
  const flooder = async (i: number) => {
    for (let n = 0; !enough(); n++) {
      requests++;
      const status = await (n % 2 === 0
        ? one("/api/v2/orders", `not-a-token-${i}-${n}`)
        : one(`/no-such-route/${i}/${n}`));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  try {
    await Promise.all(Array.from({ length: 64 }, (_, i) => flooder(i)));
  } finally {
    agent.destroy();
  }
  return { requests, statuses, ms: performance.now() - started };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
