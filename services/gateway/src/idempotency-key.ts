// The Idempotency-Key request header (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): the key a
// client chooses for one operation and sends again, unchanged, when it retries — so that a POST repeated
// after a lost answer returns the first result instead of doing the work twice. The gateway does not keep
// keys itself: it hands the key to the service whose contract takes one (v2 CreateOrder's idempotency_key),
// which remembers it with the order, in the same store and transaction. Here it only reads the header, in
// the draft's form (a Structured Field String, `"…"`) or bare (as many clients send it), and holds it to
// the limits the contract declares for the field, so a bad key is refused naming the header, not a field
// the client never saw.
import type { DescField } from "@bufbuild/protobuf";
import { invalidArgument } from "./errors.js";
import { declaredLimits } from "./openapi-limits.js";

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

/** A Structured Field String: printable ASCII in double quotes, `"` and `\` escaped with `\`. */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/**
 * The key of the request's Idempotency-Key header, for `field`: 400 naming the header when it is missing,
 * given more than once, or breaks a limit the contract declares for the field (length, pattern).
 */
export function readIdempotencyKey(header: string | string[] | undefined, field: DescField): string {
  const { keywords } = declaredLimits(field);
  const rules = describeRules(keywords);
  if (header === undefined || header === "") {
    throw invalidArgument(
      `the ${IDEMPOTENCY_KEY_HEADER} header is required: a key you choose for this order (${rules}), ` +
        "sent again unchanged when you retry",
    );
  }
  if (Array.isArray(header)) throw invalidArgument(`the ${IDEMPOTENCY_KEY_HEADER} header must be given once`);
  const value = header.trim();
  const quoted = SF_STRING.exec(value);
  const key = quoted ? (quoted[1] ?? "").replace(/\\(["\\])/g, "$1") : value;
  const { maxLength, pattern } = keywords;
  const tooLong = typeof maxLength === "number" && key.length > maxLength;
  const misshapen = typeof pattern === "string" && !new RegExp(pattern).test(key);
  if (key === "" || tooLong || misshapen) {
    throw invalidArgument(
      `the ${IDEMPOTENCY_KEY_HEADER} header ${JSON.stringify(header)} is not a valid key: ${rules}`,
    );
  }
  return key;
}

function describeRules({ maxLength, pattern }: Readonly<Record<string, unknown>>): string {
  const rules = [
    typeof maxLength === "number" ? `at most ${maxLength} characters` : undefined,
    typeof pattern === "string" ? `matching ${pattern}` : undefined,
  ].filter((rule) => rule !== undefined);
  return `${rules.length > 0 ? rules.join(", ") : "any string"}, quoted ("…") or bare`;
}
