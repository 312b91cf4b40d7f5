// The topology: an SVG drawing of the services, their instances and links (gRPC calls solid, message
// channels dashed, each gRPC call labelled with the caller's breakers and bulkhead), and the same as
// tables and a list.

import { el, replaceChildren, svg } from "./dom.js";
import { formatMs, plural } from "./format.js";
import { breakerText, bulkheadText, callerTargets } from "./mesh.js";

/** @typedef {import("./types.js").MeshView} MeshView */
/** @typedef {import("./types.js").ServiceView} ServiceView */
/** @typedef {import("./types.js").LinkView} LinkView */
/** @typedef {import("./types.js").InstanceView} InstanceView */
/** @typedef {import("./mesh.js").CallerTarget} CallerTarget */

const BOX_W = 204;
const GAP = 196;
const HEAD_H = 30;
const ROW_H = 20;
const PAD = 8;
const V_GAP = 18;
const MARGIN = 16;
const ARC = 56;

/**
 * @typedef {object} Node
 * @property {string} name
 * @property {ServiceView | null} service null: only named by a link
 * @property {number} col
 * @property {number} x
 * @property {number} y
 * @property {number} h
 */

/**
 * @typedef {object} Edge
 * @property {LinkView} link
 * @property {Node} from
 * @property {Node} to
 * @property {"left" | "right"} fromSide
 * @property {"left" | "right"} toSide
 * @property {number} y1
 * @property {number} y2
 * @property {number} arc how far a same-column edge bulges right
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
      item("line-messages", "message channel"),
      item("breaker-closed", "breaker closed"),
      item("breaker-half-open", "half-open"),
      item("breaker-open", "open"),
    ),
  );
}

/**
 * Places the nodes in columns: a breadth-first walk along the links from where they start, so callers and
 * publishers stand left of those they call and feed.
 * @param {MeshView} view
 * @returns {{ nodes: Map<string, Node>, columns: Node[][] }}
 */
function layout(view) {
  /** @type {Map<string, Node>} */
  const nodes = new Map();
  const add = (/** @type {string} */ name, /** @type {ServiceView | null} */ service) => {
    if (!nodes.has(name)) nodes.set(name, { name, service, col: -1, x: 0, y: 0, h: 0 });
  };
  for (const service of view.services) add(service.name, service);
  const links = view.links.filter((link) => link.from !== link.to);
  for (const link of links) {
    add(link.from, null);
    add(link.to, null);
  }
  /** @type {Map<string, Set<string>>} */
  const out = new Map();
  const incoming = new Map();
  for (const name of nodes.keys()) {
    out.set(name, new Set());
    incoming.set(name, 0);
  }
  for (const link of links) {
    out.get(link.from)?.add(link.to);
    incoming.set(link.to, incoming.get(link.to) + 1);
  }
  const names = [...nodes.keys()];
  const outDegree = (/** @type {string} */ name) => out.get(name)?.size ?? 0;
  let roots = names.filter((name) => incoming.get(name) === 0 && outDegree(name) > 0);
  if (roots.length === 0) {
    const grpcCallers = names.filter(
      (name) =>
        links.some((link) => link.kind === "grpc" && link.from === name) &&
        !links.some((link) => link.kind === "grpc" && link.to === name),
    );
    const pool = grpcCallers.length > 0 ? grpcCallers : names.filter((name) => outDegree(name) > 0);
    pool.sort((a, b) => outDegree(b) - outDegree(a) || a.localeCompare(b));
    roots = pool.slice(0, 1);
  }
  /** @type {string[]} */
  const queue = [];
  for (const root of roots) {
    const node = nodes.get(root);
    if (node) {
      node.col = 0;
      queue.push(root);
    }
  }
  while (queue.length > 0) {
    const name = /** @type {string} */ (queue.shift());
    const col = /** @type {Node} */ (nodes.get(name)).col;
    for (const next of out.get(name) ?? []) {
      const node = /** @type {Node} */ (nodes.get(next));
      if (node.col === -1) {
        node.col = col + 1;
        queue.push(next);
      }
    }
  }
  const reached = [...nodes.values()].filter((node) => node.col >= 0);
  const maxCol = reached.reduce((max, node) => Math.max(max, node.col), 0);
  const unreached = [...nodes.values()].filter((node) => node.col < 0).sort((a, b) => a.name.localeCompare(b.name));
  if (reached.length === 0) {
    // No links at all: a grid, three to a column.
    unreached.forEach((node, i) => {
      node.col = Math.floor(i / 3);
    });
  } else {
    for (const node of unreached) node.col = Math.max(1, maxCol);
  }

  /** @type {Node[][]} */
  const columns = [];
  for (const node of nodes.values()) {
    const rows = node.service?.instances.reduce((sum, instance) => sum + instanceHeight(instance), 0) ?? 0;
    node.h = HEAD_H + Math.max(ROW_H, rows) + PAD;
    if (!columns[node.col]) columns[node.col] = [];
    columns[node.col].push(node);
  }
  for (let c = 0; c < columns.length; c++) columns[c] ??= [];
  // Order each column by where its neighbours to the left stand, to keep arrows from crossing.
  columns.forEach((column, c) => {
    if (c === 0) column.sort((a, b) => outDegree(b) - outDegree(a) || a.name.localeCompare(b.name));
    else {
      const rank = new Map(columns[c - 1].map((node, i) => [node.name, i]));
      const weight = (/** @type {Node} */ node) => {
        const left = links
          .filter((link) => link.to === node.name && rank.has(link.from))
          .map((link) => /** @type {number} */ (rank.get(link.from)));
        return left.length ? left.reduce((sum, i) => sum + i, 0) / left.length : Number.POSITIVE_INFINITY;
      };
      column.sort((a, b) => weight(a) - weight(b) || a.name.localeCompare(b.name));
    }
  });
  const heights = columns.map((column) => column.reduce((sum, node) => sum + node.h, 0) + V_GAP * (column.length - 1));
  const tallest = Math.max(0, ...heights);
  columns.forEach((column, c) => {
    let y = MARGIN + (tallest - heights[c]) / 2;
    for (const node of column) {
      node.x = MARGIN + c * (BOX_W + GAP);
      node.y = y;
      y += node.h + V_GAP;
    }
  });
  return { nodes, columns };
}

