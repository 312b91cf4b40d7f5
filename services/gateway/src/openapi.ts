// The OpenAPI 3.1 document, derived from the routing map and the protobuf descriptors: paths from the
// table, request and response schemas from the messages the routes translate to and from, and the
// route summaries as descriptions, and the limits the contracts declare (openapi-limits.ts) as maxLength,
// pattern, minimum/maximum, maxItems and required. Nothing here is written per route. A deprecated route's
// operation says `deprecated: true`, and its answers' Deprecation, Sunset and Link headers with the dates
// configured; a route that takes an Idempotency-Key declares the header, with the limits of its field.

import type { DescEnum, DescField, DescMessage, JsonObject } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { AuthorizationSchema } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { DeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { TicketSchema } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderPointsSchema } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import type { DeprecationsConfig } from "./config.js";
import { type Deprecation, deprecationHeaders } from "./deprecation.js";
import { IDEMPOTENCY_KEY_HEADER } from "./idempotency-key.js";
import { declaredLimits } from "./openapi-limits.js";
import { ORDER_APIS, type OrderApi } from "./order-api.js";
import type { JsonSchema, Route } from "./routes.js";
import { isWellKnown } from "./translate.js";

const ERROR_STATUSES: Readonly<Record<string, string>> = {
  "400": "Malformed request: bad JSON, wrong types, unknown fields or parameters, or a limit the contract declares",
  "401": "Missing or invalid bearer token (a public route needs none, but refuses one that does not verify)",
  "403": "The caller may not use this route",
  "404": "Not found (or not the caller's)",
  "413": "Request body too large",
  "414": "The URL is longer than the gateway reads (8192 characters)",
  "415": "The request body is not declared as JSON (Content-Type: application/json)",
  "429": "Rate limit exceeded: see Retry-After",
  "503": "A service the route needs is unavailable",
  "504": "A service the route needs did not answer in time",
};

/** Which routes may answer an error status at all: who is asked for a token, who sends a body, who calls out. */
function answers(route: Route, code: string): boolean {
  switch (code) {
    case "403":
      return route.auth !== "public";
    case "413":
    case "415":
      return route.method !== "GET";
    case "504":
      return route.kind === "grpc" || route.calls.length > 0;
    default:
      return true;
  }
}

