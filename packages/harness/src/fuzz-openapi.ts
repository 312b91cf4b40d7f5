// HTTP requests for fuzzing an API, generated with fast-check from its OpenAPI 3.1 document alone: for each
// operation, requests the document calls valid (path, query and header parameters and a JSON body drawn
// from their schemas, a token the operation's access admits) and requests it calls invalid — a schema
// broken on purpose (wrong types, missing required properties, unknown ones, values past a limit), huge
// strings and deep nesting, bodies that are not JSON or not declared as JSON, parameters no route takes,
// bad or missing tokens, methods the path does not serve. A server whose document is exact answers the
// first kind with a status the operation documents and never 400, and the second with a 4xx.
import fc from "fast-check";
import { breakers, type Hints, mutateBody, type Schema, type SchemaSource, schemaValues } from "./fuzz-json-schema.js";

/** The parts of an OpenAPI document the generator reads. */
export interface OpenApiDocument extends SchemaSource {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Schema>>>>;
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
  readonly hints?: Hints;
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
  const values = schemaValues(doc, options.hints);
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
  const changed = (kind: HttpFuzzKind, change: (request: HttpFuzzRequest) => fc.Arbitrary<Partial<HttpFuzzRequest>>) =>
    valid.chain((request) => change(request).map((changes) => ({ ...request, ...changes, kind })));
  const bodySchema = jsonBodySchema(op);
  const params = (op.operation.parameters ?? []) as Schema[];
  const access = op.operation["x-ftgo-access"] as string | undefined;
  const kinds: fc.Arbitrary<HttpFuzzRequest>[] = [
    changed("unknown-query", (r) =>
      fc.tuple(fc.stringMatching(/^[a-z][A-Za-z]{0,12}$/), wildString()).map(([name, value]) => ({
        path: addQuery(r.path, `zz${name}`, value),
      })),
    ),
    changed("bad-token", () =>
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
  if (access)
    kinds.push(changed("no-token", (r) => fc.constant({ headers: withoutHeader(r.headers, "authorization") })));
  if (access === "admin") {
    kinds.push(
      changed("wrong-role", (r) => fc.constant({ headers: { ...r.headers, ...bearer(options.tokens.consumer) } })),
    );
  }
  if (access === "consumer-only") {
    kinds.push(
      changed("wrong-role", (r) => fc.constant({ headers: { ...r.headers, ...bearer(options.tokens.admin) } })),
    );
  }
  const queryParams = params.filter((p) => p.in === "query");
  if (queryParams.length > 0) {
    kinds.push(
      changed("repeated-query", (r) =>
        fc.constantFrom(...queryParams).map((p) => ({ path: addQuery(addQuery(r.path, p.name, "1"), p.name, "2") })),
      ),
    );
    const breakable = queryParams.filter((p) => breakers(doc, p.schema).length > 0);
    if (breakable.length > 0) {
      kinds.push(
        changed("bad-parameter", (r) =>
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
      changed("bad-parameter", (r) =>
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
      changed("bad-header", (r) =>
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
      changed("not-json", () =>
        fc
          .oneof(
            fc.constantFrom("", "{", "[1,", '{"a":}', "nul", "{'a':1}", "\u0000", '{"a":1}{"b":2}', "\uFEFF{}"),
            fc.string({ maxLength: 200 }).filter((text) => !isJson(text)),
          )
          .map((body) => ({ body, headers: { ...authOf(op, options), "content-type": "application/json" } })),
      ),
      changed("wrong-content-type", (r) =>
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
      changed("huge-string", (r) =>
        fc.constantFrom(70_000, 200_000).map((size) => ({
          body: JSON.stringify({ restaurantId: "r".repeat(size) }),
          headers: { ...r.headers, "content-type": "application/json" },
        })),
      ),
      changed("deep-nesting", (r) =>
        fc.integer({ min: 100, max: 20_000 }).map((depth) => ({
          body: `${"[".repeat(depth)}${"]".repeat(depth)}`,
          headers: { ...r.headers, "content-type": "application/json" },
        })),
      ),
    );
  }
  if (bodySchema) {
    kinds.push(
      changed("wrong-type", (r) =>
        mutateBody(doc, bodySchema, r.body ?? "null", "wrong-type").map((body) => ({ body })),
      ),
      changed("missing-required", (r) =>
        mutateBody(doc, bodySchema, r.body ?? "null", "missing-required").map((body) => ({ body })),
      ),
      changed("extra-field", (r) =>
        mutateBody(doc, bodySchema, r.body ?? "null", "extra-field").map((body) => ({ body })),
      ),
      changed("over-limit", (r) =>
        mutateBody(doc, bodySchema, r.body ?? "null", "over-limit").map((body) => ({ body })),
      ),
    );
  } else if (op.method !== "GET") {
    // A route that takes no body: a body it does not take.
    kinds.push(
      changed("extra-field", (r) =>
        fc
          .dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue(), { minKeys: 1, maxKeys: 3 })
          .map((value) => ({
            body: JSON.stringify(value),
            headers: { ...r.headers, "content-type": "application/json" },
          })),
      ),
    );
  }
  return fc.oneof(...kinds);
}

function jsonBodySchema(op: Operation): Schema | undefined {
  return op.operation.requestBody?.content?.["application/json"]?.schema;
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