/**
 * Where each link leaves and enters its boxes: the ends on one side of a box spread over its height,
 * sorted by where the other end is, so arrows fan out instead of piling up.
 * @param {LinkView[]} links
 * @param {Map<string, Node>} nodes
 * @returns {Edge[]}
 */
function route(links, nodes) {
  /** @type {Edge[]} */
  const edges = [];
  const sameColumn = new Map();
  for (const link of links) {
    const from = nodes.get(link.from);
    const to = nodes.get(link.to);
    if (!from || !to || from === to) continue;
    /** @type {"left" | "right"} */
    let fromSide = "right";
    /** @type {"left" | "right"} */
    let toSide = "left";
    let arc = 0;
    if (from.col > to.col) {
      fromSide = "left";
      toSide = "right";
    } else if (from.col === to.col) {
      toSide = "right";
      const n = sameColumn.get(from.col) ?? 0;
      sameColumn.set(from.col, n + 1);
      arc = ARC + 14 * n;
    }
    edges.push({ link, from, to, fromSide, toSide, y1: 0, y2: 0, arc });
  }
  /** @type {Map<string, Array<{ edge: Edge, end: "from" | "to", other: number }>>} */
  const ports = new Map();
  for (const edge of edges) {
    for (const end of /** @type {const} */ (["from", "to"])) {
      const node = edge[end];
      const other = end === "from" ? edge.to : edge.from;
      const key = `${node.name}\u0000${end === "from" ? edge.fromSide : edge.toSide}`;
      if (!ports.has(key)) ports.set(key, []);
      ports.get(key)?.push({ edge, end, other: other.y + other.h / 2 });
    }
  }
  for (const [key, list] of ports) {
    const node = /** @type {Node} */ (nodes.get(key.split("\u0000")[0]));
    list.sort(
      (a, b) =>
        a.other - b.other ||
        a.edge.link.kind.localeCompare(b.edge.link.kind) ||
        (a.end === b.end ? 0 : a.end === "from" ? -1 : 1),
    );
    const top = node.y + 10;
    const span = node.h - 20;
    list.forEach((port, i) => {
      const y = top + (span * (i + 1)) / (list.length + 1);
      if (port.end === "from") port.edge.y1 = y;
      else port.edge.y2 = y;
    });
  }
  return edges;
}

/**
 * @param {MeshView} view
 * @param {CallerTarget[]} pairs
 * @returns {SVGElement}
 */
