// The topology: an SVG drawing of the services and their instances, laid out like a textbook diagram (the
// gateway on the left, Order, the saga's hub, in the middle, the participants on the right), gRPC calls as
// solid arrows with the caller's breakers and bulkhead on a badge by the arrow's head, message channels as
// quiet dashed arrows (one per pair of services); and the same as tables and a list.

import { el, replaceChildren, svg } from "./dom.js";
import { formatMs, plural } from "./format.js";
import { breakerText, bulkheadText, callerTargets } from "./mesh.js";

/** @typedef {import("./types.js").MeshView} MeshView */
/** @typedef {import("./types.js").ServiceView} ServiceView */
/** @typedef {import("./types.js").LinkView} LinkView */
/** @typedef {import("./types.js").InstanceView} InstanceView */
/** @typedef {import("./mesh.js").CallerTarget} CallerTarget */

const MARGIN = 16;
const HEAD_H = 28;
const CAPTION_H = 14;
const ROW_H = 18;
const NOTE_H = 13;
const PAD = 8;
const V_GAP = 16;
/** Box widths: the entry column (the gateway), the hub, the others. */
const ENTRY_W = 200;
const HUB_W = 236;
const OTHER_W = 250;
/** The room between the columns: gRPC badges stand in it. */
const GAP_LEFT = 190;
const GAP_RIGHT = 340;
const HUB_MIN_H = 80;
const ENTRY_MIN_H = 72;
const LANE_GAP = 11;
const BADGE_H = 18;
/** Characters' average width at the drawing's small sizes, to size badges and cut names. */
const CHAR_W = 6.3;
const MONO_W = 6.3;
/** The participants in the order the Create Order saga visits them; anything else follows by name. */
const KNOWN_ORDER = ["consumer", "kitchen", "accounting", "delivery"];
const SEVERITY = /** @type {Record<string, number>} */ ({ open: 0, "half-open": 1, unknown: 2, closed: 3 });

/**
 * @typedef {object} Node
 * @property {string} name
 * @property {ServiceView | null} service null: only named by a link
 * @property {0 | 1 | 2} col 0 the entry (gateway), 1 the hub (order), 2 the others
 * @property {boolean} hub
 * @property {string} caption
 * @property {number} x
 * @property {number} y
 * @property {number} w
 * @property {number} h
 */

/**
 * One arrow: a gRPC caller → target, or every message channel between two services (either way).
 * `a` stands left of `b` (or above it, in the same column).
 * @typedef {object} Edge
 * @property {"grpc" | "messages"} kind
 * @property {Node} a
 * @property {Node} b
 * @property {boolean} aToB
 * @property {boolean} bToA
 * @property {string[]} titles
 * @property {"direct" | "routed" | "arc"} shape routed: around the hub, along a lane above or below it
 * @property {number} ya
 * @property {number} yb
 * @property {number} laneY
 * @property {number} bulge an arc's reach right of its column
 * @property {number} straight how long the arrow runs straight into b (its badge stands there)
 * @property {CallerTarget | undefined} pair a gRPC arrow's breakers and bulkhead
 * @property {{ group: SVGElement, width: number, x: number, y: number } | null} badge
 */

/**
 * @param {{ legend: HTMLElement, drawing: HTMLElement, instances: HTMLElement, breakers: HTMLElement, links: HTMLElement }} parts
 */
export function createTopology(parts) {
  let signature = "";
  renderLegend(parts.legend);
  return {
    /**
     * @param {MeshView} view
     */
    render(view) {
      const next = JSON.stringify([
        view.saga.mode,
        view.services.map((service) => ({
          ...service,
          instances: service.instances.map(({ deadLetters, ...instance }) => instance),
        })),
        view.links,
      ]);
      if (next === signature) return;
      signature = next;
      const pairs = callerTargets(view.services);
      replaceChildren(parts.drawing, drawing(view, pairs));
      replaceChildren(parts.instances, instanceTable(view.services));
      replaceChildren(parts.breakers, breakerTable(pairs));
      replaceChildren(parts.links, linkList(view.links));
    },
  };
}

/**
 * @param {HTMLElement} legend
 */
