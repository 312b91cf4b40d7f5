// The fault panel (set and clear faults on a service's gRPC methods) and the list of active faults, each
// beside the callers' policies that answer it: deadline and bulkhead for latency and hangs; retries,
// breaker and fallback for error codes.

import { clearFaults, setFault } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { formatMs, plural, shortName } from "./format.js";
import { callerTargets } from "./mesh.js";

/** @typedef {import("./types.js").MeshView} MeshView */
/** @typedef {import("./types.js").ServiceView} ServiceView */
/** @typedef {import("./types.js").FaultView} FaultView */
/** @typedef {import("./mesh.js").CallerTarget} CallerTarget */

/** Codes a caller retries (a safe call), counts against the breaker, and answers with a fallback. */
const RETRIED = new Set([14, 8]);
const BREAKER_COUNTS = new Set([14, 4, 13, 2]);
const OUTAGE = new Set([14, 4, 8]);

/**
 * @param {object} deps
 * @param {HTMLFormElement} deps.form
 * @param {HTMLButtonElement} deps.clearButton
 * @param {HTMLElement} deps.list the [data-region="faults"] element
 * @param {(message: string) => void} deps.announce
 * @param {(what: string, error: unknown) => void} deps.onError
 */
export function createFaults({ form, clearButton, list, announce, onError }) {
  const serviceSelect = /** @type {HTMLSelectElement} */ (form.elements.namedItem("service"));
  const methodSelect = /** @type {HTMLSelectElement} */ (form.elements.namedItem("method"));
  const latencyInput = /** @type {HTMLInputElement} */ (form.elements.namedItem("latencyMs"));
  const codeSelect = /** @type {HTMLSelectElement} */ (form.elements.namedItem("statusCode"));
  const probabilityInput = /** @type {HTMLInputElement} */ (form.elements.namedItem("probability"));
  const hangInput = /** @type {HTMLInputElement} */ (form.elements.namedItem("hang"));
  const submitButton = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));

  /** @type {readonly ServiceView[]} */
  let services = [];
  let optionsSignature = "";

  const fillMethods = () => {
    const service = services.find((s) => s.name === serviceSelect.value);
    const methods = service?.methods.length ? service.methods : ["*"];
    const previous = methodSelect.value;
    methodSelect.replaceChildren(
      ...methods.map((method) =>
        el("option", { value: method, text: method === "*" ? "* (every method)" : shortName(method), title: method }),
      ),
    );
    if (methods.includes(previous)) methodSelect.value = previous;
  };

  serviceSelect.addEventListener("change", fillMethods);

  /**
   * @param {boolean} busy
   */
  const setBusy = (busy) => {
    submitButton.disabled = busy;
    clearButton.disabled = busy;
    form.setAttribute("aria-busy", String(busy));
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const service = serviceSelect.value;
    const method = methodSelect.value;
    const latencyMs = Number(latencyInput.value || "0");
    const probability = Number(probabilityInput.value || "1");
    if (!service) {
      onError("Setting the fault", new Error("no service to set it on yet"));
      return;
    }
    if (!Number.isInteger(latencyMs) || latencyMs < 0) {
      onError("Setting the fault", new Error("the latency must be a whole number of milliseconds, 0 or more"));
      latencyInput.focus();
      return;
    }
    if (!Number.isFinite(probability) || probability < 0 || probability > 1) {
      onError("Setting the fault", new Error("the probability must be between 0 and 1"));
      probabilityInput.focus();
      return;
    }
    setBusy(true);
    try {
      const fault = {
        service,
        method,
        latencyMs,
        statusCode: Number(codeSelect.value),
        probability,
        hang: hangInput.checked,
      };
      const answer = await setFault(fault);
      announce(`Fault set on ${service} ${shortName(method)}: ${plural(answer.instances, "instance")}`);
    } catch (err) {
      onError(`Setting the fault on ${service}`, err);
    } finally {
      setBusy(false);
    }
  });

  /**
   * @param {string} service
   * @param {string | undefined} method
   */
  const clear = async (service, method) => {
    setBusy(true);
    try {
      const answer = await clearFaults(service, method);
      announce(`Cleared ${plural(answer.cleared, "fault")} on ${service}${method ? ` ${shortName(method)}` : ""}`);
    } catch (err) {
      onError(`Clearing the faults of ${service}`, err);
    } finally {
      setBusy(false);
    }
  };

  clearButton.addEventListener("click", () => {
    const service = serviceSelect.value;
    if (!service) {
      onError("Clearing faults", new Error("no service chosen"));
      return;
    }
    const method = methodSelect.value;
    clear(service, method && method !== "*" ? method : undefined);
  });

  /** @type {Map<string, { item: HTMLLIElement, body: HTMLElement, signature: string }>} */
  const items = new Map();
  const ul = el("ul", { class: "fault-list" });
  const empty = el("p", {
    class: "empty",
    text: "No fault is set. Set one with the fault panel and watch the breakers, the timelines and the charts.",
  });
  list.replaceChildren(empty, ul);

  return {
    /**
     * @param {MeshView} view
     */
    render(view) {
      services = view.services;
      const nextOptions = JSON.stringify(services.map((s) => [s.name, s.methods]));
      if (nextOptions !== optionsSignature) {
        optionsSignature = nextOptions;
        const previous = serviceSelect.value;
        serviceSelect.replaceChildren(
          ...services.map((s) =>
            el("option", { value: s.name, text: s.language === "go" ? `${s.name} (Go)` : s.name }),
          ),
        );
        if (services.some((s) => s.name === previous)) serviceSelect.value = previous;
        fillMethods();
      }

      const pairs = callerTargets(services);
      const faults = activeFaults(services);
      const seen = new Set();
      let previousItem = null;
      for (const fault of faults) {
        seen.add(fault.key);
        const callers = pairs.filter((pair) => pair.target === fault.service);
        const signature = JSON.stringify([fault, callers.map((pair) => [pair.caller, pair.policy, pair.bulkhead])]);
        let entry = items.get(fault.key);
        if (!entry) {
          const body = el("div", { class: "fault-body" });
          const remove = el("button", {
            type: "button",
            class: "small",
            "aria-label": `Remove fault: ${fault.service}, ${fault.method === "*" ? "all calls" : shortName(fault.method)}`,
            text: "Remove",
          });
          remove.addEventListener("click", () => clear(fault.service, fault.method));
          const item = el(
            "li",
            { class: "fault", "data-fault": "", "data-service": fault.service, "data-method": fault.method },
            body,
            remove,
          );
          entry = { item, body, signature: "" };
          items.set(fault.key, entry);
        }
        if (entry.signature !== signature) {
          entry.signature = signature;
          replaceChildren(entry.body, ...faultBody(fault, callers));
        }
        const expectedPosition = previousItem ? previousItem.nextSibling : ul.firstChild;
        if (expectedPosition !== entry.item) ul.insertBefore(entry.item, expectedPosition);
        previousItem = entry.item;
      }
      for (const [key, entry] of items) {
        if (!seen.has(key)) {
          entry.item.remove();
          items.delete(key);
        }
      }
      empty.hidden = faults.length > 0;
    },
  };
}

