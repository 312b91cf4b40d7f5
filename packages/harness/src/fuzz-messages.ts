// Requests for fuzzing a protobuf API, built from its descriptors with fast-check: every field of the
// message filled (or not) with the values that break code — int32/int64 limits, NaN and infinities, empty,
// huge, control-character and unpaired-surrogate strings, unknown enum numbers, lists longer than their
// declared limit, nested messages, maps and oneofs — encoded with toBinary; and the bytes a careless or
// hostile peer sends instead: unknown fields, known fields with the wrong wire type, truncated and
// bit-flipped encodings, garbage inside a nested message, malformed tags and lengths, random bytes.
// A server must answer each with a status its contract allows, never with a crash.
import {
  create,
  type DescEnum,
  type DescField,
  type DescMessage,
  type MessageInitShape,
  ScalarType,
  toBinary,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";

export interface FuzzMessageOptions {
  /**
   * Ids the system under test knows: the strings a plausible message carries most (three in four), so that
   * many requests pass validation and reach the handler, and some find what they name.
   */
  readonly ids?: readonly string[];
  /** Other strings a plausible message may carry: paths, page tokens, names. */
  readonly strings?: readonly string[];
  /**
   * What a plausible message carries in the string fields of these names (proto names, any message):
   * `{ restaurant_id: ["r-1"], menu_item_id: ["m-1"] }` lets some orders be priced and created.
   */
  readonly fields?: Readonly<Record<string, readonly string[]>>;
  /** How deep nested messages go; deeper message fields stay unset. Default 3. */
  readonly maxDepth?: number;
}

/** One fuzzed request: its bytes on the wire, and which kind of input it is (for the counts of a report). */
export interface FuzzRequest {
  readonly kind: FuzzKind;
  readonly bytes: Uint8Array;
}

export type FuzzKind =
  | "message"
  | "unknown-field"
  | "wrong-wire-type"
  | "truncated"
  | "bit-flip"
  | "nested-garbage"
  | "malformed-tag"
  | "random-bytes";

const INT32 = { min: -0x8000_0000, max: 0x7fff_ffff };
const UINT32_MAX = 0xffff_ffff;
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const UINT64_MAX = 2n ** 64n - 1n;
/** The largest field number protobuf allows (2^29 - 1). */
const MAX_FIELD_NUMBER = 0x1fff_ffff;

/** Strings that have broken string handling somewhere: limits, encodings, injection, invisible characters. */
const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\r\n",
  "\t",
  "\u001b[31m",
  "\uFEFF",
  "\u202E",
  "\uD800",
  "\uDFFF",
  "e\u0301",
  "🍕",
  "𝄞",
  "%s%n%x",
  "'; DROP TABLE orders;--",
  "../../../etc/passwd",
  "\u0024{jndi:ldap://x}",
  "a".repeat(64),
  "a".repeat(65),
  "a".repeat(256),
  "a".repeat(257),
  "a".repeat(1024),
  "a".repeat(1025),
  "é".repeat(40_000),
];

/** An arbitrary string: domain ones, nasty ones, id-shaped ones around the 64-character limit, random text. */
export function fuzzString(strings: readonly string[] = []): fc.Arbitrary<string> {
  const controls = fc.string({
    unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)),
    maxLength: 20,
  });
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...strings, ...NASTY_STRINGS) },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,70}$/) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 80 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 300 }) },
    { weight: 1, arbitrary: controls },
  );
}

/** An arbitrary message of type `desc`, as the init shape `create` takes. */
export function messageInit<Desc extends DescMessage>(
  desc: Desc,
  options: FuzzMessageOptions = {},
): fc.Arbitrary<MessageInitShape<Desc>> {
  const { ids = [], strings = [], fields = {} } = options;
  const fieldStrings = new Map(
    Object.entries(fields).flatMap(([name, values]) => (values.length > 0 ? [[name, fc.constantFrom(...values)]] : [])),
  );
  const idShaped = ids.length > 0 ? fc.constantFrom(...ids) : fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
  const shared = {
    strings: fuzzString([...ids, ...strings]),
    plausibleStrings:
      strings.length > 0
        ? fc.oneof({ weight: 3, arbitrary: idShaped }, { weight: 1, arbitrary: fc.constantFrom(...strings) })
        : idShaped,
    fieldStrings,
    maxDepth: options.maxDepth ?? 3,
  };
  const modes = MODES.map((mode) => initOf(desc, { ...shared, ...mode }, 0));
  return fc.oneof(...modes) as fc.Arbitrary<MessageInitShape<Desc>>;
}

/** An arbitrary well-typed message of type `desc`, encoded. */
export function encodedMessage(desc: DescMessage, options: FuzzMessageOptions = {}): fc.Arbitrary<Uint8Array> {
  return messageInit(desc, options).map((init) => toBinary(desc, create(desc, init)));
}