function renderLegend(legend) {
  const item = (/** @type {string} */ cls, /** @type {string} */ text) =>
    el("li", null, el("span", { class: `legend-mark ${cls}`, "aria-hidden": "true" }), text);
  replaceChildren(
    legend,
    el(
      "ul",
      { class: "legend" },
      item("health-SERVING", "SERVING"),
      item("health-NOT_SERVING", "NOT_SERVING"),
      item("health-UNREACHABLE", "UNREACHABLE"),
      item("line-grpc", "gRPC call"),
      item("line-messages", "messages (a head per direction)"),
      item("breaker-closed", "breaker closed"),
      item("breaker-half-open", "half-open"),
      item("breaker-open", "open"),
      item("bulkhead-mark", "bulkhead: in flight / slots (+ queued)"),
    ),
  );
}

/**
 * Places the boxes: the entry (who calls and is called by no one) left, the saga's hub in the middle,
 * level with what it calls, the rest stacked on the right.
 * @param {MeshView} view
 * @param {LinkView[]} links
 * @returns {Map<string, Node>}
 */
function layout(view, links) {
  /** @type {Map<string, Node>} */
  const nodes = new Map();
  const add = (/** @type {string} */ name, /** @type {ServiceView | null} */ service) => {
    if (!nodes.has(name))
      nodes.set(name, { name, service, col: 2, hub: false, caption: "", x: 0, y: 0, w: OTHER_W, h: 0 });
  };
  for (const service of view.services) add(service.name, service);
  for (const link of links) {
    add(link.from, null);
    add(link.to, null);
  }
  const called = new Set(links.map((link) => link.to));
  let entries = [...nodes.values()].filter(
    (node) => !called.has(node.name) && links.some((link) => link.kind === "grpc" && link.from === node.name),
  );
  const gateway = nodes.get("gateway");
  if (entries.length === 0 && gateway) entries = [gateway];
  for (const node of entries) {
    node.col = 0;
    node.w = ENTRY_W;
    node.caption = "HTTP in, gRPC out";
  }

  // The hub: Order where there is one, otherwise whoever exchanges messages with the most services.
  let hub = nodes.get("order");
  if (!hub || hub.col === 0) {
    hub = undefined;
    let best = 0;
    for (const node of nodes.values()) {
      if (node.col === 0) continue;
      const partners = new Set(
        links
          .filter((link) => link.kind === "messages" && (link.from === node.name || link.to === node.name))
          .map((link) => (link.from === node.name ? link.to : link.from)),
      ).size;
      if (partners > best) {
        best = partners;
        hub = node;
      }
    }
  }
  if (hub) {
    hub.col = 1;
    hub.hub = true;
    hub.w = HUB_W;
    hub.caption =
      view.saga.mode === "orchestration"
        ? "the saga's orchestrator"
        : view.saga.mode === "choreography"
          ? "the saga's hub (choreography)"
          : "the saga's hub";
  }

  for (const node of nodes.values()) {
    const rows = node.service?.instances.reduce((sum, instance) => sum + instanceHeight(instance), 0) ?? 0;
    node.h = HEAD_H + (node.caption ? CAPTION_H : 0) + Math.max(ROW_H, rows) + PAD;
    if (node.hub) node.h = Math.max(node.h, HUB_MIN_H);
    if (node.col === 0) node.h = Math.max(node.h, ENTRY_MIN_H);
  }

  const x1 = MARGIN + ENTRY_W + GAP_LEFT;
  const x2 = x1 + HUB_W + GAP_RIGHT;
  const known = (/** @type {Node} */ node) => {
    const i = KNOWN_ORDER.indexOf(node.name);
    return i < 0 ? KNOWN_ORDER.length : i;
  };
  const right = [...nodes.values()]
    .filter((node) => node.col === 2)
    .sort(
      (a, b) =>
        known(a) - known(b) ||
        Number(a.service?.language === "go") - Number(b.service?.language === "go") ||
        a.name.localeCompare(b.name),
    );
  let y = 0;
  for (const node of right) {
    node.x = x2;
    node.y = y;
    y += node.h + V_GAP;
  }
  const center = (/** @type {Node} */ node) => node.y + node.h / 2;
  const mean = (/** @type {Node[]} */ list) => list.reduce((sum, node) => sum + center(node), 0) / list.length;
  let cy = right.length > 0 ? (y - V_GAP) / 2 : 0;
  if (hub) {
    const name = hub.name;
    const calls = right.filter((node) =>
      links.some((link) => link.kind === "grpc" && link.from === name && link.to === node.name),
    );
    const linked = right.filter((node) =>
      links.some(
        (link) => (link.from === name && link.to === node.name) || (link.to === name && link.from === node.name),
      ),
    );
    if (calls.length === 1) cy = center(calls[0]);
    else if (linked.length > 0) cy = mean(linked);
    hub.x = x1;
    hub.y = cy - hub.h / 2;
  }
  const entryHeight = entries.reduce((sum, node) => sum + node.h, 0) + V_GAP * Math.max(0, entries.length - 1);
  y = cy - entryHeight / 2;
  for (const node of entries) {
    node.x = MARGIN;
    node.y = y;
    y += node.h + V_GAP;
  }
  return nodes;
}

