package registry

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Entry is one instance's entry in a registry backend, until Deregister.
type Entry interface {
	Deregister(ctx context.Context) error
}

// Backend enters an instance in one kind of registry: NATS KV (NatsKV) or Consul (Consul).
type Backend interface {
	Register(ctx context.Context, inst Instance) (Entry, error)
}

// ByRegistrar is the backend under server-side discovery (DISCOVERY=server): a registrar enters the
// instance in the registry from the outside once it is SERVING, so Register enters it nowhere, and
// RegisterSelf with it only turns the server SERVING.
type ByRegistrar struct{}

// Register does nothing: the registrar registers the instance.
func (ByRegistrar) Register(context.Context, Instance) (Entry, error) {
	return registeredByRegistrar{}, nil
}

type registeredByRegistrar struct{}

// Deregister does nothing: the registrar deregisters the instance, before it signals the process.
func (registeredByRegistrar) Deregister(context.Context) error { return nil }

// followTimeout bounds one registry write made because the health changed.
const followTimeout = 10 * time.Second

// Self is the instance's self-registration, as packages/platform's registerSelf does it: registered
// before the server says SERVING, then following the server's overall health: NOT_SERVING takes the
// entry out of the registry at once (no caller picks the instance while it drains), SERVING puts it
// back under the same id. Withdraw ends it for good.
type Self struct {
	Instance  Instance
	backend   Backend
	setHealth func(serving bool)
	log       *slog.Logger
	mu        sync.Mutex
	entry     Entry
	withdrawn bool
}

// RegisterSelf registers inst (its server started NOT_SERVING) and then turns the server SERVING
// through setHealth, which flips the gRPC health statuses.
func RegisterSelf(ctx context.Context, backend Backend, inst Instance, setHealth func(serving bool), log *slog.Logger) (*Self, error) {
	entry, err := backend.Register(ctx, inst)
	if err != nil {
		return nil, err
	}
	s := &Self{Instance: inst, backend: backend, setHealth: setHealth, log: log.With("instanceId", inst.ID), entry: entry}
	setHealth(true)
	return s, nil
}

// SetServing switches the server's health and makes the registry follow: out on NOT_SERVING, back in on
// SERVING. A registry write that fails is logged (the next change tries again); the health is set anyway.
func (s *Self) SetServing(serving bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.withdrawn {
		s.setHealth(serving)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), followTimeout)
	defer cancel()
	if !serving {
		s.setHealth(false) // NOT_SERVING first: a caller that checks health moves off before the entry goes
		if s.entry != nil {
			entry := s.entry
			s.entry = nil
			if err := entry.Deregister(ctx); err != nil {
				s.log.Warn("NOT_SERVING, but the registry entry could not be removed", "err", err)
				return
			}
			s.log.Info("NOT_SERVING: out of the service registry until SERVING again")
		}
		return
	}
	if s.entry == nil {
		entry, err := s.backend.Register(ctx, s.Instance)
		if err != nil {
			s.log.Warn("SERVING, but the instance could not be registered again", "err", err)
		} else {
			s.entry = entry
			s.log.Info("SERVING again: back in the service registry")
		}
	}
	s.setHealth(true)
}

// Withdraw is the first step of a stop: NOT_SERVING, then out of the registry for good. Health changes
// after it no longer touch the registry.
func (s *Self) Withdraw(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.withdrawn = true
	s.setHealth(false)
	if s.entry == nil {
		return nil
	}
	entry := s.entry
	s.entry = nil
	if err := entry.Deregister(ctx); err != nil {
		return fmt.Errorf("withdrawing %s: %w", s.Instance.ID, err)
	}
	return nil
}
