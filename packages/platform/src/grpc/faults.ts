import { setTimeout as sleep } from "node:timers/promises";
import { clone, create } from "@bufbuild/protobuf";
import { type Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type AdminService, type Fault, FaultSchema } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { InvalidArgumentError } from "../errors.js";

/** The `method` of a fault that applies to every method of the server. */
export const ALL_METHODS = "*";

/**
 * The faults one server applies to its own calls, set at run time (through AdminService) and kept in
 * memory. The handler adapter asks `apply` before every handler runs.
 */
export interface FaultInjector {
  /** Adds `fault`, replacing the one set for the same method; returns it as it is now applied. */
  set(fault: Fault): Fault;
  /** Removes the fault of `method`, or every fault when `method` is empty; returns how many went. */
  clear(method?: string): number;
  /** Copies of the faults applied now, in the order they were set. */
  list(): Fault[];
  /**
   * Applies the fault set for `method` (a gRPC path), or the "*" fault, to one call. Undefined when no
   * fault fires, so a server without faults pays no more than a map lookup; otherwise a promise that
   * resolves when the handler may run, or rejects with the status to answer with. Waiting ends as soon
   * as `signal` (the handler's) aborts: a fault never outlives the call it delays.
   */
  apply(method: string, signal: AbortSignal): Promise<void> | undefined;
}

/** Makes one server's fault table, empty. */
export function createFaultInjector(): FaultInjector {
  const faults = new Map<string, Fault>();
  return {
    set(fault) {
      const applied = validated(fault);
      faults.delete(applied.method); // re-inserted last, so list() keeps the order of setting
      faults.set(applied.method, applied);
      return clone(FaultSchema, applied);
    },
    clear(method = "") {
      if (method !== "") return faults.delete(method) ? 1 : 0;
      const count = faults.size;
      faults.clear();
      return count;
    },
    list: () => [...faults.values()].map((fault) => clone(FaultSchema, fault)),
    apply(method, signal) {
      const fault = faults.get(method) ?? faults.get(ALL_METHODS);
      if (!fault || Math.random() >= (fault.probability ?? 1)) return undefined;
      fault.appliedCount++;
      if (fault.failNext > 0 && --fault.failNext === 0) faults.delete(fault.method);
      return inflict(fault, method, signal);
    },
  };
}

/** AdminService's fault methods, over one server's fault table; admin-service.ts adds the rest. */
export function createFaultHandlers(
  faults: FaultInjector,
): Pick<ServiceImpl<typeof AdminService>, "setFault" | "clearFaults" | "listFaults"> {
  return {
    setFault: ({ fault }) => ({ fault: faults.set(fault ?? create(FaultSchema)) }),
    clearFaults: ({ method }) => ({ clearedCount: faults.clear(method) }),
    listFaults: () => ({ faults: faults.list() }),
  };
}

/** Hang, or wait and then fail; read before the first await, as a `fail_next` fault may be gone by then. */
async function inflict(fault: Fault, method: string, signal: AbortSignal): Promise<void> {
  const { hang, latencyMs, statusCode } = fault;
  // On abort the adapter answers with the signal's reason (DEADLINE_EXCEEDED or CANCELLED) whatever we throw.
  if (hang) await untilAborted(signal);
  if (latencyMs > 0) await sleep(latencyMs, undefined, { signal });
  if (statusCode !== 0) throw new ConnectError(`fault injected into ${method}`, statusCode as Code);
}

const GRPC_PATH = /^\/[\w.]+\/\w+$/;
const LAST_STATUS_CODE = 16; // UNAUTHENTICATED

/** A copy of `fault` fit to apply, its counter reset; INVALID_ARGUMENT for one that is malformed or idle. */
function validated(fault: Fault): Fault {
  const { method, statusCode, probability, latencyMs, hang } = fault;
  if (method !== ALL_METHODS && !GRPC_PATH.test(method)) {
    throw new InvalidArgumentError(`fault.method must be "*" or a path like "/ftgo.kitchen.v1.KitchenService/GetMenu"`);
  }
  if (statusCode > LAST_STATUS_CODE) {
    throw new InvalidArgumentError(`fault.status_code ${statusCode} is not a gRPC status code (0 to 16)`);
  }
  if (probability !== undefined && !(probability >= 0 && probability <= 1)) {
    throw new InvalidArgumentError(`fault.probability ${probability} is not between 0 and 1`);
  }
  if (latencyMs === 0 && statusCode === 0 && !hang) {
    throw new InvalidArgumentError("the fault does nothing: set latency_ms, status_code or hang");
  }
  const applied = clone(FaultSchema, fault);
  applied.appliedCount = 0n;
  return applied;
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
