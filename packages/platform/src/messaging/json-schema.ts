// A message type as JSON Schema: the shape of its protobuf JSON form (the proto3 JSON mapping), for
// documents that describe messages to people and to tools that cannot read .proto files. On the wire
// our bodies are protobuf binary; the JSON form is what `toJson`, grpcurl and the gateway show of the
// same message, field for field. So the schema follows the mapping, not TypeScript: a 64-bit integer is
// a string, an enum is its value's name, a Timestamp an RFC 3339 string. The limits a field's contract
// declares (`buf.validate`) become maxLength, pattern, minItems… so a reader sees the rule the services
// enforce. Everything here is read from the descriptors; nothing is written per message.
import type { DescEnum, DescField, DescMessage, JsonObject } from "@bufbuild/protobuf";
import { getOption, hasOption, isFieldSet, ScalarType } from "@bufbuild/protobuf";
import {
  field as fieldRules,
  Ignore,
  RepeatedRulesSchema,
  StringRulesSchema,
} from "@ftgo/gen/buf/validate/validate_pb.js";
import { leadingComment } from "./proto-comments.js";

/** A JSON Schema (draft 07, the core of an AsyncAPI schema object). */
export type JsonSchema = JsonObject;

/**
 * Collects the schemas of message and enum types under their full protobuf names, each once, so that
 * fields refer to them with `$ref` (a type may refer to itself). `refPrefix` is where the document
 * keeps them, e.g. `#/components/schemas/`.
 */
export interface SchemaCollector {
  /** A `$ref` to the type's schema, adding it (and every type it uses) to the collection. */
  ref(desc: DescMessage | DescEnum): JsonSchema;
  /** Every collected schema, by type name, sorted by name. */
  schemas(): Record<string, JsonSchema>;
}

export function createSchemaCollector(refPrefix: string): SchemaCollector {
  const collected = new Map<string, JsonSchema>();
  const ref = (desc: DescMessage | DescEnum): JsonSchema => {
    if (desc.kind === "message" && WELL_KNOWN[desc.typeName]) return WELL_KNOWN[desc.typeName] as JsonSchema;
    if (!collected.has(desc.typeName)) {
      collected.set(desc.typeName, {}); // first a placeholder: a message may refer to itself
      collected.set(desc.typeName, desc.kind === "enum" ? enumSchema(desc) : messageSchema(desc, ref));
    }
    return { $ref: `${refPrefix}${desc.typeName}` };
  };
  return {
    ref,
    schemas: () => Object.fromEntries([...collected].sort(([a], [b]) => a.localeCompare(b))),
  };
}

function messageSchema(desc: DescMessage, ref: SchemaCollector["ref"]): JsonSchema {
  const required = desc.fields.filter((field) => declaredRules(field).required).map((field) => field.jsonName);
  return {
    type: "object",
    ...described(desc),
    properties: Object.fromEntries(desc.fields.map((field) => [field.jsonName, fieldSchema(field, ref)])),
    ...(required.length > 0 ? { required } : {}),
    "x-protobuf-type": desc.typeName,
  };
}

function fieldSchema(field: DescField, ref: SchemaCollector["ref"]): JsonSchema {
  const type = typeSchema(field, ref);
  const { keywords } = declaredRules(field);
  // A `$ref` cannot carry siblings in draft 07: wrap it when the field adds a description or limits.
  const base = "$ref" in type && (leadingComment(field) || Object.keys(keywords).length > 0) ? { allOf: [type] } : type;
  return { ...base, ...described(field), ...keywords, "x-protobuf-field": `${field.name} = ${field.number}` };
}

function typeSchema(field: DescField, ref: SchemaCollector["ref"]): JsonSchema {
  switch (field.fieldKind) {
    case "scalar":
      return scalarSchema(field.scalar);
    case "enum":
      return ref(field.enum);
    case "message":
      return ref(field.message);
    case "list":
      return {
        type: "array",
        items:
          field.listKind === "scalar"
            ? scalarSchema(field.scalar)
            : ref(field.listKind === "enum" ? field.enum : field.message),
      };
    case "map":
      return {
        type: "object",
        additionalProperties:
          field.mapKind === "scalar"
            ? scalarSchema(field.scalar)
            : ref(field.mapKind === "enum" ? field.enum : field.message),
      };
  }
}

/** An enum is written as its value's name; every name is accepted, the zero value included. */
function enumSchema(desc: DescEnum): JsonSchema {
  return {
    type: "string",
    ...described(desc),
    enum: desc.values.map((value) => value.name),
    "x-protobuf-type": desc.typeName,
  };
}

