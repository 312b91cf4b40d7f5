// Package config reads the Loyalty service's settings from its environment, with the same variables,
// defaults and rules as the TypeScript services' loadConfig (packages/platform/src/config.ts), so that
// `make up` and the test harness start it exactly like them. Every problem is collected and reported at
// once, so a wrong start-up is fixed in one round.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/mesh"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/sqldb"
)

// Service is the name the Loyalty service registers, logs and consumes under.
const Service = "loyalty"

// DefaultPort is Loyalty's gRPC port when PORT is not set (order 50051 … delivery 50055, loyalty 50056).
const DefaultPort = 50056

// Config is the service's whole configuration, read once at start.
type Config struct {
	Service string
	// Host is the interface the gRPC server binds to (FTGO_HOST, default 127.0.0.1).
	Host string
	// Port is the gRPC port; 0 picks a free one (PORT, default 50056).
	Port int
	// MetricsPort is where GET /metrics is served for Prometheus (METRICS_PORT; 0 picks a free one); -1, the
	// default, serves none. `make up` sets it from the roster's METRICS_PORTS.
	MetricsPort int
	// AdvertiseHost is the address registered for callers (FTGO_ADVERTISE_HOST, default the bind host,
	// or 127.0.0.1 when bound to every interface).
	AdvertiseHost string
	// DataDir holds loyalty.db (DATA_DIR, default ./data), made absolute; unused under PostgreSQL.
	DataDir string
	// DatabaseURL is PostgreSQL's postgres:// or postgresql:// URL (DATABASE_URL), where Loyalty keeps its
	// tables in the schema `loyalty`; "" (unset) keeps them in SQLite at DBPath.
	DatabaseURL string
	// NatsURL is the NATS server, or a cluster's servers comma-separated, as nats.Connect takes them (NATS_URL,
	// default nats://127.0.0.1:4222).
	NatsURL string
	// LogLevel is a pino level name (LOG_LEVEL, default info).
	LogLevel string
	// Partitions is how many partitions every channel is split into (FTGO_PARTITIONS, default 4).
	Partitions int
	// StreamReplicas is how many copies of each stream and of the registry bucket JetStream keeps, on as many
	// servers of a cluster (FTGO_STREAM_REPLICAS, default 1), as the TypeScript services' config.streamReplicas.
	StreamReplicas int
	// SagaMode is choreography or orchestration (SAGA_MODE). Loyalty only listens to Order's events,
	// which both modes publish alike, so it is read for validation only.
	SagaMode string
	// Discovery is the seed's solution to service discovery (DISCOVERY, default client): client, the
	// service registers itself in Registry; server, a registrar (`make up`'s supervisor, a test's harness)
	// registers it and callers reach it through the router, so it registers nowhere.
	Discovery string
	// RouterAddr is the router every call goes through under DISCOVERY=server (DISCOVERY_ROUTER, default
	// 127.0.0.1:8090), validated as host:port; Loyalty calls no other service, so only the callers use it.
	RouterAddr string
	// Registry is the service registry kind (REGISTRY, default nats-kv; nats-kv or consul here), or
	// "router" under DISCOVERY=server, whatever REGISTRY says: the registrar's business then, not the service's.
	Registry string
	// ConsulAddr is Consul's HTTP API, host:port or a URL (CONSUL_HTTP_ADDR, default 127.0.0.1:8500;
	// consul only).
	ConsulAddr string
	// RegistryTTL is how long an entry outlives its last heartbeat (REGISTRY_TTL_MS, default 10000, min 1000).
	RegistryTTL time.Duration
	// Heartbeat is how often the entry is renewed: a third of the TTL.
	Heartbeat time.Duration
	// TLS is the secure mode's identity (FTGO_TLS_CA, FTGO_TLS_CERT, FTGO_TLS_KEY, all three or none): mTLS on
	// the gRPC server, TLS with this certificate to NATS. Nil in the learner's mode: plaintext, as before.
	TLS *mesh.TLS
	// Access is the access table the gRPC server enforces in the secure mode (FTGO_ACCESS_FILE, default the
	// first proto/access.json walking up from the working directory); nil in the learner's mode.
	Access *mesh.Access
}

// Secure reports whether the service runs in the secure mode.
func (c Config) Secure() bool { return c.TLS != nil }

// Postgres reports whether the store is PostgreSQL (DATABASE_URL) rather than SQLite.
func (c Config) Postgres() bool { return c.DatabaseURL != "" }

// DBPath is the service's SQLite store, when DATABASE_URL is unset.
func (c Config) DBPath() string { return filepath.Join(c.DataDir, "loyalty.db") }

// LogLevels are the accepted LOG_LEVEL values, pino's names.
var LogLevels = []string{"fatal", "error", "warn", "info", "debug", "trace", "silent"}

var sagaModes = []string{"choreography", "orchestration"}

// registryKinds are the REGISTRY values the TypeScript services accept; Loyalty implements nats-kv and
// consul (a static list is for callers: Loyalty calls no other service).
var registryKinds = []string{"nats-kv", "consul", "static"}

// discoveryModes are the DISCOVERY values, as packages/platform's loadDiscoveryConfig reads them.
var discoveryModes = []string{"client", "server"}

// RouterRegistry is Registry under DISCOVERY=server: the router's, where the service registers nothing.
const RouterRegistry = "router"

// DefaultRouterAddr is where `make up DISCOVERY=server` runs the router's gRPC entry point (Traefik).
const DefaultRouterAddr = "127.0.0.1:8090"

// DefaultConsulAddr is where Consul's own tools look when CONSUL_HTTP_ADDR is unset.
const DefaultConsulAddr = "127.0.0.1:8500"

