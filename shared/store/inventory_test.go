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

// A vendor lists its devices of one deployment provider from the binding records: assigned and
// confirmed ones, pages of at most 100, never another vendor's devices of that provider nor
// its own of another provider; a model narrows the listing; the model's listing marks its
// test device, which no provider listing shows.
func TestInventory_ByProvider(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	other := &domain.Model{ID: "mdl_9", VendorOrg: "rival", VendorCode: "0B", ModelCode: "1B",
		ModelSpec: domain.ModelSpec{Name: "R1", OS: domain.OSAndroid, SoftwareModes: []domain.SoftwareMode{domain.ModeSDK}}}
	otherSN := func(i int) string { return fmt.Sprintf("0BA1B%010dX7Q2M9ZK", i) }
	var ws []store.DeviceWrite
	for i := range 260 {
		ws = append(ws, checked(t, nil, sn(i), fmt.Sprintf("CAM%05d", i), "line-1"))
	}
	for i := range 5 {
		r, err := domain.NewFactoryReport(otherSN(i), "CAMX", other.ID, "sdk", "", "", "", "", "2.3.1", "pass", nil, "l", t0.Format("2006-01-02T15:04:05Z"), false, t0)
		require.NoError(t, err)
		d, _, _, err := domain.Check(nil, r, other, domain.StageMP, t0)
		require.NoError(t, err)
		ws = append(ws, store.DeviceWrite{Device: d})
	}
	for _, err := range db.WriteDevices(ctx, ws) {
		require.NoError(t, err)
	}
	td := &domain.TestDevice{SN: sn(900), ModelID: devModel.ID, VendorOrg: devModel.VendorOrg, DeviceType: domain.DeviceVendingMachine,
		ExpectedCompletion: "2026-12-30", ClearAt: t0.AddDate(0, 1, 0), Status: domain.TestDeviceActive, RegisteredAt: t0, Registration: 1}
	require.NoError(t, db.SaveTestDevice(ctx, td))

	const p1, p2 = "DP00000001", "DP00000002"
	var bw []store.BindingWrite
	bind := func(sn, org, provider string, confirm bool) {
		b, ch, err := domain.Assign(nil, sn, org, provider, false, "alice", t0)
		require.NoError(t, err)
		if confirm {
			b, ch, err = domain.Confirm(b, provider, "bob", t0)
			require.NoError(t, err)
		}
		bw = append(bw, store.BindingWrite{Binding: b, Change: *ch})
	}
	want := map[string]domain.BindingState{}
	for i := range 230 { // 230 to P1: the first 100 confirmed
		bind(sn(i), "acme", p1, i < 100)
		want[sn(i)] = map[bool]domain.BindingState{true: domain.BindingConfirmed, false: domain.BindingAssigned}[i < 100]
	}
	for i := 230; i < 250; i++ {
		bind(sn(i), "acme", p2, false)
	}
	for i := range 5 {
		bind(otherSN(i), "rival", p1, true)
	}
	for _, err := range db.WriteBindings(ctx, bw) {
		require.NoError(t, err)
	}

	got := map[string]domain.BindingState{}
	cursor, pages := "", 0
	for {
		p, err := db.Inventory(ctx, store.InventoryQuery{Org: "acme", Provider: p1, VendorCode: "0A", Cursor: cursor, Limit: 100})
		require.NoError(t, err)
		assert.LessOrEqual(t, len(p.Items), 100)
		for _, e := range p.Items {
			assert.NotContains(t, got, e.SN, "listed twice")
			got[e.SN] = e.BindingState
			assert.Equal(t, p1, e.Provider)
			assert.Equal(t, devModel.ID, e.ModelID, "the device's own attributes are read")
			assert.Equal(t, "passed", e.Status)
			assert.False(t, e.TestDevice)
		}
		pages++
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	assert.Equal(t, want, got, "exactly the vendor's devices of P1, with their binding state")
	assert.GreaterOrEqual(t, pages, 3)

	p, err := db.Inventory(ctx, store.InventoryQuery{Org: "acme", Provider: p2, VendorCode: "0A", Model: devModel, Limit: 100})
	require.NoError(t, err)
	assert.Len(t, p.Items, 20, "one model's devices of P2")
	p, err = db.Inventory(ctx, store.InventoryQuery{Org: "acme", Provider: p1, VendorCode: "0A", Status: "failed", Limit: 100})
	require.NoError(t, err)
	assert.Empty(t, p.Items, "a status filters the provider's devices")
	p, err = db.Inventory(ctx, store.InventoryQuery{Org: "rival", Provider: p1, VendorCode: "0B", Limit: 100})
	require.NoError(t, err)
	assert.Len(t, p.Items, 5, "the other vendor sees only its own devices of P1")

	p, err = db.Inventory(ctx, store.InventoryQuery{Org: "acme", Model: devModel, Limit: 100})
	require.NoError(t, err)
	require.NotEmpty(t, p.Items)
	assert.Equal(t, sn(900), p.Items[0].SN)
	assert.True(t, p.Items[0].TestDevice, "the model's listing marks its test device")
}

// A provider listing narrowed by a device status fills its pages: it reads on past bindings
// the filter drops (100 at a time, one BatchGetItem each), and when more match than a page
// holds its cursor resumes right after the last one listed, so the pages hold every match
// once. A filter nothing matches ends at once, without a cursor.
func TestInventory_ByProviderAndStatusFillsPages(t *testing.T) {
	ctx := context.Background()
	db, requests := countingDB(t)
	const p1 = "DP00000001"
	var ws []store.DeviceWrite
	var bw []store.BindingWrite
	failed := map[string]bool{}
	for i := range 320 {
		result, errs := "pass", []string(nil)
		if i%7 == 3 {
			result, errs = "fail", []string{"face_module_timeout"}
			failed[sn(i)] = true
		}
		r, err := domain.NewFactoryReport(sn(i), fmt.Sprintf("CAM%05d", i), devModel.ID, "sdk", "00:1A:2B:3C:4D:5E", "", "", "", "2.3.1",
			result, errs, "line-1", t0.Add(-time.Minute).Format(time.RFC3339), false, t0)
		require.NoError(t, err)
		d, _, changes, err := domain.Check(nil, r, devModel, domain.StagePVT, t0)
		require.NoError(t, err)
		ws = append(ws, store.DeviceWrite{Device: d, Changes: changes})
		b, ch, err := domain.Assign(nil, sn(i), "acme", p1, false, "alice", t0)
		require.NoError(t, err)
		bw = append(bw, store.BindingWrite{Binding: b, Change: *ch})
	}
	for _, err := range db.WriteDevices(ctx, ws) {
		require.NoError(t, err)
	}
	for _, err := range db.WriteBindings(ctx, bw) {
		require.NoError(t, err)
	}
	require.Len(t, failed, 46)

	got := map[string]bool{}
	cursor, pages := "", 0
	requests.Take()
	for {
		p, err := db.Inventory(ctx, store.InventoryQuery{Org: "acme", Provider: p1, VendorCode: "0A", Status: "failed", Cursor: cursor, Limit: 5})
		require.NoError(t, err)
		assert.LessOrEqual(t, requests.Take()["BatchGetItem"], int64(10), "page %d", pages)
		for _, e := range p.Items {
			assert.NotContains(t, got, e.SN, "listed twice")
			assert.Equal(t, "failed", e.Status)
			got[e.SN] = true
		}
		pages++
		if cursor = p.Next; cursor == "" {
			break
		}
		assert.Len(t, p.Items, 5, "only the last page is short")
	}
	assert.Equal(t, failed, got)
	assert.Equal(t, 10, pages) // 46 = 9 × 5 + 1

	p, err := db.Inventory(ctx, store.InventoryQuery{Org: "acme", Provider: p1, VendorCode: "0A", Status: "special", Limit: 100})
	require.NoError(t, err)
	assert.Empty(t, p.Items)
	assert.Empty(t, p.Next, "320 bindings read in one call: nothing left")
}
