package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

// Two requests for one device at once: one commits with the device's pending mark, the other
// loses on the device's version (or, reading after the winner, finds the pending request). An approval writes
// the new mode, clears the mark and adds one history entry in the same transaction.
func TestModeRequests_OnePendingPerDevice(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	w := checked(t, nil, sn(1), "CAM1", "line-1")
	require.NoError(t, db.WriteDevices(ctx, []store.DeviceWrite{w})[0])
	vendor := domain.Caller{Subject: "alice", Org: "acme", Role: domain.RoleVendor}

	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := db.Device(ctx, sn(1))
			if err != nil {
				errs[i] = err
				return
			}
			r, err := domain.RequestModeChange(d, devModel, domain.ModeAPP, "reason", []string{"mreq_a", "mreq_b"}[i], vendor, t0)
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = db.SaveModeRequest(ctx, r, store.DeviceWrite{Device: d})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else if domain.CodeOf(err) != "mode_change_pending" { // it read after the winner wrote
			assert.ErrorIs(t, err, domain.ErrConflict)
		}
	}
	require.Equal(t, 1, won, "exactly one request is pending")
	d, err := db.Device(ctx, sn(1))
	require.NoError(t, err)
	id := d.PendingModeRequest
	require.Contains(t, []string{"mreq_a", "mreq_b"}, id)
	_, err = domain.RequestModeChange(d, devModel, domain.ModeAPP, "again", "mreq_c", vendor, t0)
	assert.Equal(t, "mode_change_pending", domain.CodeOf(err))
	page, err := db.PendingModeRequests(ctx, "", 100)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)

	r, err := db.ModeRequest(ctx, id)
	require.NoError(t, err)
	ch, err := r.Decide(domain.Caller{Subject: "rita", Role: domain.RoleReviewer}, true, "", d, devModel, t0)
	require.NoError(t, err)
	require.NoError(t, db.SaveModeRequest(ctx, r, store.DeviceWrite{Device: d, Changes: []domain.Change{*ch}}))
	d, err = db.Device(ctx, sn(1))
	require.NoError(t, err)
	assert.Equal(t, domain.ModeAPP, d.SoftwareMode)
	assert.Empty(t, d.PendingModeRequest)
	h, err := db.DeviceHistory(ctx, sn(1))
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Equal(t, domain.ActionSoftwareModeChanged, h[0].Action)
	page, err = db.PendingModeRequests(ctx, "", 100)
	require.NoError(t, err)
	assert.Empty(t, page.Items, "decided: out of the queue")
	_, err = db.ModeRequest(ctx, "mreq_none")
	assert.Equal(t, "mode_request_not_found", domain.CodeOf(err))
}
