package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines/enginestest"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/store/storetest"
)

// countingDB is a store on its own table whose client counts the requests it sends, by operation.
func countingDB(t testing.TB) (*store.DB, *enginestest.Requests) {
	t.Helper()
	client, counts := enginestest.CountingDynamoDB(t)
	return storetest.NewDBOn(t, client), counts
}

// sn is the i-th SN of model 1B of vendor 0A (Android).
func sn(i int) string { return fmt.Sprintf("0AA1B%010dX7Q2M9ZK", i) }

var devModel = &domain.Model{ID: "mdl_1", VendorOrg: "acme", VendorCode: "0A", ModelCode: "1B",
	ModelSpec: domain.ModelSpec{Name: "K1", OS: domain.OSAndroid, SoftwareModes: []domain.SoftwareMode{domain.ModeSDK, domain.ModeAPP}}}

func report(t *testing.T, sn, camera, station string) domain.FactoryReport {
	t.Helper()
	r, err := domain.NewFactoryReport(sn, camera, devModel.ID, "sdk", "00:1A:2B:3C:4D:5E", "", "", "", "2.3.1", "pass", nil, station,
		t0.Add(-time.Minute).Format(time.RFC3339), false, t0)
	require.NoError(t, err)
	return r
}

func checked(t *testing.T, prev *domain.Device, sn, camera, station string) store.DeviceWrite {
	t.Helper()
	d, _, changes, err := domain.Check(prev, report(t, sn, camera, station), devModel, domain.StagePVT, t0)
	require.NoError(t, err)
	return store.DeviceWrite{Device: d, Changes: changes}
}

// The largest item a factory report can make fits 1 KB: one write unit, two in a transaction.
func TestDeviceItemFitsOneKB(t *testing.T) {
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	first := t0
	// The bounds: org ids at most 100 characters (safeID), model ids 20 (ids.New), a pending
	// mode request id 24 (ids.New), the tool's errors 6 of at most 32 characters.
	d := &domain.Device{SN: sn(1), VendorOrg: long('o', 100), ModelID: long('m', 20), Status: domain.DeviceReregistered,
		SoftwareMode: domain.ModeSDK, CameraSN: long('C', 32), WiredMAC: "00:1A:2B:3C:4D:5E", WirelessMAC: "00:1A:2B:3C:4D:5F",
		BluetoothMAC: "00:1A:2B:3C:4D:60", IMEI: "490154203237518", AppVersion: long('9', 32), Result: domain.CheckFail,
		Errors:  []string{long('e', 32), long('e', 32), long('e', 32), long('e', 32), long('e', 32), long('e', 32), "model_not_accepted", "camera_sn_empty"},
		Station: long('s', 40), CheckedAt: t0, ReceivedAt: t0, Backfilled: true,
		Checks: 99999, FirstPassedAt: &first, PassedIn: domain.StagePVT, Registration: 99,
		Conflict: &domain.CameraConflict{CameraSN: long('C', 32), At: t0}, PendingModeRequest: long('r', 24), Fingerprint: long('f', 16), Version: 99999}
	av, err := store.DeviceAttributes(d)
	require.NoError(t, err)
	size := store.ItemSize(av)
	t.Logf("largest device item: %d bytes", size)
	assert.LessOrEqual(t, size, 1024)
	typical, err := store.DeviceAttributes(checked(t, nil, sn(2), "FC200-0001", "line-1").Device)
	require.NoError(t, err)
	t.Logf("typical new device item: %d bytes", store.ItemSize(typical))
}

// A batch of 500 new devices: 5 BatchGetItem and 5 TransactWriteItems; the same batch again
// reads and writes nothing (the reports' fingerprints are unchanged).
func TestWriteDevices_BatchOf500(t *testing.T) {
	ctx := context.Background()
	db, counts := countingDB(t)
	sns := make([]string, 500)
	for i := range sns {
		sns[i] = sn(i)
	}
	start := time.Now()
	known, err := db.Devices(ctx, sns, false)
	require.NoError(t, err)
	require.Empty(t, known)
	t.Logf("read 500 unknown SNs: %s", time.Since(start))
	ws := make([]store.DeviceWrite, len(sns))
	for i, s := range sns {
		ws[i] = checked(t, nil, s, fmt.Sprintf("CAM%05d", i), "line-1")
	}
	start = time.Now()
	for i, err := range db.WriteDevices(ctx, ws) {
		require.NoError(t, err, sns[i])
	}
	t.Logf("write 500 new devices: %s", time.Since(start))
	start = time.Now()
	assert.EqualValues(t, 5, counts.Count("BatchGetItem"))
	assert.EqualValues(t, 5, counts.Count("TransactWriteItems"))

	known, err = db.Devices(ctx, sns, false)
	require.NoError(t, err)
	require.Len(t, known, 500)
	t.Logf("read 500 known SNs: %s", time.Since(start))
	for i, s := range sns {
		next, out, _, err := domain.Check(known[s], report(t, s, fmt.Sprintf("CAM%05d", i), "line-1"), devModel, domain.StagePVT, t0)
		require.NoError(t, err)
		assert.Nil(t, next, "the same report again writes nothing")
		assert.Equal(t, []string{domain.WarnSameReport}, out.Warnings)
	}
	d, err := db.Device(ctx, sns[7])
	require.NoError(t, err)
	assert.Equal(t, "CAM00007", d.CameraSN)
	assert.Equal(t, domain.DevicePassed, d.Status)
	assert.Equal(t, domain.ModeSDK, d.SoftwareMode)
	assert.Equal(t, 1, d.Version)
}

