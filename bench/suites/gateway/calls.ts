import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { DeliveryState } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import type { LoyaltyService } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import type { MeshClients } from "@ftgo/harness/mesh-clients.js";
import { waitFor } from "@ftgo/platform/testing";
import { checkMenu, MENU_REQUEST } from "../unary/menu.js";
import type { HttpClient, HttpResponse } from "./http.js";

/*
 * The calls the suite times, each checked once in full before it is timed (figures of a wrong answer
 * measure nothing) and cheaply on every timed call: a status, and `x-cache: miss`, the gateway's own word
 * that the call went through to the services. The direct calls use the platform client over one
 * transport per service, as an outside caller of the mesh would (@ftgo/harness/mesh-clients.ts).
 */

/** One way of getting the same answer, as the load generator drives it. */
export interface Contender {
  readonly name: string;
  readonly label: string;
  readonly call: () => Promise<unknown>;
  /** Through the gateway: the suite reads the gateway's CPU time over its windows. */
  readonly viaGateway?: boolean;
}

/** The direct clients the suite compares the gateway with: the mesh's services, and Loyalty beside them. */
export interface DirectClients extends MeshClients {
  readonly loyalty: Client<typeof LoyaltyService>;
}

export const MENU_PATH = "/api/v1/restaurants/r-1/menu";
const SEED_MENU = "Pho bo, Banh mi, Ca phe sua da";

/** GET the menu through the gateway vs KitchenService.GetMenu straight to Kitchen; the direct call first. */
export async function menuContenders(http: HttpClient, direct: DirectClients): Promise<Contender[]> {
  const viaGateway = () => passedThrough(http.request("GET", MENU_PATH), MENU_PATH);
  const body = JSON.parse((await viaGateway()).body) as { menuItems?: { name?: string }[] };
  const names = (body.menuItems ?? []).map((item) => item.name).join(", ");
  if (names !== SEED_MENU) throw new Error(`GET ${MENU_PATH} answered items [${names}]`);
  checkMenu(await direct.kitchen.getMenu(MENU_REQUEST));
  return [
    { name: "direct-menu", label: "KitchenService.GetMenu, direct", call: () => direct.kitchen.getMenu(MENU_REQUEST) },
    { name: "gateway-menu", label: `GET ${MENU_PATH}, gateway`, call: viaGateway, viaGateway: true },
  ];
}

/** c-1001's order at r-1 (the seed's approved path), placed through the gateway and settled. */
export interface SettledOrder {
  readonly orderId: string;
  /** Bearer token of c-1001, from the gateway's development sign-in. */
  readonly token: string;
}

const CONSUMER_ID = "c-1001";

export async function placeApprovedOrder(http: HttpClient): Promise<SettledOrder> {
  const signIn = await http.request("POST", "/api/v1/auth/token", { json: { consumerId: CONSUMER_ID } });
  if (signIn.status !== 200) throw new Error(`sign-in: ${signIn.status} ${signIn.body}`);
  const { accessToken: token } = JSON.parse(signIn.body) as { accessToken: string };
  const placed = await http.request("POST", "/api/v1/orders", {
    headers: { authorization: `Bearer ${token}` },
    json: {
      restaurantId: "r-1",
      lineItems: [
        { menuItemId: "m-1", quantity: 2 },
        { menuItemId: "m-3", quantity: 1 },
      ],
    },
  });
  if (placed.status !== 202) throw new Error(`placing an order: ${placed.status} ${placed.body}`);
  const { orderId } = JSON.parse(placed.body) as { orderId: string };
  await waitFor(
    async () => {
      const details = await http.request("GET", `/api/v1/orders/${orderId}`, { headers: bearer(token) });
      return details.status === 200 && isApproved(JSON.parse(details.body));
    },
    { timeoutMs: 30_000, intervalMs: 50, message: `order ${orderId} to be APPROVED with its ticket and payment` },
  );
  return { orderId, token };
}

