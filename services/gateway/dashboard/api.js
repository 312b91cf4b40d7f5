// The gateway's /dashboard/api routes: JSON in, JSON out, errors as ApiError with the server's message.

/** @typedef {import("./types.js").TimelineView} TimelineView */
/** @typedef {import("./types.js").TraceView} TraceView */
/** @typedef {import("./types.js").LoadView} LoadView */
/** @typedef {import("./types.js").FaultRequest} FaultRequest */
/** @typedef {import("./types.js").OrderScenario} OrderScenario */

const BASE = "/dashboard/api";

/** A failed call: `code` is the server's ("INVALID_ARGUMENT"), or HTTP_<status>, or NETWORK. */
export class ApiError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {number} status 0 when no answer came
   */
  constructor(code, message, status) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/**
 * @param {Response} response
 * @returns {Promise<ApiError>}
 */
async function errorOf(response) {
  let code = `HTTP_${response.status}`;
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body && typeof body === "object" && body.error && typeof body.error === "object") {
      if (typeof body.error.code === "string") code = body.error.code;
      if (typeof body.error.message === "string" && body.error.message) message = body.error.message;
    }
  } catch {
    // Not JSON (a proxy's page, an empty body): the status line says what there is to say.
  }
  if (response.status === 401 || response.status === 403) message = `${message} (sign in again as an admin)`;
  return new ApiError(code, message, response.status);
}

/**
 * @param {string} path
 * @param {RequestInit} init
 */
async function call(path, init) {
  let response;
  try {
    response = await fetch(`${BASE}${path}`, { credentials: "same-origin", ...init });
  } catch (err) {
    throw new ApiError("NETWORK", `The gateway did not answer: ${err instanceof Error ? err.message : err}`, 0);
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    throw new ApiError("BAD_RESPONSE", `The gateway's answer to ${path} is not JSON`, response.status);
  }
}

/**
 * @param {string} path
 * @param {unknown} body
 */
function post(path, body) {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Requested-With": "ftgo-dashboard", Accept: "application/json" },
    body: JSON.stringify(body),
  });
}

/**
 * @param {string} orderId
 * @param {AbortSignal} [signal]
 * @returns {Promise<TimelineView>}
 */
export function getTimeline(orderId, signal) {
  return call(`/orders/${encodeURIComponent(orderId)}/timeline`, {
    headers: { Accept: "application/json" },
    signal,
  });
}

/**
 * @param {string} orderId
 * @param {AbortSignal} [signal]
 * @returns {Promise<TraceView>}
 */
export function getTrace(orderId, signal) {
  return call(`/orders/${encodeURIComponent(orderId)}/trace`, {
    headers: { Accept: "application/json" },
    signal,
  });
}

/**
 * @param {OrderScenario} scenario
 * @returns {Promise<{ orderId: string }>}
 */
export function placeOrder(scenario) {
  return post("/orders", { scenario });
}

/**
 * @param {number} orders
 * @returns {Promise<LoadView>}
 */
export function runLoad(orders) {
  return post("/load", { orders });
}

/**
 * @param {FaultRequest} fault
 * @returns {Promise<{ instances: number }>}
 */
export function setFault(fault) {
  return post("/faults", fault);
}

/**
 * @param {string} service
 * @param {string} [method] none: every fault of the service
 * @returns {Promise<{ cleared: number }>}
 */
export function clearFaults(service, method) {
  return post("/faults/clear", method === undefined ? { service } : { service, method });
}

/**
 * @param {string} service
 * @param {number} seq
 * @returns {Promise<{ originalSubject: string }>}
 */
export function replayDeadLetter(service, seq) {
  return post("/dead-letters/replay", { service, seq });
}

export const STREAM_URL = `${BASE}/stream`;
