package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

// newModel is a model under review, submitted when it was created.
func newModel(id, org string, created time.Time) *domain.Model {
	return &domain.Model{
		ID: id, VendorOrg: org, VendorCode: "00",
		ModelSpec: domain.ModelSpec{Name: "K1 " + id, DeviceType: domain.DeviceDesktopDualScreen, OS: domain.OSAndroid,
			SoftwareModes: []domain.SoftwareMode{domain.ModeSDK}, CameraModel: "FC-200"},
		Status: domain.ModelUnderReview, Round: 1, CreatedBy: "alice", CreatedAt: created, UpdatedAt: created, SubmittedAt: created,
	}
}

func TestModel_CreateReadDuplicateStale(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	m := newModel("mdl_1", "org-a", t0)
	require.NoError(t, db.CreateModel(ctx, m, change(t0, "registered")))
	got, err := db.Model(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, m, got)
	assert.Equal(t, 1, got.Version)

	err = db.CreateModel(ctx, newModel("mdl_1", "org-b", t0), change(t0, "registered"))
	assert.Equal(t, domain.Conflict, domain.KindOf(err))
	assert.Equal(t, "conflict", domain.CodeOf(err))

	stale, err := db.Model(ctx, "mdl_1")
	require.NoError(t, err)
	got.Decision = &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: t0.Add(time.Minute)}
	require.NoError(t, db.SaveModel(ctx, got, change(t0.Add(time.Minute), "decided")))
	stale.Name = "stale"
	err = db.SaveModel(ctx, stale, change(t0.Add(2*time.Minute), "edited"))
	assert.Equal(t, "conflict", codeOf(err))

	hist, err := db.ModelHistory(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, []string{"registered", "decided"}, actions(hist))
	again, err := db.Model(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, got, again, "the held decision round-trips")

	for _, id := range []string{"mdl_missing", "", "mdl#1"} {
		_, err := db.Model(ctx, id)
		assert.Equal(t, "model_not_found", domain.CodeOf(err), id)
	}
}

func TestModelsOf_NewestFirstPaged(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	for i := 1; i <= 5; i++ {
		require.NoError(t, db.CreateModel(ctx, newModel(fmt.Sprintf("mdl_%d", i), "org-a", t0.Add(time.Duration(i)*time.Minute)), change(t0, "registered")))
	}
	require.NoError(t, db.CreateModel(ctx, newModel("mdl_b", "org-b", t0.Add(time.Hour)), change(t0, "registered")))
	require.NoError(t, db.CreateApplication(ctx, draftApp("app_a", "org-a", domain.PartnerDeviceVendor, t0.Add(time.Hour)), change(t0, "created")))

	ids, pages := allPages(t, func(m domain.Model) string { return m.ID }, func(cursor string) (store.Page[domain.Model], error) {
		p, err := db.ModelsOf(ctx, "org-a", cursor, 2)
		if err == nil {
			assert.LessOrEqual(t, len(p.Items), 2)
		}
		return p, err
	})
	assert.Equal(t, []string{"mdl_5", "mdl_4", "mdl_3", "mdl_2", "mdl_1"}, ids)
	assert.Equal(t, 3, pages)
}
