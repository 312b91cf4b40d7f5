// Messaging health per service: the outbox of each instance (pending rows, the oldest one's age: the
// publishing lag), each consumer channel's counts, and the dead letters, each with a Replay button.

import { replayDeadLetter } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { formatClock, formatMs, plural, shortName } from "./format.js";

/** @typedef {import("./types.js").MeshView} MeshView */
/** @typedef {import("./types.js").ServiceView} ServiceView */
/** @typedef {import("./types.js").DeadLetterView} DeadLetterView */

/** An outbox whose oldest pending row is older than this is lagging. */
const LAG_MS = 2000;

/**
 * @param {HTMLElement} container the [data-region="messaging"] element
 * @param {(message: string) => void} announce
 * @param {(what: string, error: unknown) => void} onError
 */
export function createMessaging(container, announce, onError) {
  /** @type {Map<string, { card: HTMLElement, stats: HTMLElement, letters: HTMLUListElement, count: HTMLElement, signature: string, items: Map<number, HTMLLIElement> }>} */
  const cards = new Map();
  const grid = el("div", { class: "messaging-grid" });
  const empty = el("p", { class: "empty", text: "No services reported yet." });
  container.replaceChildren(empty, grid);

  /**
   * @param {DeadLetterView} letter
   * @param {string} service
   * @param {HTMLButtonElement} button
   */
  const replay = async (letter, service, button) => {
    button.disabled = true;
    try {
      const answer = await replayDeadLetter(service, letter.seq);
      announce(`Replayed dead letter ${letter.seq} of ${service} to ${answer.originalSubject}`);
    } catch (err) {
      onError(`Replaying dead letter ${letter.seq} of ${service}`, err);
    } finally {
      button.disabled = false;
    }
  };

  return {
    /**
     * @param {MeshView} view
     */
    render(view) {
      const seen = new Set();
      let previous = null;
      for (const service of view.services) {
        seen.add(service.name);
        let card = cards.get(service.name);
        if (!card) {
          const stats = el("div", { class: "msg-stats" });
          const count = el("span", { class: "muted" });
          const letters = el("ul", { class: "dead-letters" });
          const headingId = `msg-${service.name.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
          const element = el(
            "article",
            { class: "msg-card", "data-messaging-service": service.name, "aria-labelledby": headingId },
            el("h3", { id: headingId, text: service.name }),
            stats,
            el("h4", null, "Dead letters ", count),
            letters,
          );
          card = { card: element, stats, letters, count, signature: "", items: new Map() };
          cards.set(service.name, card);
        }
        const signature = JSON.stringify(
          service.instances.map((instance) => [
            instance.instanceId,
            instance.stats?.outbox,
            instance.stats?.consumers,
            instance.statsError,
          ]),
        );
        if (signature !== card.signature) {
          card.signature = signature;
          replaceChildren(card.stats, ...statsOf(service));
        }
        renderLetters(card, service, replay);
        const position = previous ? previous.nextSibling : grid.firstChild;
        if (position !== card.card) grid.insertBefore(card.card, position);
        previous = card.card;
      }
      for (const [name, card] of cards) {
        if (!seen.has(name)) {
          card.card.remove();
          cards.delete(name);
        }
      }
      empty.hidden = view.services.length > 0;
    },
  };
}

/**
 * @param {{ letters: HTMLUListElement, count: HTMLElement, items: Map<number, HTMLLIElement> }} card
 * @param {ServiceView} service
 * @param {(letter: DeadLetterView, service: string, button: HTMLButtonElement) => void} replay
 */
function renderLetters(card, service, replay) {
  /** @type {Map<number, DeadLetterView>} */
  const letters = new Map();
  for (const instance of service.instances) for (const letter of instance.deadLetters) letters.set(letter.seq, letter);
  const sorted = [...letters.values()].sort((a, b) => b.seq - a.seq);
  card.count.textContent = `(${sorted.length})`;
  let previous = null;
  for (const letter of sorted) {
    let item = card.items.get(letter.seq);
    if (!item) {
      const owner = letter.service || service.name;
      const textId = `dl-${service.name.replace(/[^a-zA-Z0-9_-]/g, "_")}-${letter.seq}`;
      const button = el("button", { type: "button", class: "small", "aria-describedby": textId, text: "Replay" });
      button.addEventListener("click", () => replay(letter, owner, button));
      item = el(
        "li",
        { class: "dead-letter", "data-dead-letter-seq": letter.seq, "data-service": owner },
        el(
          "div",
          { id: textId, class: "dead-letter-text" },
          el("strong", { title: letter.type, text: `#${letter.seq} ${shortName(letter.type)}` }),
          el("span", { class: "mono small-text", text: ` on ${letter.originalSubject}` }),
          el(
            "span",
            { class: "dead-letter-reason" },
            `${letter.reason} · ${plural(letter.deliveries, "delivery", "deliveries")} · ${formatClock(letter.time)}`,
          ),
          letter.correlationId
            ? el("span", { class: "muted small-text", text: `order ${letter.correlationId}` })
            : null,
        ),
        button,
      );
      card.items.set(letter.seq, item);
    }
    const position = previous ? previous.nextSibling : card.letters.firstChild;
    if (position !== item) card.letters.insertBefore(item, position);
    previous = item;
  }
  for (const [seq, item] of card.items) {
    if (!letters.has(seq)) {
      item.remove();
      card.items.delete(seq);
    }
  }
  if (sorted.length === 0 && !card.letters.querySelector(".empty")) {
    card.letters.append(el("li", { class: "empty", text: "none" }));
  } else if (sorted.length > 0) card.letters.querySelector(".empty")?.remove();
}

