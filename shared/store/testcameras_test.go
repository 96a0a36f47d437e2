package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

func TestTestCameraShipment(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	r := &domain.TestCameraRequest{ID: "tcr_1", ModelID: "mdl_1", VendorOrg: "v", CameraModel: "FC-200", Quantity: 2, Status: domain.TestCameraRequested, RequestedAt: t0}
	require.NoError(t, db.CreateTestCameraRequest(ctx, r, domain.Change{At: t0, By: "v", Action: "test_cameras_requested"}))
	assert.Equal(t, "conflict", domain.CodeOf(db.CreateTestCameraRequest(ctx, r, domain.Change{At: t0, By: "v", Action: "test_cameras_requested"})),
		"the same request twice is a repeat, not a second grant")
	got, err := db.TestCameraRequest(ctx, "mdl_1", "tcr_1")
	require.NoError(t, err)
	ch, changed, err := got.Ship(domain.Caller{Subject: "rita", Role: domain.RoleReviewer}, "SF1", t0)
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, db.SaveTestCameraRequest(ctx, got, ch))
	again, _ := db.TestCameraRequest(ctx, "mdl_1", "tcr_1")
	assert.Equal(t, domain.TestCameraShipped, again.Status)
	assert.Equal(t, "SF1", again.TrackingNumber)
}
