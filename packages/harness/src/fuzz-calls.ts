// Raw gRPC calls for fuzzing: any bytes sent as the request message, on a real HTTP/2 connection, to a
// method named by its path. grpc-js's generic Client with identity serializers sends the bytes as they
// are, so a server meets exactly what a buggy or hostile client in any language could send it.
import type { DescMethod } from "@bufbuild/protobuf";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";

/** How a call ended: its status (OK once a server stream has sent its first message) and message. */
export interface RawAnswer {
  readonly code: status;
  readonly details: string;
}

export interface RawCallOptions {
  /** The call's deadline; a server that does not answer by then counts as hanging. Default 10 s. */
  readonly deadlineMs?: number;
}

const identity = (bytes: Buffer) => bytes;

/** A client of every method of the server at `address`, for `callRaw`. Close it with `close()`. */
export function rawClient(address: string): Client {
  return new Client(address, credentials.createInsecure());
}

/** The gRPC path of a method, as it goes on the wire: "/ftgo.kitchen.v1.KitchenService/GetMenu". */
export function grpcPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * Sends `bytes` as the request of `method` and resolves with how the call ended; never rejects. A unary
 * call ends with its status; a server stream is cancelled after its first message (answer OK) or ends with
 * the status it fails with. Client streaming and bidi methods are not sent (the mesh has none).
 */
export function callRaw(
  client: Client,
  method: DescMethod,
  bytes: Uint8Array,
  { deadlineMs = 10_000 }: RawCallOptions = {},
): Promise<RawAnswer> {
  const path = grpcPath(method);
  const argument = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const options = { deadline: Date.now() + deadlineMs };
  return new Promise((resolve) => {
    const failed = (err: ServiceError) => resolve({ code: err.code, details: err.details });
    if (method.methodKind === "unary") {
      client.makeUnaryRequest(path, identity, identity, argument, new Metadata(), options, (err) =>
        err ? failed(err) : resolve({ code: status.OK, details: "" }),
      );
      return;
    }
    if (method.methodKind !== "server_streaming") {
      resolve({ code: status.UNIMPLEMENTED, details: `fuzz-calls: ${method.methodKind} methods are not sent` });
      return;
    }
    const call = client.makeServerStreamRequest(path, identity, identity, argument, new Metadata(), options);
    let answered = false;
    call.on("data", () => {
      if (answered) return;
      answered = true;
      resolve({ code: status.OK, details: "" });
      call.cancel();
    });
    // After our own cancel() the call errors with CANCELLED; by then it has answered.
    call.on("error", (err: ServiceError) => {
      if (!answered) failed(err);
      answered = true;
    });
    call.on("end", () => {
      if (!answered) resolve({ code: status.OK, details: "" });
      answered = true;
    });
  });
}
