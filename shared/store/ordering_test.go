package store_test

// Regression tests: sort keys once dropped trailing zeros of the fraction (RFC3339Nano), so
// "…:00Z" sorted after "…:00.5Z"; listings once showed the version before the write.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

func TestHistory_OrderWithinASecond(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	a := draftApp("app_1", "org-a", domain.PartnerDeviceVendor, t0)
	require.NoError(t, db.CreateApplication(ctx, a, change(t0, "created")))                             // ...02:00:00Z
	require.NoError(t, db.SaveApplication(ctx, a, change(t0.Add(500*time.Millisecond), "edited")))      // ...02:00:00.5Z
	require.NoError(t, db.SaveApplication(ctx, a, change(t0.Add(120*time.Millisecond), "submitted_x"))) // .12 — earlier
	hist, err := db.ApplicationHistory(ctx, "app_1")
	require.NoError(t, err)
	assert.Equal(t, []string{"created", "submitted_x", "edited"}, actions(hist))
}

func TestApplicationsOf_OrderWithinASecond(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	require.NoError(t, db.CreateApplication(ctx, draftApp("app_old", "org-a", domain.PartnerMerchant, t0), change(t0, "created")))
	require.NoError(t, db.CreateApplication(ctx, draftApp("app_new", "org-a", domain.PartnerMerchant, t0.Add(100*time.Millisecond)), change(t0, "created")))
	p, err := db.ApplicationsOf(ctx, "org-a", "", 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"app_new", "app_old"}, []string{p.Items[0].ID, p.Items[1].ID})
}

func TestApplicationQueue_AgeBoundWithinASecond(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	require.NoError(t, db.CreateApplication(ctx, submittedApp("after", "org-a", domain.PartnerMerchant, t0.Add(500*time.Millisecond)), change(t0, "created")))
	require.NoError(t, db.CreateApplication(ctx, submittedApp("before", "org-b", domain.PartnerMerchant, t0), change(t0, "created")))
	p, err := db.ApplicationQueue(ctx, domain.PartnerMerchant, store.QueueFilter{State: store.QueuePending, SubmittedUntil: t0})
	require.NoError(t, err)
	var ids []string
	for _, a := range p.Items {
		ids = append(ids, a.ID)
	}
	assert.Equal(t, []string{"before"}, ids, "until t0 excludes t0+0.5s")
	p, err = db.ApplicationQueue(ctx, domain.PartnerMerchant, store.QueueFilter{State: store.QueuePending, SubmittedUntil: t0.Add(300 * time.Millisecond)})
	require.NoError(t, err)
	ids = nil
	for _, a := range p.Items {
		ids = append(ids, a.ID)
	}
	assert.Equal(t, []string{"before"}, ids, "until t0+0.3s includes t0")
}

func TestApplicationsOf_ShowsTheStoredVersion(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	a := draftApp("app_1", "org-a", domain.PartnerMerchant, t0)
	require.NoError(t, db.CreateApplication(ctx, a, change(t0, "created")))
	p, err := db.ApplicationsOf(ctx, "org-a", "", 10)
	require.NoError(t, err)
	got, _ := db.Application(ctx, "app_1")
	assert.Equal(t, got.Version, p.Items[0].Version)
}
