package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaultsMatchTheTypeScriptServices(t *testing.T) {
	c, err := Load(env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 50056 || c.Host != "127.0.0.1" || c.AdvertiseHost != "127.0.0.1" || c.Partitions != 4 ||
		c.NatsURL != "nats://127.0.0.1:4222" || c.LogLevel != "info" || c.SagaMode != "choreography" ||
		c.Registry != "nats-kv" || c.RegistryTTL != 10*time.Second || !strings.HasSuffix(c.DBPath(), "/data/loyalty.db") {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestAdvertisesLoopbackWhenBoundToEveryInterface(t *testing.T) {
	c, err := Load(env(map[string]string{"FTGO_HOST": "0.0.0.0", "PORT": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AdvertiseHost != "127.0.0.1" || c.Port != 0 {
		t.Fatalf("got %+v", c)
	}
}

func TestReadsStreamReplicasAndAClustersURLs(t *testing.T) {
	if c, err := Load(env(map[string]string{})); err != nil || c.StreamReplicas != 1 {
		t.Fatalf("want 1 replica by default (a single nats-server), got %+v, %v", c, err)
	}
	urls := "nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"
	c, err := Load(env(map[string]string{"FTGO_STREAM_REPLICAS": "3", "NATS_URL": urls}))
	if err != nil || c.StreamReplicas != 3 || c.NatsURL != urls {
		t.Fatalf("got %+v, %v", c, err)
	}
	for _, bad := range []string{"0", "6", "three"} {
		if _, err := Load(env(map[string]string{"FTGO_STREAM_REPLICAS": bad})); !IsConfigError(err) ||
			!strings.Contains(err.Error(), "FTGO_STREAM_REPLICAS") {
			t.Errorf("FTGO_STREAM_REPLICAS=%s: want a config error naming it, got %v", bad, err)
		}
	}
}

func TestNamesEveryProblemAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{
		"PORT": "70000", "FTGO_PARTITIONS": "0", "LOG_LEVEL": "loud", "SAGA_MODE": "jazz", "REGISTRY": "static",
		"REGISTRY_TTL_MS": "5", "DATABASE_URL": "mysql://db/ftgo",
	}))
	if !IsConfigError(err) {
		t.Fatalf("want a config error, got %v", err)
	}
	for _, name := range []string{"PORT", "FTGO_PARTITIONS", "LOG_LEVEL", "SAGA_MODE", "REGISTRY=\"static\"", "REGISTRY_TTL_MS", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

func TestReadsConsulsAddressUnderRegistryConsul(t *testing.T) {
	c, err := Load(env(map[string]string{"REGISTRY": "consul"}))
	if err != nil || c.Registry != "consul" || c.ConsulAddr != "127.0.0.1:8500" {
		t.Fatalf("REGISTRY=consul alone: %+v, %v; want the default address 127.0.0.1:8500", c, err)
	}
	c, err = Load(env(map[string]string{"REGISTRY": "consul", "CONSUL_HTTP_ADDR": "http://10.0.0.9:8501"}))
	if err != nil || c.ConsulAddr != "http://10.0.0.9:8501" {
		t.Fatalf("CONSUL_HTTP_ADDR: %+v, %v", c, err)
	}
}

func TestRegistersNowhereUnderServerSideDiscoveryWhateverRegistrySays(t *testing.T) {
	c, err := Load(env(map[string]string{"DISCOVERY": "server", "REGISTRY": "static"}))
	if err != nil || c.Discovery != "server" || c.Registry != RouterRegistry || c.RouterAddr != "127.0.0.1:8090" {
		t.Fatalf("DISCOVERY=server: %+v, %v; want the router registry at the default 127.0.0.1:8090", c, err)
	}
	c, err = Load(env(map[string]string{"DISCOVERY": "server", "DISCOVERY_ROUTER": "[::1]:9090"}))
	if err != nil || c.RouterAddr != "[::1]:9090" {
		t.Fatalf("DISCOVERY_ROUTER: %+v, %v", c, err)
	}
	c, err = Load(env(map[string]string{}))
	if err != nil || c.Discovery != "client" || c.RouterAddr != "" {
		t.Fatalf("the default is client-side discovery: %+v, %v", c, err)
	}
}

func TestRejectsAnUnknownDiscoveryAndARouterThatIsNotHostPort(t *testing.T) {
	_, err := Load(env(map[string]string{"DISCOVERY": "mesh"}))
	if !IsConfigError(err) || !strings.Contains(err.Error(), `DISCOVERY="mesh" is not one of client, server`) {
		t.Fatalf("DISCOVERY=mesh: want a config error naming it, got %v", err)
	}
	for _, bad := range []string{"127.0.0.1", ":8090", "router:http", "127.0.0.1:0", "127.0.0.1:70000", "::1:8090"} {
		_, err := Load(env(map[string]string{"DISCOVERY": "server", "DISCOVERY_ROUTER": bad}))
		if !IsConfigError(err) || !strings.Contains(err.Error(), "DISCOVERY_ROUTER=") {
			t.Errorf("DISCOVERY_ROUTER=%q: want a config error naming it, got %v", bad, err)
		}
	}
}

func TestDatabaseURLChoosesPostgresOrKeepsSQLite(t *testing.T) {
	c, err := Load(env(map[string]string{}))
	if err != nil || c.DatabaseURL != "" || c.Postgres() {
		t.Fatalf("without DATABASE_URL the store is SQLite at DATA_DIR: %+v, %v", c, err)
	}
	for _, url := range []string{"postgres://loyalty:pw@db:5432/ftgo", "postgresql://db/ftgo?sslmode=disable"} {
		c, err := Load(env(map[string]string{"DATABASE_URL": url}))
		if err != nil || c.DatabaseURL != url || !c.Postgres() {
			t.Errorf("DATABASE_URL=%s: %+v, %v; want PostgreSQL", url, c, err)
		}
	}
	for _, bad := range []string{"mysql://root:secret@db/ftgo", "sqlite:///data/loyalty.db", "db:5432"} {
		_, err := Load(env(map[string]string{"DATABASE_URL": bad}))
		if !IsConfigError(err) || !strings.Contains(err.Error(), "DATABASE_URL") || !strings.Contains(err.Error(), "postgres://") {
			t.Errorf("DATABASE_URL=%s: want a config error naming it and what it takes, got %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error shows the URL's password: %v", err)
		}
	}
}