/**
 * An arbitrary request for a method taking `desc`: a well-typed message (about 40% of the time), or
 * one of the byte-level corruptions of one, or random bytes. Each says which kind it is.
 */
export function fuzzRequest(desc: DescMessage, options: FuzzMessageOptions = {}): fc.Arbitrary<FuzzRequest> {
  const valid = encodedMessage(desc, options);
  const known = desc.fields.map((field) => field.number);
  const messageFields = desc.fields.filter(
    (field) => field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message"),
  );
  const kinds: { weight: number; arbitrary: fc.Arbitrary<FuzzRequest> }[] = [
    { weight: 10, arbitrary: valid.map((bytes) => ({ kind: "message", bytes })) },
    { weight: 2, arbitrary: fc.tuple(valid, unknownField(known)).map(concat("unknown-field")) },
    { weight: 2, arbitrary: fc.tuple(valid, fc.gen()).map(([bytes, g]) => request("truncated", truncate(bytes, g))) },
    { weight: 2, arbitrary: fc.tuple(valid, fc.gen()).map(([bytes, g]) => request("bit-flip", flipBit(bytes, g))) },
    { weight: 2, arbitrary: malformedTag().map((bytes) => ({ kind: "malformed-tag", bytes })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ kind: "random-bytes", bytes })) },
  ];
  if (known.length > 0) {
    kinds.push({ weight: 2, arbitrary: fc.tuple(valid, wrongWireType(desc.fields)).map(concat("wrong-wire-type")) });
  }
  if (messageFields.length > 0) {
    const garbage = fc.tuple(fc.constantFrom(...messageFields), fc.uint8Array({ minLength: 1, maxLength: 64 }));
    const nested = garbage.map(([field, inner]) =>
      new BinaryWriter().tag(field.number, WireType.LengthDelimited).bytes(inner).finish(),
    );
    kinds.push({ weight: 2, arbitrary: fc.tuple(valid, nested).map(concat("nested-garbage")) });
  }
  return fc.oneof(...kinds);
}

interface Context {
  readonly strings: fc.Arbitrary<string>;
  /** The domain strings alone (or id-shaped ones): what a well-behaved client would send. */
  readonly plausibleStrings: fc.Arbitrary<string>;
  /** Per field name, what a well-behaved client sends in it. */
  readonly fieldStrings: ReadonlyMap<string, fc.Arbitrary<string>>;
  readonly maxDepth: number;
  /** How often a value is extreme rather than plausible, and a field unset rather than set (out of 12). */
  readonly wild: number;
  readonly unset: number;
}

/**
 * Three kinds of message, a third each: plausible through and through (every field set, domain strings,
 * small numbers: these pass validation and exercise the handler), plausible but for a value or two
 * (the extreme reaches the handler), and anything goes.
 */
const MODES = [
  { wild: 0, unset: 0 },
  { wild: 1, unset: 0 },
  { wild: 4, unset: 2 },
] as const;

/** A message's fields, each set or (ctx.unset in 12) not: undefined, which `create` skips. */
function initOf(desc: DescMessage, ctx: Context, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  const maybe = (value: fc.Arbitrary<unknown>) =>
    ctx.unset === 0
      ? value
      : fc.oneof(
          { weight: 12 - ctx.unset, arbitrary: value },
          { weight: ctx.unset, arbitrary: fc.constant(undefined) },
        );
  for (const field of desc.fields) {
    if (field.oneof) continue;
    const value = fieldValue(field, ctx, depth);
    if (value) parts[field.localName] = maybe(value);
  }
  for (const oneof of desc.oneofs) {
    const cases = oneof.fields.flatMap((field) => {
      const value = fieldValue(field, ctx, depth);
      return value ? [value.map((v) => ({ case: field.localName, value: v }))] : [];
    });
    if (cases.length > 0) parts[oneof.localName] = maybe(fc.oneof(...cases));
  }
  return fc.record(parts);
}

/** What a well-behaved client sends, or (ctx.wild in 12) the extreme. */
function plausibleOr<T>(ctx: Context, plausible: fc.Arbitrary<T>, wild: fc.Arbitrary<T>): fc.Arbitrary<T> {
  if (ctx.wild === 0) return plausible;
  return fc.oneof({ weight: 12 - ctx.wild, arbitrary: plausible }, { weight: ctx.wild, arbitrary: wild });
}