/**
 * The arrows: one per gRPC caller and target, one per pair of services that exchange messages.
 * @param {LinkView[]} links
 * @param {Map<string, Node>} nodes
 * @param {Map<string, CallerTarget>} pairByKey
 * @returns {Edge[]}
 */
function edgesOf(links, nodes, pairByKey) {
  /** @type {Map<string, Edge>} */
  const edges = new Map();
  for (const link of links) {
    const from = nodes.get(link.from);
    const to = nodes.get(link.to);
    if (!from || !to || from === to) continue;
    const fromFirst = from.col < to.col || (from.col === to.col && from.y <= to.y);
    const [a, b] = fromFirst ? [from, to] : [to, from];
    const key =
      link.kind === "grpc" ? `grpc\u0000${from.name}\u0000${to.name}` : `messages\u0000${a.name}\u0000${b.name}`;
    let edge = edges.get(key);
    if (!edge) {
      edge = {
        kind: link.kind,
        a,
        b,
        aToB: false,
        bToA: false,
        titles: [],
        shape:
          a.col === b.col
            ? "arc"
            : a.col === 0 && b.col === 2 && [...nodes.values()].some((n) => n.hub)
              ? "routed"
              : "direct",
        ya: 0,
        yb: 0,
        laneY: 0,
        bulge: 0,
        straight: 0,
        pair: link.kind === "grpc" ? pairByKey.get(`${link.from}\u0000${link.to}`) : undefined,
        badge: null,
      };
      edges.set(key, edge);
    }
    if (fromFirst) edge.aToB = true;
    else edge.bToA = true;
    edge.titles.push(
      link.kind === "grpc"
        ? `${link.from} calls ${link.to} over gRPC${link.via ? ` (${link.via})` : ""}`
        : `${link.to} reads ${link.via || "the messages"} that ${link.from} publishes`,
    );
  }
  return [...edges.values()];
}

/**
 * Lanes for the arrows that pass the hub, ports on the boxes' sides, and the badges by the gRPC arrows' heads.
 * @param {Edge[]} edges
 * @param {Map<string, Node>} nodes
 */
