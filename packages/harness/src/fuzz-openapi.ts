// HTTP requests for fuzzing an API, generated with fast-check from its OpenAPI 3.1 document alone: for each
// operation, requests the document calls valid (path, query and header parameters and a JSON body drawn
// from their schemas, a token the operation's access admits) and requests it calls invalid — a schema
// broken on purpose (wrong types, missing required properties, unknown ones, values past a limit), huge
// strings and deep nesting, bodies that are not JSON or not declared as JSON, parameters no route takes,
// bad or missing tokens, methods the path does not serve. A server whose document is exact answers the
// first kind with a status the operation documents and never 400, and the second with a 4xx.
import fc from "fast-check";

/** A JSON Schema fragment, as an OpenAPI 3.1 document embeds it. */
// biome-ignore lint/suspicious/noExplicitAny: a schema is whatever the document says; the generator checks
type Schema = Record<string, any>;

/** The parts of an OpenAPI document the generator reads. */
export interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Schema>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
}

/** One operation of the document: its method, path template and the operation object. */
export interface Operation {
  readonly method: string;
  readonly path: string;
  readonly operation: Schema;
  /** Every method the document serves at the path (`GET`, `POST`…). */
  readonly allowed: readonly string[];
}

/** What kind of input a request is, for the counts of a report; `valid` is the only kind the document admits. */
export type HttpFuzzKind =
  | "valid"
  | "wrong-type"
  | "missing-required"
  | "extra-field"
  | "over-limit"
  | "huge-string"
  | "deep-nesting"
  | "not-json"
  | "wrong-content-type"
  | "bad-parameter"
  | "unknown-query"
  | "repeated-query"
  | "bad-header"
  | "no-token"
  | "bad-token"
  | "wrong-role"
  | "wrong-method";

/** One generated request; `path` includes its query string. */
export interface HttpFuzzRequest {
  readonly kind: HttpFuzzKind;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Bearer tokens of each role, for the operations' `x-ftgo-access`. */
export interface Tokens {
  readonly consumer: string;
  readonly admin: string;
}

export interface FuzzHttpOptions {
  readonly tokens: Tokens;
  /**
   * Values a property or parameter of this name takes half the time when valid (known ids, so that requests
   * reach what they name): `{ orderId: ["…"], restaurantId: ["r-1"] }`. Must be valid for its schema.
   */
  readonly hints?: Readonly<Record<string, readonly string[]>>;
  /**
   * Values that are the only valid ones for a parameter of this name, whatever its schema: opaque values
   * the server issues (`{ pageToken: ["", "<a nextPageToken>"] }`).
   */
  readonly opaque?: Readonly<Record<string, readonly string[]>>;
  /**
   * Parameters a client makes up anew for each operation (`["Idempotency-Key"]`): a valid request carries a
   * UUID there, as a client does, since one sent again with another request is a mistake the document names.
   */
  readonly fresh?: readonly string[];
}

/** Every operation of the document, in its order. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, operations]) => {
    const allowed = Object.keys(operations).map((method) => method.toUpperCase());
    return Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      operation,
      allowed,
    }));
  });
}

/** The document's statuses for an operation, as numbers. */
export function documentedStatuses(op: Operation): number[] {
  return Object.keys(op.operation.responses ?? {}).map(Number);
}

/** Requests the document calls valid for `op`. */
export function validRequest(
  doc: OpenApiDocument,
  op: Operation,
  options: FuzzHttpOptions,
): fc.Arbitrary<HttpFuzzRequest> {
  const values = schemaValues(doc, options);
  const params = (op.operation.parameters ?? []) as Schema[];
  const paramValue = (param: Schema): fc.Arbitrary<string> => {
    const opaque = options.opaque?.[param.name];
    if (opaque) return fc.constantFrom(...opaque);
    if (options.fresh?.includes(param.name)) return fc.uuid({ version: 4 });
    return values.of(param.schema ?? {}, param.name).map(asParameter);
  };
  const pathParams = params.filter((p) => p.in === "path");
  const queryParams = params.filter((p) => p.in === "query");
  const headerParams = params.filter((p) => p.in === "header");
  const path = fc.tuple(...pathParams.map(paramValue)).map((filled) => fillPath(op.path, pathParams, filled));
  const query = fc
    .tuple(...queryParams.map((p) => (p.required ? paramValue(p) : fc.option(paramValue(p), { nil: undefined }))))
    .map((filled) => queryString(queryParams.map((p, i) => [p.name, filled[i]] as const)));
  const headers = fc.tuple(...headerParams.map(paramValue)).map((filled) => {
    const entries = headerParams.map((p, i) => [String(p.name).toLowerCase(), filled[i] as string] as const);
    return Object.fromEntries(entries);
  });
  const bodySchema = jsonBodySchema(op);
  const body = bodySchema ? values.of(bodySchema).map((value) => JSON.stringify(value)) : fc.constant(undefined);
  return fc
    .record({ path, query, headers, auth: validAuth(op, options.tokens), body })
    .map(({ path, query, headers, auth, body }) => ({
      kind: "valid" as const,
      method: op.method,
      path: path + query,
      headers: {
        ...headers,
        ...auth,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body }),
    }));
}

