package app

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// rawCodec sends a *[]byte as it is: the bytes a broken client sends instead of a message.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// A health server behind the malformed-request codec and interceptors, as app.go builds Loyalty's.
func serveHealth(t *testing.T) *grpc.ClientConn {
	t.Helper()
	var malformed malformedRequests
	server := grpc.NewServer(malformed.serverOptions()...)
	healthpb.RegisterHealthServer(server, health.NewServer())
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient(listener.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// The case the gRPC fuzz test found: field 1 announced, nothing follows. grpc-go alone answers Internal.
func TestAnswersInvalidArgumentToARequestThatDoesNotDecode(t *testing.T) {
	conn := serveHealth(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	in, out := []byte{0x0a}, []byte(nil)
	err := conn.Invoke(ctx, "/grpc.health.v1.Health/Check", &in, &out, grpc.ForceCodecV2(rawCodec{}))

	got := status.Convert(err)
	want := "malformed grpc.health.v1.HealthCheckRequest: "
	if got.Code() != codes.InvalidArgument || len(got.Message()) <= len(want) || got.Message()[:len(want)] != want {
		t.Fatalf("got %v %q, want InvalidArgument %q…", got.Code(), got.Message(), want)
	}
	good := []byte{}
	if err := conn.Invoke(ctx, "/grpc.health.v1.Health/Check", &good, &out, grpc.ForceCodecV2(rawCodec{})); err != nil {
		t.Fatalf("a well-formed request after the malformed one: %v", err)
	}
}

func TestAnswersInvalidArgumentToAServerStreamRequestThatDoesNotDecode(t *testing.T) {
	conn := serveHealth(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desc := &grpc.StreamDesc{StreamName: "Watch", ServerStreams: true}

	stream, err := conn.NewStream(ctx, desc, "/grpc.health.v1.Health/Watch", grpc.ForceCodecV2(rawCodec{}))
	if err == nil {
		in := []byte{0x0a, 0x10, 0x61}
		err = stream.SendMsg(&in)
	}
	if err == nil {
		err = stream.CloseSend()
	}
	var out []byte
	if err == nil {
		err = stream.RecvMsg(&out)
	}

	if got := status.Code(err); got != codes.InvalidArgument {
		t.Fatalf("got %v (%v), want InvalidArgument", got, fmt.Sprint(err))
	}
}
