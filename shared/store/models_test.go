package store_test

import (
	"context"
	"fmt"
	"sync"
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
	got.Pipeline = "arn:aws:states:us-east-1:000000000000:execution:pipeline:mdl_1"
	require.NoError(t, db.SaveModel(ctx, got, change(t0.Add(time.Minute), "pipeline_started")))
	stale.Pipeline = "stale"
	err = db.SaveModel(ctx, stale, change(t0.Add(2*time.Minute), "pipeline_started"))
	assert.Equal(t, "conflict", codeOf(err))

	got.Decision = &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: t0.Add(3 * time.Minute)}
	require.NoError(t, db.HoldModelDecision(ctx, got, held(got.Decision)))
	assert.Equal(t, 2, got.Version, "a held decision does not write the model")
	hist, err := db.ModelHistory(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, []string{"registered", "pipeline_started", "decided"}, actions(hist))
	again, err := db.Model(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, got, again, "the held decision round-trips")
	assert.Equal(t, 1, again.Decision.Revision)

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

func TestModel_NamesUniquePerVendorIgnoringCase(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	named := func(id, org, name string) *domain.Model {
		m := newModel(id, org, t0)
		m.Name = name
		return m
	}
	first := named("mdl_1", "org-a", "K1")
	require.NoError(t, db.CreateModel(ctx, first, change(t0, "registered")))

	err := db.CreateModel(ctx, named("mdl_2", "org-a", "k1"), change(t0, "registered"))
	assert.Equal(t, domain.Conflict, domain.KindOf(err))
	assert.Equal(t, "duplicate_model_name", domain.CodeOf(err))
	_, err = db.Model(ctx, "mdl_2")
	assert.Equal(t, "model_not_found", domain.CodeOf(err), "nothing of the refused model was written")
	hist, err := db.ModelHistory(ctx, "mdl_2")
	require.NoError(t, err)
	assert.Empty(t, hist)

	require.NoError(t, db.CreateModel(ctx, named("mdl_3", "org-b", "K1"), change(t0, "registered")), "another vendor's K1")
	assert.Equal(t, "conflict", codeOf(db.CreateModel(ctx, named("mdl_1", "org-a", "K1"), change(t0, "registered"))),
		"a retried registration (same id) is told its model exists, not that the name is taken")

	// Racing registrations of one name: exactly one wins.
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, name := range []string{"K2", "k2"} {
		wg.Go(func() {
			errs[i] = db.CreateModel(ctx, named(fmt.Sprintf("mdl_race_%d", i), "org-a", name), change(t0, "registered"))
		})
	}
	wg.Wait()
	assert.ElementsMatch(t, []string{"", "duplicate_model_name"}, []string{codeOrEmpty(errs[0]), codeOrEmpty(errs[1])})

	// A rejected model renamed on resubmission gives its old name back and takes the new one.
	got, err := db.Model(ctx, "mdl_1")
	require.NoError(t, err)
	got.Status = domain.ModelRejected
	require.NoError(t, db.SaveModel(ctx, got, change(t0, "released")))
	spec := got.ModelSpec
	spec.Name = "K2"
	_, err = got.Resubmit(domain.Caller{Subject: "alice"}, spec, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "duplicate_model_name", codeOf(db.ResubmitModel(ctx, got, "K1", change(t0, "resubmitted"))))
	got, err = db.Model(ctx, "mdl_1")
	require.NoError(t, err)
	spec.Name = "K1 Pro"
	_, err = got.Resubmit(domain.Caller{Subject: "alice"}, spec, t0.Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, db.ResubmitModel(ctx, got, "K1", change(t0, "resubmitted")))
	require.NoError(t, db.CreateModel(ctx, named("mdl_4", "org-a", "k1"), change(t0, "registered")), "K1 is free again")
	assert.Equal(t, "duplicate_model_name", codeOf(db.CreateModel(ctx, named("mdl_5", "org-a", "K1 PRO"), change(t0, "registered"))))
}
