// Calling the gateway as a client does, over HTTP with fetch: sign in, a JSON request, an order placed. Plain
// functions with no test runner in them, so that scripts (scripts/screenshots.ts) use them as the tests do.
import { waitFor } from "@ftgo/platform/testing";

/**
 * A parsed JSON response body. Tests read it as the shape they expect and let the assertions judge it, as
 * a client would; a wrong shape fails an assertion, not the type-checker.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Body = any;

/** A dev token from the gateway's own sign-in. */
export async function signIn(url: string, who: { consumerId: string } | { role: "admin" }): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(who),
  });
  if (!response.ok) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
  const { accessToken } = (await response.json()) as { accessToken: string };
  return accessToken;
}

/** A JSON request with a bearer token; the parsed body (or null) with the response. */
export async function call(
  url: string,
  token: string | undefined,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Body }> {
  const headers: Record<string, string> = { ...init.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** POST /api/v1/orders: places the seed order (2× m-1 + 1× m-3 at r-1, or m-10 at r-2) through the gateway; its id. */
export async function placeOrderThroughGateway(url: string, token: string, restaurantId = "r-1"): Promise<string> {
  const lineItems =
    restaurantId === "r-2"
      ? [{ menuItemId: "m-10", quantity: 1 }]
      : [
          { menuItemId: "m-1", quantity: 2 },
          { menuItemId: "m-3", quantity: 1 },
        ];
  const { status, body } = await call(`${url}/api/v1/orders`, token, {
    method: "POST",
    body: { restaurantId, lineItems },
  });
  if (status !== 202) throw new Error(`placing an order: ${status} ${JSON.stringify(body)}`);
  return body.orderId;
}

/**
 * Signs in as `consumerId`, places the seed order through the gateway and waits until the gateway shows it
 * APPROVED: the whole path, edge to saga, in one call. Its id and the consumer's token.
 */
export async function orderApprovedThroughGateway(
  url: string,
  consumerId: string,
  timeoutMs = 30_000,
): Promise<{ orderId: string; token: string }> {
  const token = await signIn(url, { consumerId });
  const orderId = await placeOrderThroughGateway(url, token);
  await waitFor(async () => (await call(`${url}/api/v1/orders/${orderId}`, token)).body?.order?.state === "APPROVED", {
    timeoutMs,
    message: `order ${orderId} APPROVED through the gateway`,
  });
  return { orderId, token };
}
