// GET /asyncapi.json: the messaging contract beside the RPC one (/openapi.json). The AsyncAPI document
// is built from the .proto files' comments, which the descriptors compiled into gen/ do not keep, and
// from every service's subscriptions, which the gateway may not import; so it is built once, by
// `npm run asyncapi`, and committed as docs/asyncapi.yaml, where CI keeps it equal to what the
// contracts say. The gateway serves that file as JSON, read once, on the first request.
import { readFile } from "node:fs/promises";
import type { JsonObject } from "@bufbuild/protobuf";
import { parse } from "yaml";
import type { RouteContext } from "./context.js";

/** Where `npm run asyncapi` writes the document: docs/ of the checkout the gateway runs from. */
const DOCUMENT = new URL("../../../docs/asyncapi.yaml", import.meta.url);

let document: Promise<JsonObject> | undefined;

/** The committed AsyncAPI document, parsed once; a failed read is tried again on the next request. */
export function messagingContract(): Promise<JsonObject> {
  document ??= readFile(DOCUMENT, "utf8").then(
    (text) => parse(text) as JsonObject,
    (err: unknown) => {
      document = undefined;
      throw new Error("docs/asyncapi.yaml cannot be read: run `npm run asyncapi`", { cause: err });
    },
  );
  return document;
}

/** The routing map's row for it (routes.ts lists it after /openapi.json). */
export const ASYNCAPI_ROUTE = {
  kind: "handler",
  method: "GET",
  path: "/asyncapi.json",
  summary: "The messaging contract: every NATS channel, its messages and who sends and receives them (AsyncAPI 3.0)",
  tag: "ops",
  auth: "public",
  calls: [],
  handler: (_ctx: RouteContext) => messagingContract(),
  responseSchema: { type: "object" },
} as const;
