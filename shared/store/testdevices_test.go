package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// Active test devices are due by their clearing time; a cleared one leaves the due list; a
// model's test devices are listed apart from everything else of the vendor.
func TestTestDevices(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	mk := func(sn, model string, clearAt time.Time) *domain.TestDevice {
		d := &domain.TestDevice{SN: sn, ModelID: model, VendorOrg: "v", DeviceType: domain.DeviceVendingMachine,
			ExpectedCompletion: clearAt.Format(time.DateOnly), ClearAt: clearAt, Status: domain.TestDeviceActive, RegisteredAt: t0, Registration: 1}
		require.NoError(t, db.SaveTestDevice(ctx, d, domain.Change{At: t0, By: "alice", Action: "test_device_registered"}))
		return d
	}
	a := mk("0AA1B0000000001AAAAAAAA", "mdl_1", t0.Add(24*time.Hour))
	mk("0AA1B0000000002AAAAAAAA", "mdl_1", t0.Add(48*time.Hour))
	mk("0AA1C0000000003AAAAAAAA", "mdl_2", t0.Add(24*time.Hour))

	due, err := db.TestDevicesDue(ctx, t0.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Len(t, due, 2, "due at their clearing time")
	list, err := db.TestDevicesOf(ctx, "v", "mdl_1")
	require.NoError(t, err)
	assert.Len(t, list, 2)

	stale := *a
	ch, _ := a.Clear("alice", domain.ClearedByOwner, t0.Add(time.Hour))
	require.NoError(t, db.SaveTestDevice(ctx, a, ch))
	ch, _ = stale.Clear("schedule", domain.ClearedOnDate, t0.Add(time.Hour))
	assert.Equal(t, domain.Conflict, domain.KindOf(db.SaveTestDevice(ctx, &stale, ch)), "a stale write loses")
	due, _ = db.TestDevicesDue(ctx, t0.Add(24*time.Hour))
	assert.Len(t, due, 1, "a cleared device is no longer due")
	got, err := db.TestDevice(ctx, a.SN)
	require.NoError(t, err)
	assert.Equal(t, domain.ClearedByOwner, got.ClearedReason)
	_, err = db.TestDevice(ctx, "0AA1B0000000009AAAAAAAA")
	assert.Equal(t, "test_device_not_found", domain.CodeOf(err))
}
