package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// A pipeline record is on the sweep index only while something is due, under its next due
// date; the raise-once claim refuses a second raise and writes nothing then.
func TestSweepIndexAndRaiseOnce(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	p := &domain.Pipeline{ModelID: "mdl_1", VendorOrg: "v", Stage: domain.StageMP, Position: domain.StageMP}
	require.NoError(t, db.SavePipeline(ctx, p))
	due, err := db.PipelinesDue(ctx, t0.Add(365*24*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, due, "nothing due: not on the index")

	p.OpenRectification("spc_1", t0.Add(24*time.Hour), t0)
	require.NoError(t, db.SavePipeline(ctx, p))
	due, _ = db.PipelinesDue(ctx, t0)
	assert.Empty(t, due, "not due yet")
	due, _ = db.PipelinesDue(ctx, t0.Add(24*time.Hour))
	assert.Equal(t, []string{"mdl_1"}, due)

	changes, _ := p.Sweep(t0.Add(25 * time.Hour))
	alert := domain.Message{ID: "alr_1", Org: "reviewers", At: t0, Subject: "Rectification order overdue", Entity: "model", EntityID: "mdl_1"}
	require.NoError(t, db.SaveSwept(ctx, p, changes, []domain.Message{{ID: "msg_1", Org: "v", At: t0, Subject: "restricted"}}, []domain.Message{alert}))
	due, _ = db.PipelinesDue(ctx, t0.Add(365*24*time.Hour))
	assert.Empty(t, due, "swept: nothing due any more")
	got, err := db.Pipeline(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, domain.StageRestricted, got.Stage)

	require.NoError(t, db.RaiseOnce(ctx, "review#SUB#mdl_2#software#v1", domain.Message{ID: "alr_2", Org: "reviewers", At: t0.Add(time.Hour), Subject: "Review overdue"}))
	err = db.RaiseOnce(ctx, "review#SUB#mdl_2#software#v1", domain.Message{ID: "alr_3", Org: "reviewers", At: t0.Add(2 * time.Hour), Subject: "Review overdue"})
	assert.True(t, errors.Is(err, domain.ErrAlreadyRaised), "%v", err)
	alerts, err := db.Alerts(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, alerts.Items, 2, "the refused raise wrote no alert")
	assert.Equal(t, "alr_2", alerts.Items[0].ID, "newest first")
}

// A failed spot check and its order's deadline on the pipeline record are written together;
// a second create of the same spot check is a Conflict and writes nothing.
func TestSpotCheckWithItsOrder(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	p := &domain.Pipeline{ModelID: "mdl_1", VendorOrg: "v", Stage: domain.StageMP, Position: domain.StageMP}
	require.NoError(t, db.SavePipeline(ctx, p))
	s := &domain.SpotCheck{ID: "spc_1", ModelID: "mdl_1", VendorOrg: "v", SN: "SN", Result: "fail", RecordedAt: t0,
		Order: &domain.RectificationOrder{Deadline: t0.Add(24 * time.Hour), Status: domain.OrderOpen}}
	stale := *p
	changes := p.OpenRectification(s.ID, s.Order.Deadline, t0)
	require.NoError(t, db.SaveSpotCheck(ctx, s, p, changes...))
	got, err := db.Pipeline(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Contains(t, got.Rectifications, "spc_1")

	again := *s
	again.Version = 0
	assert.Equal(t, domain.Conflict, domain.KindOf(db.SaveSpotCheck(ctx, &again, &stale)))
	list, err := db.SpotChecks(ctx, "mdl_1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	one, err := db.SpotCheck(ctx, "mdl_1", "spc_1")
	require.NoError(t, err)
	assert.Equal(t, 1, one.Version)
	_, err = db.SpotCheck(ctx, "mdl_1", "spc_2")
	assert.Equal(t, "spot_check_not_found", domain.CodeOf(err))
}
