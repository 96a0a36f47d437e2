package cloud

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Authority mints and verifies the local cloud's bearer tokens, standing in for the identity
// provider (mint) and for the HTTP API's JWT authorizer (verify): RS256, issuer and audience
// from the template.
type Authority struct {
	key      *rsa.PrivateKey
	issuer   string
	audience string
}

// NewAuthority returns an authority whose signing key is kept at keyFile (created when
// missing) so `make token` and a running `make run` agree. An empty keyFile makes an
// in-memory key (tests).
func NewAuthority(keyFile, issuer, audience string) (*Authority, error) {
	a := &Authority{issuer: issuer, audience: audience}
	if keyFile != "" {
		if b, err := os.ReadFile(keyFile); err == nil {
			blk, _ := pem.Decode(b)
			if blk == nil {
				return nil, fmt.Errorf("%s: not a PEM key", keyFile)
			}
			k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", keyFile, err)
			}
			a.key = k
			return a, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	a.key = k
	if keyFile != "" {
		if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
			return nil, err
		}
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Identity is whom a token speaks for.
type Identity struct {
	Subject     string
	Org         string
	Role        string
	AccountType string
}

// Token returns a signed token for id, valid for ttl from now (wall clock: the authorizer
// lives outside the virtual clock).
func (a *Authority) Token(id Identity, ttl time.Duration) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": a.issuer, "aud": a.audience, "sub": id.Subject, "role": id.Role,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix(),
	}
	if id.Org != "" {
		claims["org"] = id.Org
	}
	if id.AccountType != "" {
		claims["account_type"] = id.AccountType
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = "local"
	return t.SignedString(a.key)
}

// Verify checks a bearer token as the JWT authorizer does (signature, issuer, audience,
// expiry) and returns its claims as the authorizer passes them on: strings.
func (a *Authority) Verify(token string) (map[string]string, error) {
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return &a.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(a.issuer), jwt.WithAudience(a.audience),
		jwt.WithExpirationRequired())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range parsed.Claims.(jwt.MapClaims) {
		switch t := v.(type) {
		case string:
			out[k] = t
		case float64:
			out[k] = fmt.Sprintf("%.0f", t)
		default:
			out[k] = fmt.Sprint(t)
		}
	}
	return out, nil
}