function drawing(view, pairs) {
  const { nodes, columns } = layout(view);
  const links = view.links.filter((link) => link.from !== link.to);
  const edges = route(links, nodes);
  const maxArc = edges.reduce((max, edge) => Math.max(max, edge.arc), 0);
  const width = MARGIN * 2 + columns.length * BOX_W + Math.max(0, columns.length - 1) * GAP + maxArc;
  const height = Math.max(120, ...[...nodes.values()].map((node) => node.y + node.h + MARGIN));

  const root = svg("svg", {
    class: "topology-svg",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": "topology-svg-title",
    preserveAspectRatio: "xMidYMin meet",
  });
  root.append(
    svg("title", {
      id: "topology-svg-title",
      text: `Mesh drawing: ${plural(view.services.length, "node")}, ${plural(links.length, "link")}; the tables below say the same in words`,
    }),
    svg(
      "defs",
      null,
      marker("arrow-grpc", "arrow-grpc"),
      marker("arrow-messages", "arrow-messages"),
      marker("arrow-grpc-hot", "arrow-grpc-hot"),
    ),
  );
  if (nodes.size === 0) {
    root.append(svg("text", { x: MARGIN, y: 40, class: "svg-muted", text: "No services reported yet." }));
    return root;
  }

  const pairByKey = new Map(pairs.map((pair) => [`${pair.caller}\u0000${pair.target}`, pair]));
  const edgeLayer = svg("g", { class: "edges" });
  const labelLayer = svg("g", { class: "edge-labels" });
  /** @type {Map<string, number>} how many labels already stand beside a box side */
  const labelsAt = new Map();
  for (const edge of edges) {
    const { link } = edge;
    const x1 = edge.fromSide === "right" ? edge.from.x + BOX_W : edge.from.x;
    const x2 = edge.toSide === "right" ? edge.to.x + BOX_W + 6 : edge.to.x - 6;
    const { y1, y2 } = edge;
    let d;
    if (edge.arc > 0) d = `M${x1} ${y1} C${x1 + edge.arc} ${y1} ${x2 + edge.arc} ${y2} ${x2} ${y2}`;
    else {
      const dx = Math.max(40, Math.abs(x2 - x1) * 0.45);
      const s = edge.fromSide === "right" ? 1 : -1;
      d = `M${x1} ${y1} C${x1 + s * dx} ${y1} ${x2 - s * dx} ${y2} ${x2} ${y2}`;
    }
    const pair = link.kind === "grpc" ? pairByKey.get(`${link.from}\u0000${link.to}`) : undefined;
    const hot = pair?.breakers.some((breaker) => breaker.state === "open" || breaker.state === "half-open");
    const kindClass = link.kind === "grpc" ? (hot ? "edge-grpc edge-hot" : "edge-grpc") : "edge-messages";
    const markerId = link.kind === "grpc" ? (hot ? "arrow-grpc-hot" : "arrow-grpc") : "arrow-messages";
    edgeLayer.append(
      svg(
        "path",
        { d, class: `edge ${kindClass}`, "marker-end": `url(#${markerId})`, "data-link-kind": link.kind },
        svg("title", {
          text:
            link.kind === "grpc"
              ? `${link.from} calls ${link.to} (gRPC${link.via ? `: ${link.via}` : ""})`
              : `${link.to} reads ${link.via || "the messages"} that ${link.from} publishes`,
        }),
      ),
    );
    if (link.kind === "grpc") {
      const key = `${edge.to.name}\u0000${edge.toSide}`;
      const index = labelsAt.get(key) ?? 0;
      labelsAt.set(key, index + 1);
      labelLayer.append(edgeLabel(edge, x2, pair, index));
    }
  }
  root.append(edgeLayer);
  for (const node of nodes.values()) root.append(box(node));
  root.append(labelLayer);
  return root;
}

/**
 * @param {string} id
 * @param {string} cls
 */
function marker(id, cls) {
  return svg(
    "marker",
    {
      id,
      viewBox: "0 0 10 10",
      refX: "9",
      refY: "5",
      markerWidth: "7",
      markerHeight: "7",
      orient: "auto-start-reverse",
    },
    svg("path", { d: "M0 0 L10 5 L0 10 z", class: cls }),
  );
}

/**
 * The caller's breakers and bulkhead beside the end of a gRPC arrow.
 * @param {Edge} edge
 * @param {number} x2 where the arrow ends
 * @param {CallerTarget | undefined} pair
 * @param {number} index labels already beside this box side
 */
