package app

// A request that does not decode is the caller's mistake: InvalidArgument, naming the message, as the
// TypeScript servers answer it (packages/platform/src/grpc/handler.ts). grpc-go answers Internal instead,
// from inside its receive path, whatever error the codec returns and before any interceptor runs; the
// gRPC fuzz test (test/fuzz-grpc.test.ts) found Loyalty answering Internal to the one byte 0x0a. So the
// server's codec never fails to decode a proto message: it leaves the message empty and notes why, and
// the interceptors turn the note into InvalidArgument before a handler sees the empty message.

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// malformedRequests notes each request message that did not decode, until an interceptor takes the note.
type malformedRequests struct {
	notes sync.Map // proto.Message → error
}

// serverOptions returns the codec and the interceptors; `unary` runs innermost of the unary ones, after
// those given (so that metrics count the InvalidArgument).
func (r *malformedRequests) serverOptions(unary ...grpc.UnaryServerInterceptor) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(lenientCodec{base: encoding.GetCodecV2(protocodec.Name), requests: r}),
		grpc.ChainUnaryInterceptor(append(unary, r.unary)...),
		grpc.ChainStreamInterceptor(r.stream),
	}
}

// take returns InvalidArgument if `m` did not decode, and forgets it.
func (r *malformedRequests) take(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	cause, found := r.notes.LoadAndDelete(msg)
	if !found {
		return nil
	}
	return status.Errorf(codes.InvalidArgument, "malformed %s: %v", msg.ProtoReflect().Descriptor().FullName(), cause)
}

func (r *malformedRequests) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := r.take(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (r *malformedRequests) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, checkedStream{ServerStream: ss, requests: r})
}

// checkedStream is a server stream whose every received message is checked for a note.
type checkedStream struct {
	grpc.ServerStream
	requests *malformedRequests
}

func (s checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.requests.take(m)
}

// lenientCodec is grpc-go's proto codec, but for a proto message that does not decode: that one it resets
// and notes, and reports decoded.
type lenientCodec struct {
	base     encoding.CodecV2
	requests *malformedRequests
}

func (c lenientCodec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

func (c lenientCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.base.Unmarshal(data, v)
	msg, ok := v.(proto.Message)
	if err == nil || !ok {
		return err
	}
	proto.Reset(msg)
	c.requests.notes.Store(msg, err)
	return nil
}

func (c lenientCodec) Name() string { return c.base.Name() }
