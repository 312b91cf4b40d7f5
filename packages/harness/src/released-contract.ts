// A released contract, as the code built from it saw it. `proto/releases/v<version>.binpb` is the buf image of
// the .proto files as they were released (`npm run contracts:release`): every file, compiled, without source
// info. Loaded here into a protobuf-es registry, it hands out the descriptors a client or consumer generated
// from that release would have carried, so a test can be that old code: encode and decode with what it knew,
// call today's servers with its service descriptors, and skip what it never heard of. Nothing here reads
// gen/, which is today's contract.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFileRegistry, type FileRegistry, fromBinary, type Message } from "@bufbuild/protobuf";
import type { GenMessage, GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/** Where the release images are committed. */
export const RELEASES_DIR = fileURLToPath(new URL("../../../proto/releases", import.meta.url));

const IMAGE_NAME = /^v(\d+)\.(\d+)\.(\d+)\.binpb$/;

/** A type name the caller asked for is not in the release: the old code could not have used it. */
export class UnreleasedTypeError extends Error {
  override readonly name = "UnreleasedTypeError";
}

/** One release of the contract: its version and the descriptors of every type it declared. */
export interface ReleasedContract {
  /** The version without its `v`, e.g. `1.0.0`. */
  readonly version: string;
  /** Every file of the image, imports included (protovalidate, well-known types). */
  readonly registry: FileRegistry;
  /**
   * The released descriptor of a message. `Shape` is what the old generated code declared for it (the
   * caller writes it down, as protoc-gen-es once did), so the test reads fields by name; the descriptor,
   * and so every encode and decode, comes from the image alone.
   */
  message<Shape extends Message = Message>(typeName: string): GenMessage<Shape>;
  /** The released descriptor of a service, for connect-es's `createClient`; `Methods` as for `message`. */
  service<Methods extends GenServiceMethods = GenServiceMethods>(typeName: string): GenService<Methods>;
  /** The number a released enum gave to `valueName`, e.g. `ORDER_STATE_APPROVED` → 2. */
  enumValue(enumTypeName: string, valueName: string): number;
}

/** The versions released so far, oldest first: the `v<major>.<minor>.<patch>.binpb` files of `dir`. */
export function releasedVersions(dir: string = RELEASES_DIR): string[] {
  return readdirSync(dir)
    .map((name) => IMAGE_NAME.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [Number(match[1]), Number(match[2]), Number(match[3])] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2])
    .map((parts) => parts.join("."));
}

/** The newest released version; throws when nothing was released yet. */
export function latestReleasedVersion(dir: string = RELEASES_DIR): string {
  const latest = releasedVersions(dir).at(-1);
  if (latest === undefined) throw new Error(`no release image (v<major>.<minor>.<patch>.binpb) in ${dir}`);
  return latest;
}

/**
 * Loads the image of release `version` (`1.0.0` or `v1.0.0`) from `dir`. The image is a FileDescriptorSet
 * in binary; a registry built from it resolves every type by its full name, as the old code did.
 */
export function loadReleasedContract(version: string, dir: string = RELEASES_DIR): ReleasedContract {
  const bare = version.replace(/^v/, "");
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(join(dir, `v${bare}.binpb`)));
  const registry = createFileRegistry(set);
  const missing = (kind: string, typeName: string) =>
    new UnreleasedTypeError(`${kind} ${typeName} is not in release v${bare}`);
  return {
    version: bare,
    registry,
    message<Shape extends Message>(typeName: string) {
      const desc = registry.getMessage(typeName);
      if (!desc) throw missing("message", typeName);
      // The same cast generated code makes: the shape is the old code's declaration of this descriptor.
      return desc as unknown as GenMessage<Shape>;
    },
    service<Methods extends GenServiceMethods>(typeName: string) {
      const desc = registry.getService(typeName);
      if (!desc) throw missing("service", typeName);
      return desc as unknown as GenService<Methods>;
    },
    enumValue(enumTypeName: string, valueName: string) {
      const desc = registry.getEnum(enumTypeName);
      if (!desc) throw missing("enum", enumTypeName);
      const value = desc.values.find((v) => v.name === valueName);
      if (!value) throw missing("enum value", `${enumTypeName}.${valueName}`);
      return value.number;
    },
  };
}
