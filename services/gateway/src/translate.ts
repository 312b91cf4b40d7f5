// Protocol translation: REST/JSON at the edge, protobuf over gRPC behind it. Both directions go through
// the protobuf JSON mapping (fromJson/toJson) of the messages themselves, so a field added to a .proto
// appears in the REST API without gateway code, and a body that does not fit the message is refused with
// the field named. One REST convention on top: enum values lose their type prefix (`ORDER_STATE_APPROVED`
// is `APPROVED`), everywhere, in both the answers and the OpenAPI document.
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  fromJson,
  type JsonObject,
  type JsonValue,
  type MessageShape,
  toJson,
} from "@bufbuild/protobuf";
import { invalidArgument } from "./errors.js";

/** A request message from its JSON form; anything that does not fit (unknown field, wrong type) is a 400. */
export function toRequest<Desc extends DescMessage>(schema: Desc, json: JsonValue): MessageShape<Desc> {
  try {
    return fromJson(schema, json, { ignoreUnknownFields: false });
  } catch (error) {
    throw invalidArgument(error instanceof Error ? error.message : String(error));
  }
}

/** A response message as the REST API shows it: every field present, enum values without their prefix. */
export function toRest<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): JsonObject {
  const json = toJson(schema, message, { alwaysEmitImplicit: true }) as JsonObject;
  return presentMessage(schema, json);
}

/** `ORDER_STATE_APPROVED` → `APPROVED`: the enum's value names without the prefix they all share. */
export function restEnumName(desc: DescEnum, protoName: string): string {
  return desc.values.find((value) => value.name === protoName)?.localName ?? protoName;
}

/** Well-known types keep their own JSON form (a Timestamp is an RFC 3339 string). */
export const isWellKnown = (desc: DescMessage) => desc.typeName.startsWith("google.protobuf.");

function presentMessage(schema: DescMessage, json: JsonObject): JsonObject {
  const out: JsonObject = { ...json };
  for (const field of schema.fields) {
    const value = json[field.jsonName];
    if (value !== undefined && value !== null) out[field.jsonName] = presentField(field, value);
  }
  return out;
}

function presentField(field: DescField, value: JsonValue): JsonValue {
  switch (field.fieldKind) {
    case "enum":
      return restEnumName(field.enum, String(value));
    case "message":
      return isWellKnown(field.message) ? value : presentMessage(field.message, value as JsonObject);
    case "list": {
      const items = value as JsonValue[];
      if (field.listKind === "enum") return items.map((item) => restEnumName(field.enum, String(item)));
      if (field.listKind === "message" && !isWellKnown(field.message)) {
        const desc = field.message;
        return items.map((item) => presentMessage(desc, item as JsonObject));
      }
      return items;
    }
    default:
      return value;
  }
}
