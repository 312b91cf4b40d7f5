import type { MessageInitShape } from "@bufbuild/protobuf";
import { AdminService, type FaultSchema } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";

/*
 * The fault-injection AdminService every platform server carries, seen from the suite: it makes the
 * server fail or hang on GetMenu, and its fault's applied_count is the server's own tally of the
 * GetMenu calls that reached it, which is how the suite proves that a rejection sent nothing.
 */

/** The gRPC path a fault on GetMenu names. */
export const GET_MENU_PATH = `/${KitchenService.typeName}/${KitchenService.method.getMenu.name}`;

/** What SetFault takes, minus the method: every fault here is on GetMenu. */
export type GetMenuFault = Omit<MessageInitShape<typeof FaultSchema>, "method" | "$typeName">;

export interface FaultAdmin {
  /** Makes every GetMenu call from now on meet `fault`, replacing the one set before. */
  setFault(fault: GetMenuFault): Promise<void>;
  /** GetMenu calls the current fault has affected: with probability 1, every call that reached the server. */
  appliedCount(): Promise<number>;
  clearFaults(): Promise<void>;
  close(): void;
}

/** An AdminService client for the server at `address`, on a connection of its own. */
export function connectAdmin(address: string): FaultAdmin {
  const transport = createGrpcTransport({ address });
  const admin = createGrpcClient(AdminService, transport);
  return {
    async setFault(fault) {
      await admin.setFault({ fault: { ...fault, method: GET_MENU_PATH } });
    },
    async appliedCount() {
      const { faults } = await admin.listFaults({});
      const fault = faults.find((f) => f.method === GET_MENU_PATH);
      if (!fault) throw new Error(`the server has no fault on ${GET_MENU_PATH}`);
      return Number(fault.appliedCount);
    },
    async clearFaults() {
      await admin.clearFaults({});
    },
    close: () => transport.close(),
  };
}