function route(edges, nodes) {
  const hub = [...nodes.values()].find((node) => node.hub);
  const hubRight = hub && hub.col === 1 ? hub.x + hub.w : 0;
  const center = (/** @type {Node} */ node) => node.y + node.h / 2;
  if (hub) {
    const routed = edges.filter((edge) => edge.shape === "routed");
    const above = routed.filter((edge) => center(edge.b) <= center(hub) + 1).sort((p, q) => center(q.b) - center(p.b));
    const below = routed.filter((edge) => center(edge.b) > center(hub) + 1).sort((p, q) => center(p.b) - center(q.b));
    above.forEach((edge, i) => {
      edge.laneY = hub.y - 14 - i * LANE_GAP;
    });
    below.forEach((edge, i) => {
      edge.laneY = hub.y + hub.h + 14 + i * LANE_GAP;
    });
  }

  /** @type {Map<string, Array<{ edge: Edge, end: "a" | "b", toward: number }>>} */
  const ports = new Map();
  const addPort = (/** @type {Edge} */ edge, /** @type {"a" | "b"} */ end, /** @type {string} */ side) => {
    const node = edge[end];
    const other = end === "a" ? edge.b : edge.a;
    const toward = edge.shape === "routed" ? edge.laneY : center(other);
    const key = `${node.name}\u0000${side}`;
    if (!ports.has(key)) ports.set(key, []);
    ports.get(key)?.push({ edge, end, toward });
  };
  for (const edge of edges) {
    addPort(edge, "a", "right");
    addPort(edge, "b", edge.shape === "arc" ? "right" : "left");
  }
  for (const [key, list] of ports) {
    const node = /** @type {Node} */ (nodes.get(key.split("\u0000")[0]));
    list.sort((p, q) => p.toward - q.toward || (p.edge.kind === q.edge.kind ? 0 : p.edge.kind === "messages" ? -1 : 1));
    const top = node.y + 8;
    const span = node.h - 16;
    list.forEach((port, i) => {
      const y = top + (span * (i + 1)) / (list.length + 1);
      if (port.end === "a") port.edge.ya = y;
      else port.edge.yb = y;
    });
  }
  // A gRPC arrow between boxes almost level runs straight.
  for (const edge of edges) {
    if (edge.kind === "grpc" && edge.shape === "direct" && Math.abs(edge.ya - edge.yb) <= 10) {
      const y = (edge.ya + edge.yb) / 2;
      edge.ya = y;
      edge.yb = y;
    }
  }
  // Arcs within a column: short ones inside, long ones outside.
  const arcs = edges
    .filter((edge) => edge.shape === "arc")
    .sort((p, q) => Math.abs(p.yb - p.ya) - Math.abs(q.yb - q.ya));
  arcs.forEach((edge, i) => {
    edge.bulge = 26 + 12 * i;
  });

  // Badges: by the head of each gRPC arrow, the ones into the same side in a row, the arrows that curve in
  // nearest the box (their last stretch is the one that is straight).
  /** @type {Map<string, Edge[]>} */
  const bySide = new Map();
  for (const edge of edges) {
    if (edge.kind !== "grpc") continue;
    const target = edge.aToB ? edge.b : edge.a;
    const key = `${target.name}\u0000${edge.aToB && edge.shape !== "arc" ? "left" : "right"}`;
    if (!bySide.has(key)) bySide.set(key, []);
    bySide.get(key)?.push(edge);
  }
  for (const list of bySide.values()) {
    list.sort(
      (p, q) =>
        Number(p.shape !== "routed") - Number(q.shape !== "routed") || Math.min(p.ya, p.yb) - Math.min(q.ya, q.yb),
    );
    let cursor = 0;
    for (const edge of list) {
      const built = badge(edge);
      if (edge.shape === "arc") {
        const x = edge.a.x + edge.a.w + edge.bulge + 6;
        edge.badge = { ...built, x, y: (edge.ya + edge.yb) / 2 - BADGE_H / 2 };
      } else if (edge.aToB) {
        const right = edge.b.x - 14 - cursor;
        // Never over the box the arrow comes from (or the lane's end, for an arrow around the hub).
        const x = Math.max(right - built.width, edge.a.x + edge.a.w + 10, edge.b.col === 2 ? hubRight + 36 : 0);
        cursor += built.width + 8;
        edge.straight = edge.b.x - x + 12;
        edge.badge = { ...built, x, y: edge.yb - BADGE_H / 2 };
      } else {
        const x = edge.a.x + edge.a.w + 14 + cursor;
        cursor += built.width + 8;
        edge.badge = { ...built, x, y: edge.ya - BADGE_H / 2 };
      }
    }
  }
}

/**
 * @param {Edge} edge
 * @param {Node | undefined} hub
 */
function pathOf(edge, hub) {
  const { a, b } = edge;
  if (edge.shape === "arc") {
    const x = a.x + a.w + 1;
    const bx = b.x + b.w + 1;
    const reach = Math.max(x, bx) + edge.bulge;
    return `M${x} ${edge.ya} C${reach} ${edge.ya} ${reach} ${edge.yb} ${bx} ${edge.yb}`;
  }
  const sx = a.x + a.w + 1;
  const ex = b.x - 1;
  const fx = ex - edge.straight;
  const tail = edge.straight > 0 ? ` L${ex} ${edge.yb}` : "";
  const curve = (
    /** @type {number} */ x0,
    /** @type {number} */ y0,
    /** @type {number} */ x3,
    /** @type {number} */ y3,
  ) => {
    const dx = (x3 - x0) / 2;
    return `C${x0 + dx} ${y0} ${x3 - dx} ${y3} ${x3} ${y3}`;
  };
  if (edge.shape === "routed" && hub) {
    const ax = hub.x - 28;
    const bx = hub.x + hub.w + 28;
    return `M${sx} ${edge.ya} ${curve(sx, edge.ya, ax, edge.laneY)} L${bx} ${edge.laneY} ${curve(bx, edge.laneY, fx, edge.yb)}${tail}`;
  }
  return `M${sx} ${edge.ya} ${curve(sx, edge.ya, fx, edge.yb)}${tail}`;
}

