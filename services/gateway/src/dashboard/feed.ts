// The dashboard's live feed: while at least one page watches, the gateway reads the mesh and Order
// Service's orders once per tick and hands every page its view (the orders that changed since that page's
// last view). No page watching, no polling: an idle dashboard costs the mesh nothing.
import type { Logger } from "@ftgo/platform";
import { chartsOf } from "./charts.js";
import type { MeshPicture } from "./mesh-view.js";
import type { OrderHistory } from "./order-history.js";
import type { LoadView, MeshView } from "./view.js";

/** How often the mesh is read while a page watches. */
export const TICK_MS = 1_000;

export interface DashboardFeed {
  /** Calls `onView` with a view at once (every order in it), then after every tick, until unsubscribed. */
  subscribe(onView: (view: MeshView) => void): () => void;
  stop(): void;
}

export interface FeedSources {
  readonly mesh: () => Promise<MeshPicture>;
  readonly orders: OrderHistory;
  readonly load: () => LoadView | null;
  readonly log: Logger;
}

interface Watcher {
  readonly onView: (view: MeshView) => void;
  /** The order history's version this page has seen. */
  seen: number;
}

export function createDashboardFeed(sources: FeedSources): DashboardFeed {
  const watchers = new Set<Watcher>();
  let picture: MeshPicture = { services: [], links: [], saga: { mode: "unknown" } };
  /** Worked out once per tick, for every page: the history is the same for all. */
  let charts = chartsOf([], Date.now());
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const viewFor = (watcher: Watcher): MeshView => {
    const { rows, dropped, version } = sources.orders.changesSince(watcher.seen);
    watcher.seen = version;
    return {
      at: new Date().toISOString(),
      saga: picture.saga,
      services: picture.services,
      links: picture.links,
      orders: rows,
      droppedOrderIds: dropped,
      charts,
      load: sources.load(),
    };
  };
  const send = (watcher: Watcher) => {
    try {
      watcher.onView(viewFor(watcher));
    } catch (err) {
      sources.log.warn({ err }, "dashboard: a page's view could not be sent");
    }
  };
  /** Reads the mesh and the orders; a part that cannot be read keeps its last state, and says so in the log. */
  const tick = async () => {
    const [mesh, orders] = await Promise.allSettled([sources.mesh(), sources.orders.poll()]);
    if (mesh.status === "fulfilled") picture = mesh.value;
    else sources.log.warn({ err: mesh.reason }, "dashboard: the mesh could not be read");
    if (orders.status === "rejected")
      sources.log.warn({ err: orders.reason }, "dashboard: the orders could not be read");
    charts = chartsOf(sources.orders.rows(), Date.now());
  };
  const loop = () => {
    timer = undefined;
    if (stopped || watchers.size === 0) return;
    running = tick().then(() => {
      running = undefined;
      for (const watcher of watchers) send(watcher);
      if (!stopped && watchers.size > 0) timer = setTimeout(loop, TICK_MS);
    });
  };

  return {
    subscribe(onView) {
      const watcher: Watcher = { onView, seen: 0 };
      watchers.add(watcher);
      // The first page starts the ticks; a later one gets what the last tick read, at once.
      if (!running && !timer) loop();
      else if (!running) send(watcher);
      return () => {
        watchers.delete(watcher);
        if (watchers.size === 0 && timer) {
          clearTimeout(timer);
          timer = undefined;
        }
      };
    },
    stop() {
      stopped = true;
      watchers.clear();
      if (timer) clearTimeout(timer);
    },
  };
}
