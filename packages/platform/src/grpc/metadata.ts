import { decodeBinaryHeader, encodeBinaryHeader } from "@connectrpc/connect";
import { Metadata } from "@grpc/grpc-js";

/*
 * Handlers and callers see Connect's `Headers`; grpc-js speaks `Metadata`. The only real difference is
 * binary values: gRPC keys ending in `-bin` carry bytes, which `Headers` holds as unpadded base64, the
 * same convention Connect uses on the wire.
 */

/** Copies grpc-js metadata into Fetch-style headers, base64-encoding `-bin` values. */
export function metadataToHeaders(metadata: Metadata | undefined): Headers {
  const headers = new Headers();
  for (const [key, values] of Object.entries(metadata?.toJSON() ?? {})) {
    for (const value of values) {
      headers.append(key, typeof value === "string" ? value : encodeBinaryHeader(value));
    }
  }
  return headers;
}

/** Copies headers into grpc-js metadata, decoding `-bin` values back into bytes. */
export function headersToMetadata(headers: Headers): Metadata {
  const metadata = new Metadata();
  headers.forEach((value, key) => {
    if (key.endsWith("-bin")) {
      // Headers joins repeated keys with ", "; each part is one binary value.
      for (const part of value.split(",")) metadata.add(key, Buffer.from(decodeBinaryHeader(part.trim())));
    } else {
      metadata.add(key, value);
    }
  });
  return metadata;
}
