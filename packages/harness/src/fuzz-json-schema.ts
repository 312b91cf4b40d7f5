// Values for JSON Schemas (the subset an OpenAPI 3.1 document uses: objects, arrays, strings with length,
// pattern and date-time, integers and numbers with bounds, enums, consts, oneOf, $ref into the components),
// generated with fast-check: values a schema accepts, and values it refuses by one change — a wrong type, a
// required property gone, an unknown one added, a limit passed. The HTTP fuzzer (fuzz-openapi.ts) builds
// requests from them.
import fc from "fast-check";

/** A JSON Schema fragment, as an OpenAPI 3.1 document embeds it. */
// biome-ignore lint/suspicious/noExplicitAny: a schema is whatever the document says; the generator checks
export type Schema = Record<string, any>;

/** Where `$ref`s point: the document's components. */
export interface SchemaSource {
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
}

/** Values a property or parameter of this name takes half the time: known ids, so that requests find things. */
export type Hints = Readonly<Record<string, readonly string[]>>;

/** Values valid for JSON schemas of the document, with hints by property name. */
export function schemaValues(doc: SchemaSource, hintsByName: Hints = {}) {
  const resolve = (schema: Schema): Schema => resolveRef(doc, schema);
  function of(raw: Schema, name?: string, depth = 0): fc.Arbitrary<unknown> {
    const schema = resolve(raw);
    const generated = generate(schema, depth);
    const hints = name ? hintsByName[name] : undefined;
    return hints && hints.length > 0 ? fc.oneof(fc.constantFrom(...hints), generated) : generated;
  }
  function generate(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    if ("const" in schema) return fc.constant(schema.const);
    if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
    if (Array.isArray(schema.oneOf)) return fc.oneof(...schema.oneOf.map((s: Schema) => of(s, undefined, depth)));
    if (Array.isArray(schema.anyOf)) return fc.oneof(...schema.anyOf.map((s: Schema) => of(s, undefined, depth)));
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
      case "object": {
        const properties = Object.entries((schema.properties ?? {}) as Record<string, Schema>);
        const required = new Set<string>(schema.required ?? []);
        return fc.record(
          Object.fromEntries(properties.map(([name, property]) => [name, of(property, name, depth + 1)])),
          { requiredKeys: [...required].filter((name) => properties.some(([p]) => p === name)) },
        );
      }
      case "array": {
        const minLength = schema.minItems ?? 0;
        const maxLength = Math.min(schema.maxItems ?? 4, minLength + 4);
        return fc.array(of(schema.items ?? {}, undefined, depth + 1), { minLength, maxLength });
      }
      case "string":
        return stringOf(schema);
      case "integer":
        return fc.integer({
          min: Math.max(schema.minimum ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
          max: Math.min(schema.maximum ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
        });
      case "number":
        return fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum, max: schema.maximum });
      case "boolean":
        return fc.boolean();
      case "null":
        return fc.constant(null);
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  }
  return { of };
}

function stringOf(schema: Schema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength ?? 300;
  const fits = (text: string) => [...text].length >= minLength && [...text].length <= maxLength;
  if (schema.format === "date-time") return dateTime();
  if (schema.contentEncoding === "base64") return fc.base64String({ maxLength: Math.min(maxLength, 200) });
  if (typeof schema.pattern === "string") {
    const pattern = new RegExp(schema.pattern, "u");
    return fc
      .oneof(
        fc.stringMatching(pattern, { size: "xsmall" }),
        fc.stringMatching(pattern, { size: "small" }),
        fc.stringMatching(pattern, { size: "medium" }).map((text) => [...text].slice(0, maxLength).join("")),
      )
      .filter((text) => fits(text) && pattern.test(text));
  }
  return fc
    .string({ unit: "grapheme", minLength, maxLength: Math.min(maxLength, 300) })
    .map((text) => [...text].slice(0, maxLength).join(""))
    .filter(fits);
}

/** RFC 3339 date-times, in all the forms the RFC allows: fractions of any length, `Z` or an offset. */
function dateTime(): fc.Arbitrary<string> {
  return fc
    .record({
      date: fc.date({
        min: new Date("0001-01-02T00:00:00Z"),
        max: new Date("9999-12-30T00:00:00Z"),
        noInvalidDate: true,
      }),
      fraction: fc.oneof(fc.constant(""), fc.stringMatching(/^\.[0-9]{1,9}$/)),
      zone: fc.oneof(fc.constant("Z"), fc.constantFrom("+00:00", "+01:00", "-05:30")),
    })
    .map(({ date, fraction, zone }) => `${date.toISOString().slice(0, 19)}${fraction}${zone}`);
}

/** Values that break a parameter's schema: past its length, out of its pattern, not of its type, past its bounds. */
export function breakers(doc: SchemaSource, raw: Schema | undefined): string[] {
  const schema = resolveRef(doc, raw ?? {});
  const values: string[] = [];
  if (schema.type === "integer") {
    values.push("abc", "1.5", "1e3", "", "0x10", " 1", "9".repeat(40));
    if (typeof schema.minimum === "number") values.push(String(schema.minimum - 1));
    if (typeof schema.maximum === "number") values.push(String(schema.maximum + 1));
  }
  if (schema.type === "string") {
    if (typeof schema.maxLength === "number") values.push("a".repeat(schema.maxLength + 1));
    if (typeof schema.minLength === "number" && schema.minLength > 0) values.push("");
    if (typeof schema.pattern === "string") {
      const pattern = new RegExp(schema.pattern, "u");
      values.push(
        ...["-a", ".", "a b", "a/b", "é", "🍜", "a\u0000", "%", "a?b", "a#b"].filter((v) => !pattern.test(v)),
      );
    }
  }
  return values;
}

