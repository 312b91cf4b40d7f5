import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Delivery, DeliverySchema, DeliveryState } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { openDatabase } from "@ftgo/platform";

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

/** Delivery Service's own database. Nobody else reads it. */
export interface DeliveryStore {
  findDelivery(orderId: string): Delivery | undefined;
  close(): void;
}

/** Opens the delivery database at `file`, creating the schema on first start. */
export function openDeliveryStore(file: string): DeliveryStore {
  const db = openDatabase(file, MIGRATIONS);
  const byOrder = db.prepare<[string], DeliveryRow>("SELECT * FROM deliveries WHERE order_id = ?");
  return {
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
