// Numbers, times and names in words for the page.

/**
 * "ftgo.kitchen.v1.TicketCreated" → "TicketCreated"; "/ftgo.kitchen.v1.KitchenService/GetMenu" → "GetMenu".
 * @param {string} name
 */
export function shortName(name) {
  if (name === "*") return "*";
  const slash = name.lastIndexOf("/");
  const tail = slash >= 0 ? name.slice(slash + 1) : name;
  const dot = tail.lastIndexOf(".");
  return dot >= 0 ? tail.slice(dot + 1) : tail;
}

/**
 * A duration in ms, readable: "850 ms", "1.2 s", "3 min".
 * @param {number | null | undefined} ms
 */
export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms === 0) return "0 ms";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.floor(ms / 3_600_000)} h`;
}

/**
 * How long ago, coarse enough that it changes rarely: "4 s", "2 min", "1 h".
 * @param {number} ms
 */
export function formatAge(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "just now";
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h`;
  return `${Math.floor(ms / 86_400_000)} d`;
}

/**
 * @param {string} iso
 */
export function formatClock(iso) {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) return iso;
  return new Date(time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * A count with its noun: plural(2, "order") → "2 orders".
 * @param {number} n
 * @param {string} noun
 * @param {string} [plural]
 */
export function plural(n, noun, plural = `${noun}s`) {
  return `${n} ${n === 1 ? noun : plural}`;
}

/**
 * "APPROVAL_PENDING" → "approval pending".
 * @param {string} state
 */
export function words(state) {
  return state.toLowerCase().replaceAll("_", " ");
}

/** The tone (a CSS class suffix) of an order's state. */
const STATE_TONES = /** @type {Record<string, string>} */ ({
  APPROVED: "good",
  REJECTED: "bad",
  CANCELLED: "muted",
  APPROVAL_PENDING: "pending",
  CANCEL_PENDING: "pending",
});

/**
 * @param {string} state
 */
export function stateTone(state) {
  return STATE_TONES[state] ?? "muted";
}
