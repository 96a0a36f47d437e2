// Package ids makes identifiers: random ones for new entities, and derived ones for entities
// created under a client's idempotency key, so a retried create finds what the first made.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

var enc = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns prefix + "_" + 16 random characters (80 bits).
func New(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + "_" + enc.EncodeToString(b)
}

// Derived returns prefix + "_" + 16 characters derived from parts: the same parts always give
// the same id.
func Derived(prefix string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + "_" + enc.EncodeToString(h[:10])
}