/**
 * @typedef {FaultView & { key: string, service: string, instances: string[], total: number }} ActiveFault
 */

/**
 * Every instance's faults, one entry for the same fault on several instances of a service.
 * @param {readonly ServiceView[]} services
 * @returns {ActiveFault[]}
 */
function activeFaults(services) {
  /** @type {Map<string, ActiveFault>} */
  const faults = new Map();
  for (const service of services) {
    for (const instance of service.instances) {
      for (const fault of instance.faults) {
        const key = JSON.stringify([
          service.name,
          fault.method,
          fault.latencyMs,
          fault.statusCode,
          fault.probability,
          fault.hang,
        ]);
        const known = faults.get(key);
        if (known) {
          known.instances.push(instance.instanceId);
          known.appliedCount += fault.appliedCount;
        } else
          faults.set(key, {
            ...fault,
            key,
            service: service.name,
            instances: [instance.instanceId],
            total: service.instances.length,
          });
      }
    }
  }
  return [...faults.values()].sort((a, b) => a.service.localeCompare(b.service) || a.method.localeCompare(b.method));
}

/**
 * What a fault does, in words.
 * @param {ActiveFault} fault
 */
function describe(fault) {
  const parts = [];
  if (fault.hang) parts.push("hangs (never answers)");
  if (fault.latencyMs > 0) parts.push(`adds ${formatMs(fault.latencyMs)} latency`);
  if (fault.statusCode !== 0) parts.push(`fails with ${fault.statusName || "code"} (${fault.statusCode})`);
  if (parts.length === 0) parts.push("does nothing (no latency, no code)");
  const odds = fault.probability >= 1 ? "on every call" : `on ${Math.round(fault.probability * 100)} % of calls`;
  return `${parts.join(", then ")} ${odds}`;
}

/**
 * @param {ActiveFault} fault
 * @param {CallerTarget[]} callers
 * @returns {Node[]}
 */
function faultBody(fault, callers) {
  const method = fault.method === "*" ? "every method" : shortName(fault.method);
  const head = el(
    "p",
    { class: "fault-head" },
    el("strong", { text: `${fault.service} · ${method}` }),
    ` ${describe(fault)}.`,
    el("span", {
      class: "muted",
      text: ` Applied ${plural(fault.appliedCount, "time")}, on ${fault.instances.length} of ${plural(fault.total, "instance")}.`,
    }),
  );
  if (callers.length === 0) {
    return [
      head,
      el("p", {
        class: "policy-none",
        text: `No caller in the mesh reports calling ${fault.service} over gRPC: nothing here guards those calls (the gateway's own calls answer with the error).`,
      }),
    ];
  }
  const answers = el("ul", { class: "policy-list" });
  for (const pair of callers) {
    answers.append(
      el(
        "li",
        { "data-policy-caller": pair.caller },
        el("span", { class: "policy-caller", text: `${pair.caller} calls it with:` }),
        el("ul", { class: "policy-answers" }, ...policyAnswers(fault, pair).map(answerItem)),
      ),
    );
  }
  return [head, answers];
}