export function buildOpenApi(routes: readonly Route[], deprecations: DeprecationsConfig): JsonObject {
  const components = new Map<string, JsonSchema>();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation = describeOperation(route, components, deprecations);
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  // The composed views reference the messages they are made of.
  const orders = ORDER_APIS.map((api) => api.orderSchema);
  for (const schema of [...orders, TicketSchema, DeliverySchema, AuthorizationSchema, OrderPointsSchema]) {
    messageRef(schema, components);
  }
  for (const api of ORDER_APIS) components.set(orderDetailsName(api), orderDetailsSchema(api));
  components.set("MobileOrder", MOBILE_ORDER);
  components.set("Error", ERROR);
  return {
    openapi: "3.1.0",
    info: {
      title: "FTGO API",
      version: "1.0.0",
      description: "The API gateway of ftgo-mesh: REST/JSON over the gRPC services, and Server-Sent Events.",
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      schemas: Object.fromEntries([...components].sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT (EdDSA)" } },
    },
  } as JsonObject;
}

function describeOperation(
  route: Route,
  components: Map<string, JsonSchema>,
  deprecations: DeprecationsConfig,
): Record<string, unknown> {
  const params = route.kind === "grpc" ? route.rpc.input : route.params;
  const parameters: Record<string, unknown>[] = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const field = params?.fields.find((f) => f.jsonName === name);
    return { name, in: "path", required: true, schema: field ? fieldSchema(field, components) : { type: "string" } };
  });
  let requestSchema: JsonSchema | undefined;
  let responseSchema: JsonSchema;
  let status = "200";
  if (route.kind === "grpc") {
    for (const name of route.request.query ?? []) {
      const field = route.rpc.input.fields.find((f) => f.jsonName === name);
      parameters.push({
        name,
        in: "query",
        required: false,
        ...(field && OPAQUE.has(field.jsonName) ? { description: OPAQUE.get(field.jsonName) } : {}),
        schema: field ? fieldSchema(field, components) : {},
      });
    }
    const keyField = route.rpc.input.fields.find((f) => f.jsonName === route.request.idempotencyKey);
    if (keyField) {
      parameters.push({
        name: IDEMPOTENCY_KEY_HEADER,
        in: "header",
        required: true,
        description:
          "Chosen by the client, one per order it means to place (a UUID, say), and sent again unchanged " +
          "when it retries: a repeated key answers the order it first created. The IETF draft's form is " +
          'a Structured Field String ("…"); a bare key is accepted too. Missing or malformed, or already ' +
          "used for a different request: 400.",
        schema: fieldSchema(keyField, components),
      });
    }
    const gatewaySet = new Set([
      ...(route.request.path ?? []),
      ...(route.request.query ?? []),
      route.request.caller,
      route.request.idempotencyKey,
    ]);
    if (route.request.body) requestSchema = messageSchema(route.rpc.input, components, gatewaySet);
    responseSchema = route.responseSchema ?? messageRef(route.rpc.output, components);
    status = String(route.status ?? 200);
  } else {
    requestSchema = route.requestSchema;
    responseSchema = route.responseSchema;
  }
  const calls =
    route.kind === "grpc" ? [`${route.rpc.parent.typeName}.${route.rpc.name}`] : route.calls.map((call) => call);
  // A deprecated route says so in every answer, errors included.
  const headers = route.deprecated ? { headers: deprecatedHeaders(route.deprecated, deprecations) } : {};
  const errors = Object.fromEntries(
    Object.entries({ ...ERROR_STATUSES, ...route.statuses })
      .filter(([code]) => answers(route, code))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, description]) => [
        code,
        {
          description,
          ...headers,
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      ]),
  );
  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(route.deprecated ? { deprecated: true, description: deprecatedNote(route.deprecated, deprecations) } : {}),
    tags: [route.tag],
    ...(route.auth === "public" ? { security: [] } : { security: [{ bearer: [] }] }),
    ...(route.auth !== "public" ? { "x-ftgo-access": route.auth } : {}),
    ...(calls.length > 0 ? { "x-ftgo-grpc": calls } : {}),
    parameters,
    ...(requestSchema
      ? { requestBody: { required: true, content: { "application/json": { schema: requestSchema } } } }
      : {}),
    responses: {
      [status]: {
        description: "OK",
        ...headers,
        content: {
          [route.kind === "handler" && route.contentType ? route.contentType : "application/json"]: {
            schema: responseSchema,
          },
        },
      },
      ...errors,
    },
  };
}

/** Parameters whose values only the server issues: any other value is refused, whatever its shape. */
const OPAQUE: ReadonlyMap<string, string> = new Map([
  [
    "pageToken",
    "The nextPageToken of the previous page, unchanged (empty or absent: the first page); any other value: 400",
  ],
]);

/** The Deprecation, Sunset and Link headers of a deprecated route's answers, with their configured values. */
function deprecatedHeaders(deprecation: Deprecation, deprecations: DeprecationsConfig): Record<string, unknown> {
  const sent = deprecationHeaders(deprecations[deprecation.schedule], deprecation.successor);
  const header = (description: string, value: string | undefined) => ({
    description,
    required: true,
    schema: { type: "string", examples: [value] },
  });
  return {
    Deprecation: header("RFC 9745: deprecated since this date (`@` and seconds since the epoch)", sent.deprecation),
    Sunset: header("RFC 8594: the route stops answering after this date", sent.sunset),
    Link: header(
      'The successor API (rel="successor-version"), and a page about the deprecation when configured',
      sent.link,
    ),
  };
}

function deprecatedNote({ successor, schedule }: Deprecation, deprecations: DeprecationsConfig): string {
  const { deprecatedAt, sunsetAt } = deprecations[schedule];
  const day = (date: Date) => date.toISOString().slice(0, 10);
  return `Deprecated since ${day(deprecatedAt)}, answers until ${day(sunsetAt)}: use ${successor} instead.`;
}

/** `GET /api/v1/orders/{orderId}` → `getApiV1OrdersOrderId`: unique, stable, readable. */
function operationId(route: Route): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return route.method.toLowerCase() + words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join("");
}

/** A `$ref` to the message's schema, adding it (and what it references) to the components. */
function messageRef(desc: DescMessage, components: Map<string, JsonSchema>): JsonSchema {
  if (isWellKnown(desc)) return wellKnownSchema(desc);
  if (!components.has(desc.typeName)) {
    components.set(desc.typeName, {}); // placeholder first: messages may refer to themselves
    components.set(desc.typeName, messageSchema(desc, components));
  }
  return { $ref: `#/components/schemas/${desc.typeName}` };
}

