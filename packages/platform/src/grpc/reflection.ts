import type { DescFile, DescService } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Health } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ServerReflectionV1 } from "@ftgo/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "@ftgo/gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { Server } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";

/** The standard services every server carries, described alongside its own. */
export const STANDARD_SERVICES: readonly DescService[] = [Health, ServerReflectionV1, ServerReflectionV1Alpha];

/**
 * Registers gRPC server reflection (v1 and v1alpha) describing `services` and the standard ones, so that
 * `grpcurl list` and `grpcurl describe` work against any port without a copy of the protos. The
 * descriptors come straight from the generated code: each service's file and everything it imports.
 */
export function addReflection(server: Server, services: readonly DescService[]): void {
  const packageDefinition = Object.fromEntries(
    [...services, ...STANDARD_SERVICES].map((service) => [
      service.typeName,
      { fileDescriptorProtos: withDependencies(service.file).map(serializeFile) },
    ]),
  );
  // @grpc/reflection reads only `fileDescriptorProtos` from each entry of a proto-loader
  // PackageDefinition; building that shape ourselves skips proto-loader, which rewrites type names.
  new ReflectionService(packageDefinition as unknown as ConstructorParameters<typeof ReflectionService>[0]).addToServer(
    server,
  );
}

/** A file and its transitive imports, each once, imports first. */
function withDependencies(file: DescFile, seen = new Set<string>()): DescFile[] {
  if (seen.has(file.name)) return [];
  seen.add(file.name);
  return [...file.dependencies.flatMap((dependency) => withDependencies(dependency, seen)), file];
}

function serializeFile(file: DescFile): Buffer {
  return Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto));
}