/** How mutateBody breaks a valid body. */
export type BodyMutation = "wrong-type" | "missing-required" | "extra-field" | "over-limit";

/** A valid JSON body (its text) changed in one place so that the schema refuses it: the new text. */
export function mutateBody(
  doc: SchemaSource,
  bodySchema: Schema,
  body: string,
  how: BodyMutation,
): fc.Arbitrary<string> {
  const value = JSON.parse(body) as unknown;
  // The places of the body and their schemas, so that a mutation picks one.
  const places: { path: (string | number)[]; schema: Schema }[] = [];
  const walk = (node: unknown, schema: Schema, path: (string | number)[]) => {
    const resolved = resolveRef(doc, schema);
    places.push({ path, schema: resolved });
    if (resolved.type === "object" && node && typeof node === "object" && !Array.isArray(node)) {
      for (const [key, child] of Object.entries(node)) walk(child, resolved.properties?.[key] ?? {}, [...path, key]);
    }
    if (resolved.type === "array" && Array.isArray(node)) {
      node.forEach((child, i) => {
        walk(child, resolved.items ?? {}, [...path, i]);
      });
    }
  };
  walk(value, bodySchema, []);
  const send = (changed: unknown) => JSON.stringify(changed);
  switch (how) {
    case "wrong-type": {
      const typed = places.filter((place) => typeof place.schema.type === "string" || place.schema.oneOf);
      return fc.constantFrom(...typed).chain((place) =>
        fc
          .oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, true, 1.5, -1, "1", [], {}, 2 ** 53))
          .filter((replacement) => !matchesType(doc, place.schema, replacement))
          .map((replacement) => send(setAt(value, place.path, replacement))),
      );
    }
    case "missing-required": {
      const requiredPlaces = places.flatMap((place) =>
        (place.schema.required ?? []).map((name: string) => [...place.path, name]),
      );
      if (requiredPlaces.length === 0) return fc.constant(send(setAt(value, ["zzUnknown"], 1)));
      return fc.constantFrom(...requiredPlaces).map((path) => send(deleteAt(value, path)));
    }
    case "extra-field": {
      const objects = places.filter(
        (place) => place.schema.type === "object" && place.schema.additionalProperties === false,
      );
      if (objects.length === 0) return fc.constant(send(setAt(value, ["zzUnknown"], 1)));
      return fc
        .record({
          place: fc.constantFrom(...objects),
          name: fc.stringMatching(/^[a-z][A-Za-z]{0,10}$/),
          extra: fc.jsonValue({ maxDepth: 1 }),
        })
        .filter(({ place, name }) => !(name in (place.schema.properties ?? {})))
        .map(({ place, name, extra }) => send(setAt(value, [...place.path, name], extra)));
    }
    case "over-limit": {
      const limited = places.flatMap((place) => overLimit(place.schema).map((v) => ({ path: place.path, v })));
      if (limited.length === 0) return fc.constant(send(setAt(value, ["zzUnknown"], 1)));
      return fc.constantFrom(...limited).map(({ path, v }) => send(setAt(value, path, v)));
    }
  }
}

/** Values just past a schema's declared limits. */
function overLimit(schema: Schema): unknown[] {
  const values: unknown[] = [];
  if (typeof schema.maxLength === "number") values.push("a".repeat(schema.maxLength + 1));
  if (typeof schema.minLength === "number" && schema.minLength > 0) values.push("");
  if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test("-x!")) values.push("-x!");
  if (typeof schema.minimum === "number") values.push(schema.minimum - 1);
  if (typeof schema.maximum === "number") values.push(schema.maximum + 1);
  if (schema.type === "integer") values.push(1.5);
  if (typeof schema.maxItems === "number") values.push(Array.from({ length: schema.maxItems + 1 }, () => ({})));
  if (typeof schema.minItems === "number" && schema.minItems > 0) values.push([]);
  return values;
}

function matchesType(doc: SchemaSource, raw: Schema, value: unknown): boolean {
  const schema = resolveRef(doc, raw);
  if (Array.isArray(schema.oneOf)) return schema.oneOf.some((s: Schema) => matchesType(doc, s, value));
  if (Array.isArray(schema.enum)) return schema.enum.includes(value);
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return true;
  return types.some((type) => {
    switch (type) {
      case "object":
        return typeof value === "object" && value !== null && !Array.isArray(value);
      case "array":
        return Array.isArray(value);
      case "integer":
        return Number.isInteger(value);
      case "number":
        return typeof value === "number";
      case "null":
        return value === null;
      default:
        return typeof value === type;
    }
  });
}

function setAt(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  copy[head] = setAt(copy[head], rest, replacement);
  return copy;
}

function deleteAt(value: unknown, path: readonly (string | number)[]): unknown {
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  if (rest.length === 0) delete copy[head];
  else copy[head] = deleteAt(copy[head], rest);
  return copy;
}

export function resolveRef(doc: SchemaSource, schema: Schema): Schema {
  let resolved = schema;
  while (typeof resolved.$ref === "string") {
    const name = resolved.$ref.replace("#/components/schemas/", "");
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved ${resolved.$ref}`);
    resolved = target;
  }
  return resolved;
}
