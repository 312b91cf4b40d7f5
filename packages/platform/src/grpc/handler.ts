import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { create, type DescMethod, fromBinary, type Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type HandlerContext,
  type MethodImplSpec,
} from "@connectrpc/connect";
import {
  type Deadline,
  Metadata,
  type MetadataValue,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  status as Status,
  type sendUnaryData,
  type UntypedHandleCall,
} from "@grpc/grpc-js";
import { context as traceContext } from "@opentelemetry/api";
import type { Logger } from "../log.js";
import { OK, startServerSpan } from "../telemetry/rpc-spans.js";
import { assertWithinLimits } from "../validation.js";
import { type CallContext, REQUEST_ID_HEADER, runInCall } from "./call-context.js";
import type { FaultInjector } from "./faults.js";
import { callerOf } from "./guard.js";
import { headersToMetadata, metadataToHeaders } from "./metadata.js";
import { severityOf, toConnectError, toGrpcStatus } from "./status.js";

type UnarySpec = Extract<MethodImplSpec, { kind: "unary" }>;
type ServerStreamingSpec = Extract<MethodImplSpec, { kind: "server_streaming" }>;
type InjectFault = (signal: AbortSignal) => Promise<void> | undefined;

/**
 * Serves one method written as Connect's `ServiceImpl` on grpc-js. Handlers get the HandlerContext they
 * would get from connect-node (headers, trailers, `timeoutMs()`, and a `signal` that aborts at the
 * deadline, on client cancellation and when the call ends) and run inside `currentCall()`, so that
 * their outgoing calls inherit request id, deadline and cancellation. Unary and server-streaming
 * methods are served; client-streaming and bidi methods answer UNIMPLEMENTED, as nothing here uses them.
 * When `shutdown` aborts (the server is closing), open server streams end with UNAVAILABLE at once: a
 * Watch stream would never end by itself, and its client should reconnect, to this server's successor.
 */
export function createMethodHandler(
  spec: MethodImplSpec,
  log: Logger,
  faults?: FaultInjector,
  shutdown?: AbortSignal,
): UntypedHandleCall {
  const path = `/${spec.method.parent.typeName}/${spec.method.name}`;
  // Fault injection (AdminService) runs before the handler; undefined when no fault fires, so no await.
  const fault: InjectFault = (signal) => faults?.apply(path, signal);
  switch (spec.kind) {
    case "unary":
      return (call: ServerUnaryCall<Buffer, Message>, callback: sendUnaryData<Message>) =>
        void serveUnary(spec, call, callback, log, fault);
    case "server_streaming":
      return (call: ServerWritableStream<Buffer, Message>) => void serveServerStream(spec, call, log, fault, shutdown);
    default:
      return rejectUnsupported(spec);
  }
}

async function serveUnary(
  spec: UnarySpec,
  call: ServerUnaryCall<Buffer, Message>,
  callback: sendUnaryData<Message>,
  log: Logger,
  fault: InjectFault,
): Promise<void> {
  const rpc = openCall(spec.method, call, log);
  await rpc.run(async () => {
    try {
      const delay = fault(rpc.handlerContext.signal);
      if (delay) await delay;
      const response = await spec.impl(decodeRequest(spec.method, call.request), rpc.handlerContext);
      const message = create(spec.method.output, response);
      rpc.sendHeaders();
      callback(null, message, trailerMetadata(rpc.trailers()));
      rpc.succeeded();
    } catch (thrown) {
      const error = rpc.failed(thrown);
      rpc.sendHeaders();
      callback(toGrpcStatus(error, rpc.trailers()));
    } finally {
      rpc.close();
    }
  });
}

async function serveServerStream(
  spec: ServerStreamingSpec,
  call: ServerWritableStream<Buffer, Message>,
  log: Logger,
  fault: InjectFault,
  shutdown: AbortSignal | undefined,
): Promise<void> {
  const rpc = openCall(spec.method, call, log, shutdown);
  const { signal } = rpc.handlerContext;
  await rpc.run(async () => {
    try {
      const delay = fault(signal);
      if (delay) await delay;
      const responses = spec.impl(decodeRequest(spec.method, call.request), rpc.handlerContext);
      for await (const response of responses) {
        // Leaving the loop early makes for-await call the iterator's return(), which runs the handler's
        // finally blocks. A handler waiting for its next event notices through ctx.signal.
        if (signal.aborted) break;
        rpc.sendHeaders();
        if (!call.write(create(spec.method.output, response))) await once(call, "drain", { signal });
      }
      if (signal.aborted) throw signal.reason;
      rpc.sendHeaders();
      call.end(trailerMetadata(rpc.trailers()));
      rpc.succeeded();
    } catch (thrown) {
      const error = rpc.failed(thrown);
      rpc.sendHeaders();
      // grpc-js turns an "error" event on a server stream into the call's final status.
      call.emit("error", toGrpcStatus(error, rpc.trailers()));
    } finally {
      rpc.close();
    }
  });
}

/**
 * Requests reach the handler as raw bytes (see server.ts) and are decoded here: a malformed request is
 * the caller's mistake, so it becomes INVALID_ARGUMENT and is logged like any other failed call. So is
 * one that breaks a limit its contract declares: no handler ever sees a request its .proto file refuses.
 */
function decodeRequest(method: DescMethod, bytes: Buffer): Message {
  let request: Message;
  try {
    request = fromBinary(method.input, bytes);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConnectError(`malformed ${method.input.typeName}: ${reason}`, Code.InvalidArgument, undefined, [], cause);
  }
  assertWithinLimits(method.input, request);
  return request;
}

