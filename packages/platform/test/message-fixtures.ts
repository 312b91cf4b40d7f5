import type { MessageInitShape } from "@bufbuild/protobuf";
import { OrderApprovedSchema, type OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { openDatabase } from "../src/db.js";
import { createOutbox } from "../src/messaging/outbox.js";

/**
 * An OrderCreated that keeps every limit its contract declares: the consumer dead-letters one that does
 * not, so a test about delivery, not about limits, publishes this.
 */
export function anOrderCreated(orderId: string): MessageInitShape<typeof OrderCreatedSchema> {
  return { orderId, consumerId: "c-1001", restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] };
}

/**
 * A service database in `file` with an outbox, and `approve(orderId)`: one transaction appending an
 * OrderApproved for that order, returning its message id. The caller closes `db`.
 */
export function openOutboxStore(file: string) {
  const db = openDatabase(file, []);
  const outbox = createOutbox(db);
  const approve = (orderId: string) =>
    db.transaction(() => outbox.append(OrderApprovedSchema, { orderId }, { correlationId: orderId }))();
  return { db, outbox, approve };
}
