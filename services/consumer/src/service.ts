import type { ServiceImpl } from "@connectrpc/connect";
import type { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { NotFoundError } from "@ftgo/platform";
import type { ConsumerStore } from "./store.js";

export interface ConsumerDeps {
  readonly store: ConsumerStore;
}

/** The gRPC handlers of Consumer Service. */
export function createConsumerService({ store }: ConsumerDeps): ServiceImpl<typeof ConsumerService> {
  return {
    getConsumer(req) {
      const consumer = store.findConsumer(req.consumerId);
      if (!consumer) throw new NotFoundError(`consumer ${req.consumerId} not found`);
      return { consumer };
    },
  };
}
