import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
} from "@ftgo/gen/grpc/reflection/v1/reflection_pb.js";
import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { createMethodDefinition, type GrpcTransport, implement } from "../src/grpc/index.js";
import { fakeKitchen, useGrpc } from "./grpc-fixtures.js";

/** One request on the bidi ServerReflectionInfo stream, as grpcurl sends it, and its one response. */
async function reflect(
  transport: GrpcTransport,
  request: MessageInitShape<typeof ServerReflectionRequestSchema>,
): Promise<ServerReflectionResponse> {
  const { path, requestSerialize, responseDeserialize } = createMethodDefinition(
    ServerReflection.method.serverReflectionInfo,
  );
  const stream = transport.channel.makeBidiStreamRequest(path, requestSerialize, responseDeserialize, new Metadata(), {
    deadline: Date.now() + 5000,
  });
  stream.end(create(ServerReflectionRequestSchema, request));
  const responses: ServerReflectionResponse[] = [];
  for await (const response of stream) responses.push(response as ServerReflectionResponse);
  expect(responses).toHaveLength(1);
  return responses[0] as ServerReflectionResponse;
}

describe("serveGrpc reflection", () => {
  const grpc = useGrpc();

  it("lists the registered services, the admin API, health and both reflection versions", async () => {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);

    const response = await reflect(grpc.connect(server), { messageRequest: { case: "listServices", value: "" } });

    expect(response.messageResponse.case).toBe("listServicesResponse");
    const names =
      response.messageResponse.case === "listServicesResponse" ? response.messageResponse.value.service : [];
    expect(names.map(({ name }) => name).sort()).toEqual([
      "ftgo.admin.v1.AdminService",
      "ftgo.kitchen.v1.KitchenService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it("describes a service with the file that declares it and the files that file imports", async () => {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);

    const response = await reflect(grpc.connect(server), {
      messageRequest: { case: "fileContainingSymbol", value: "ftgo.kitchen.v1.KitchenService" },
    });

    expect(response.messageResponse.case).toBe("fileDescriptorResponse");
    const encoded =
      response.messageResponse.case === "fileDescriptorResponse"
        ? response.messageResponse.value.fileDescriptorProto
        : [];
    const files = encoded.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    const kitchen = files.find((file) => file.name === "ftgo/kitchen/v1/kitchen.proto");
    expect(kitchen?.package).toBe("ftgo.kitchen.v1");
    expect(kitchen?.service.map((service) => service.name)).toEqual(["KitchenService"]);
    // Every method of the generated descriptor, as the server's clients know it.
    expect(kitchen?.service[0]?.method.map((method) => method.name)).toEqual(KitchenService.methods.map((m) => m.name));
    expect(kitchen?.service[0]?.method.length).toBeGreaterThanOrEqual(3);
    expect(files.map((file) => file.name)).toEqual(
      expect.arrayContaining(["ftgo/common/v1/money.proto", "google/protobuf/timestamp.proto"]),
    );
  });
});
