package mesh

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// EndUserHeader is the metadata key that carries the gateway's signed end-user claim (a compact JWT), as
// packages/platform/src/grpc/end-user.ts sends it.
const EndUserHeader = "ftgo-end-user"

// EndUserAudience is the audience of every end-user claim: the mesh.
const EndUserAudience = "ftgo-mesh"

// The roles an end-user claim may name.
const (
	EndUserConsumer = "consumer"
	EndUserAdmin    = "admin"
)

// EndUser is a person the gateway authenticated, as the services behind it see them.
type EndUser struct {
	// Role is "consumer" or "admin".
	Role string
	// Subject is who they are: a consumer's id, or an admin's name.
	Subject string
}

// endUserClaims are the claims end-user.ts signs: sub, role, iss (the signer's CN), aud "ftgo-mesh", iat, exp.
type endUserClaims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// VerifyEndUser checks token (ES256) against the public key of signer, the calling peer's verified
// certificate, and that it was issued by signerName for the mesh and has not expired (a minute's leeway for
// clocks); then returns the end user it names.
func VerifyEndUser(token string, signer *x509.Certificate, signerName string) (EndUser, error) {
	key, ok := signer.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return EndUser{}, errors.New("the end-user claim is not valid: the caller's certificate has no EC key to verify it with")
	}
	var claims endUserClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"ES256"}),
		jwt.WithAudience(EndUserAudience),
		jwt.WithIssuer(signerName),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		return EndUser{}, fmt.Errorf("the end-user claim is not valid: %s", reasonOf(err))
	}
	if !slices.Contains([]string{EndUserConsumer, EndUserAdmin}, claims.Role) || claims.Subject == "" {
		return EndUser{}, fmt.Errorf("the end-user claim names no known role and subject (role %q)", claims.Role)
	}
	return EndUser{Role: claims.Role, Subject: claims.Subject}, nil
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "it has expired"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "its signature is not the caller's"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return `its "aud" claim is wrong`
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return `its "iss" claim is wrong`
	}
	return err.Error()
}