/** The arbitrary value of one field; undefined for a message field beyond the depth limit (left unset). */
function fieldValue(field: DescField, ctx: Context, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (field.fieldKind) {
    case "scalar": {
      const hinted = field.scalar === ScalarType.STRING ? ctx.fieldStrings.get(field.name) : undefined;
      return hinted ? plausibleOr(ctx, hinted, ctx.strings) : scalarValue(field.scalar, field.longAsString, ctx);
    }
    case "enum":
      return enumValue(field.enum, ctx);
    case "message":
      return depth < ctx.maxDepth ? initOf(field.message, ctx, depth + 1) : undefined;
    case "list": {
      const element =
        field.listKind === "scalar"
          ? scalarValue(field.scalar, field.longAsString, ctx)
          : field.listKind === "enum"
            ? enumValue(field.enum, ctx)
            : depth < ctx.maxDepth
              ? initOf(field.message, ctx, depth + 1)
              : undefined;
      if (!element) return undefined;
      // Short lists, lists around the usual max_items (50), and, of empty elements, very long ones.
      const many = field.listKind === "message" ? fc.constant({}) : element;
      const plausible = fc.array(element, { minLength: 1, maxLength: 3 });
      if (ctx.wild === 0) return plausible;
      return fc.oneof(
        { weight: 6, arbitrary: plausible },
        { weight: 1, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(element, { minLength: 48, maxLength: 52 }) },
        { weight: 1, arbitrary: fc.array(many, { minLength: 1000, maxLength: 1001 }) },
      );
    }
    case "map": {
      const value =
        field.mapKind === "scalar"
          ? scalarValue(field.scalar, false, ctx)
          : field.mapKind === "enum"
            ? enumValue(field.enum, ctx)
            : depth < ctx.maxDepth
              ? initOf(field.message, ctx, depth + 1)
              : undefined;
      if (!value) return undefined;
      return fc.dictionary(mapKey(field.mapKey, ctx), value, { maxKeys: 5 });
    }
  }
}

/** Map keys are object keys in the init shape: decimal for integers, "true"/"false" for bool. */
function mapKey(scalar: ScalarType, ctx: Context): fc.Arbitrary<string> {
  if (scalar === ScalarType.STRING) return ctx.strings;
  if (scalar === ScalarType.BOOL) return fc.constantFrom("true", "false");
  return scalarValue(scalar, true, ctx).map(String);
}

function scalarValue(scalar: ScalarType, longAsString: boolean, ctx: Context): fc.Arbitrary<unknown> {
  const long = (arb: fc.Arbitrary<bigint>) => (longAsString ? arb.map(String) : arb);
  switch (scalar) {
    case ScalarType.DOUBLE:
      return plausibleOr(
        ctx,
        fc.constantFrom(0, 0.5, 1),
        fc.oneof(
          fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE),
          fc.double(),
        ),
      );
    case ScalarType.FLOAT:
      return plausibleOr(
        ctx,
        fc.constantFrom(0, 0.5, 1),
        fc.oneof(fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 3.4028234663852886e38), fc.float()),
      );
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return plausibleOr(
        ctx,
        fc.integer({ min: 1, max: 3 }),
        fc.oneof(fc.constantFrom(INT32.min, INT32.max, -1, 0, 50, 51, 100, 101), fc.integer(INT32)),
      );
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return plausibleOr(
        ctx,
        fc.integer({ min: 1, max: 3 }),
        fc.oneof(fc.constantFrom(0, 16, 17, 2 ** 31, UINT32_MAX), fc.nat({ max: UINT32_MAX })),
      );
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return long(
        plausibleOr(
          ctx,
          fc.bigInt({ min: 0n, max: 2_000_000_000n }),
          fc.oneof(fc.constantFrom(INT64.min, INT64.max, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n), fc.bigInt(INT64)),
        ),
      );
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(
        plausibleOr(
          ctx,
          fc.bigInt({ min: 1n, max: 3n }),
          fc.oneof(fc.constantFrom(0n, 2n ** 53n + 1n, UINT64_MAX), fc.bigInt({ min: 0n, max: UINT64_MAX })),
        ),
      );
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return plausibleOr(ctx, ctx.plausibleStrings, ctx.strings);
    case ScalarType.BYTES:
      return fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.constant(new Uint8Array(0)),
        fc.constant(new Uint8Array(70_000).fill(0xff)),
      );
  }
}

/** Declared numbers, the zero value, and numbers no version of the enum declares (proto3 enums are open). */
function enumValue(desc: DescEnum, ctx: Context): fc.Arbitrary<number> {
  return plausibleOr(
    ctx,
    fc.constantFrom(...desc.values.map((value) => value.number)),
    fc.oneof(fc.constantFrom(-1, 99, INT32.min, INT32.max), fc.integer(INT32)),
  );
}

