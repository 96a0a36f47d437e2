package store_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// Cursors are sealed: a client sees no DynamoDB key, and a forged, altered or foreign cursor
// is ErrInvalidCursor before any query runs (issue 10 point 2, issue 8 point 6).
func TestCursors_SealedAndBoundToTheirListing(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	for i := 1; i <= 3; i++ {
		for _, org := range []string{"org-a", "org-b"} {
			id := fmt.Sprintf("app_%s_%d", org, i)
			require.NoError(t, db.CreateApplication(ctx, draftApp(id, org, domain.PartnerMerchant, t0.Add(time.Duration(i)*time.Minute)), change(t0, "created")))
		}
	}
	first, err := db.ApplicationsOf(ctx, "org-a", "", 2)
	require.NoError(t, err)
	require.NotEmpty(t, first.Next)
	raw, err := base64.RawURLEncoding.DecodeString(first.Next)
	require.NoError(t, err)
	for _, leak := range []string{"ORG#", "APP#", "gsi1", "org-a", "pk"} {
		assert.NotContains(t, string(raw), leak, "the cursor shows a DynamoDB key")
	}

	second, err := db.ApplicationsOf(ctx, "org-a", first.Next, 2)
	require.NoError(t, err, "the cursor opens the next page of its own listing")
	assert.Len(t, second.Items, 1)

	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	flipped := []byte(first.Next)
	flipped[len(flipped)/2] ^= 1
	forged := map[string]string{
		"another organisation's listing": first.Next, // read below as org-b
		"base64 of a small object":       b64(`{"a":"b"}`),
		"a plain DynamoDB key":           b64(`{"pk":"APP#x","sk":"META","gsi1pk":"ORG#org-b","gsi1sk":"APP#2026"}`),
		"one character changed":          string(flipped),
		"not base64":                     "!!!",
		"very long":                      strings.Repeat("A", 100_000),
	}
	for name, cursor := range forged {
		t.Run(name, func(t *testing.T) {
			org := "org-a"
			if name == "another organisation's listing" {
				org = "org-b"
			}
			_, err := db.ApplicationsOf(ctx, org, cursor, 2)
			assert.ErrorIs(t, err, domain.ErrInvalidCursor)
			assert.Equal(t, domain.Invalid, domain.KindOf(err))
		})
	}
	_, err = db.Messages(ctx, "org-a", first.Next, 2)
	assert.ErrorIs(t, err, domain.ErrInvalidCursor, "a cursor of one listing opens no other")
}