/** The reason a call's signal carries once the call is over; built once, as a stack trace per call costs. */
const CALL_ENDED = new ConnectError("the call has ended", Code.Canceled);
const SHUTTING_DOWN = new ConnectError("the server is shutting down", Code.Unavailable);

/**
 * Everything one incoming call needs besides its messages: context, headers once, one log line and
 * one server span (rpc-spans.ts).
 * This runs for every call, so it does only what every call needs: one AbortController, and headers
 * converted from metadata only if a handler reads them. grpc-js ends the call at its deadline and then
 * reports "cancelled", so no timer of our own is needed. `shutdown`, when given, also ends the call's signal.
 */
function openCall(
  method: DescMethod,
  call: ServerUnaryCall<Buffer, Message> | ServerWritableStream<Buffer, Message>,
  log: Logger,
  shutdown?: AbortSignal,
) {
  const path = `/${method.parent.typeName}/${method.name}`;
  const startedAt = Date.now();
  const span = startServerSpan(method, call.metadata);
  const requestId = firstString(call.metadata.get(REQUEST_ID_HEADER)) ?? randomUUID();
  const deadline = epochMs(call.getDeadline());
  const controller = new AbortController();
  // grpc-js reports "cancelled" both when the client leaves and when its own deadline timer ends the call.
  const onCancelled = () =>
    controller.abort(
      deadline !== undefined && Date.now() >= deadline
        ? new ConnectError("the deadline passed", Code.DeadlineExceeded)
        : new ConnectError("the client cancelled the call", Code.Canceled),
    );
  if (call.cancelled) onCancelled();
  else call.once("cancelled", onCancelled);
  const onShutdown = () => controller.abort(SHUTTING_DOWN);
  if (shutdown?.aborted) onShutdown();
  else shutdown?.addEventListener("abort", onShutdown, { once: true });

  let requestHeader: Headers | undefined;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  let values: ContextValues | undefined;
  const handlerContext: HandlerContext = {
    service: method.parent,
    method,
    signal: controller.signal,
    timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
    requestMethod: "POST",
    protocolName: "grpc",
    url: path,
    get requestHeader() {
      if (!requestHeader) {
        requestHeader = metadataToHeaders(call.metadata);
        requestHeader.set(REQUEST_ID_HEADER, requestId);
      }
      return requestHeader;
    },
    get responseHeader() {
      responseHeader ??= new Headers({ [REQUEST_ID_HEADER]: requestId });
      return responseHeader;
    },
    get responseTrailer() {
      responseTrailer ??= new Headers();
      return responseTrailer;
    },
    get values() {
      values ??= createContextValues();
      return values;
    },
  };
  // Secure mode: who called, as the access guard (guard.ts) admitted them; nothing in the learner's mode.
  const caller = callerOf(call.metadata);
  const context: CallContext = { requestId, deadline, signal: controller.signal, ...caller };
  const fields = caller
    ? () => ({ method: path, requestId, peer: caller.peer.name, durationMs: Date.now() - startedAt })
    : () => ({ method: path, requestId, durationMs: Date.now() - startedAt });
  let headersSent = false;

  return {
    handlerContext,
    context,
    /** Runs the handler as part of this call: in its call context and its server span. */
    run<T>(fn: () => Promise<T>): Promise<T> {
      return traceContext.with(span.context, () => runInCall(context, fn));
    },
    /** Response headers go out once, before the first message or the status. */
    sendHeaders() {
      if (headersSent) return;
      headersSent = true;
      call.sendMetadata(responseHeader ? headersToMetadata(responseHeader) : requestIdMetadata(requestId));
    },
    /** The trailers a handler set, if it set any. */
    trailers(): Headers | undefined {
      return responseTrailer;
    },
    succeeded() {
      span.end(OK);
      log.debug({ ...fields(), code: "ok" }, "grpc call");
    },
    failed(thrown: unknown): ConnectError {
      // Once the deadline has passed or the client has gone, whatever the handler threw follows from that.
      const error = toConnectError(controller.signal.aborted ? controller.signal.reason : thrown);
      span.end(error.code, error);
      const level = severityOf(error.code);
      const detail = level === "error" ? { err: error.cause ?? error } : { message: error.rawMessage };
      log[level]({ ...fields(), code: Code[error.code], ...detail }, "grpc call failed");
      return error;
    },
    /** Ends the handler's signal, as connect-node does when a call is over. */
    close() {
      call.off("cancelled", onCancelled);
      shutdown?.removeEventListener("abort", onShutdown);
      controller.abort(CALL_ENDED);
    },
  };
}

function requestIdMetadata(requestId: string): Metadata {
  const metadata = new Metadata();
  metadata.set(REQUEST_ID_HEADER, requestId);
  return metadata;
}

function firstString(values: MetadataValue[]): string | undefined {
  const first = values[0];
  return typeof first === "string" && first !== "" ? first : undefined;
}

/** grpc-js reports "no deadline" as Infinity. */
function epochMs(deadline: Deadline): number | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

function trailerMetadata(trailers: Headers | undefined): Metadata | undefined {
  return trailers ? headersToMetadata(trailers) : undefined;
}

function rejectUnsupported(spec: MethodImplSpec): UntypedHandleCall {
  const status = {
    code: Status.UNIMPLEMENTED,
    details: `${spec.method.parent.typeName}.${spec.method.name} is ${spec.kind}; this server serves only unary and server-streaming methods`,
  };
  if (spec.kind === "client_streaming") {
    return (_call: ServerReadableStream<Buffer, Message>, callback: sendUnaryData<Message>) => callback(status);
  }
  return (call: ServerDuplexStream<Buffer, Message>) => call.emit("error", status);
}
