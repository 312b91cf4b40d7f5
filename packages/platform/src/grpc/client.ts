import { checkServerIdentity } from "node:tls";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  type Message,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  type ChannelCredentials,
  type ClientReadableStream,
  type ClientUnaryCall,
  credentials,
  Client as GrpcChannel,
  type Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { context as traceContext } from "@opentelemetry/api";
import type { MeshTls } from "../mesh-tls.js";
import { OK, startClientSpan } from "../telemetry/rpc-spans.js";
import { type CallContext, currentCall, REQUEST_ID_HEADER } from "./call-context.js";
import { createMethodDefinition } from "./definition.js";
import { headersToMetadata, metadataToHeaders } from "./metadata.js";
import { withoutStack } from "./stackless.js";
import { fromGrpcStatus } from "./status.js";

export interface GrpcTransportOptions {
  /** "host:port" of the server. */
  address: string;
  /** Timeout of calls that set no `timeoutMs`. Default 5000; 0 or less means none. */
  defaultTimeoutMs?: number;
  /** Largest response accepted. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Largest request sent. Default 4 MiB (grpc-js alone would send any size). */
  maxSendMessageBytes?: number;
  /**
   * The secure mode (`config.tls`): mTLS, presenting this process's certificate and accepting only a server
   * certificate of the mesh CA that names the address dialled (every mesh certificate names localhost,
   * 127.0.0.1 and ::1). Without it, plaintext.
   */
  tls?: MeshTls;
  /**
   * With `tls`: the name (CN) the server's certificate must carry besides naming the address, e.g. "kitchen",
   * so that a certificate of the mesh CA made for another identity cannot pose as the target.
   */
  serverName?: string;
}

export interface GrpcTransport {
  readonly address: string;
  /** The one grpc-js client, and so the one HTTP/2 connection, that every typed client on this transport shares. */
  readonly channel: GrpcChannel;
  /** Timeout of calls that set none; 0 or less means none. */
  readonly defaultTimeoutMs: number;
  close(): void;
}

const MiB = 1024 * 1024;

/**
 * Opens a channel to one gRPC server, shared by all the typed clients made from it (like a Connect
 * transport). Every limit is explicit: a default timeout, because grpc-js would otherwise wait forever;
 * message sizes in both directions; and keepalive pings that notice a dead server within 80 s.
 */
export function createGrpcTransport(options: GrpcTransportOptions): GrpcTransport {
  const channel = new GrpcChannel(options.address, channelCredentials(options.tls, options.serverName), {
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? 4 * MiB,
    "grpc.max_send_message_length": options.maxSendMessageBytes ?? 4 * MiB,
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.keepalive_permit_without_calls": 0,
  });
  return {
    address: options.address,
    channel,
    defaultTimeoutMs: options.defaultTimeoutMs ?? 5000,
    close: () => channel.close(),
  };
}

/**
 * mTLS with this process's certificate, verifying the server's against the mesh CA and the address dialled
 * (Node's own check), and its CN against `serverName` when given; or plaintext.
 */
function channelCredentials(tls: MeshTls | undefined, serverName: string | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if (serverName === undefined) return credentials.createSsl(tls.ca, tls.key, tls.cert);
  return credentials.createSsl(tls.ca, tls.key, tls.cert, {
    // grpc-js hands this to Node in place of its own check, so Node's runs first, then the name's.
    checkServerIdentity: (host, certificate) =>
      checkServerIdentity(host, certificate) ??
      (certificate.subject?.CN === serverName
        ? undefined
        : new Error(`the server at ${host} is "${String(certificate.subject?.CN)}", not "${serverName}"`)),
  });
}

/**
 * A typed client for `service`, with the same shape as Connect's `createClient(service, transport)`:
 * unary methods return a promise, server-streaming methods an async iterable, failures reject with a
 * ConnectError. Called from inside a handler, each call inherits the handler's request id, ends no
 * later than the handler's deadline, and is cancelled with the handler.
 */
export function createGrpcClient<S extends DescService>(service: S, transport: GrpcTransport): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) client[method.localName] = createMethodFn(method, transport);
  // The loop gives every method of S its function; TypeScript cannot follow a loop to the mapped type.
  return client as Client<S>;
}

function createMethodFn(method: DescMethod, transport: GrpcTransport) {
  switch (method.methodKind) {
    case "unary":
      return createUnaryFn(method, transport);
    case "server_streaming":
      return createServerStreamingFn(method, transport);
    default:
      return () => {
        const name = `${method.parent.typeName}.${method.name}`;
        throw new ConnectError(
          `${name} is ${method.methodKind}; this client calls only unary and server-streaming methods`,
          Code.Unimplemented,
        );
      };
  }
}