// Two stations report the same new SNs at the same moment with different camera SNs: every
// SN is written exactly once; the loser's write is refused (ErrConflict), so it reloads and
// its report becomes a recorded camera-SN conflict instead of overwriting the winner.
func TestWriteDevices_RaceOnTheSameSN(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	const n = 60
	results := make([][]error, 2)
	var wg sync.WaitGroup
	for station := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := make([]store.DeviceWrite, n)
			for i := range n {
				ws[i] = checked(t, nil, sn(i), fmt.Sprintf("S%dCAM%03d", station, i), fmt.Sprintf("line-%d", station))
			}
			results[station] = db.WriteDevices(ctx, ws)
		}()
	}
	wg.Wait()
	for i := range n {
		a, b := results[0][i], results[1][i]
		require.True(t, (a == nil) != (b == nil), "exactly one station wins SN %d: %v / %v", i, a, b)
		loser := 1
		if b == nil {
			loser = 0
		}
		require.True(t, errors.Is(results[loser][i], domain.ErrConflict), "the loser's write is refused, not lost: %v", results[loser][i])
		d, err := db.Device(ctx, sn(i))
		require.NoError(t, err)
		winner := 1 - loser
		assert.Equal(t, fmt.Sprintf("S%dCAM%03d", winner, i), d.CameraSN)
		// The loser reloads and applies its report: a conflict recorded for the vendor.
		next, _, changes, err := domain.Check(d, report(t, sn(i), fmt.Sprintf("S%dCAM%03d", loser, i), fmt.Sprintf("line-%d", loser)), devModel, domain.StagePVT, t0)
		assert.Equal(t, "camera_sn_conflict", domain.CodeOf(err))
		require.NotNil(t, next)
		require.NoError(t, db.WriteDevices(ctx, []store.DeviceWrite{{Device: next, Changes: changes}})[0])
	}
	d, err := db.Device(ctx, sn(3))
	require.NoError(t, err)
	require.NotNil(t, d.Conflict)
	hist, err := db.DeviceHistory(ctx, sn(3))
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, "camera_sn_conflict", hist[0].Action)
}

// The inventory of a model pages through its test devices (marked) and its 16 shards, at most
// 100 a page, every device once; the attention listing holds only what is not simply passed.
func TestInventory(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	var ws []store.DeviceWrite
	for i := range 230 {
		ws = append(ws, checked(t, nil, sn(i), fmt.Sprintf("CAM%05d", i), "line-1"))
	}
	failed, err := domain.NewFactoryReport(sn(500), "CAMF", devModel.ID, "sdk", "", "", "", "", "2.3.1", "fail", []string{"face_payment_failed"}, "line-1", t0.Format(time.RFC3339), false, t0)
	require.NoError(t, err)
	d, _, _, err := domain.Check(nil, failed, devModel, domain.StagePVT, t0)
	require.NoError(t, err)
	ws = append(ws, store.DeviceWrite{Device: d})
	for _, err := range db.WriteDevices(ctx, ws) {
		require.NoError(t, err)
	}
	td := &domain.TestDevice{SN: sn(900), ModelID: devModel.ID, VendorOrg: devModel.VendorOrg, DeviceType: domain.DeviceVendingMachine,
		ExpectedCompletion: "2026-12-30", ClearAt: t0.Add(30 * 24 * time.Hour), Status: domain.TestDeviceActive, RegisteredAt: t0, Registration: 1}
	require.NoError(t, db.SaveTestDevice(ctx, td))

	seen := map[string]bool{}
	cursor, pages, tests := "", 0, 0
	for {
		p, err := db.Inventory(ctx, store.InventoryQuery{Org: "acme", Model: devModel, Cursor: cursor, Limit: 100})
		require.NoError(t, err)
		assert.LessOrEqual(t, len(p.Items), 100)
		for _, e := range p.Items {
			assert.False(t, seen[e.SN], "%s listed twice", e.SN)
			seen[e.SN] = true
			if e.TestDevice {
				tests++
			}
		}
		pages++
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	assert.Len(t, seen, 232)
	assert.Equal(t, 1, tests, "the test device is listed, marked")
	assert.GreaterOrEqual(t, pages, 3)

	p, err := db.Inventory(ctx, store.InventoryQuery{Org: "acme", Model: devModel, Status: "failed"})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	assert.Equal(t, sn(500), p.Items[0].SN)
	_, err = db.Inventory(ctx, store.InventoryQuery{Org: "acme", Model: devModel, Status: "passed", Cursor: "bogus"})
	assert.ErrorIs(t, err, domain.ErrInvalidCursor)
}
