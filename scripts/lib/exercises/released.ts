// The released contract as descriptors: what a client built from the release image knows. An image is a
// FileDescriptorSet on the wire (buf's extra fields are skipped), so protobuf-es reads it as one.
import { readFileSync } from "node:fs";
import { createFileRegistry, type DescMessage, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

export function releasedRegistry(imagePath: string): Registry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(imagePath)));
}

/** A message of the release, by full name; throws when the release has no such message. */
export function releasedMessage(imagePath: string, typeName: string): DescMessage {
  const desc = releasedRegistry(imagePath).getMessage(typeName);
  if (!desc) throw new Error(`the release ${imagePath} has no message ${typeName}`);
  return desc;
}
