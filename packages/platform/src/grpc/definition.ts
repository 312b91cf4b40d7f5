import { type DescMethod, type DescService, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/**
 * What grpc-js needs to know about one method, read from its protobuf-es descriptor: the HTTP/2 path
 * `/<package.Service>/<Method>`, which sides stream, and how messages become bytes. Client and server
 * both use it, so the two cannot disagree about a path or an encoding.
 */
export function createMethodDefinition(method: DescMethod): MethodDefinition<Message, Message> {
  const kind = method.methodKind;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    originalName: method.localName,
    requestStream: kind === "client_streaming" || kind === "bidi_streaming",
    responseStream: kind === "server_streaming" || kind === "bidi_streaming",
    requestSerialize: (message) => asBuffer(toBinary(method.input, message)),
    requestDeserialize: (bytes) => fromBinary(method.input, bytes),
    responseSerialize: (message) => asBuffer(toBinary(method.output, message)),
    responseDeserialize: (bytes) => fromBinary(method.output, bytes),
  };
}

/**
 * A grpc-js ServiceDefinition for a protobuf-es service, keyed by the methods' proto names (`GetMenu`).
 * It takes the place of proto-loader: the generated descriptors already hold everything grpc-js needs.
 */
export function createServiceDefinition(service: DescService): ServiceDefinition {
  return Object.fromEntries(service.methods.map((method) => [method.name, createMethodDefinition(method)]));
}

/** grpc-js writes frames with Buffer methods; this shares the bytes instead of copying them. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
