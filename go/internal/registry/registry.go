// Package registry enters the service in the mesh's service registry exactly as the TypeScript services
// do (packages/platform/src/discovery/nats-kv.ts, consul.ts and self-registration.ts), in either backend
// REGISTRY names. Consul (consul.go): the local agent's catalog, health-checked by the agent over gRPC.
// NATS KV (this file), the default: the JetStream key-value bucket `ftgo_registry`, one key `<service>.<instanceId>` per instance, its value the instance as JSON,
// re-put every heartbeat; the bucket's TTL removes an instance that stops beating. The TypeScript mesh
// clients and the gateway discover and load-balance this instance without knowing its language.
package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/logging"
)

// Bucket is the registry every ftgo service registers in (stream KV_ftgo_registry).
const Bucket = "ftgo_registry"

// version every instance registers with, as self-registration.ts does.
const version = "0.1.0"

// Instance is one registry entry. Field order and names are the TypeScript ServiceInstance's.
type Instance struct {
	Service string   `json:"service"`
	ID      string   `json:"id"`
	Address string   `json:"address"`
	Port    int      `json:"port"`
	Version string   `json:"version"`
	Tags    []string `json:"tags"`
}

// Key is the instance's key in the bucket.
func (i Instance) Key() string { return i.Service + "." + i.ID }

// NewInstance names an instance of `service` at host:port with a fresh id: `<service>-<port>-<6 hex>`.
func NewInstance(service, host string, port int) Instance {
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return Instance{
		Service: service, ID: fmt.Sprintf("%s-%d-%s", service, port, hex.EncodeToString(b)),
		Address: host, Port: port, Version: version, Tags: []string{"grpc"},
	}
}

// NatsKV is the NATS KV backend: each Register puts the entry and heartbeats it until Deregister.
type NatsKV struct {
	JS      jetstream.JetStream
	Options Options
}

// Register enters inst in the bucket (see the package function Register).
func (b NatsKV) Register(ctx context.Context, inst Instance) (Entry, error) {
	return Register(ctx, b.JS, inst, b.Options)
}

// Options configures Register.
type Options struct {
	TTL       time.Duration
	Heartbeat time.Duration
	// Replicas is how many copies of the bucket JetStream keeps when Register creates it
	// (FTGO_STREAM_REPLICAS); 0 means the server's default, 1.
	Replicas int
	Log      *slog.Logger
}

// Registration is an instance in the registry until Deregister.
type Registration struct {
	Instance Instance
	kv       jetstream.KeyValue
	js       jetstream.JetStream
	ttl      time.Duration
	replicas int
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
	log      *slog.Logger
}

// Register opens (or creates) the bucket, puts the instance and starts its heartbeat, every
// min(Heartbeat, TTL/3) of the bucket's actual TTL.
func Register(ctx context.Context, js jetstream.JetStream, inst Instance, o Options) (*Registration, error) {
	kv, err := openBucket(ctx, js, o.TTL, o.Replicas)
	if err != nil {
		return nil, err
	}
	status, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the registry bucket's status: %w", err)
	}
	ttl := status.TTL()
	if ttl != o.TTL {
		o.Log.Warn("the registry bucket has another TTL; it wins", "bucketTtlMs", ttl.Milliseconds(), "configuredTtlMs", o.TTL.Milliseconds())
	}
	value, err := json.Marshal(inst)
	if err != nil {
		return nil, fmt.Errorf("encoding the registry entry: %w", err)
	}
	if err := putWhenReachable(ctx, kv, inst.Key(), value, reachableWithin); err != nil {
		return nil, fmt.Errorf("registering %s: %w", inst.Key(), err)
	}
	beat := min(o.Heartbeat, ttl/3)
	r := &Registration{Instance: inst, kv: kv, js: js, ttl: ttl, replicas: o.Replicas, stop: make(chan struct{}), done: make(chan struct{}), log: o.Log.With("key", inst.Key())}
	go r.heartbeat(beat, value)
	r.log.Info("registered in the service registry", "ttlMs", ttl.Milliseconds(), "heartbeatMs", beat.Milliseconds())
	return r, nil
}

// reachableWithin is how long Register's first put waits for a new bucket to be reachable from this server.
const reachableWithin = 5 * time.Second

// putWhenReachable puts, asking again while no stream answers the bucket's subject, for up to `within`,
// as nats-kv.ts's putWhenReachable does. On a cluster (FTGO_STREAM_REPLICAS > 1), a bucket created a moment
// ago has a stream whose interest reaches the other servers over the routes only shortly after, and a put
// through one of them meets no responders: nats.go asks twice more within half a second, then reports
// ErrNoStreamResponse ("no response from stream"), and a service that gave up there would not start. A single
// server answers at once, so this never waits there.
func putWhenReachable(ctx context.Context, kv jetstream.KeyValue, key string, value []byte, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		_, err := kv.Put(ctx, key, value)
		if err == nil || !errors.Is(err, jetstream.ErrNoStreamResponse) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond): // the routes' interest update, not a synchronisation with anything of ours
		}
	}
}

// openBucket opens the bucket if it exists, whatever its settings, and creates it otherwise, as
// nats-kv.ts does; a creation race lost to another service opens the winner's bucket.
func openBucket(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, Bucket)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("opening the registry bucket: %w", err)
	}
	kv, err = createBucket(ctx, js, ttl, replicas)
	if err != nil {
		if kv, openErr := js.KeyValue(ctx, Bucket); openErr == nil {
			return kv, nil
		}
		return nil, fmt.Errorf("creating the registry bucket: %w", err)
	}
	return kv, nil
}

func createBucket(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	// Only the latest value of a key matters to discovery: no history.
	return js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: Bucket, Description: "ftgo service registry", History: 1, TTL: ttl,
		Replicas: replicas})
}

// heartbeat re-puts the entry every `every`, each beat after the previous one ended. A beat that cannot
// put recreates the bucket (lost with a server's store, or deleted by hand) and puts again.
func (r *Registration) heartbeat(every time.Duration, value []byte) {
	defer close(r.done)
	timer := time.NewTimer(every)
	defer timer.Stop()
	outage := logging.Outage{
		Log:       r.log,
		Failing:   "registry heartbeat failing; retrying every heartbeat, quietly until it recovers",
		Recovered: "registry recovered",
	}
	for {
		select {
		case <-r.stop:
			return
		case <-timer.C:
		}
		outage.Report(r.renew(value))
		timer.Reset(every)
	}
}

func (r *Registration) renew(value []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.ttl)
	defer cancel()
	if _, err := r.kv.Put(ctx, r.Instance.Key(), value); err == nil {
		return nil
	}
	kv, err := createBucket(ctx, r.js, r.ttl, r.replicas)
	if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
		return fmt.Errorf("renewing the entry; recreating the bucket failed: %w", err)
	}
	if kv == nil {
		if kv, err = r.js.KeyValue(ctx, Bucket); err != nil {
			return fmt.Errorf("reopening the registry bucket: %w", err)
		}
	}
	r.kv = kv
	if _, err := kv.Put(ctx, r.Instance.Key(), value); err != nil {
		return fmt.Errorf("renewing the entry: %w", err)
	}
	r.log.Info("registry heartbeat put failed; recreated the bucket and renewed the entry")
	return nil
}

// Deregister stops the heartbeat and deletes the entry, so callers stop picking this instance at once.
func (r *Registration) Deregister(ctx context.Context) error {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	if err := r.kv.Delete(ctx, r.Instance.Key()); err != nil {
		return fmt.Errorf("deregistering %s: %w", r.Instance.Key(), err)
	}
	r.log.Info("deregistered from the service registry")
	return nil
}
