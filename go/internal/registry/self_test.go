package registry

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A NOT_SERVING instance leaves the NATS KV registry at once (a watcher sees the delete; the TTL is a
// minute, far beyond the wait), and comes back under the same id when SERVING again.
func TestNotServingTakesTheInstanceOutOfNatsKVUntilServing(t *testing.T) {
	js, err := jetstream.New(natstest.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var serving atomic.Bool
	inst := NewInstance("loyalty", "127.0.0.1", 50056)
	backend := NatsKV{JS: js, Options: Options{TTL: time.Minute, Heartbeat: 20 * time.Second, Log: quietLog()}}
	self, err := RegisterSelf(ctx, backend, inst, serving.Store, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if !serving.Load() {
		t.Fatal("RegisterSelf did not turn the server SERVING")
	}
	kv, err := js.KeyValue(ctx, Bucket)
	if err != nil {
		t.Fatal(err)
	}
	watcher, err := kv.Watch(ctx, "loyalty.*", jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = watcher.Stop() }()
	present := func() bool {
		_, err := kv.Get(ctx, inst.Key())
		return err == nil
	}
	nextOp := func() jetstream.KeyValueOp {
		t.Helper()
		select {
		case e := <-watcher.Updates():
			if e == nil || e.Key() != inst.Key() {
				t.Fatalf("unexpected watch entry %v", e)
			}
			return e.Operation()
		case <-time.After(15 * time.Second):
			t.Fatal("the watch saw no change within 15 s")
			return 0
		}
	}

	self.SetServing(false)
	if op := nextOp(); op != jetstream.KeyValueDelete || serving.Load() || present() {
		t.Fatalf("after NOT_SERVING: op %v, serving %v, present %v; want a delete, NOT_SERVING, gone", op, serving.Load(), present())
	}
	self.SetServing(true)
	if op := nextOp(); op != jetstream.KeyValuePut || !serving.Load() || !present() {
		t.Fatalf("after SERVING: op %v, serving %v, present %v; want a put, SERVING, present", op, serving.Load(), present())
	}

	if err := self.Withdraw(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, inst.Key()); !errors.Is(err, jetstream.ErrKeyNotFound) || serving.Load() {
		t.Fatalf("after Withdraw: %v, serving %v; want gone and NOT_SERVING", err, serving.Load())
	}
	self.SetServing(true) // health after Withdraw no longer registers
	if present() {
		t.Fatal("SetServing(true) after Withdraw registered the instance again")
	}
}
