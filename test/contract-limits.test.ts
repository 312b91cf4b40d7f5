// The contracts declare a limit for everything a sender could make unbounded (issue 10: one 1.1 MB id
// stopped every saga). Every string and bytes field of every message in proto/ftgo/** has a maximum
// length, every list and map a maximum size, and every id a pattern, in protovalidate's `buf.validate`
// options, so that a team in another language reads the limit in the .proto file and the platform's
// validation enforces it. A field added without one fails here, naming it.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type DescField,
  type DescFile,
  type DescMessage,
  getOption,
  hasOption,
  isFieldSet,
  ScalarType,
} from "@bufbuild/protobuf";
import {
  BytesRulesSchema,
  type FieldRules,
  field as fieldRules,
  MapRulesSchema,
  RepeatedRulesSchema,
  StringRulesSchema,
} from "@ftgo/gen/buf/validate/validate_pb.js";
import { describe, expect, it } from "vitest";

const GEN = fileURLToPath(new URL("../gen/ts/ftgo", import.meta.url));

/** Every generated file of proto/ftgo/**, by its descriptor. */
async function contractFiles(): Promise<DescFile[]> {
  const paths = readdirSync(GEN, { recursive: true, encoding: "utf8" }).filter((path) => path.endsWith("_pb.ts"));
  const modules = await Promise.all(paths.map((path) => import(join(GEN, path))));
  return modules.flatMap((module) =>
    Object.entries(module as Record<string, unknown>)
      .filter(([name]) => name.startsWith("file_"))
      .map(([, file]) => file as DescFile),
  );
}

function allMessages(messages: readonly DescMessage[]): DescMessage[] {
  return messages.flatMap((message) => [message, ...allMessages(message.nestedMessages)]);
}

const files = await contractFiles();
const fields = files.flatMap((file) => allMessages(file.messages)).flatMap((message) => message.fields);

/** What is missing from `field`'s declared limits; undefined when it has them. */
function missingLimit(field: DescField): string | undefined {
  const rules: FieldRules | undefined = hasOption(field, fieldRules) ? getOption(field, fieldRules) : undefined;
  const scalar = field.fieldKind === "scalar" || field.fieldKind === "list" ? field.scalar : undefined;
  const isText = scalar === ScalarType.STRING || scalar === ScalarType.BYTES;
  if (field.fieldKind === "map") {
    return rules?.type.case === "map" && isFieldSet(rules.type.value, MapRulesSchema.field.maxPairs)
      ? undefined
      : "a maximum number of pairs";
  }
  if (field.fieldKind === "list") {
    if (rules?.type.case !== "repeated" || !isFieldSet(rules.type.value, RepeatedRulesSchema.field.maxItems)) {
      return "a maximum number of items";
    }
    const items = rules.type.value.items;
    return isText && !(items && hasMaxLength(items)) ? "a maximum length for its items" : undefined;
  }
  if (field.fieldKind !== "scalar" || !isText) return undefined;
  if (!rules || !hasMaxLength(rules)) return "a maximum length";
  const isId = /(^|_)id$/.test(field.name);
  if (isId && (rules.type.case !== "string" || !isFieldSet(rules.type.value, StringRulesSchema.field.pattern))) {
    return "a pattern (it is an id)";
  }
  return undefined;
}

function hasMaxLength(rules: FieldRules): boolean {
  if (rules.type.case === "string") return isFieldSet(rules.type.value, StringRulesSchema.field.maxLen);
  if (rules.type.case === "bytes") return isFieldSet(rules.type.value, BytesRulesSchema.field.maxLen);
  return false;
}

describe("the contracts' declared limits", () => {
  it("covers the contracts of every service", () => {
    const packages = new Set(files.map((file) => file.proto.package));
    for (const domain of ["order", "consumer", "kitchen", "accounting", "delivery"]) {
      expect(packages).toContain(`ftgo.${domain}.v1`);
    }
    expect(fields.length).toBeGreaterThan(50);
  });

  it.each(fields.map((field) => [`${field.parent.typeName}.${field.name}`, field] as const))(
    "%s declares its limit",
    (_name, field) => {
      expect(missingLimit(field)).toBeUndefined();
    },
  );
});