/** A field the message does not declare, with a payload of any wire type (groups included). */
function unknownField(known: readonly number[]): fc.Arbitrary<Uint8Array> {
  const numbers = fc
    .oneof(
      fc.constantFrom(Math.max(0, ...known) + 1, 1000, 19_000, 19_999, MAX_FIELD_NUMBER),
      fc.integer({ min: 1, max: MAX_FIELD_NUMBER }),
    )
    .filter((n) => !known.includes(n));
  return fc.tuple(numbers, anyPayload()).map(([number, [, payload]]) => payload(new BinaryWriter(), number).finish());
}

/** A declared field sent with a wire type other than its own: a string as a varint, a message as fixed32… */
function wrongWireType(fields: readonly DescField[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...fields), anyPayload())
    .filter(([field, [wireType]]) => wireType !== wireTypeOf(field))
    .map(([field, [, payload]]) => payload(new BinaryWriter(), field.number).finish());
}

/** The wire type an encoder uses for `field` (a packed list is length-delimited). */
function wireTypeOf(field: DescField): WireType {
  if (field.fieldKind === "list" && field.packed) return WireType.LengthDelimited;
  const scalar = field.fieldKind === "scalar" || field.fieldKind === "list" ? field.scalar : undefined;
  if (field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum")) return WireType.Varint;
  switch (scalar) {
    case undefined:
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

type Payload = (w: BinaryWriter, fieldNo: number) => BinaryWriter;

/** A payload of any wire type, groups (deprecated, and malformed ones) included, with its wire type. */
function anyPayload(): fc.Arbitrary<[WireType, Payload]> {
  const u64 = fc.bigInt({ min: 0n, max: UINT64_MAX });
  const group =
    (v: Uint8Array): Payload =>
    (w, n) =>
      w.tag(n, WireType.StartGroup).tag(1, WireType.LengthDelimited).bytes(v).tag(n, WireType.EndGroup);
  return fc.oneof(
    u64.map((v): [WireType, Payload] => [WireType.Varint, (w, n) => w.tag(n, WireType.Varint).uint64(v)]),
    u64.map((v): [WireType, Payload] => [WireType.Bit64, (w, n) => w.tag(n, WireType.Bit64).fixed64(v)]),
    fc
      .nat({ max: UINT32_MAX })
      .map((v): [WireType, Payload] => [WireType.Bit32, (w, n) => w.tag(n, WireType.Bit32).fixed32(v)]),
    fc
      .uint8Array({ maxLength: 32 })
      .map((v): [WireType, Payload] => [
        WireType.LengthDelimited,
        (w, n) => w.tag(n, WireType.LengthDelimited).bytes(v),
      ]),
    fc.uint8Array({ maxLength: 16 }).map((v): [WireType, Payload] => [WireType.StartGroup, group(v)]),
    fc.constant<[WireType, Payload]>([WireType.StartGroup, (w, n) => w.tag(n, WireType.StartGroup)]),
    fc.constant<[WireType, Payload]>([WireType.EndGroup, (w, n) => w.tag(n, WireType.EndGroup)]),
  );
}

/** Tags and lengths no encoder writes: field 0, wire types 6 and 7, overlong varints, lengths past the end. */
function malformedTag(): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.constant(Uint8Array.of(0x00)),
    fc.constant(Uint8Array.of(0x02, 0x00)),
    fc.constantFrom(0x0e, 0x0f, 0x16, 0x17).map((tag) => Uint8Array.of(tag, 0x01)),
    fc.constant(Uint8Array.of(0x08, ...new Array(11).fill(0xff), 0x01)),
    fc.constant(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
    fc.constant(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f)),
    fc.nat({ max: 1_000_000 }).map((length) =>
      new BinaryWriter()
        .tag(1, WireType.LengthDelimited)
        .uint32(length + 1)
        .finish(),
    ),
  );
}

function truncate(bytes: Uint8Array, g: fc.GeneratorValue): Uint8Array {
  return bytes.length === 0 ? Uint8Array.of(0x0a) : bytes.slice(0, g(fc.nat, { max: bytes.length - 1 }));
}

function flipBit(bytes: Uint8Array, g: fc.GeneratorValue): Uint8Array {
  if (bytes.length === 0) return Uint8Array.of(0x80);
  const flipped = bytes.slice();
  const at = g(fc.nat, { max: bytes.length - 1 });
  flipped[at] = (flipped[at] as number) ^ (1 << g(fc.nat, { max: 7 }));
  return flipped;
}

function concat(kind: FuzzKind) {
  return ([head, tail]: [Uint8Array, Uint8Array]): FuzzRequest => {
    const bytes = new Uint8Array(head.length + tail.length);
    bytes.set(head);
    bytes.set(tail, head.length);
    return { kind, bytes };
  };
}

function request(kind: FuzzKind, bytes: Uint8Array): FuzzRequest {
  return { kind, bytes };
}