const INT64 = { type: "string", pattern: "^-?[0-9]+$", description: "a 64-bit integer, as a decimal string" };
const UINT64 = { type: "string", pattern: "^[0-9]+$", description: "an unsigned 64-bit integer, as a decimal string" };

function scalarSchema(scalar: ScalarType): JsonSchema {
  switch (scalar) {
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: "number" };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { ...INT64 };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { ...UINT64 };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", minimum: 0, maximum: 4294967295 };
    default:
      return { type: "integer", minimum: -2147483648, maximum: 2147483647 };
  }
}

/** The well-known types have JSON forms of their own (the proto3 JSON mapping lists them). */
const WELL_KNOWN: Readonly<Record<string, JsonSchema>> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" },
  "google.protobuf.Empty": { type: "object", additionalProperties: false },
  "google.protobuf.FieldMask": { type: "string" },
  "google.protobuf.Struct": { type: "object" },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array" },
  "google.protobuf.Any": { type: "object", required: ["@type"], properties: { "@type": { type: "string" } } },
  "google.protobuf.StringValue": { type: ["string", "null"] },
  "google.protobuf.BytesValue": { type: ["string", "null"], contentEncoding: "base64" },
  "google.protobuf.BoolValue": { type: ["boolean", "null"] },
  "google.protobuf.DoubleValue": { type: ["number", "null"] },
  "google.protobuf.FloatValue": { type: ["number", "null"] },
  "google.protobuf.Int32Value": { type: ["integer", "null"] },
  "google.protobuf.UInt32Value": { type: ["integer", "null"], minimum: 0 },
  "google.protobuf.Int64Value": { type: ["string", "null"], pattern: "^-?[0-9]+$" },
  "google.protobuf.UInt64Value": { type: ["string", "null"], pattern: "^[0-9]+$" },
};

function described(desc: DescMessage | DescEnum | DescField): JsonSchema {
  const comment = leadingComment(desc);
  return comment ? { description: comment } : {};
}

/**
 * What a field's `buf.validate` options declare, in JSON Schema terms: string length and pattern, int32
 * bounds, list sizes, and whether the property is always there (required, or a rule its zero value
 * breaks: the JSON form leaves zero values out). Rules without a JSON Schema keyword (CEL) are the
 * services' to enforce; the document does not claim them.
 */
export function declaredRules(field: DescField): { keywords: JsonSchema; required: boolean } {
  if (!hasOption(field, fieldRules)) return { keywords: {}, required: false };
  const rules = getOption(field, fieldRules);
  const keywords: JsonSchema = {};
  const emptyIsFine = rules.ignore === Ignore.IF_ZERO_VALUE;
  switch (rules.type.case) {
    case "string": {
      const string = rules.type.value;
      if (isFieldSet(string, StringRulesSchema.field.minLen)) keywords.minLength = Number(string.minLen);
      if (isFieldSet(string, StringRulesSchema.field.maxLen)) keywords.maxLength = Number(string.maxLen);
      if (isFieldSet(string, StringRulesSchema.field.pattern)) {
        keywords.pattern = emptyIsFine ? `^$|${string.pattern}` : string.pattern;
      }
      if (rules.required && keywords.minLength === undefined) keywords.minLength = 1;
      break;
    }
    case "int32": {
      const int32 = rules.type.value;
      if (int32.greaterThan.case === "gte") keywords.minimum = int32.greaterThan.value;
      if (int32.greaterThan.case === "gt") keywords.exclusiveMinimum = int32.greaterThan.value;
      if (int32.lessThan.case === "lte") keywords.maximum = int32.lessThan.value;
      if (int32.lessThan.case === "lt") keywords.exclusiveMaximum = int32.lessThan.value;
      break;
    }
    case "repeated": {
      const repeated = rules.type.value;
      if (isFieldSet(repeated, RepeatedRulesSchema.field.minItems)) keywords.minItems = Number(repeated.minItems);
      if (isFieldSet(repeated, RepeatedRulesSchema.field.maxItems)) keywords.maxItems = Number(repeated.maxItems);
      break;
    }
    default:
      break;
  }
  const zeroBreaks =
    !emptyIsFine &&
    ((typeof keywords.minimum === "number" && keywords.minimum > 0) ||
      (typeof keywords.exclusiveMinimum === "number" && keywords.exclusiveMinimum >= 0) ||
      (typeof keywords.minItems === "number" && keywords.minItems > 0) ||
      (typeof keywords.minLength === "number" && keywords.minLength > 0));
  return { keywords, required: rules.required || zeroBreaks };
}
