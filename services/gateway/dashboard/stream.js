// The live view: GET /dashboard/api/stream as Server-Sent Events (`event: view`), reopened when it closes.

/** @typedef {import("./types.js").MeshView} MeshView */

/**
 * @typedef {object} StreamHandlers
 * @property {(view: MeshView, full: boolean) => void} onView `full`: the first event of a (re)opened
 *   stream, which carries every order the gateway keeps, so the page replaces its list.
 * @property {(state: "live" | "reconnecting", detail: string) => void} onState
 * @property {(error: Error) => void} onError
 */

const MAX_BACKOFF_MS = 15_000;

/**
 * Opens the stream and keeps it open: the browser reconnects on its own after a dropped connection; when
 * it gives up (a non-200 answer, the gateway restarting), this opens a new EventSource after a backoff.
 * @param {string} url
 * @param {StreamHandlers} handlers
 * @returns {{ close: () => void }}
 */
export function openStream(url, handlers) {
  /** @type {EventSource | null} */
  let source = null;
  let fresh = true;
  let backoff = 1000;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let closed = false;

  const connect = () => {
    if (closed) return;
    source = new EventSource(url, { withCredentials: true });
    fresh = true;
    source.addEventListener("open", () => {
      fresh = true;
      backoff = 1000;
      handlers.onState("live", "Live");
    });
    source.addEventListener("view", (event) => {
      let view;
      try {
        view = JSON.parse(/** @type {MessageEvent<string>} */ (event).data);
      } catch (err) {
        handlers.onError(new Error(`A view event is not JSON: ${err instanceof Error ? err.message : err}`));
        return;
      }
      const full = fresh;
      fresh = false;
      handlers.onState("live", "Live");
      handlers.onView(view, full);
    });
    source.addEventListener("error", () => {
      if (!source) return;
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        source = null;
        const wait = backoff;
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        handlers.onState("reconnecting", `Reconnecting in ${Math.round(wait / 1000)} s…`);
        timer = setTimeout(connect, wait);
      } else {
        // The browser reconnects by itself; the next event after it does is a full one again.
        fresh = true;
        handlers.onState("reconnecting", "Reconnecting…");
      }
    });
  };

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}