/** What the composed view looks like once the order's Create Order saga is over. */
interface Details {
  order?: { state?: string };
  ticket?: { state?: string } | null;
  payment?: { state?: string } | null;
  delivery?: { state?: string } | null;
  points?: { state?: string } | null;
  unavailable?: string[];
}

/** Approved, with its ticket, its payment and (Loyalty has seen the approval) its points. */
const isApproved = (details: Details) =>
  details.order?.state === "APPROVED" &&
  Boolean(details.ticket) &&
  Boolean(details.payment) &&
  Boolean(details.points) &&
  (details.unavailable ?? []).length === 0;

export interface DetailsContenders {
  /** GET the order's composed details through the gateway. */
  readonly composed: Contender;
  /**
   * The same five calls made in parallel from here, no gateway: what fanning out costs on this machine
   * by itself (five service processes woken at once share its cores), apart from the gateway's own work.
   */
  readonly fanOut: Contender;
  /** Each call the gateway makes for the view, straight to its service. */
  readonly legs: readonly Contender[];
  /** What Delivery answered: NOT_FOUND while the order has no delivery, accepted (and timed) as the gateway's leg does. */
  readonly deliveryAnswer: string;
}

/** The composed view and what it is made of, each checked once. */
export async function detailsContenders(
  http: HttpClient,
  direct: DirectClients,
  { orderId, token }: SettledOrder,
): Promise<DetailsContenders> {
  const path = `/api/v1/orders/${orderId}`;
  const headers = bearer(token);
  const composed = () => passedThrough(http.request("GET", path, { headers }), path);
  const details = JSON.parse((await composed()).body) as Details;
  if (!isApproved(details)) {
    throw new Error(`GET ${path} answered ${JSON.stringify(details)}`);
  }
  const request = { orderId };
  const delivery = () => direct.delivery.getDelivery(request).catch(notFoundIsAnAnswer);
  const legs: Contender[] = [
    { name: "leg-order", label: "OrderService.GetOrder, direct", call: () => direct.order.getOrder(request) },
    { name: "leg-ticket", label: "KitchenService.GetTicket, direct", call: () => direct.kitchen.getTicket(request) },
    {
      name: "leg-payment",
      label: "AccountingService.GetAuthorization, direct",
      call: () => direct.accounting.getAuthorization(request),
    },
    { name: "leg-delivery", label: "DeliveryService.GetDelivery, direct", call: delivery },
    {
      name: "leg-points",
      label: "LoyaltyService.GetOrderPoints, direct",
      call: () => direct.loyalty.getOrderPoints(request),
    },
  ];
  for (const leg of legs) await leg.call(); // each answers before any is timed
  const answered = await delivery();
  const deliveryAnswer =
    answered === NOT_FOUND ? "NOT_FOUND" : `a delivery, ${DeliveryState[answered.delivery?.state ?? 0]}`;
  return {
    composed: { name: "gateway-details", label: "GET /api/v1/orders/{id}, gateway", call: composed, viaGateway: true },
    fanOut: {
      name: "direct-fan-out",
      label: `the ${legs.length} calls in parallel, direct`,
      call: () => Promise.all(legs.map((leg) => leg.call())),
    },
    legs,
    deliveryAnswer,
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const NOT_FOUND = Symbol("NOT_FOUND");

function notFoundIsAnAnswer(thrown: unknown): typeof NOT_FOUND {
  if (thrown instanceof ConnectError && thrown.code === Code.NotFound) return NOT_FOUND;
  throw thrown;
}

/** The response, if it is a 200 the gateway did not serve from its cache; anything else fails the run. */
async function passedThrough(pending: Promise<HttpResponse>, path: string): Promise<HttpResponse> {
  const response = await pending;
  if (response.status !== 200 || response.headers["x-cache"] !== "miss") {
    throw new Error(
      `GET ${path}: ${response.status}, x-cache ${response.headers["x-cache"]}: ${response.body.slice(0, 300)}`,
    );
  }
  return response;
}