/** Requests the document calls invalid for `op`, each certainly so: a 4xx is the only right answer. */
export function invalidRequest(
  doc: OpenApiDocument,
  op: Operation,
  options: FuzzHttpOptions,
): fc.Arbitrary<HttpFuzzRequest> {
  const valid = validRequest(doc, op, options);
  const with_ = (kind: HttpFuzzKind, change: (request: HttpFuzzRequest) => fc.Arbitrary<Partial<HttpFuzzRequest>>) =>
    valid.chain((request) => change(request).map((changes) => ({ ...request, ...changes, kind })));
  const bodySchema = jsonBodySchema(op);
  const params = (op.operation.parameters ?? []) as Schema[];
  const access = op.operation["x-ftgo-access"] as string | undefined;
  const kinds: fc.Arbitrary<HttpFuzzRequest>[] = [
    with_("unknown-query", (r) =>
      fc.tuple(fc.stringMatching(/^[a-z][A-Za-z]{0,12}$/), wildString()).map(([name, value]) => ({
        path: addQuery(r.path, `zz${name}`, value),
      })),
    ),
    with_("bad-token", () =>
      fc
        .oneof(
          fc.constantFrom("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer x.y.z", "Bearer a.b.c", "Token abc"),
          fc.string({ maxLength: 300 }).map((text) => `Bearer ${text.replace(/[^\x21-\x7e]/g, "x")}`),
          fc.base64String({ maxLength: 200 }).map((text) => `Bearer ${text}.${text}.${text}`),
        )
        .map((authorization) => ({ headers: { authorization } })),
    ),
    fc
      .constantFrom(...["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !op.allowed.includes(m)))
      .chain((method) => valid.map((r) => ({ ...r, kind: "wrong-method" as const, method, body: undefined }))),
  ];
  if (access) kinds.push(with_("no-token", (r) => fc.constant({ headers: withoutHeader(r.headers, "authorization") })));
  if (access === "admin") {
    kinds.push(
      with_("wrong-role", (r) => fc.constant({ headers: { ...r.headers, ...bearer(options.tokens.consumer) } })),
    );
  }
  if (access === "consumer-only") {
    kinds.push(with_("wrong-role", (r) => fc.constant({ headers: { ...r.headers, ...bearer(options.tokens.admin) } })));
  }
  const queryParams = params.filter((p) => p.in === "query");
  if (queryParams.length > 0) {
    kinds.push(
      with_("repeated-query", (r) =>
        fc.constantFrom(...queryParams).map((p) => ({ path: addQuery(addQuery(r.path, p.name, "1"), p.name, "2") })),
      ),
    );
    const breakable = queryParams.filter((p) => breakers(doc, p.schema).length > 0);
    if (breakable.length > 0) {
      kinds.push(
        with_("bad-parameter", (r) =>
          fc
            .constantFrom(...breakable)
            .chain((p) =>
              fc.constantFrom(...breakers(doc, p.schema)).map((value) => ({ path: addQuery(r.path, p.name, value) })),
            ),
        ),
      );
    }
  }
  const pathParams = params.filter((p) => p.in === "path" && breakers(doc, p.schema).length > 0);
  if (pathParams.length > 0) {
    kinds.push(
      with_("bad-parameter", (r) =>
        fc.constantFrom(...pathParams).chain((p) =>
          fc.constantFrom(...breakers(doc, p.schema).filter((value) => value !== "")).map((value) => ({
            path: replaceParam(op, r.path, p.name, value),
          })),
        ),
      ),
    );
  }
  for (const header of params.filter((p) => p.in === "header" && p.required)) {
    const name = String(header.name).toLowerCase();
    kinds.push(
      with_("bad-header", (r) =>
        fc
          .oneof(
            fc.constant(undefined),
            fc.constantFrom(...breakers(doc, header.schema).filter((value) => /^[\x20-\x7e]*$/.test(value))),
          )
          .map((value) => ({
            headers: value === undefined ? withoutHeader(r.headers, name) : { ...r.headers, [name]: value },
          })),
      ),
    );
  }
  if (op.method !== "GET") {
    kinds.push(
      with_("not-json", () =>
        fc
          .oneof(
            fc.constantFrom("", "{", "[1,", '{"a":}', "nul", "{'a':1}", "\u0000", '{"a":1}{"b":2}', "\uFEFF{}"),
            fc.string({ maxLength: 200 }).filter((text) => !isJson(text)),
          )
          .map((body) => ({ body, headers: { ...authOf(op, options), "content-type": "application/json" } })),
      ),
      with_("wrong-content-type", (r) =>
        fc
          .record({
            type: fc.constantFrom(
              "application/x-www-form-urlencoded",
              "multipart/form-data; boundary=x",
              "application/xml",
              "image/png",
              "application/octet-stream",
              "text/html",
              "application/json-patch+json",
            ),
            body: fc.oneof(fc.constant(r.body ?? "a=1"), fc.string({ minLength: 1, maxLength: 100 })),
          })
          .map(({ type, body }) => ({ body, headers: { ...r.headers, "content-type": type } })),
      ),
      with_("huge-string", (r) =>
        fc.constantFrom(70_000, 200_000).map((size) => ({
          body: JSON.stringify({ restaurantId: "r".repeat(size) }),
          headers: { ...r.headers, "content-type": "application/json" },
        })),
      ),
      with_("deep-nesting", (r) =>
        fc.integer({ min: 100, max: 20_000 }).map((depth) => ({
          body: `${"[".repeat(depth)}${"]".repeat(depth)}`,
          headers: { ...r.headers, "content-type": "application/json" },
        })),
      ),
    );
  }
  if (bodySchema) {
    kinds.push(
      with_("wrong-type", (r) => mutateBody(doc, bodySchema, r, "wrong-type")),
      with_("missing-required", (r) => mutateBody(doc, bodySchema, r, "missing-required")),
      with_("extra-field", (r) => mutateBody(doc, bodySchema, r, "extra-field")),
      with_("over-limit", (r) => mutateBody(doc, bodySchema, r, "over-limit")),
    );
  } else if (op.method !== "GET") {
    // A route that takes no body: a body it does not take.
    kinds.push(
      with_("extra-field", (r) =>
        fc
          .dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue(), { minKeys: 1, maxKeys: 3 })
          .map((value) => ({
            body: JSON.stringify(value),
            headers: { ...r.headers, "content-type": "application/json" },
          })),
      ),
    );
  }
  return fc.oneof(...kinds).filter((request) => !isStillValid(request, op));
}

/** A mutation that leaves the request as valid as before (a missing optional nothing) is no invalid request. */
function isStillValid(request: HttpFuzzRequest, op: Operation): boolean {
  return request.kind === "wrong-method" && op.allowed.includes(request.method);
}

/** Values valid for JSON schemas of the document, with hints by property name. */
function schemaValues(doc: OpenApiDocument, options: FuzzHttpOptions) {
  const resolve = (schema: Schema): Schema => resolveRef(doc, schema);
  function of(raw: Schema, name?: string, depth = 0): fc.Arbitrary<unknown> {
    const schema = resolve(raw);
    const generated = generate(schema, depth);
    const hints = name ? options.hints?.[name] : undefined;
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
function breakers(doc: OpenApiDocument, raw: Schema | undefined): string[] {
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

/** A valid body changed in one place so that the schema refuses it. */
function mutateBody(
  doc: OpenApiDocument,
  bodySchema: Schema,
  request: HttpFuzzRequest,
  how: "wrong-type" | "missing-required" | "extra-field" | "over-limit",
): fc.Arbitrary<Partial<HttpFuzzRequest>> {
  const value = JSON.parse(request.body ?? "null") as unknown;
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
  const send = (body: unknown) => ({ body: JSON.stringify(body) });
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

function matchesType(doc: OpenApiDocument, raw: Schema, value: unknown): boolean {
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

function jsonBodySchema(op: Operation): Schema | undefined {
  return op.operation.requestBody?.content?.["application/json"]?.schema;
}

function resolveRef(doc: OpenApiDocument, schema: Schema): Schema {
  let resolved = schema;
  while (typeof resolved.$ref === "string") {
    const name = resolved.$ref.replace("#/components/schemas/", "");
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved ${resolved.$ref}`);
    resolved = target;
  }
  return resolved;
}

function validAuth(op: Operation, tokens: Tokens): fc.Arbitrary<Record<string, string>> {
  switch (op.operation["x-ftgo-access"]) {
    case "consumer":
      return fc.constantFrom(bearer(tokens.consumer), bearer(tokens.admin));
    case "consumer-only":
      return fc.constant(bearer(tokens.consumer));
    case "admin":
      return fc.constant(bearer(tokens.admin));
    default:
      return fc.constantFrom({}, bearer(tokens.consumer), bearer(tokens.admin));
  }
}

function authOf(op: Operation, { tokens }: FuzzHttpOptions): Record<string, string> {
  return op.operation["x-ftgo-access"] === "admin" ? bearer(tokens.admin) : bearer(tokens.consumer);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function withoutHeader(headers: Readonly<Record<string, string>>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));
}

function asParameter(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function fillPath(template: string, params: readonly Schema[], values: readonly string[]): string {
  return params.reduce(
    (path, param, i) => path.replace(`{${param.name}}`, encodeURIComponent(values[i] ?? "")),
    template,
  );
}

function replaceParam(op: Operation, path: string, name: string, value: string): string {
  const [pathPart = "", query] = path.split("?");
  const templateParts = op.path.split("/");
  const parts = pathPart
    .split("/")
    .map((part, i) => (templateParts[i] === `{${name}}` ? encodeURIComponent(value) : part));
  return parts.join("/") + (query === undefined ? "" : `?${query}`);
}

function queryString(entries: readonly (readonly [string, string | undefined])[]): string {
  const present = entries.filter((entry): entry is readonly [string, string] => entry[1] !== undefined);
  return present.length === 0
    ? ""
    : `?${new URLSearchParams(present.map(([k, v]): [string, string] => [k, v])).toString()}`;
}

function addQuery(path: string, name: string, value: string): string {
  const pair = `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  return path.includes("?") ? `${path}&${pair}` : `${path}?${pair}`;
}

function wildString(): fc.Arbitrary<string> {
  return fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }), fc.constant(""));
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
