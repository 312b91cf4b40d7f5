import type { ServiceImpl } from "@connectrpc/connect";
import type { AccountingService } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { NotFoundError } from "@ftgo/platform";
import type { AccountingStore } from "./store.js";

export interface AccountingDeps {
  readonly store: AccountingStore;
}

/** The gRPC handlers of Accounting Service. */
export function createAccountingService({ store }: AccountingDeps): ServiceImpl<typeof AccountingService> {
  return {
    getAuthorization(req) {
      const authorization = store.findAuthorization(req.orderId);
      if (!authorization) throw new NotFoundError(`no authorization for order ${req.orderId}`);
      return { authorization };
    },
  };
}
