import { createRequire } from "node:module";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Health } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ServerReflectionV1 } from "@ftgo/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "@ftgo/gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { MethodDefinition, Server, ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";

/** The standard services every server carries, described alongside its own. */
export const STANDARD_SERVICES: readonly DescService[] = [Health, ServerReflectionV1, ServerReflectionV1Alpha];

/** The one method of both reflection services: a bidirectional stream of requests and answers. */
const METHOD = "ServerReflectionInfo";

/**
 * Registers gRPC server reflection (v1 and v1alpha) describing `services` and the standard ones, so that
 * `grpcurl list` and `grpcurl describe` work against any port without a copy of the protos. The
 * descriptors come straight from the generated code: each service's file and everything it imports.
 *
 * Both services are registered at once, but what answers them is built on the first reflection call: building
 * it (serializing every file, @grpc/reflection decoding and indexing them once per version, proto-loader parsing
 * its two reflection .proto files) took 50–130 ms of every start on two cores, before the server could report
 * SERVING, for a service that a person with grpcurl asks now and then. The first call pays it instead, loading
 * @grpc/reflection too (with protobufjs and proto-loader, which nothing else a service starts with needs).
 */
export function addReflection(server: Server, services: readonly DescService[]): void {
  let built: Map<string, Registered> | undefined;
  const registered = (path: string): Registered => {
    built ??= buildReflection(services);
    const found = built.get(path);
    if (!found) throw new Error(`@grpc/reflection registered no ${path}`);
    return found;
  };
  for (const version of [ServerReflectionV1, ServerReflectionV1Alpha]) {
    const path = `/${version.typeName}/${METHOD}`;
    // The path and streaming are fixed by the standard; the (de)serializers and the handler are @grpc/reflection's,
    // looked up when the first call arrives.
    const method: MethodDefinition<unknown, unknown> = {
      path,
      requestStream: true,
      responseStream: true,
      requestSerialize: (value) => registered(path).method.requestSerialize(value),
      requestDeserialize: (bytes) => registered(path).method.requestDeserialize(bytes),
      responseSerialize: (value) => registered(path).method.responseSerialize(value),
      responseDeserialize: (bytes) => registered(path).method.responseDeserialize(bytes),
    };
    server.addService({ [METHOD]: method }, { [METHOD]: (call: unknown) => registered(path).handler(call) });
  }
}

/** One reflection method as @grpc/reflection would have registered it: its definition and its handler. */
interface Registered {
  readonly method: MethodDefinition<unknown, unknown>;
  readonly handler: (call: unknown) => void;
}

/**
 * @grpc/reflection's two services for `services`, keyed by method path: it registers them on a stand-in for a
 * server that only records what it is given.
 */
function buildReflection(services: readonly DescService[]): Map<string, Registered> {
  const packageDefinition = Object.fromEntries(
    [...services, ...STANDARD_SERVICES].map((service) => [
      service.typeName,
      { fileDescriptorProtos: withDependencies(service.file).map(serializeFile) },
    ]),
  );
  const registered = new Map<string, Registered>();
  const recorder = {
    addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation) {
      for (const [name, method] of Object.entries(definition)) {
        const handler = implementation[name] as (call: unknown) => void;
        registered.set(method.path, { method, handler: (call) => handler.call(implementation, call) });
      }
    },
  };
  // Loaded here, synchronously (it is CommonJS): the first reflection call is the first to need it.
  const { ReflectionService } = createRequire(import.meta.url)("@grpc/reflection") as typeof import("@grpc/reflection");
  // @grpc/reflection reads only `fileDescriptorProtos` from each entry of a proto-loader
  // PackageDefinition; building that shape ourselves skips proto-loader, which rewrites type names.
  new ReflectionService(packageDefinition as unknown as ConstructorParameters<typeof ReflectionService>[0]).addToServer(
    recorder as unknown as Server,
  );
  return registered;
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
