package mesh

import (
	"context"
	"crypto/x509"
	"fmt"
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

// Consumer is the consumer the call is restricted to, when it is knowable: the subject of a forwarded
// consumer's claim, or a learner's certificate name (a learner acts as the consumer it is named after). ok is
// false for a caller that is no consumer (a service, the gateway on its own behalf, an admin).
func (c Caller) Consumer() (id string, ok bool) {
	if c.EndUser != nil {
		return c.EndUser.Subject, c.EndUser.Role == EndUserConsumer
	}
	if c.Peer.Role == RoleLearner {
		return c.Peer.Name, true
	}
	return "", false
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
	cert := peerCertificate(ctx)
	if cert == nil {
		return ctx, status.Errorf(codes.Unauthenticated, "%s needs a client certificate of the mesh CA", fullMethod)
	}
	p, _ := peerOf(cert)
	caller := Caller{Peer: p}
	// The claim is trusted only from the gateway, checked against the key of the certificate it called with;
	// from anyone else it is ignored: nothing it says is used.
	if claims := metadata.ValueFromIncomingContext(ctx, EndUserHeader); len(claims) > 0 && p.Role == RoleGateway {
		if len(claims) > 1 {
			return ctx, status.Errorf(codes.Unauthenticated, "%s sent %d end-user claims; one at most", p, len(claims))
		}
		user, err := VerifyEndUser(claims[0], cert, p.Name)
		if err != nil {
			return ctx, status.Errorf(codes.Unauthenticated, "%s: %v", p, err)
		}
		caller.EndUser = &user
	}
	if !a.Access.Allows(fullMethod, caller) {
		who := p.String()
		if caller.EndUser != nil {
			who += " for " + caller.EndUser.Role + " " + caller.EndUser.Subject
		}
		return ctx, status.Errorf(codes.PermissionDenied, "%s may not call %s (proto/access.json)", who, strings.TrimPrefix(fullMethod, "/"))
	}
	return WithCaller(ctx, caller), nil
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
