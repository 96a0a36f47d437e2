package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/store"
)

// Upload tickets: the sweep reads the tickets whose URL was issued before its cutoff, over the
// days tickets live, with a fixed number of queries; a re-issue moves a ticket's IssuedAt
// forward (never back); a deleted or expired ticket is not read.
func TestUploadTickets(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	now := t0.Add(10 * 24 * time.Hour)
	put := func(key string, requested, issued time.Time) {
		require.NoError(t, db.PutUploadTicket(ctx, store.UploadTicket{Key: key, RequestedAt: requested, IssuedAt: issued}))
	}
	for i := range 6 { // spread over shards
		put(fmt.Sprintf("applications/o/app_%d/deck/up_1", i), now.Add(-3*time.Hour), now.Add(-3*time.Hour))
	}
	put("evidence/old", now.Add(-6*24*time.Hour), now.Add(-6*24*time.Hour))
	put("evidence/expired", now.Add(-8*24*time.Hour), now.Add(-8*24*time.Hour))
	put("evidence/fresh", now.Add(-10*time.Minute), now.Add(-10*time.Minute))
	put("evidence/reissued", now.Add(-5*time.Hour), now.Add(-5*time.Hour))
	put("evidence/reissued", now.Add(-5*time.Hour), now.Add(-20*time.Minute))
	put("evidence/reissued", now.Add(-5*time.Hour), now.Add(-4*time.Hour)) // a slow retry of an earlier issue

	read := func() (map[string]store.UploadTicket, store.UploadTicketScan) {
		got := map[string]store.UploadTicket{}
		cost, err := db.UploadTicketsIssuedBefore(ctx, now, now.Add(-time.Hour), func(tk store.UploadTicket) error {
			got[tk.Key] = tk
			return nil
		})
		require.NoError(t, err)
		return got, cost
	}
	got, cost := read()
	assert.Len(t, got, 7, "six recent, one six days old; not the expired, the fresh or the re-issued one")
	assert.NotContains(t, got, "evidence/reissued", "its newest URL is 20 minutes old")
	assert.NotContains(t, got, "evidence/expired")
	assert.True(t, got["evidence/old"].RequestedAt.Equal(now.Add(-6*24*time.Hour)))
	days := int(store.UploadTicketLife/(24*time.Hour)) + 1
	assert.Equal(t, store.UploadTicketScan{Partitions: days * store.UploadTicketShards, Queries: days * store.UploadTicketShards}, cost,
		"one query per day and shard, whatever the table holds")

	require.NoError(t, db.DeleteUploadTicket(ctx, "evidence/old", now.Add(-6*24*time.Hour)))
	require.NoError(t, db.DeleteUploadTicket(ctx, "evidence/old", now.Add(-6*24*time.Hour)), "deleting twice is harmless")
	got, _ = read()
	assert.Len(t, got, 6)
	assert.NotContains(t, got, "evidence/old")
}
