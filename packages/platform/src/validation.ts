// The contracts declare their limits (protovalidate's `buf.validate` options in proto/ftgo/**): the
// length and pattern of every id, the bounds of every name, reason and list. They are checked here, in
// one place, against the schema itself, so the rule a Go or Python team reads in the .proto file is the
// rule this mesh enforces, and no hand-written check can drift from it. The gRPC server checks every
// request right after decoding it; the message consumer checks every event and command the same way.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { InvalidArgumentError } from "./errors.js";

// One validator for the process: it compiles each message type's rules once, on first use, and keeps them.
const validator = createValidator();

/**
 * How many violations a description lists before it counts the rest: a request with a thousand bad list
 * items needs the first few named to be fixed, not a 100 kB message (which no gRPC trailer carries).
 */
export const MAX_LISTED_VIOLATIONS = 10;

/**
 * What is wrong with `message` by its schema's declared limits, one violation per field, each naming the
 * field path and the rule, e.g. `consumer_id: must be at most 64 characters [string.max_len]`, the first
 * MAX_LISTED_VIOLATIONS of them and then how many more; undefined when it keeps them all. A rule that cannot be evaluated is a bug in the contract, so it throws.
 */
export function describeViolations<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): string | undefined {
  const result = validator.validate(schema, message);
  if (result.kind === "valid") return undefined;
  if (result.kind === "error") throw result.error;
  const { violations } = result;
  const listed = violations.slice(0, MAX_LISTED_VIOLATIONS).map(String);
  const more = violations.length - listed.length;
  return more > 0 ? `${listed.join("; ")}; … and ${more} more` : listed.join("; ");
}

/** Throws InvalidArgumentError (→ INVALID_ARGUMENT, HTTP 400) naming every broken limit of `message`. */
export function assertWithinLimits<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  const violations = describeViolations(schema, message);
  if (violations !== undefined) throw new InvalidArgumentError(violations);
}
