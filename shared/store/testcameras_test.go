package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// 5 vendors × 3 models race for free test cameras (each model asks twice, 2 cameras then 1):
// no model ever gets more than 2, no vendor more than 4; every refusal names its limit.
func TestTestCameraLimitsHoldUnderConcurrentRequests(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	type result struct {
		r   *domain.TestCameraRequest
		err error
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []result
	)
	for v := range 5 {
		for m := range 3 {
			for i, qty := range []int{2, 1} {
				r := &domain.TestCameraRequest{ID: fmt.Sprintf("tcr_%d_%d_%d", v, m, i), ModelID: fmt.Sprintf("mdl_%d_%d", v, m),
					VendorOrg: fmt.Sprintf("vendor-%d", v), CameraModel: "FC-200", Quantity: qty, Status: domain.TestCameraRequested, RequestedAt: t0}
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := db.CreateTestCameraRequest(ctx, r, domain.Change{At: t0, By: "v", Action: "test_cameras_requested"})
					mu.Lock()
					results = append(results, result{r, err})
					mu.Unlock()
				}()
			}
		}
	}
	wg.Wait()
	perModel, perVendor := map[string]int{}, map[string]int{}
	for _, res := range results {
		if res.err != nil {
			assert.Contains(t, []string{"test_camera_model_limit", "test_camera_vendor_limit", "conflict"}, domain.CodeOf(res.err), "%v", res.err)
			continue
		}
		perModel[res.r.ModelID] += res.r.Quantity
		perVendor[res.r.VendorOrg] += res.r.Quantity
	}
	for m, n := range perModel {
		assert.LessOrEqual(t, n, domain.MaxTestCamerasPerModel, m)
	}
	for v, n := range perVendor {
		assert.LessOrEqual(t, n, domain.MaxTestCamerasPerVendor, v)
		assert.Positive(t, n, v)
	}
	for m := range perModel {
		list, err := db.TestCameraRequests(ctx, m)
		require.NoError(t, err)
		stored := 0
		for _, r := range list {
			stored += r.Quantity
		}
		assert.Equal(t, perModel[m], stored, "what was granted is what is stored for %s", m)
	}

	// A request over the limit is refused with its reason; nothing half-written. (Which
	// requests won the race varies, and a model may end below its limit, e.g. when every
	// quantity-1 request came first; one more camera than a model may have is over it always.)
	full := &domain.TestCameraRequest{ID: "tcr_more", ModelID: "mdl_0_0", VendorOrg: "vendor-0", CameraModel: "FC-200",
		Quantity: domain.MaxTestCamerasPerModel + 1, RequestedAt: t0}
	err := db.CreateTestCameraRequest(ctx, full, domain.Change{At: t0, By: "v", Action: "test_cameras_requested"})
	assert.Contains(t, []string{"test_camera_model_limit", "test_camera_vendor_limit"}, domain.CodeOf(err), "%v", err)
	_, err = db.TestCameraRequest(ctx, "mdl_0_0", "tcr_more")
	assert.Equal(t, "test_camera_request_not_found", domain.CodeOf(err), "%v", err)
}

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