function messageSchema(desc: DescMessage, components: Map<string, JsonSchema>, omit = new Set<unknown>()): JsonSchema {
  const fields = desc.fields.filter((field) => !omit.has(field.jsonName));
  const required = fields.filter((field) => declaredLimits(field).required).map((field) => field.jsonName);
  return {
    type: "object",
    additionalProperties: false,
    properties: Object.fromEntries(fields.map((field) => [field.jsonName, fieldSchema(field, components)])),
    ...(required.length > 0 ? { required } : {}),
  };
}

/** The field's type, narrowed by the limits its contract declares. */
function fieldSchema(field: DescField, components: Map<string, JsonSchema>): JsonSchema {
  const { keywords } = declaredLimits(field);
  return Object.keys(keywords).length > 0
    ? { ...typeSchema(field, components), ...keywords }
    : typeSchema(field, components);
}

function typeSchema(field: DescField, components: Map<string, JsonSchema>): JsonSchema {
  switch (field.fieldKind) {
    case "scalar":
      return scalarSchema(field.scalar);
    case "enum":
      return enumRef(field.enum, components);
    case "message":
      return messageRef(field.message, components);
    case "list": {
      const items =
        field.listKind === "scalar"
          ? scalarSchema(field.scalar)
          : field.listKind === "enum"
            ? enumRef(field.enum, components)
            : messageRef(field.message, components);
      return { type: "array", items };
    }
    case "map":
      return { type: "object", additionalProperties: {} };
  }
}

function enumRef(desc: DescEnum, components: Map<string, JsonSchema>): JsonSchema {
  components.set(desc.typeName, {
    type: "string",
    enum: desc.values.filter((value) => value.number !== 0).map((value) => value.localName),
  });
  return { $ref: `#/components/schemas/${desc.typeName}` };
}

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
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return { type: "string", pattern: "^-?[0-9]+$", description: "a 64-bit integer, as a string" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", minimum: 0, maximum: 2 ** 32 - 1 };
    default:
      return { type: "integer", format: "int32", minimum: -(2 ** 31), maximum: 2 ** 31 - 1 };
  }
}

function wellKnownSchema(desc: DescMessage): JsonSchema {
  return desc.typeName === "google.protobuf.Timestamp" ? { type: "string", format: "date-time" } : {};
}

const nullable = (ref: string) => ({ oneOf: [{ $ref: `#/components/schemas/${ref}` }, { type: "null" }] });
const LEGS = { type: "array", items: { enum: ["ticket", "delivery", "payment", "points"] } };

/** `OrderDetails` for v1 (the name it always had), `OrderDetailsV2` for v2. */
const orderDetailsName = ({ version }: OrderApi) =>
  version === "v1" ? "OrderDetails" : `OrderDetails${version.toUpperCase()}`;

const orderDetailsSchema = ({ orderSchema }: OrderApi): JsonSchema => ({
  type: "object",
  description:
    "An order composed from Order, Kitchen, Delivery, Accounting and Loyalty. A part that could not be fetched in " +
    "time is null and named in `unavailable`; a part that does not exist yet is null and not named.",
  required: ["order", "ticket", "delivery", "payment", "points", "unavailable"],
  properties: {
    order: { $ref: `#/components/schemas/${orderSchema.typeName}` },
    ticket: nullable("ftgo.kitchen.v1.Ticket"),
    delivery: nullable("ftgo.delivery.v1.Delivery"),
    payment: nullable("ftgo.accounting.v1.Authorization"),
    points: nullable("ftgo.loyalty.v1.OrderPoints"),
    unavailable: LEGS,
  },
});

const MOBILE_ORDER: JsonSchema = {
  type: "object",
  required: ["orderId", "status", "reason", "eta", "total", "itemCount", "unavailable"],
  properties: {
    orderId: { type: "string" },
    status: { $ref: "#/components/schemas/ftgo.order.v1.OrderState" },
    reason: { type: "string" },
    eta: { type: ["string", "null"], format: "date-time" },
    total: { oneOf: [{ $ref: "#/components/schemas/ftgo.common.v1.Money" }, { type: "null" }] },
    itemCount: { type: "integer" },
    unavailable: LEGS,
  },
};

const ERROR: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string", examples: ["NOT_FOUND"] }, message: { type: "string" } },
    },
  },
};
