import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Delivery, DeliverySchema, DeliveryState } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { createOutbox, type Database, type Outbox, openDatabase } from "@ftgo/platform";

const MIGRATIONS = [
  `CREATE TABLE deliveries (
     order_id                TEXT PRIMARY KEY,
     restaurant_id           TEXT NOT NULL,
     state                   TEXT NOT NULL,
     courier_id              TEXT NOT NULL DEFAULT '',
     estimated_delivery_time INTEGER
   );`,
];

interface DeliveryRow {
  order_id: string;
  restaurant_id: string;
  state: keyof typeof DeliveryState;
  courier_id: string;
  estimated_delivery_time: number | null;
}

/** Delivery Service's own database: deliveries, the outbox and the processed-messages table. */
export interface DeliveryStore {
  readonly db: Database;
  readonly outbox: Outbox;
  findDelivery(orderId: string): Delivery | undefined;
  close(): void;
}

/** Opens the delivery database at `file`, creating the schema on first start. */
export function openDeliveryStore(file: string, options: { partitions?: number } = {}): DeliveryStore {
  const db = openDatabase(file, MIGRATIONS);
  const outbox = createOutbox(db, options);
  const byOrder = db.prepare<[string], DeliveryRow>("SELECT * FROM deliveries WHERE order_id = ?");
  return {
    db,
    outbox,
    findDelivery(orderId) {
      const row = byOrder.get(orderId);
      return (
        row &&
        create(DeliverySchema, {
          orderId: row.order_id,
          restaurantId: row.restaurant_id,
          state: DeliveryState[row.state],
          courierId: row.courier_id,
          estimatedDeliveryTime:
            row.estimated_delivery_time === null ? undefined : timestampFromMs(row.estimated_delivery_time),
        })
      );
    },
    close: () => db.close(),
  };
}
