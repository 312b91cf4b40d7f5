import type { ServiceImpl } from "@connectrpc/connect";
import type { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { NotFoundError } from "@ftgo/platform";
import type { DeliveryStore } from "./store.js";

export interface DeliveryDeps {
  readonly store: DeliveryStore;
}

/** The gRPC handlers of Delivery Service. */
export function createDeliveryService({ store }: DeliveryDeps): ServiceImpl<typeof DeliveryService> {
  return {
    getDelivery(req) {
      const delivery = store.findDelivery(req.orderId);
      if (!delivery) throw new NotFoundError(`no delivery for order ${req.orderId}`);
      return { delivery };
    },
  };
}