function createUnaryFn(method: DescMethod, transport: GrpcTransport) {
  const { path, requestSerialize, responseDeserialize } = createMethodDefinition(method);
  return (request: MessageInitShape<DescMessage>, options: CallOptions = {}) => {
    const outgoing = prepareCall(transport, options, currentCall());
    const message = create(method.input, request);
    const span = startClientSpan(method, transport.address, outgoing.metadata);
    return new Promise<Message>((resolve, reject) => {
      // grpc-js builds an Error per call to keep the caller's stack for a failure; the ConnectError the
      // caller gets has its own, so that one is built empty (stackless.ts).
      const call = withoutStack(() =>
        transport.channel.makeUnaryRequest(
          path,
          requestSerialize,
          responseDeserialize,
          message,
          outgoing.metadata,
          { deadline: outgoing.deadline },
          (error, response) => {
            if (!error) {
              span.end(OK);
              return resolve(response as Message);
            }
            const failure = fromGrpcStatus(error, error);
            span.end(failure.code, failure);
            reject(failure);
          },
        ),
      );
      watchCall(call, options, outgoing.signals);
    });
  };
}

function createServerStreamingFn(method: DescMethod, transport: GrpcTransport) {
  const { path, requestSerialize, responseDeserialize } = createMethodDefinition(method);
  return (request: MessageInitShape<DescMessage>, options: CallOptions = {}) => {
    // Captured now: the iterable may be consumed outside the handler that asked for it.
    const parent = currentCall();
    const trace = traceContext.active();
    return (async function* () {
      const outgoing = prepareCall(transport, options, parent);
      const span = traceContext.with(trace, () => startClientSpan(method, transport.address, outgoing.metadata));
      const call = transport.channel.makeServerStreamRequest(
        path,
        requestSerialize,
        responseDeserialize,
        create(method.input, request),
        outgoing.metadata,
        { deadline: outgoing.deadline },
      );
      const unwatch = watchCall(call, options, outgoing.signals);
      try {
        for await (const message of call) yield message as Message;
        span.end(OK);
      } catch (error) {
        const failure = isServiceError(error) ? fromGrpcStatus(error, error) : error;
        span.end(failure instanceof ConnectError ? failure.code : Code.Unknown, failure);
        throw failure;
      } finally {
        span.end(Code.Canceled, "the caller stopped reading the stream"); // unless it ended above
        unwatch();
        // A no-op when the stream has ended; tells the server to stop when the caller leaves early.
        call.cancel();
      }
    })();
  };
}

/** What an outgoing call inherits from the incoming call it runs inside (if any) and its options. */
function prepareCall(transport: GrpcTransport, options: CallOptions, parent: CallContext | undefined) {
  const headers = new Headers(options.headers);
  if (parent && !headers.has(REQUEST_ID_HEADER)) headers.set(REQUEST_ID_HEADER, parent.requestId);
  const timeoutMs = options.timeoutMs ?? transport.defaultTimeoutMs;
  const ownDeadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
  return {
    metadata: headersToMetadata(headers),
    // Deadline propagation: never wait longer than the caller we work for. grpc-js reads Infinity as none.
    deadline: Math.min(ownDeadline, parent?.deadline ?? Number.POSITIVE_INFINITY),
    signals: [options.signal, parent?.signal].filter((signal) => signal !== undefined),
  };
}

/** Cancels `call` when any signal aborts and reports headers and trailers; returns a function to stop. */
function watchCall(
  call: ClientUnaryCall | ClientReadableStream<Message>,
  options: CallOptions,
  signals: AbortSignal[],
): () => void {
  const { onHeader, onTrailer } = options;
  if (onHeader) call.on("metadata", (metadata: Metadata) => onHeader(metadataToHeaders(metadata)));
  if (onTrailer) call.on("status", (status: { metadata: Metadata }) => onTrailer(metadataToHeaders(status.metadata)));

  const cancel = () => call.cancel();
  const unwatch = () => {
    for (const signal of signals) signal.removeEventListener("abort", cancel);
  };
  call.on("status", unwatch);
  if (signals.some((signal) => signal.aborted)) cancel();
  else for (const signal of signals) signal.addEventListener("abort", cancel, { once: true });
  return unwatch;
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number";
}
