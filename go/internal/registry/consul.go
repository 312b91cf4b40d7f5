package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The agent's gRPC health check of an instance, as consul.ts registers it: probed every checkInterval,
// failing after checkTimeout, and removed by Consul once critical for a minute (its minimum), which
// cleans up after a crash that skipped deregistration.
const (
	checkInterval   = "2s"
	checkTimeout    = "1s"
	deregisterAfter = "1m"
)

// Consul is the Consul backend: Register hands the instance, with a gRPC health check of its server's
// overall health, to the local agent over its HTTP API; Deregister removes it at once.
type Consul struct {
	base *url.URL
	http *http.Client
	log  *slog.Logger
	// TLSChecks asks the agent to check the instance over TLS (the secure mode, SECURE=1): the agent then
	// presents its own certificate of the mesh CA, as the service's mTLS server requires.
	TLSChecks bool
}

// NewConsul addresses the agent's HTTP API at addr: `host:port`, `http://host:port` or
// `https://host:port`, as CONSUL_HTTP_ADDR accepts it.
func NewConsul(addr string, log *slog.Logger) (*Consul, error) {
	raw := addr
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	base, err := url.Parse(raw)
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("CONSUL_HTTP_ADDR=%q is not host:port or an http(s) URL", addr)
	}
	return &Consul{base: base, http: &http.Client{Timeout: 10 * time.Second}, log: log}, nil
}

// consulService is the agent's registration body; the fields are consul.ts's toConsulService.
type consulService struct {
	Name    string            `json:"Name"`
	ID      string            `json:"ID"`
	Address string            `json:"Address"`
	Port    int               `json:"Port"`
	Tags    []string          `json:"Tags"`
	Meta    map[string]string `json:"Meta"`
	Check   consulCheck       `json:"Check"`
}

type consulCheck struct {
	Name                           string `json:"Name"`
	GRPC                           string `json:"GRPC"`
	GRPCUseTLS                     bool   `json:"GRPCUseTLS,omitempty"`
	TLSServerName                  string `json:"TLSServerName,omitempty"`
	Interval                       string `json:"Interval"`
	Timeout                        string `json:"Timeout"`
	DeregisterCriticalServiceAfter string `json:"DeregisterCriticalServiceAfter"`
}

// serviceDefinition is what Register sends the agent for inst.
func serviceDefinition(inst Instance, tlsCheck bool) consulService {
	// Over TLS, the name the instance's certificate must carry: its service's (Consul would expect its node's).
	serverName := ""
	if tlsCheck {
		serverName = inst.Service
	}
	target := fmt.Sprintf("%s:%d", inst.Address, inst.Port)
	if strings.Contains(inst.Address, ":") {
		target = fmt.Sprintf("[%s]:%d", inst.Address, inst.Port)
	}
	return consulService{
		Name: inst.Service, ID: inst.ID, Address: inst.Address, Port: inst.Port,
		Tags: inst.Tags, Meta: map[string]string{"version": inst.Version},
		Check: consulCheck{
			Name: "gRPC health of " + inst.ID, GRPC: target, GRPCUseTLS: tlsCheck, TLSServerName: serverName,
			Interval: checkInterval, Timeout: checkTimeout, DeregisterCriticalServiceAfter: deregisterAfter,
		},
	}
}

// Register enters inst with the local agent, which starts probing its gRPC health.
func (c *Consul) Register(ctx context.Context, inst Instance) (Entry, error) {
	body, err := json.Marshal(serviceDefinition(inst, c.TLSChecks))
	if err != nil {
		return nil, fmt.Errorf("encoding the Consul registration: %w", err)
	}
	if err := c.put(ctx, "/v1/agent/service/register", body); err != nil {
		return nil, fmt.Errorf("registering %s with Consul: %w", inst.ID, err)
	}
	c.log.Info("registered with Consul", "instanceId", inst.ID, "consul", c.base.String())
	return &consulEntry{consul: c, id: inst.ID}, nil
}

type consulEntry struct {
	consul *Consul
	id     string
}

// Deregister removes the instance from the agent, so callers stop finding it at once.
func (e *consulEntry) Deregister(ctx context.Context) error {
	if err := e.consul.put(ctx, "/v1/agent/service/deregister/"+url.PathEscape(e.id), nil); err != nil {
		return fmt.Errorf("deregistering %s from Consul: %w", e.id, err)
	}
	e.consul.log.Info("deregistered from Consul", "instanceId", e.id)
	return nil
}

// put sends a PUT to the agent and turns any answer but 200 into an error carrying the agent's message.
func (c *Consul) put(ctx context.Context, path string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base.JoinPath(path).String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling the agent: %w", err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("the agent answered %s: %s", res.Status, strings.TrimSpace(string(text)))
	}
	return nil
}