function edgeLabel(edge, x2, pair, index) {
  const lines = pair
    ? [
        {
          text: `bulkhead ${pair.bulkhead.inFlight}/${pair.bulkhead.capacity} · ${pair.bulkhead.queued} queued`,
          cls: "svg-small",
        },
        ...pair.breakers.map((breaker) => ({
          text: shortBreakerText(breaker),
          cls: `breaker-text breaker-${breaker.state}`,
          state: breaker.state,
        })),
      ]
    : [{ text: `${edge.link.from} reports no stats for it`, cls: "svg-small svg-muted" }];
  if (pair && pair.breakers.length === 0)
    lines.push({ text: "no breaker yet (no call so far)", cls: "svg-small svg-muted" });
  const width = 172;
  const lineH = 15;
  const height = lines.length * lineH + 8;
  const x = edge.toSide === "left" ? x2 - width - 10 : x2 + 10;
  let y = edge.y2 - height - 4 - index * (height + 4);
  y = Math.max(2, y);
  const group = svg("g", { class: "edge-label", transform: `translate(${x} ${y})` });
  group.append(svg("rect", { width, height, rx: 4, class: "edge-label-bg" }));
  lines.forEach((line, i) => {
    const baseline = 4 + lineH * (i + 1) - 3;
    if ("state" in line) {
      group.append(breakerMark(line.state ?? "unknown", 8, baseline - 4));
      group.append(
        svg(
          "text",
          { x: 16, y: baseline, class: line.cls, text: truncate(line.text, 27) },
          svg("title", { text: line.text }),
        ),
      );
    } else group.append(svg("text", { x: 6, y: baseline, class: line.cls, text: truncate(line.text, 31) }));
  });
  return group;
}

/**
 * A breaker in few words for the drawing: "kitchen-1 open", "kitchen-1 open at 1 of 2".
 * @param {import("./mesh.js").BreakerSummary} breaker
 */
function shortBreakerText(breaker) {
  const worst = breaker.byCaller.filter((entry) => entry.state === breaker.state).length;
  const all = breaker.byCaller.length;
  return `${breaker.targetInstance} ${breaker.state}${worst < all ? ` at ${worst} of ${all}` : ""}`;
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
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A service's box: its name, language and instances.
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
    class: `node node-${tone}`,
    transform: `translate(${node.x} ${node.y})`,
    "data-node": node.name,
  });
  group.append(svg("rect", { width: BOX_W, height: node.h, rx: 8, class: "node-box" }));
  group.append(svg("text", { x: 10, y: 20, class: "node-name", text: truncate(node.name, 18) }));
  if (service) {
    const lang = service.language === "go" ? "Go" : "TypeScript";
    group.append(
      svg("rect", { x: BOX_W - 80, y: 7, width: 70, height: 17, rx: 8, class: `lang-badge lang-${service.language}` }),
      svg("text", { x: BOX_W - 45, y: 19.5, "text-anchor": "middle", class: "lang-text", text: lang }),
    );
  }
  if (!service) {
    group.append(svg("text", { x: 10, y: HEAD_H + 14, class: "svg-small svg-muted", text: "not in the registry" }));
  } else if (instances.length === 0) {
    group.append(
      svg("text", {
        x: 10,
        y: HEAD_H + 14,
        class: "svg-small health-text-UNREACHABLE",
        text: "no instance registered",
      }),
    );
  }
  let top = HEAD_H;
  for (const instance of instances) {
    const y = top + 14;
    top += instanceHeight(instance);
    const row = svg("g", { class: `instance health-${instance.health}`, "data-svg-instance": instance.instanceId });
    row.append(healthMark(instance.health, 16, y - 4));
    row.append(svg("text", { x: 28, y, class: "instance-id", text: truncate(instance.instanceId, 14) }));
    row.append(
      svg("text", {
        x: BOX_W - 10,
        y,
        "text-anchor": "end",
        class: `health-text health-text-${instance.health}`,
        text: instance.health,
      }),
    );
    const notes = instanceNotes(instance);
    if (notes)
      row.append(svg("text", { x: 28, y: y + 13, class: "svg-small instance-note", text: truncate(notes, 30) }));
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
  return instanceNotes(instance) ? ROW_H + 13 : ROW_H;
}

/**
 * @param {string} health
 * @param {number} cx
 * @param {number} cy
 */
function healthMark(health, cx, cy) {
  if (health === "SERVING") return svg("circle", { cx, cy, r: 5, class: "health-mark filled" });
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
