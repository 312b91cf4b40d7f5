// Package mesh is the secure mode of the mesh (SECURE=1, docs/security.md) on the Go side, as
// packages/platform does it on the TypeScript side: this process's identity (FTGO_TLS_CA, FTGO_TLS_CERT,
// FTGO_TLS_KEY, made by scripts/pki.sh), mTLS for gRPC servers and clients, TLS for NATS, and the access table
// (proto/access.json) enforced per method from the peer certificate and the gateway's signed end-user claim.
//
// Without the three variables (the learner's mode of `make up`) none of this is used: plaintext, every local
// caller trusted.
package mesh

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Variables name the three files of a process's identity: all three set (secure mode) or none.
var Variables = []string{"FTGO_TLS_CA", "FTGO_TLS_CERT", "FTGO_TLS_KEY"}

// TLS is this process's identity in the mesh, read once at start-up.
type TLS struct {
	// CAFile, CertFile, KeyFile are where the PEM files were read from.
	CAFile, CertFile, KeyFile string
	// CAs holds the mesh CA: the only issuer a peer's certificate is accepted from.
	CAs *x509.CertPool
	// Cert is this process's certificate and key (subject /O=ftgo/OU=<role>/CN=<name>).
	Cert tls.Certificate
}

// LoadTLS reads FTGO_TLS_CA, FTGO_TLS_CERT and FTGO_TLS_KEY through lookup. None set (or all blank): nil, nil,
// the learner's mode. Some but not all set, or files that cannot be read or do not make a key pair: an error
// that names the variables.
func LoadTLS(lookup func(string) (string, bool)) (*TLS, error) {
	paths := make([]string, len(Variables))
	given := 0
	for i, name := range Variables {
		v, _ := lookup(name)
		paths[i] = strings.TrimSpace(v)
		if paths[i] != "" {
			given++
		}
	}
	if given == 0 {
		return nil, nil
	}
	if given < len(Variables) {
		return nil, fmt.Errorf("%s go together: set all three (SECURE=1) or none", strings.Join(Variables, ", "))
	}
	return ReadTLS(paths[0], paths[1], paths[2])
}

// ReadTLS reads the CA certificate and this process's certificate and key from PEM files.
func ReadTLS(caFile, certFile, keyFile string) (*TLS, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read the mesh CA (FTGO_TLS_CA): %w (scripts/pki.sh init makes it)", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("FTGO_TLS_CA=%s holds no PEM certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot load the mesh certificate and key (FTGO_TLS_CERT=%s, FTGO_TLS_KEY=%s): %w (scripts/pki.sh init makes them)", certFile, keyFile, err)
	}
	return &TLS{CAFile: caFile, CertFile: certFile, KeyFile: keyFile, CAs: pool, Cert: cert}, nil
}

// Identity is the name and role of this process's own certificate.
func (t *TLS) Identity() (Peer, error) {
	if t.Cert.Leaf == nil {
		return Peer{}, errors.New("the mesh certificate was not parsed")
	}
	p, ok := peerOf(t.Cert.Leaf)
	if !ok {
		return Peer{}, errors.New("the mesh certificate names no single CN and OU")
	}
	return p, nil
}

// ServerConfig is a gRPC server's TLS: this certificate, and a client certificate of the mesh CA required
// from every caller (tls.RequireAndVerifyClientCert).
func (t *TLS) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{t.Cert},
		ClientCAs:    t.CAs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
}

// ClientConfig is a client's TLS: the server must present a certificate of the mesh CA for the address
// dialled (the certificates name localhost, 127.0.0.1 and ::1); this certificate is presented in return.
func (t *TLS) ClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{t.Cert},
		RootCAs:      t.CAs,
	}
}

// ServerCredentials are grpc.Creds for a server of the mesh.
func (t *TLS) ServerCredentials() grpc.ServerOption {
	return grpc.Creds(credentials.NewTLS(t.ServerConfig()))
}

// ClientCredentials are the transport credentials of a gRPC client of the mesh.
func (t *TLS) ClientCredentials() grpc.DialOption {
	return grpc.WithTransportCredentials(credentials.NewTLS(t.ClientConfig()))
}

// NatsOptions connect to NATS over TLS with this certificate (nats.RootCAs, nats.ClientCert), by which the
// broker maps the process to its NATS user. None for a nil TLS: the learner's mode.
func (t *TLS) NatsOptions() []nats.Option {
	if t == nil {
		return nil
	}
	return []nats.Option{nats.RootCAs(t.CAFile), nats.ClientCert(t.CertFile, t.KeyFile)}
}
