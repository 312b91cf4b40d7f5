package mesh

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Roles a certificate of the mesh carries (its OU), those the services look at.
const (
	RoleGateway = "gateway"
	RoleLearner = "learner"
)

// Peer is a verified caller of the mesh: the name (CN) and role (OU) its certificate carries.
type Peer struct {
	Name string
	Role string
}

// String is how logs and errors name a peer: "kitchen (service)".
func (p Peer) String() string {
	if p.Name == "" || p.Role == "" {
		return "an unidentified caller"
	}
	return fmt.Sprintf("%s (%s)", p.Name, p.Role)
}

// peerOf reads the names out of a certificate; a certificate with no CN, no OU, or two OUs names nobody.
func peerOf(cert *x509.Certificate) (Peer, bool) {
	name := cert.Subject.CommonName
	if name == "" || len(cert.Subject.OrganizationalUnit) != 1 || cert.Subject.OrganizationalUnit[0] == "" {
		return Peer{}, false
	}
	return Peer{Name: name, Role: cert.Subject.OrganizationalUnit[0]}, true
}

// Caller is who a call is from, in the secure mode: the peer, and the end user the gateway made it for.
type Caller struct {
	Peer Peer
	// EndUser is the verified end-user claim the gateway forwarded, or nil.
	EndUser *EndUser
}

// Acting says whose data a call may act on (packages/platform/src/grpc/acting-for.ts).
type Acting int

const (
	// ForAnyone: the learner's mode (every local caller is trusted), an admin's certificate, or the gateway
	// forwarding an admin.
	ForAnyone Acting = iota
	// ForConsumer: one consumer's data only: the gateway forwarding a signed-in consumer, or a learner (as the
	// consumer its certificate names).
	ForConsumer
	// ForNobody: a caller that speaks for no end user (the gateway without a claim, a service, a courier).
	ForNobody
)

// ActingFor is whose data the call of this caller may act on, and for ForConsumer which consumer.
func (c Caller) ActingFor() (Acting, string) {
	switch c.Peer.Role {
	case "admin":
		return ForAnyone, ""
	case RoleGateway:
		switch {
		case c.EndUser == nil:
			return ForNobody, ""
		case c.EndUser.Role == EndUserAdmin:
			return ForAnyone, ""
		}
		return ForConsumer, c.EndUser.Subject
	case RoleLearner:
		return ForConsumer, c.Peer.Name
	}
	return ForNobody, ""
}

// ActingFor is whose data the call of ctx may act on: ForAnyone in the learner's mode (no caller recorded).
func ActingFor(ctx context.Context) (Acting, string) {
	caller, ok := CallerFrom(ctx)
	if !ok {
		return ForAnyone, ""
	}
	return caller.ActingFor()
}

type callerKey struct{}

// CallerFrom is the caller the Authorizer admitted; ok is false in the learner's mode, where nothing is checked.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// WithCaller records the caller of a call, as the Authorizer does once it has admitted it.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// Authorizer enforces the access table on every call of a gRPC server that requires client certificates.
type Authorizer struct {
	Access *Access
	// Log gets a warning per refused call, as the TypeScript guard logs them; nil logs nothing.
	Log *slog.Logger
}

// Unary is the unary server interceptor.
func (a *Authorizer) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := a.authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// Stream is the stream server interceptor.
func (a *Authorizer) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := a.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, callerStream{ServerStream: ss, ctx: ctx})
}

type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s callerStream) Context() context.Context { return s.ctx }

// authorize identifies the caller from its verified certificate, verifies a gateway's end-user claim, and
// checks the access table: UNAUTHENTICATED without a certificate or with a bad claim, PERMISSION_DENIED naming
// the caller and the method when the table does not admit it.
func (a *Authorizer) authorize(ctx context.Context, fullMethod string) (context.Context, error) {
	method := strings.TrimPrefix(fullMethod, "/")
	cert := peerCertificate(ctx)
	if cert == nil {
		return ctx, status.Errorf(codes.Unauthenticated, "%s needs a client certificate of the mesh CA", method)
	}
	p, ok := peerOf(cert)
	if !ok {
		a.warn("call refused: the client certificate names no CN and OU", "method", method)
		return ctx, status.Errorf(codes.PermissionDenied, "a certificate without a name (CN) and role (OU) may not call %s", method)
	}
	caller := Caller{Peer: p}
	// The claim is trusted only from the gateway, checked against the key of the certificate it called with;
	// from anyone else it is ignored: nothing it says is used.
	if claims := metadata.ValueFromIncomingContext(ctx, EndUserHeader); len(claims) > 0 && claims[0] != "" && p.Role == RoleGateway {
		user, err := VerifyEndUser(claims[0], cert, p.Name)
		if err != nil {
			a.warn("call refused: end-user claim not valid", "method", method, "peer", p.Name, "reason", err.Error())
			return ctx, status.Errorf(codes.Unauthenticated, "%v (%s calling %s)", err, p, method)
		}
		caller.EndUser = &user
	}
	if !a.Access.Allows(fullMethod, caller) {
		who := p.String()
		if caller.EndUser != nil {
			who += " for " + caller.EndUser.Role + " " + caller.EndUser.Subject
		}
		a.warn("call refused by the access table", "method", method, "peer", p.Name, "role", p.Role, "endUser", caller.EndUser)
		return ctx, status.Errorf(codes.PermissionDenied, "%s may not call %s", who, method)
	}
	return WithCaller(ctx, caller), nil
}

func (a *Authorizer) warn(msg string, args ...any) {
	if a.Log != nil {
		a.Log.Warn(msg, args...)
	}
}

// peerCertificate is the caller's certificate, verified against the mesh CA during the handshake; nil on a
// connection without one.
func peerCertificate(ctx context.Context) *x509.Certificate {
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := pr.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil
	}
	if chains := info.State.VerifiedChains; len(chains) > 0 && len(chains[0]) > 0 {
		return chains[0][0]
	}
	return nil
}