/**
 * @param {MeshView} view
 * @param {CallerTarget[]} pairs
 * @returns {SVGElement}
 */
function drawing(view, pairs) {
  const links = view.links.filter((link) => link.from !== link.to);
  const nodes = layout(view, links);
  const pairByKey = new Map(pairs.map((pair) => [`${pair.caller}\u0000${pair.target}`, pair]));
  const edges = edgesOf(links, nodes, pairByKey);
  route(edges, nodes);
  const hub = [...nodes.values()].find((node) => node.hub);

  const list = [...nodes.values()];
  let minY = Math.min(0, ...list.map((node) => node.y));
  let maxY = Math.max(80, ...list.map((node) => node.y + node.h));
  let maxX = Math.max(300, ...list.map((node) => node.x + node.w));
  for (const edge of edges) {
    if (edge.shape === "routed") {
      minY = Math.min(minY, edge.laneY - 4);
      maxY = Math.max(maxY, edge.laneY + 4);
    }
    if (edge.shape === "arc") maxX = Math.max(maxX, edge.a.x + edge.a.w + edge.bulge);
    if (edge.badge) maxX = Math.max(maxX, edge.badge.x + edge.badge.width);
  }
  const width = maxX + MARGIN;
  const top = minY - MARGIN;
  const height = maxY - minY + 2 * MARGIN;

  const root = svg("svg", {
    class: "topology-svg",
    viewBox: `0 ${top} ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-labelledby": "topology-svg-title",
    preserveAspectRatio: "xMidYMin meet",
  });
  root.append(
    svg("title", {
      id: "topology-svg-title",
      text: `Mesh drawing: ${plural(view.services.length, "node")}, ${plural(links.length, "link")}; the tables under Topology in detail say the same in words`,
    }),
    svg(
      "defs",
      null,
      marker("arrow-grpc", "arrow-grpc", 7),
      marker("arrow-grpc-hot", "arrow-grpc-hot", 6),
      marker("arrow-messages", "arrow-messages", 6),
    ),
  );
  if (nodes.size === 0) {
    root.append(svg("text", { x: MARGIN, y: 40, class: "svg-muted", text: "No services reported yet." }));
    return root;
  }

  const messageLayer = svg("g", { class: "edges edges-messages" });
  const grpcLayer = svg("g", { class: "edges edges-grpc" });
  const badgeLayer = svg("g", { class: "edge-badges" });
  for (const edge of edges) {
    const title = svg("title", { text: edge.titles.join("; ") });
    if (edge.kind === "messages") {
      messageLayer.append(
        svg(
          "path",
          {
            d: pathOf(edge, hub),
            class: "edge edge-messages",
            "marker-end": edge.aToB ? "url(#arrow-messages)" : false,
            "marker-start": edge.bToA ? "url(#arrow-messages)" : false,
            "data-link-kind": "messages",
          },
          title,
        ),
      );
      continue;
    }
    const hot = edge.pair?.breakers.some((breaker) => breaker.state === "open" || breaker.state === "half-open");
    const markerUrl = `url(#${hot ? "arrow-grpc-hot" : "arrow-grpc"})`;
    grpcLayer.append(
      svg(
        "path",
        {
          d: pathOf(edge, hub),
          class: hot ? "edge edge-grpc edge-hot" : "edge edge-grpc",
          "marker-end": edge.aToB ? markerUrl : false,
          "marker-start": edge.bToA ? markerUrl : false,
          "data-link-kind": "grpc",
        },
        title,
      ),
    );
    if (edge.badge) {
      edge.badge.group.setAttribute("transform", `translate(${edge.badge.x} ${edge.badge.y})`);
      badgeLayer.append(edge.badge.group);
    }
  }
  root.append(messageLayer, grpcLayer);
  for (const node of list) root.append(box(node));
  root.append(badgeLayer);
  return root;
}

/**
 * @param {string} id
 * @param {string} cls
 * @param {number} size
 */
function marker(id, cls, size) {
  return svg(
    "marker",
    {
      id,
      viewBox: "0 0 10 10",
      refX: "9",
      refY: "5",
      markerWidth: String(size),
      markerHeight: String(size),
      orient: "auto-start-reverse",
    },
    svg("path", { d: "M0 0 L10 5 L0 10 z", class: cls }),
  );
}

/**
 * A gRPC arrow's badge: the caller's breakers for the target's instances (a mark and the state in words)
 * and its bulkhead (a bar and calls in flight over slots, and the queue when there is one).
 * @param {Edge} edge
 * @returns {{ group: SVGElement, width: number }}
 */
function badge(edge) {
  const { pair } = edge;
  const caller = edge.aToB ? edge.a.name : edge.b.name;
  const target = edge.aToB ? edge.b.name : edge.a.name;
  const mid = BADGE_H / 2;
  const group = svg("g", { class: "edge-badge", "data-badge-caller": caller, "data-badge-target": target });
  const content = svg("g");
  let x = 7;
  const text = (/** @type {string} */ value, /** @type {string} */ cls) => {
    content.append(svg("text", { x, y: mid + 3.5, class: cls, text: value }));
    x += value.length * CHAR_W;
  };
  let worst = "closed";
  if (!pair) text("no stats", "badge-text badge-muted");
  else {
    if (pair.breakers.length === 0) text("no calls yet", "badge-text badge-muted");
    /** @type {Map<string, number>} */
    const byState = new Map();
    for (const breaker of pair.breakers) byState.set(breaker.state, (byState.get(breaker.state) ?? 0) + 1);
    const states = [...byState.keys()].sort((p, q) => (SEVERITY[p] ?? 9) - (SEVERITY[q] ?? 9));
    if (states.length > 0) {
      worst = states[0];
      const count = byState.get(worst) ?? 0;
      // A mark per target instance (its shape says its state), then the worst state in words.
      const breakers = [...pair.breakers].sort((p, q) => (SEVERITY[p.state] ?? 9) - (SEVERITY[q.state] ?? 9));
      for (const breaker of breakers) {
        content.append(breakerMark(breaker.state, x + 4, mid));
        x += 11;
      }
      x += 1;
      const all = pair.breakers.length;
      const words = states.length > 1 ? `${worst} ${count} of ${all}` : all > 1 ? `${worst} ×${all}` : worst;
      text(words, `badge-text breaker-text breaker-${worst}`);
    }
    x += 6;
    const { inFlight, capacity, queued } = pair.bulkhead;
    const fill = capacity > 0 ? Math.min(1, inFlight / capacity) : 0;
    const level = queued > 0 || fill >= 1 ? "full" : fill >= 0.75 ? "high" : "low";
    content.append(
      svg("rect", { x, y: mid - 3, width: 22, height: 6, rx: 2, class: "bulkhead-track" }),
      svg("rect", {
        x,
        y: mid - 3,
        width: inFlight > 0 ? Math.max(2, 22 * fill) : 0,
        height: 6,
        rx: 2,
        class: `bulkhead-fill bulkhead-${level}`,
      }),
    );
    x += 26;
    text(`${inFlight}/${capacity}`, "badge-text badge-num");
    if (queued > 0) text(` +${queued} q`, "badge-text badge-queued");
  }
  const width = Math.round(x + 6);
  group.append(svg("rect", { width, height: BADGE_H, rx: BADGE_H / 2, class: `edge-badge-bg badge-${worst}` }));
  group.append(content);
  const words = pair
    ? `${caller} → ${target}: breaker ${pair.breakers.map(breakerText).join(", ") || "none yet (no call so far)"}; bulkhead ${bulkheadText(pair.bulkhead)}`
    : `${caller} reports no stats for ${target}`;
  group.append(svg("title", { text: words }));
  return { group, width };
}

/**
 * A shape per breaker state, so that colour is not the only sign: closed a full dot, half-open a half,
 * open an empty ring.
 * @param {string} state
 * @param {number} cx
 * @param {number} cy
 */
function breakerMark(state, cx, cy) {
  const cls = `breaker-mark breaker-${state}`;
  if (state === "closed") return svg("circle", { cx, cy, r: 4, class: `${cls} filled` });
  if (state === "half-open")
    return svg(
      "g",
      { class: cls },
      svg("circle", { cx, cy, r: 4, class: "ring" }),
      svg("path", { d: `M${cx} ${cy - 4} A4 4 0 0 0 ${cx} ${cy + 4} z`, class: "filled" }),
    );
  return svg("circle", { cx, cy, r: 4, class: `${cls} ring` });
}

/**
 * @param {string} text
 * @param {number} max
 */
function truncate(text, max) {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/**
 * A service's box: its name, language and instances (each with its health).
 * @param {Node} node
 */
function box(node) {
  const { service } = node;
  const instances = service?.instances ?? [];
  const serving = instances.filter((instance) => instance.health === "SERVING").length;
  const tone = !service
    ? "external"
    : serving === instances.length && serving > 0
      ? "ok"
      : serving === 0
        ? "down"
        : "degraded";
  const group = svg("g", {
    class: `node node-${tone}${node.hub ? " node-hub" : ""}`,
    transform: `translate(${node.x} ${node.y})`,
    "data-node": node.name,
  });
  const w = node.w;
  group.append(svg("rect", { width: w, height: node.h, rx: 8, class: "node-box" }));
  group.append(svg("text", { x: 10, y: 19, class: "node-name", text: truncate(node.name, 18) }));
  if (service) {
    const lang = service.language === "go" ? "Go" : "TypeScript";
    const lw = service.language === "go" ? 30 : 66;
    group.append(
      svg("rect", { x: w - lw - 8, y: 6, width: lw, height: 16, rx: 8, class: `lang-badge lang-${service.language}` }),
      svg("text", { x: w - 8 - lw / 2, y: 17.5, "text-anchor": "middle", class: "lang-text", text: lang }),
    );
  }
  let top = HEAD_H;
  if (node.caption) {
    group.append(svg("text", { x: 10, y: top + 4, class: "node-caption", text: node.caption }));
    top += CAPTION_H;
  }
  if (!service) {
    group.append(svg("text", { x: 10, y: top + 12, class: "svg-small svg-muted", text: "not in the registry" }));
  } else if (instances.length === 0) {
    group.append(
      svg("text", { x: 10, y: top + 12, class: "svg-small health-text-UNREACHABLE", text: "no instance registered" }),
    );
  }
  for (const instance of instances) {
    const y = top + 12;
    top += instanceHeight(instance);
    const row = svg("g", { class: `instance health-${instance.health}`, "data-svg-instance": instance.instanceId });
    row.append(healthMark(instance.health, 15, y - 4));
    const healthW = instance.health.length * 7;
    row.append(
      svg("text", {
        x: 26,
        y,
        class: "instance-id",
        text: truncate(instance.instanceId, Math.floor((w - 26 - 16 - healthW) / MONO_W)),
      }),
    );
    row.append(
      svg("text", {
        x: w - 10,
        y,
        "text-anchor": "end",
        class: `health-text health-text-${instance.health}`,
        text: instance.health,
      }),
    );
    const notes = instanceNotes(instance);
    if (notes)
      row.append(
        svg("text", {
          x: 26,
          y: y + NOTE_H,
          class: "svg-small instance-note",
          text: truncate(notes, Math.floor((w - 40) / 6)),
        }),
      );
    const title = [`${instance.instanceId} at ${instance.address}: ${instance.health}`];
    if (instance.faults.length) title.push(`${plural(instance.faults.length, "fault")} set`);
    if (instance.statsError) title.push(`no stats: ${instance.statsError}`);
    row.append(svg("title", { text: title.join("; ") }));
    group.append(row);
  }
  return group;
}

/**
 * What an instance's row says under its name: its faults, its missing stats.
 * @param {InstanceView} instance
 */
function instanceNotes(instance) {
  const notes = [];
  if (instance.faults.length > 0) notes.push(`⚡ ${plural(instance.faults.length, "fault")}`);
  if (!instance.stats) notes.push(`no stats: ${instance.statsError ?? "no answer"}`);
  return notes.join(" · ");
}

/**
 * @param {InstanceView} instance
 */
function instanceHeight(instance) {
  return instanceNotes(instance) ? ROW_H + NOTE_H : ROW_H;
}

/**
 * @param {string} health
 * @param {number} cx
 * @param {number} cy
 */
function healthMark(health, cx, cy) {
  if (health === "SERVING") return svg("circle", { cx, cy, r: 4.5, class: "health-mark filled" });
  if (health === "NOT_SERVING") return svg("circle", { cx, cy, r: 4, class: "health-mark ring" });
  return svg("path", {
    d: `M${cx - 4} ${cy - 4} L${cx + 4} ${cy + 4} M${cx + 4} ${cy - 4} L${cx - 4} ${cy + 4}`,
    class: "health-mark cross",
  });
}

/**
 * @param {readonly ServiceView[]} services
 */
function instanceTable(services) {
  const body = el("tbody");
  for (const service of services) {
    if (service.instances.length === 0) {
      body.append(
        el(
          "tr",
          { "data-service-row": service.name },
          el("th", { scope: "row", text: service.name }),
          el("td", { text: service.language }),
          el("td", { colspan: 5, class: "muted", text: "no instance registered" }),
        ),
      );
    }
    for (const instance of service.instances) {
      const faults = instance.faults
        .map((fault) => `${fault.method === "*" ? "every method" : fault.method.split("/").pop()}`)
        .join(", ");
      body.append(
        el(
          "tr",
          { "data-instance-id": instance.instanceId, "data-service": service.name, "data-health": instance.health },
          el("th", { scope: "row", text: service.name }),
          el("td", { text: service.language }),
          el("td", { class: "mono", text: instance.instanceId }),
          el("td", { class: "mono", text: instance.address }),
          el("td", null, el("span", { class: `badge health-badge health-${instance.health}`, text: instance.health })),
          el("td", { text: faults || "none" }),
          el("td", {
            class: instance.stats ? "" : "error-text",
            text: instance.stats ? "reported" : (instance.statsError ?? "no stats"),
          }),
        ),
      );
    }
  }
  return el(
    "table",
    { class: "data-table" },
    el(
      "thead",
      null,
      el(
        "tr",
        null,
        ...["Service", "Language", "Instance", "Address", "Health", "Faults", "Stats"].map((name) =>
          el("th", { scope: "col", text: name }),
        ),
      ),
    ),
    body,
  );
}

/**
 * @param {CallerTarget[]} pairs
 */
function breakerTable(pairs) {
  if (pairs.length === 0) return el("p", { class: "empty", text: "No caller reports any gRPC target yet." });
  const body = el("tbody");
  for (const pair of pairs) {
    const breakers = el("ul", { class: "breaker-list" });
    for (const breaker of pair.breakers) {
      breakers.append(
        el(
          "li",
          {
            class: `breaker breaker-${breaker.state}`,
            "data-breaker": "",
            "data-caller": pair.caller,
            "data-target": pair.target,
            "data-target-instance": breaker.targetInstance,
            "data-state": breaker.state,
          },
          el("span", { class: "breaker-dot", "aria-hidden": "true" }),
          breakerText(breaker),
        ),
      );
    }
    if (pair.breakers.length === 0) breakers.append(el("li", { class: "muted", text: "none yet (no call so far)" }));
    const { policy } = pair;
    body.append(
      el(
        "tr",
        null,
        el("th", { scope: "row", text: pair.caller }),
        el("td", { text: pair.target }),
        el("td", null, breakers),
        el("td", { text: bulkheadText(pair.bulkhead) }),
        el("td", { class: "num", text: String(pair.retries) }),
        el("td", {
          text: `${formatMs(policy.deadlineMs)} deadline · ${plural(policy.maxAttempts, "attempt")} · breaker ${policy.breakerThreshold} failures / ${formatMs(policy.breakerHalfOpenAfterMs)}`,
        }),
      ),
    );
  }
  return el(
    "table",
    { class: "data-table" },
    el(
      "thead",
      null,
      el(
        "tr",
        null,
        ...["Caller", "Target", "Breaker per target instance", "Bulkhead", "Retries", "Policy"].map((name) =>
          el("th", { scope: "col", text: name }),
        ),
      ),
    ),
    body,
  );
}

/**
 * @param {readonly LinkView[]} links
 */
function linkList(links) {
  if (links.length === 0) return el("p", { class: "empty", text: "No links reported yet." });
  const list = el("ul", { class: "link-list" });
  for (const link of links) {
    list.append(
      el(
        "li",
        { "data-link-from": link.from, "data-link-to": link.to, "data-link-kind": link.kind },
        el("span", { class: `legend-mark line-${link.kind}`, "aria-hidden": "true" }),
        link.kind === "grpc"
          ? `${link.from} calls ${link.to} over gRPC${link.via ? ` (${link.via})` : ""}`
          : `${link.to} reads ${link.via || "the messages"} that ${link.from} publishes`,
      ),
    );
  }
  return list;
}
