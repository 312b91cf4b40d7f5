// One port for HTTP/1.1 and cleartext HTTP/2. gRPC needs HTTP/2, while curl, browsers and the REST API speak
// HTTP/1.1, and a cleartext Node HTTP/2 server does not fall back to HTTP/1.1 (allowHTTP1 needs TLS). So
// the gateway's server reads the first bytes of each connection: HTTP/2's connection preface starts with
// "PRI", which no HTTP/1.1 method does; such a connection goes to an HTTP/2 server, any other to the
// HTTP/1.1 one. Both hand their requests to fastify, so every route, /rpc included, is on both.
import http from "node:http";
import http2 from "node:http2";
import type { Socket } from "node:net";

/** "PRI * HTTP/2.0\r\n…": enough of HTTP/2's preface to tell it from any HTTP/1.1 request line. */
const PREFACE_START = Buffer.from("PRI");

/** A connection that sends nothing for this long is dropped before it is known to be HTTP/1.1 or HTTP/2. */
const SNIFF_TIMEOUT_MS = 30_000;

/** How often Node looks for HTTP/1.1 requests past their deadlines, at most: its own default. */
const MAX_CHECKING_INTERVAL_MS = 30_000;

/** What fastify passes a serverFactory, of what its own servers would use. */
export interface ServerFactoryOptions {
  readonly keepAliveTimeout?: number;
  readonly requestTimeout?: number;
  /** A socket with no traffic for this long is closed (0: never). */
  readonly connectionTimeout?: number;
  /**
   * The request line and headers must arrive within this (not a fastify option: the gateway adds it); also how
   * long a new connection may stay silent before it is known to be HTTP/1.1 or HTTP/2.
   */
  readonly headersTimeout?: number;
  /** An idle HTTP/2 session is closed after this long (fastify's default: 72 s). */
  readonly http2SessionTimeout?: number;
}

/**
 * A fastify `serverFactory`: an HTTP/1.1 server that passes HTTP/2 (prior knowledge) connections on to an
 * HTTP/2 server. Its `closeIdleConnections` also closes the HTTP/2 sessions (gracefully: their streams end
 * first), which fastify's close calls, so no HTTP/2 client keeps the port open.
 */
export function serveHttp1AndH2c(handler: http.RequestListener, options: ServerFactoryOptions = {}): http.Server {
  const { headersTimeout } = options;
  const h1 = http.createServer(
    // Node checks the header and request deadlines on a timer; a deadline of a few seconds needs a timer to match.
    headersTimeout === undefined
      ? {}
      : {
          connectionsCheckingInterval: Math.min(MAX_CHECKING_INTERVAL_MS, Math.max(50, Math.floor(headersTimeout / 4))),
        },
    handler,
  );
  if (options.keepAliveTimeout !== undefined) h1.keepAliveTimeout = options.keepAliveTimeout;
  if (options.requestTimeout !== undefined) h1.requestTimeout = options.requestTimeout;
  if (headersTimeout !== undefined) h1.headersTimeout = headersTimeout;
  if (options.connectionTimeout) h1.setTimeout(options.connectionTimeout);
  const sniffTimeoutMs = headersTimeout ?? SNIFF_TIMEOUT_MS;
  const h2 = http2.createServer(
    {},
    handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.setTimeout(options.http2SessionTimeout ?? 72_000, () => session.close());
  });
  const sniffing = new Set<Socket>();

  const [http1Connection] = h1.listeners("connection") as ((socket: Socket) => void)[];
  if (!http1Connection) throw new Error("node:http's server has no connection listener to defer to");
  h1.removeAllListeners("connection");
  h1.on("connection", (socket: Socket) => {
    sniffing.add(socket);
    socket.once("close", () => sniffing.delete(socket));
    sniff(socket, sniffTimeoutMs, (isHttp2) => {
      sniffing.delete(socket);
      if (isHttp2) h2.emit("connection", socket);
      else {
        http1Connection.call(h1, socket);
        socket.resume();
      }
    });
  });

  const closeIdleHttp1 = h1.closeIdleConnections.bind(h1);
  h1.closeIdleConnections = () => {
    closeIdleHttp1();
    for (const session of sessions) session.close();
    for (const socket of sniffing) socket.destroy();
  };
  return h1;
}

/** Waits for the connection's first bytes, puts them back, and says whether they open HTTP/2. */
function sniff(socket: Socket, timeoutMs: number, then: (isHttp2: boolean) => void): void {
  let head = Buffer.alloc(0);
  // Until a server owns the socket, its errors and its silence are handled here.
  const drop = () => socket.destroy();
  socket.on("error", drop);
  socket.setTimeout(timeoutMs, drop);
  const onReadable = () => {
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
      head = Buffer.concat([head, chunk]);
    }
    const decided = head.length >= PREFACE_START.length || socket.readableEnded;
    if (!decided) return;
    socket.off("readable", onReadable);
    socket.off("end", onReadable);
    socket.off("error", drop);
    socket.setTimeout(0);
    // Closed before saying anything (a TCP probe): no server gets it, or closing that server would wait for it.
    if (head.length === 0) return void socket.destroy();
    socket.unshift(head);
    then(head.subarray(0, PREFACE_START.length).equals(PREFACE_START));
  };
  socket.on("readable", onReadable);
  socket.on("end", onReadable);
}