/**
 * @param {ServiceView} service
 * @returns {Node[]}
 */
function statsOf(service) {
  const withStats = service.instances.filter((instance) => instance.stats);
  const nodes = [];
  const missing = service.instances.filter((instance) => !instance.stats);
  if (withStats.length === 0) {
    nodes.push(
      el("p", {
        class: "muted",
        text:
          missing.length > 0
            ? `No stats: ${missing.map((instance) => `${instance.instanceId}: ${instance.statsError ?? "no answer"}`).join("; ")}`
            : "No instance registered.",
      }),
    );
    return nodes;
  }
  const outboxRows = withStats.filter((instance) => instance.stats?.outbox);
  if (outboxRows.length > 0) {
    const body = el("tbody");
    for (const instance of outboxRows) {
      const outbox = /** @type {NonNullable<NonNullable<typeof instance.stats>["outbox"]>} */ (instance.stats?.outbox);
      const lagging = outbox.pendingRows > 0 && outbox.oldestPendingMs > LAG_MS;
      body.append(
        el(
          "tr",
          { class: lagging ? "lagging" : "", "data-outbox-instance": instance.instanceId },
          el("th", { scope: "row", class: "mono", text: instance.instanceId }),
          el("td", { class: "num", text: String(outbox.pendingRows) }),
          el(
            "td",
            { class: "num" },
            outbox.pendingRows > 0 ? formatMs(outbox.oldestPendingMs) : "–",
            lagging ? el("span", { class: "badge badge-warn", text: "lagging" }) : null,
          ),
          el("td", { class: "num", text: String(outbox.published) }),
        ),
      );
    }
    nodes.push(
      el(
        "table",
        { class: "data-table compact" },
        el("caption", { text: "Outbox" }),
        el(
          "thead",
          null,
          el(
            "tr",
            null,
            el("th", { scope: "col", text: "Instance" }),
            el("th", { scope: "col", class: "num", text: "Pending" }),
            el("th", { scope: "col", class: "num", text: "Oldest (lag)" }),
            el("th", { scope: "col", class: "num", text: "Published" }),
          ),
        ),
        body,
      ),
    );
  } else nodes.push(el("p", { class: "muted", text: "No outbox." }));

  /** @type {Map<string, { consumed: number, redelivered: number, deadLettered: number }>} */
  const channels = new Map();
  for (const instance of withStats) {
    for (const consumer of instance.stats?.consumers ?? []) {
      const sum = channels.get(consumer.channel) ?? { consumed: 0, redelivered: 0, deadLettered: 0 };
      sum.consumed += consumer.consumed;
      sum.redelivered += consumer.redelivered;
      sum.deadLettered += consumer.deadLettered;
      channels.set(consumer.channel, sum);
    }
  }
  if (channels.size > 0) {
    const body = el("tbody");
    for (const [channel, sum] of [...channels].sort((a, b) => a[0].localeCompare(b[0]))) {
      body.append(
        el(
          "tr",
          { "data-channel": channel, class: sum.deadLettered > 0 ? "has-dead" : "" },
          el("th", { scope: "row", class: "mono", text: channel }),
          el("td", { class: "num", text: String(sum.consumed) }),
          el("td", { class: "num", text: String(sum.redelivered) }),
          el("td", { class: "num", text: String(sum.deadLettered) }),
        ),
      );
    }
    nodes.push(
      el(
        "table",
        { class: "data-table compact" },
        el("caption", {
          text: withStats.length > 1 ? `Consumers (${withStats.length} instances together)` : "Consumers",
        }),
        el(
          "thead",
          null,
          el(
            "tr",
            null,
            el("th", { scope: "col", text: "Channel" }),
            el("th", { scope: "col", class: "num", text: "Consumed" }),
            el("th", { scope: "col", class: "num", text: "Redelivered" }),
            el("th", { scope: "col", class: "num", text: "Dead-lettered" }),
          ),
        ),
        body,
      ),
    );
  } else nodes.push(el("p", { class: "muted", text: "Consumes no channel." }));
  if (missing.length > 0) {
    nodes.push(
      el("p", {
        class: "muted",
        text: `Without stats: ${missing.map((instance) => `${instance.instanceId} (${instance.statsError ?? "no answer"})`).join(", ")}`,
      }),
    );
  }
  return nodes;
}
