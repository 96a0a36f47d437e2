package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/facepay/platform/shared/domain"
)

// MaxIdempotencyKey is the longest Idempotency-Key accepted (infra/openapi.yaml says the same).
const MaxIdempotencyKey = 128

// Idempotency is a request's Idempotency-Key, scoped to the caller and the operation, with a
// fingerprint of the request it came with. A key means "this request": the same key from
// another subject, role or organisation, or for another operation, is another key; the same
// key with another request is refused (domain.ErrIdempotencyKeyReused).
type Idempotency struct {
	Key         string // "" when the request carries none
	Scope       string // hex SHA-256 of operation, organisation, role, subject and key
	Fingerprint string // hex SHA-256 of the decoded request body, re-encoded (so spacing does not matter)
}

// IdempotencyOf reads the Idempotency-Key header of req, made by c, for operation (its
// OpenAPI operationId), whose decoded body is body. It returns Invalid
// ("invalid_idempotency_key") for a key longer than MaxIdempotencyKey or with characters
// outside printable ASCII.
func IdempotencyOf(req Request, c domain.Caller, operation string, body any) (Idempotency, error) {
	key, ok := req.Headers["idempotency-key"]
	if !ok {
		return Idempotency{}, nil
	}
	if key == "" || len(key) > MaxIdempotencyKey || strings.IndexFunc(key, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return Idempotency{}, domain.Errorf(domain.Invalid, "invalid_idempotency_key",
			"Idempotency-Key must be 1 to %d printable ASCII characters", MaxIdempotencyKey)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return Idempotency{}, fmt.Errorf("fingerprint request: %w", err)
	}
	return Idempotency{Key: key, Scope: digest(operation, c.Org, string(c.Role), c.Subject, key), Fingerprint: digest(string(b))}, nil
}

func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}
