package registry

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
)

func TestRegistersLikeTheTypeScriptServicesAndDeregisters(t *testing.T) {
	js, err := jetstream.New(natstest.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	inst := NewInstance("loyalty", "127.0.0.1", 50056)
	if !regexp.MustCompile(`^loyalty-50056-[0-9a-f]{6}$`).MatchString(inst.ID) {
		t.Fatalf("instance id %q is not <service>-<port>-<6 hex>", inst.ID)
	}
	reg, err := Register(ctx, js, inst, Options{TTL: 3 * time.Second, Heartbeat: time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, "ftgo_registry")
	if err != nil {
		t.Fatal(err)
	}
	status, err := kv.Status(ctx)
	if err != nil || status.TTL() != 3*time.Second || status.History() != 1 {
		t.Fatalf("bucket status %v, %v: want TTL 3 s, history 1", status, err)
	}
	entry, err := kv.Get(ctx, "loyalty."+inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The exact JSON that packages/platform's validateInstance reads back.
	want := `{"service":"loyalty","id":"` + inst.ID + `","address":"127.0.0.1","port":50056,"version":"0.1.0","tags":["grpc"]}`
	if string(entry.Value()) != want {
		t.Fatalf("entry %s, want %s", entry.Value(), want)
	}
	// The heartbeat keeps it beyond the bucket's TTL.
	first := entry.Revision()
	natstest.Eventually(t, 30*time.Second, "a heartbeat", func() bool {
		e, err := kv.Get(ctx, "loyalty."+inst.ID)
		return err == nil && e.Revision() > first
	})
	var decoded Instance
	if err := json.Unmarshal(entry.Value(), &decoded); err != nil || decoded.Port != 50056 {
		t.Fatalf("entry does not decode: %v", err)
	}
	if err := reg.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "loyalty."+inst.ID); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("entry still there after Deregister: %v", err)
	}
}

// A put that meets no stream (a bucket's stream not yet reachable from this server, on a cluster) is asked again
// until the stream answers: here the stream is deleted, so that every put meets no responders, and added again
// once a plain put has reported ErrNoStreamResponse, while Register's put is still asking.
func TestPutsAgainUntilTheBucketsStreamAnswers(t *testing.T) {
	js, err := jetstream.New(natstest.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	config := jetstream.KeyValueConfig{Bucket: Bucket, History: 1, TTL: time.Minute}
	kv, err := js.CreateKeyValue(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(ctx, "KV_"+Bucket); err != nil {
		t.Fatal(err)
	}
	put := make(chan error, 1)
	go func() { put <- putWhenReachable(ctx, kv, "loyalty.x", []byte("here"), time.Minute) }() // a busy machine may be slow to add it back
	if _, err := kv.Put(ctx, "loyalty.y", []byte("lost")); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Fatalf("a plain put with no stream: %v, want ErrNoStreamResponse", err)
	}
	if _, err := js.CreateKeyValue(ctx, config); err != nil {
		t.Fatal(err)
	}
	if err := <-put; err != nil {
		t.Fatalf("putWhenReachable: %v, want the put to land once the stream answers", err)
	}
	entry, err := kv.Get(ctx, "loyalty.x")
	if err != nil || string(entry.Value()) != "here" {
		t.Fatalf("the entry after the stream came back: %v, %v", entry, err)
	}
}
