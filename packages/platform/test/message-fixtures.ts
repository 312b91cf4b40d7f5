import type { MessageInitShape } from "@bufbuild/protobuf";
import type { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";

/**
 * An OrderCreated that keeps every limit its contract declares: the consumer dead-letters one that does
 * not, so a test about delivery, not about limits, publishes this.
 */
export function anOrderCreated(orderId: string): MessageInitShape<typeof OrderCreatedSchema> {
  return { orderId, consumerId: "c-1001", restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] };
}