// Error lists every invalid variable, one per line.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// Load builds the configuration from `lookup` (os.LookupEnv in main, a map in tests). It returns an
// *Error naming every problem when any variable is invalid.
func Load(lookup func(string) (string, bool)) (Config, error) {
	r := reader{lookup: lookup}
	c := Config{
		Service:        Service,
		Host:           r.str("FTGO_HOST", "127.0.0.1"),
		Port:           r.integer("PORT", DefaultPort, 0, 65535),
		MetricsPort:    r.integer("METRICS_PORT", -1, 0, 65535),
		DataDir:        r.str("DATA_DIR", "./data"),
		NatsURL:        r.str("NATS_URL", "nats://127.0.0.1:4222"),
		LogLevel:       r.oneOf("LOG_LEVEL", LogLevels, "info"),
		Partitions:     r.integer("FTGO_PARTITIONS", 4, 1, 1<<20),
		StreamReplicas: r.integer("FTGO_STREAM_REPLICAS", 1, 1, 5),
		SagaMode:       r.oneOf("SAGA_MODE", sagaModes, "choreography"),
		AdvertiseHost:  r.str("FTGO_ADVERTISE_HOST", ""),
		Discovery:      r.oneOf("DISCOVERY", discoveryModes, "client"),
		DatabaseURL:    r.databaseURL("DATABASE_URL"),
	}
	if c.Discovery == "server" {
		c.Registry = RouterRegistry
		c.RouterAddr = r.hostPort("DISCOVERY_ROUTER", DefaultRouterAddr)
	} else {
		c.Registry = r.oneOf("REGISTRY", registryKinds, "nats-kv")
	}
	ttlMs := r.integer("REGISTRY_TTL_MS", 10_000, 1_000, 1<<40)
	c.RegistryTTL = time.Duration(ttlMs) * time.Millisecond
	c.Heartbeat = c.RegistryTTL / 3
	if c.Registry == "consul" {
		c.ConsulAddr = r.str("CONSUL_HTTP_ADDR", DefaultConsulAddr)
	}
	if c.Registry == "static" && !slices.Contains(r.problems, registryProblem(c.Registry)) {
		r.problems = append(r.problems, registryProblem(c.Registry))
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	} else {
		r.problems = append(r.problems, fmt.Sprintf("DATA_DIR=%q cannot be made absolute: %v", c.DataDir, err))
	}
	if c.AdvertiseHost == "" {
		c.AdvertiseHost = c.Host
		if c.Host == "0.0.0.0" || c.Host == "::" {
			c.AdvertiseHost = "127.0.0.1"
		}
	}
	c.TLS, c.Access = r.secureMode()
	if len(r.problems) > 0 {
		return Config{}, &Error{Problems: r.problems}
	}
	return c, nil
}

func registryProblem(kind string) string {
	return fmt.Sprintf("REGISTRY=%q is not supported by the Go loyalty service: it registers in the NATS KV registry (REGISTRY=nats-kv) or in Consul (REGISTRY=consul)", kind)
}

// IsConfigError reports whether err is a configuration error.
func IsConfigError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// secureMode reads the mesh identity and, when there is one, the access table; in the learner's mode
// neither is looked for.
func (r *reader) secureMode() (*mesh.TLS, *mesh.Access) {
	identity, err := mesh.LoadTLS(r.lookup)
	if err != nil {
		r.problems = append(r.problems, err.Error())
		return nil, nil
	}
	if identity == nil {
		return nil, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		r.problems = append(r.problems, "cannot find the access table: no working directory: "+err.Error())
		return nil, nil
	}
	access, err := mesh.LoadAccess(r.lookup, wd)
	if err != nil {
		r.problems = append(r.problems, err.Error())
		return nil, nil
	}
	return identity, access
}

type reader struct {
	lookup   func(string) (string, bool)
	problems []string
}

// raw returns the trimmed value, or "" when unset or blank (which means: use the default).
func (r *reader) raw(name string) string {
	v, _ := r.lookup(name)
	return strings.TrimSpace(v)
}

func (r *reader) str(name, fallback string) string {
	if v := r.raw(name); v != "" {
		return v
	}
	return fallback
}

func (r *reader) integer(name string, fallback, lo, hi int) int {
	v := r.raw(name)
	if v == "" {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q is not a whole number from %d to %d", name, v, lo, hi))
		return fallback
	}
	return n
}

// hostPort reads `host:port` (`[v6]:port`), as the TypeScript parseRouterAddr accepts it.
func (r *reader) hostPort(name, fallback string) string {
	v := r.str(name, fallback)
	host, port, err := net.SplitHostPort(v)
	n, perr := strconv.Atoi(port)
	if err != nil || host == "" || strings.ContainsAny(host, " \t") || perr != nil || n < 1 || n > 65535 {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q is not host:port", name, v))
		return fallback
	}
	return v
}

// databaseURL reads a PostgreSQL URL, or "" for SQLite. A problem names the scheme only: the URL may
// hold a password, and the problems are logged.
func (r *reader) databaseURL(name string) string {
	v := r.raw(name)
	if v == "" || sqldb.IsPostgres(v) {
		return v
	}
	scheme, _, found := strings.Cut(v, "://")
	if !found {
		scheme = "none"
	}
	r.problems = append(r.problems, fmt.Sprintf("%s (scheme %q) is not a PostgreSQL URL: set postgres:// or postgresql://…, or unset it to keep the SQLite store in DATA_DIR", name, scheme))
	return ""
}

func (r *reader) oneOf(name string, allowed []string, fallback string) string {
	v := r.raw(name)
	if v == "" {
		return fallback
	}
	if !slices.Contains(allowed, v) {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q is not one of %s", name, v, strings.Join(allowed, ", ")))
		return fallback
	}
	return v
}
