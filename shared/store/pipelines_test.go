package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

// The pipeline record is one item read with one GetItem; it and its history entries are
// written together, and a writer that read an older version loses with Conflict.
func TestPipelineRecord(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	_, err := db.Pipeline(ctx, "mdl_1")
	assert.Equal(t, "pipeline_not_started", domain.CodeOf(err))

	p := &domain.Pipeline{ModelID: "mdl_1", VendorOrg: "v", Stage: domain.StageRegistered}
	ch := p.Apply(domain.PipelineRecord{Run: 1, Stage: domain.StageDVT, TrackTimeoutDays: 180}, t0)
	require.NoError(t, db.SavePipeline(ctx, p, ch...))
	got, err := db.Pipeline(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, domain.StageDVT, got.Stage)
	assert.Equal(t, 1, got.Version)
	hist, err := db.ModelHistory(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Len(t, hist, len(ch), "the history entries came with the record")

	stale := *got
	got.Apply(domain.PipelineRecord{Run: 1, Track: domain.TrackSoftware, Status: domain.TrackApproved}, t0.Add(time.Hour))
	require.NoError(t, db.SavePipeline(ctx, got))
	err = db.SavePipeline(ctx, &stale, stale.Apply(domain.PipelineRecord{Run: 1, Track: domain.TrackHardware, Status: domain.TrackApproved}, t0)...)
	assert.Equal(t, domain.Conflict, domain.KindOf(err))
	hist, _ = db.ModelHistory(ctx, "mdl_1")
	assert.Len(t, hist, len(ch), "the losing write left no history")
}

func TestMarkTaskTokenCompleted(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	require.NoError(t, db.PutTaskToken(ctx, store.TaskToken{ModelID: "mdl_1", Step: "pvt", Token: "tok-1", Since: t0, Run: 1}))
	require.NoError(t, db.MarkTaskTokenCompleted(ctx, "mdl_1", "pvt", "tok-1", "fp-a"))
	require.NoError(t, db.MarkTaskTokenCompleted(ctx, "mdl_1", "pvt", "tok-1", "fp-a"), "marking again is harmless")
	got, err := db.TaskTokenOf(ctx, "mdl_1", "pvt")
	require.NoError(t, err)
	assert.Equal(t, "fp-a", got.CompletedWith)
	assert.Equal(t, 1, got.Run)

	// A newer wait replaced the token: marking the old one leaves the new alone.
	require.NoError(t, db.PutTaskToken(ctx, store.TaskToken{ModelID: "mdl_1", Step: "pvt", Token: "tok-2", Since: t0, Run: 1}))
	require.NoError(t, db.MarkTaskTokenCompleted(ctx, "mdl_1", "pvt", "tok-1", "fp-b"))
	got, _ = db.TaskTokenOf(ctx, "mdl_1", "pvt")
	assert.Equal(t, "tok-2", got.Token)
	assert.Empty(t, got.CompletedWith)
}
