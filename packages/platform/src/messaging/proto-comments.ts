// The comments written above a message, field or enum in its .proto file. The proto comments are the
// API documentation; documents generated from the descriptors (AsyncAPI) take their descriptions from
// here, so that nothing is written twice. Only descriptors that kept their source info have them: those
// of a `buf build` image do; the ones embedded in gen/ do not (protoc-gen-es drops source info), and
// for them every answer is undefined.
import type { DescEnum, DescEnumValue, DescField, DescMessage } from "@bufbuild/protobuf";

type Described = DescMessage | DescEnum | DescEnumValue | DescField;

// Field numbers in FileDescriptorProto / DescriptorProto / EnumDescriptorProto: the source-info path of
// a declaration is the chain of (field number, index) pairs that leads to it.
const FILE_MESSAGE = 4;
const FILE_ENUM = 5;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED = 3;
const MESSAGE_ENUM = 4;
const ENUM_VALUE = 2;

/** The leading comment of `desc`, one space of indentation removed from each line; undefined if none. */
export function leadingComment(desc: Described): string | undefined {
  const file = fileOf(desc);
  const locations = file.proto.sourceCodeInfo?.location;
  if (!locations) return undefined;
  const path = pathOf(desc).join(",");
  const location = locations.find((candidate) => candidate.path.join(",") === path);
  const text = location?.leadingComments
    .split("\n")
    .map((line) => line.replace(/^ /, "").trimEnd())
    .join("\n")
    .trim();
  return text ? text : undefined;
}

function fileOf(desc: Described) {
  return desc.kind === "enum_value" ? desc.parent.file : desc.kind === "field" ? desc.parent.file : desc.file;
}

function pathOf(desc: Described): number[] {
  switch (desc.kind) {
    case "message":
      return desc.parent
        ? [...pathOf(desc.parent), MESSAGE_NESTED, desc.parent.proto.nestedType.indexOf(desc.proto)]
        : [FILE_MESSAGE, desc.file.proto.messageType.indexOf(desc.proto)];
    case "enum":
      return desc.parent
        ? [...pathOf(desc.parent), MESSAGE_ENUM, desc.parent.proto.enumType.indexOf(desc.proto)]
        : [FILE_ENUM, desc.file.proto.enumType.indexOf(desc.proto)];
    case "enum_value":
      return [...pathOf(desc.parent), ENUM_VALUE, desc.parent.proto.value.indexOf(desc.proto)];
    case "field":
      return [...pathOf(desc.parent), MESSAGE_FIELD, desc.parent.proto.field.indexOf(desc.proto)];
  }
}
