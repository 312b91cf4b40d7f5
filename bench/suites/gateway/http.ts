import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";

/*
 * The suite's HTTP client of the gateway: node:http over a keep-alive Agent. Node 20's `fetch` (the
 * bundled undici, behind WHATWG streams and Headers) spends noticeably more of this process's time per
 * call, and the suite wants its load generator to be the cheap end, so that the figures are the
 * gateway's. The body is read to its end and kept as a string; nothing is parsed unless a check asks.
 */

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpClient {
  request(
    method: "GET" | "POST",
    path: string,
    options?: { headers?: Record<string, string>; json?: unknown },
  ): Promise<HttpResponse>;
  close(): void;
}

/** A client of `baseUrl` ("http://host:port") holding up to `connections` sockets open between calls. */
export function createHttpClient(baseUrl: string, connections: number): HttpClient {
  const { hostname, port } = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  return {
    request(method, path, { headers = {}, json } = {}) {
      const payload = json === undefined ? undefined : JSON.stringify(json);
      const allHeaders = payload === undefined ? headers : { ...headers, "content-type": "application/json" };
      return new Promise((resolve, reject) => {
        const req = httpRequest({ agent, hostname, port, method, path, headers: allHeaders }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.once("error", reject);
          res.once("end", () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
          );
        });
        req.once("error", reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}
