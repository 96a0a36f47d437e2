package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// A page cursor is the LastEvaluatedKey of a query, sealed: encrypted and authenticated with
// AES-256-GCM under a key derived from the CURSOR_KEY setting, with the listing it belongs to
// (index and partition, e.g. "gsi1|ORG#acme") as authenticated data. So a client sees no
// DynamoDB key, and a cursor that was forged, altered, or issued for another listing (another
// organisation's, another queue) is refused with ErrInvalidCursor before any query runs.

// maxCursorLen bounds what is even looked at; real cursors are about 200 characters.
const maxCursorLen = 1024

// Option configures a DB.
type Option func(*DB)

// WithCursorKey seals page cursors with secret (the CURSOR_KEY setting, at least 32
// characters). Every instance of a function must use the same secret so a cursor one issued
// is accepted by the next. Without it a DB uses a random per-process secret: enough for
// listings read to the end within one invocation, never for cursors handed to clients.
func WithCursorKey(secret string) Option {
	return func(db *DB) { db.cursors = newSealer([]byte(secret)) }
}

var processSealer = func() cipher.AEAD {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return newSealer(b)
}()

func newSealer(secret []byte) cipher.AEAD {
	k := sha256.Sum256(append([]byte("facepay page cursor v1\x00"), secret...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// listingOf names the listing q reads: its index and partition value.
func listingOf(q *dynamodb.QueryInput) string {
	pk := ""
	for _, name := range []string{":pk", ":q"} {
		if v, ok := q.ExpressionAttributeValues[name].(*types.AttributeValueMemberS); ok {
			pk = v.Value
			break
		}
	}
	return aws.ToString(q.IndexName) + "|" + pk
}

func (db *DB) sealCursor(listing string, k map[string]types.AttributeValue) (string, error) {
	return sealCursor(db.cursors, listing, k)
}

// openCursor returns the start key sealed in s for listing, or ErrInvalidCursor.
func (db *DB) openCursor(listing, s string) (map[string]types.AttributeValue, error) {
	return openCursor(db.cursors, listing, s)
}

func sealCursor(cursors cipher.AEAD, listing string, k map[string]types.AttributeValue) (string, error) {
	var plain map[string]string
	if err := attributevalue.UnmarshalMap(k, &plain); err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	nonce := make([]byte, cursors.NonceSize(), cursors.NonceSize()+len(b)+cursors.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(cursors.Seal(nonce, nonce, b, []byte(listing))), nil
}

func openCursor(cursors cipher.AEAD, listing, s string) (map[string]types.AttributeValue, error) {
	bad := domain.ErrInvalidCursor.Withf("the page cursor is not one this API returned for this listing; start again without it")
	if len(s) > maxCursorLen {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	n := cursors.NonceSize()
	if err != nil || len(raw) < n+cursors.Overhead() {
		return nil, bad
	}
	b, err := cursors.Open(nil, raw[:n], raw[n:], []byte(listing))
	if err != nil {
		return nil, bad
	}
	var plain map[string]string
	if err := json.Unmarshal(b, &plain); err != nil || len(plain) == 0 || len(plain) > 6 {
		return nil, bad
	}
	k, err := attributevalue.MarshalMap(plain)
	if err != nil {
		return nil, bad
	}
	return k, nil
}
