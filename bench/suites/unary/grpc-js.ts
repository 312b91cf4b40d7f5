import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type GetMenuRequest,
  GetMenuRequestSchema,
  type GetMenuResponse,
  GetMenuResponseSchema,
} from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import {
  Client,
  credentials,
  type handleUnaryCall,
  type MethodDefinition,
  Server,
  ServerCredentials,
} from "@grpc/grpc-js";
import { HOST, MAX_MESSAGE_BYTES, type MenuClient, type MenuServer } from "./contenders.js";
import { MENU_REQUEST, MENU_RESPONSE } from "./menu.js";

/*
 * (b) The baseline: grpc-js with nothing in between — a hand-built method definition, a callback
 * handler, `makeUnaryRequest`. Messages are encoded exactly as the platform encodes them (protobuf-es,
 * bytes shared with a Buffer, not copied), so the difference to (a) is the platform's own work.
 */

const channelOptions = {
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
};

const getMenu: MethodDefinition<GetMenuRequest, GetMenuResponse> = {
  path: "/ftgo.kitchen.v1.KitchenService/GetMenu",
  requestStream: false,
  responseStream: false,
  requestSerialize: (message) => asBuffer(toBinary(GetMenuRequestSchema, message)),
  requestDeserialize: (bytes) => fromBinary(GetMenuRequestSchema, bytes),
  responseSerialize: (message) => asBuffer(toBinary(GetMenuResponseSchema, message)),
  responseDeserialize: (bytes) => fromBinary(GetMenuResponseSchema, bytes),
};

const handleGetMenu: handleUnaryCall<GetMenuRequest, GetMenuResponse> = (_call, callback) =>
  callback(null, MENU_RESPONSE);

export async function serve(): Promise<MenuServer> {
  const server = new Server(channelOptions);
  server.addService({ GetMenu: getMenu }, { GetMenu: handleGetMenu });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${HOST}:0`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return { port, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

export function connect(address: string): MenuClient {
  const client = new Client(address, credentials.createInsecure(), channelOptions);
  return {
    getMenu: () =>
      new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          getMenu.path,
          getMenu.requestSerialize,
          getMenu.responseDeserialize,
          MENU_REQUEST,
          (err, response) => (err ? reject(err) : resolve(response as GetMenuResponse)),
        ),
      ),
    close: () => client.close(),
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
