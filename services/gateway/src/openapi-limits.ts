// The limits a field's contract declares (protovalidate's `buf.validate` options in proto/ftgo/**), as JSON
// Schema keywords for the OpenAPI document. The services enforce the same options (the platform's gRPC
// server validates every request against them), so the document cannot promise what a service refuses.
// Only the rules this project declares are translated; a field with none gets no keywords.
import type { DescField, JsonObject } from "@bufbuild/protobuf";
import { getOption, hasOption, isFieldSet } from "@bufbuild/protobuf";
import {
  field as fieldRules,
  Ignore,
  RepeatedRulesSchema,
  StringRulesSchema,
} from "@ftgo/gen/buf/validate/validate_pb.js";

/** What a field's declared rules say, in JSON Schema terms. */
export interface DeclaredLimits {
  /** Keywords to merge into the field's schema: maxLength, pattern, minimum, maxItems… */
  readonly keywords: JsonObject;
  /**
   * The property must be present: `(buf.validate.field).required`, or a rule its zero value breaks (a
   * quantity of at least 1, a list of at least one item), as JSON leaves a zero value out.
   */
  readonly required: boolean;
}

const NONE: DeclaredLimits = { keywords: {}, required: false };

/**
 * The JSON Schema keywords for what `field`'s `buf.validate` options declare: string length and pattern,
 * int32 bounds, list sizes, and whether the property must be given. Rules without a JSON Schema keyword
 * (a CEL expression, say) are left to the service, which enforces them all.
 */
export function declaredLimits(field: DescField): DeclaredLimits {
  if (!hasOption(field, fieldRules)) return NONE;
  const rules = getOption(field, fieldRules);
  const keywords: JsonObject = {};
  // An empty value skips the other rules; a pattern must then accept it too.
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
  return { keywords, required: rules.required || (!emptyIsFine && refusesZero(keywords)) };
}

function refusesZero({ minimum, exclusiveMinimum, maximum, exclusiveMaximum, minItems, minLength }: JsonObject) {
  const holds = (bound: unknown, test: (n: number) => boolean) => typeof bound === "number" && test(bound);
  return (
    holds(minimum, (n) => n > 0) ||
    holds(exclusiveMinimum, (n) => n >= 0) ||
    holds(maximum, (n) => n < 0) ||
    holds(exclusiveMaximum, (n) => n <= 0) ||
    holds(minItems, (n) => n > 0) ||
    holds(minLength, (n) => n > 0)
  );
}