/**
 * @param {{ policy: string, text: string, answers: boolean }} answer
 */
function answerItem(answer) {
  return el(
    "li",
    { class: answer.answers ? "answers" : "not-answers" },
    el("span", { class: "policy-name", text: answer.policy }),
    el("span", { class: "policy-verdict", text: answer.answers ? "answers it" : "not here" }),
    el("span", { class: "policy-text", text: answer.text }),
  );
}

/**
 * Which of a caller's policies answers which part of a fault, and how.
 * @param {ActiveFault} fault
 * @param {CallerTarget} pair
 * @returns {Array<{ policy: string, text: string, answers: boolean }>}
 */
function policyAnswers(fault, pair) {
  const { policy, bulkhead } = pair;
  const code = fault.statusCode;
  const slow = fault.hang || fault.latencyMs > 0;
  const timesOut = fault.hang || (policy.deadlineMs > 0 && fault.latencyMs >= policy.deadlineMs);
  const fallbacks = Object.entries(policy.fallbacks).filter(
    ([name]) => fault.method === "*" || name === fault.method || name === shortName(fault.method),
  );
  const answers = [];

  if (policy.deadlineMs > 0) {
    answers.push({
      policy: `Deadline ${formatMs(policy.deadlineMs)}`,
      answers: timesOut,
      text: timesOut
        ? `cuts each call off with DEADLINE_EXCEEDED instead of waiting ${fault.hang ? "forever" : formatMs(fault.latencyMs)}.`
        : slow
          ? `${formatMs(fault.latencyMs)} is within it: calls are slower but get through.`
          : "nothing to cut: the fault answers at once.",
    });
  } else {
    answers.push({
      policy: "No deadline",
      answers: false,
      text: slow ? "callers wait as long as the fault makes them." : "nothing to cut: the fault answers at once.",
    });
  }
  answers.push({
    policy: `Bulkhead ${bulkhead.capacity} + ${bulkhead.queueCapacity} queued`,
    answers: slow,
    text: slow
      ? `slow calls hold its slots (${bulkhead.inFlight} in flight, ${bulkhead.queued} queued now); beyond them calls fail at once with RESOURCE_EXHAUSTED instead of piling up.`
      : "only matters when calls are slow.",
  });

  const effectiveCodes = [];
  if (code !== 0) effectiveCodes.push(code);
  if (timesOut) effectiveCodes.push(4);
  const retried = code !== 0 && RETRIED.has(code);
  answers.push({
    policy: `Retries (${plural(policy.maxAttempts, "attempt")})`,
    answers: retried,
    text: retried
      ? `a call without side effects is tried again, on another instance when there is one${fault.probability < 1 ? ": with only some calls failing, the next attempt usually succeeds" : ""}.`
      : code !== 0
        ? `${fault.statusName || code} is not retried: it is not a passing failure.`
        : timesOut
          ? "a call that used up its deadline is not tried again."
          : "nothing fails, nothing to retry.",
  });
  const counted = effectiveCodes.filter((c) => BREAKER_COUNTS.has(c));
  answers.push({
    policy: `Breaker (${plural(policy.breakerThreshold, "failure")}, open ${formatMs(policy.breakerHalfOpenAfterMs)})`,
    answers: counted.length > 0,
    text:
      counted.length > 0
        ? `each ${counted.map((c) => (c === 4 ? "DEADLINE_EXCEEDED" : fault.statusName || c)).join(" or ")} counts against the instance; after ${policy.breakerThreshold} in a row its breaker opens and calls fail at once, then half-open after ${formatMs(policy.breakerHalfOpenAfterMs)} lets one through.`
        : code === 8
          ? "RESOURCE_EXHAUSTED is a limit doing its job, not a sick instance: it does not count."
          : "nothing it counts.",
  });
  const outage = effectiveCodes.some((c) => OUTAGE.has(c));
  if (fallbacks.length > 0) {
    answers.push({
      policy: "Fallback",
      answers: outage,
      text: `${fallbacks.map(([name, what]) => `${name} → ${what}`).join("; ")}${outage ? "" : " (only for outages: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED)"}.`,
    });
  } else {
    answers.push({
      policy: "No fallback",
      answers: false,
      text: "the error reaches the caller, and the saga handles it (a rejection, or a retried message).",
    });
  }
  return answers;
}
