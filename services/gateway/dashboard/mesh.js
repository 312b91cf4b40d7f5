// What the page works out of a MeshView in more than one place: who calls whom, with what breakers,
// bulkhead and policy.

/** @typedef {import("./types.js").ServiceView} ServiceView */
/** @typedef {import("./types.js").TargetView} TargetView */
/** @typedef {import("./types.js").BreakerStateName} BreakerStateName */

/** The worse of two breaker states wins when a service's instances disagree. */
const SEVERITY = /** @type {Record<string, number>} */ ({ unknown: 0, closed: 1, "half-open": 2, open: 3 });

/**
 * @typedef {object} BreakerSummary
 * @property {string} targetInstance
 * @property {BreakerStateName} state the worst among the caller's instances
 * @property {Array<{ callerInstance: string, state: BreakerStateName }>} byCaller
 */

/**
 * @typedef {object} CallerTarget
 * @property {string} caller
 * @property {string} target
 * @property {BreakerSummary[]} breakers
 * @property {{ inFlight: number, capacity: number, queued: number, queueCapacity: number }} bulkhead summed over the caller's instances
 * @property {number} retries summed
 * @property {TargetView["policy"]} policy the first reporting instance's
 * @property {number} callerInstances how many of the caller's instances reported
 */

/**
 * Every (caller service, target service) pair the callers' stats report.
 * @param {readonly ServiceView[]} services
 * @returns {CallerTarget[]}
 */
export function callerTargets(services) {
  /** @type {Map<string, CallerTarget & { byInstance: Map<string, BreakerSummary> }>} */
  const pairs = new Map();
  for (const service of services) {
    for (const instance of service.instances) {
      for (const target of instance.stats?.targets ?? []) {
        const key = `${service.name}\u0000${target.target}`;
        let pair = pairs.get(key);
        if (!pair) {
          pair = {
            caller: service.name,
            target: target.target,
            breakers: [],
            byInstance: new Map(),
            bulkhead: { inFlight: 0, capacity: 0, queued: 0, queueCapacity: 0 },
            retries: 0,
            policy: target.policy,
            callerInstances: 0,
          };
          pairs.set(key, pair);
        }
        pair.callerInstances += 1;
        pair.retries += target.retries;
        pair.bulkhead.inFlight += target.bulkhead.inFlight;
        pair.bulkhead.capacity += target.bulkhead.capacity;
        pair.bulkhead.queued += target.bulkhead.queued;
        pair.bulkhead.queueCapacity += target.bulkhead.queueCapacity;
        for (const breaker of target.breakers) {
          let summary = pair.byInstance.get(breaker.instanceId);
          if (!summary) {
            summary = { targetInstance: breaker.instanceId, state: breaker.state, byCaller: [] };
            pair.byInstance.set(breaker.instanceId, summary);
            pair.breakers.push(summary);
          }
          summary.byCaller.push({ callerInstance: instance.instanceId, state: breaker.state });
          if ((SEVERITY[breaker.state] ?? 0) > (SEVERITY[summary.state] ?? 0)) summary.state = breaker.state;
        }
      }
    }
  }
  const result = [...pairs.values()].map(({ byInstance, ...pair }) => pair);
  for (const pair of result) pair.breakers.sort((a, b) => a.targetInstance.localeCompare(b.targetInstance));
  return result.sort((a, b) => a.caller.localeCompare(b.caller) || a.target.localeCompare(b.target));
}

/**
 * A breaker's state in words for its label.
 * @param {BreakerSummary} breaker
 */
export function breakerText(breaker) {
  const differs = breaker.byCaller.some((entry) => entry.state !== breaker.state);
  if (!differs) return `${breaker.targetInstance}: ${breaker.state}`;
  const detail = breaker.byCaller.map((entry) => `${entry.state} at ${entry.callerInstance}`).join(", ");
  return `${breaker.targetInstance}: ${breaker.state} (${detail})`;
}

/**
 * "2/32 busy · 0/16 queued".
 * @param {CallerTarget["bulkhead"]} bulkhead
 */
export function bulkheadText(bulkhead) {
  return `${bulkhead.inFlight}/${bulkhead.capacity} busy · ${bulkhead.queued}/${bulkhead.queueCapacity} queued`;
}
