package binding_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines/enginestest"
	"github.com/facepay/platform/shared/binding"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/store/storetest"
)

var (
	t0     = time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	vendor = domain.Caller{Subject: "v", Org: "vendor-a", Role: domain.RoleVendor}
	other  = domain.Caller{Subject: "w", Org: "vendor-b", Role: domain.RoleVendor}
	provA  = domain.Caller{Subject: "pa", Org: "deploy-a", Role: domain.RoleDeployer}
	provB  = domain.Caller{Subject: "pb", Org: "deploy-b", Role: domain.RoleDeployer}
)

// sn is the i-th SN of vendor code 01, model 00.
func sn(i int) string { return fmt.Sprintf("01A00%010d%08d", i, 7*i) }

type fixture struct {
	db    *store.DB
	b     *binding.Binder
	clock time.Time
	nums  map[string]string // deployer org → number
}

// newFixture is a table with n passed devices of vendor-a, one failed device (SN n) and two
// approved deployment providers.
func newFixture(t *testing.T, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: storetest.NewDB(t), clock: t0, nums: map[string]string{}}
	f.b = &binding.Binder{DB: f.db, Now: func() time.Time { f.clock = f.clock.Add(time.Second); return f.clock }}
	var ws []store.DeviceWrite
	for i := 0; i <= n; i++ {
		st := domain.DevicePassed
		if i == n {
			st = domain.DeviceFailed
		}
		ws = append(ws, store.DeviceWrite{Device: &domain.Device{SN: sn(i), VendorOrg: vendor.Org, ModelID: "mdl_1", Status: st,
			SoftwareMode: domain.ModeSDK, AppVersion: "1.0", Result: domain.CheckPass, Station: "s1", CheckedAt: t0, ReceivedAt: t0, Checks: 1, Registration: 1}})
	}
	for _, err := range f.db.WriteDevices(ctx, ws) {
		require.NoError(t, err)
	}
	for _, org := range []string{provA.Org, provB.Org} {
		alloc, err := f.db.NextProviderNumber(ctx)
		require.NoError(t, err)
		require.NoError(t, f.db.Tx().TakeCode(alloc).CreateDeployer(domain.Deployer{Org: org, Number: alloc.Code, ApprovedAt: t0}).Commit(ctx, "deployer"))
		f.nums[org] = alloc.Code
	}
	return f
}

func results(outs []domain.BindingOutcome) map[string]int {
	m := map[string]int{}
	for _, o := range outs {
		m[o.Result+"/"+o.Code]++
	}
	return m
}

func TestBinder_AssignConfirmDeclineReassignUnbind(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 10)
	a, b := f.nums[provA.Org], f.nums[provB.Org]
	assert.Equal(t, "DP00000001", a)
	rows := []binding.Assignment{}
	for i := range 10 {
		p := a
		if i >= 6 {
			p = b
		}
		rows = append(rows, binding.Assignment{SN: sn(i), Provider: p})
	}
	rows = append(rows,
		binding.Assignment{SN: sn(10), Provider: a},            // failed the factory check
		binding.Assignment{SN: sn(11), Provider: a},            // no such device
		binding.Assignment{SN: "01A00bad", Provider: a},        // not an SN
		binding.Assignment{SN: sn(0), Provider: b},             // duplicate row
		binding.Assignment{SN: sn(12), Provider: "DP0000009"},  // not a number
		binding.Assignment{SN: sn(13), Provider: "DP00000099"}) // nobody's number
	outs, err := f.b.Assign(ctx, vendor, rows)
	require.NoError(t, err)
	require.Len(t, outs, len(rows))
	assert.Equal(t, map[string]int{"changed/": 10, "error/device_not_factory_checked": 1, "error/device_not_found": 1,
		"error/invalid_sn": 1, "error/duplicate_sn": 1, "error/invalid_provider_number": 1, "error/provider_not_found": 1}, results(outs))

	// The same request again (a retry) changes nothing and writes no history.
	outs, err = f.b.Assign(ctx, vendor, rows[:10])
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"unchanged/": 10}, results(outs))

	// Another vendor cannot touch vendor-a's devices, nor learn they exist.
	outs, err = f.b.Assign(ctx, other, rows[:2])
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"error/device_not_found": 2}, results(outs))
	outs, err = f.b.Unbind(ctx, other, []string{sn(0)})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"error/device_not_found": 1}, results(outs))

	// Provider A sees its 6 waiting devices, none of B's.
	page, err := f.db.ProviderBindings(ctx, a, domain.BindingAssigned, "", 100)
	require.NoError(t, err)
	assert.Len(t, page.Items, 6)
	// A confirms its own and cannot confirm or decline B's (same answer as an unknown SN).
	outs, err = f.b.Confirm(ctx, provA, a, []string{sn(0), sn(1), sn(2), sn(6), sn(11)})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"changed/": 3, "error/binding_not_found": 2}, results(outs))
	outs, err = f.b.Decline(ctx, provA, a, "not ours", []string{sn(3), sn(7)})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"changed/": 1, "error/binding_not_found": 1}, results(outs))
	outs, err = f.b.Confirm(ctx, provA, a, []string{sn(0)})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"unchanged/": 1}, results(outs), "confirming again is a retry")
	outs, err = f.b.Decline(ctx, provA, a, "", []string{sn(0)})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"error/binding_confirmed": 1}, results(outs))

	page, err = f.db.ProviderBindings(ctx, a, domain.BindingConfirmed, "", 100)
	require.NoError(t, err)
	assert.Len(t, page.Items, 3)
	page, err = f.db.ProviderBindings(ctx, a, "", "", 100)
	require.NoError(t, err)
	assert.Len(t, page.Items, 5, "3 confirmed + 2 waiting; the declined one left the listing")

	// Reassignment must be explicit.
	outs, err = f.b.Assign(ctx, vendor, []binding.Assignment{{SN: sn(0), Provider: b}})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"error/device_already_bound": 1}, results(outs))
	reassignedAt := f.clock.Add(time.Second)
	outs, err = f.b.Assign(ctx, vendor, []binding.Assignment{{SN: sn(0), Provider: b, Reassign: true}, {SN: sn(3), Provider: b}})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"changed/": 2}, results(outs), "a declined device takes another provider without reassign")
	outs, err = f.b.Confirm(ctx, provB, b, []string{sn(0)})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"changed/": 1}, results(outs))
	unboundAt := f.clock.Add(time.Second)
	outs, err = f.b.Unbind(ctx, vendor, []string{sn(0), sn(0)})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"changed/": 1, "error/duplicate_sn": 1}, results(outs))
	outs, err = f.b.Unbind(ctx, vendor, []string{sn(0)})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"unchanged/": 1}, results(outs), "unbinding again is a retry")

	h, err := f.db.BindingHistory(ctx, sn(0))
	require.NoError(t, err)
	var actions []string
	for _, c := range h {
		actions = append(actions, c.Action+":"+c.From+">"+c.To)
	}
	assert.Equal(t, []string{"assigned:>" + a, "confirmed:>" + a, "reassigned:" + a + ">" + b, "confirmed:>" + b, "unbound:" + b + ">"}, actions)
	iv, err := f.db.ConfirmationIntervals(ctx, sn(0), time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, iv, 2)
	assert.Equal(t, a, iv[0].Provider)
	assert.Equal(t, reassignedAt, *iv[0].To)
	assert.Equal(t, b, iv[1].Provider)
	assert.Equal(t, unboundAt, *iv[1].To)

	// The provider of each SN at a time, from the current bindings and, for changed ones, history.
	at := map[string]string{}
	got, err := f.db.ProvidersAt(ctx, []string{sn(0), sn(1), sn(4), sn(6), "junk"}, reassignedAt.Add(-time.Millisecond))
	require.NoError(t, err)
	at[sn(0)], at[sn(1)] = a, a
	assert.Equal(t, at, got)
	got, err = f.db.ProvidersAt(ctx, []string{sn(0), sn(1)}, f.clock.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{sn(1): a}, got)
}

// A provider's listing pages over its 16 shards with sealed cursors; a cursor of another
// provider's listing is refused.
func TestBinder_ProviderListingPages(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 120)
	a, b := f.nums[provA.Org], f.nums[provB.Org]
	var rows []binding.Assignment
	for i := range 120 {
		rows = append(rows, binding.Assignment{SN: sn(i), Provider: a})
	}
	outs, err := f.b.Assign(ctx, vendor, rows)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"changed/": 120}, results(outs))
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20)
		p, err := f.db.ProviderBindings(ctx, a, domain.BindingAssigned, cursor, 25)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(p.Items), 25)
		for _, it := range p.Items {
			assert.False(t, seen[it.SN], "listed twice")
			seen[it.SN] = true
		}
		if p.Next == "" {
			break
		}
		if cursor == "" {
			_, err := f.db.ProviderBindings(ctx, b, domain.BindingAssigned, p.Next, 25)
			assert.ErrorIs(t, err, domain.ErrInvalidCursor, "another provider's listing")
		}
		cursor = p.Next
	}
	assert.Len(t, seen, 120)
}

// Races: the provider confirms while the vendor reassigns and unbinds, many times at once.
// Every change commits under the version it read, so the history is a sequence of
// non-overlapping confirmation intervals: a device never has two confirmed providers.
func TestBinder_RacingChangesKeepOneConfirmedProvider(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 4)
	a, b := f.nums[provA.Org], f.nums[provB.Org]
	var mu sync.Mutex
	f.b.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		f.clock = f.clock.Add(time.Millisecond)
		return f.clock
	}
	for i := range 4 {
		_, err := f.b.Assign(ctx, vendor, []binding.Assignment{{SN: sn(i), Provider: a}})
		require.NoError(t, err)
	}
	sns := []string{sn(0), sn(1), sn(2), sn(3)}
	var wg sync.WaitGroup
	for round := range 6 {
		for _, op := range []func(){
			func() { _, _ = f.b.Confirm(ctx, provA, a, sns) },
			func() { _, _ = f.b.Confirm(ctx, provB, b, sns) },
			func() {
				p := b
				if round%2 == 1 {
					p = a
				}
				var rows []binding.Assignment
				for _, s := range sns {
					rows = append(rows, binding.Assignment{SN: s, Provider: p, Reassign: true})
				}
				_, _ = f.b.Assign(ctx, vendor, rows)
			},
			func() {
				if round == 3 {
					_, _ = f.b.Unbind(ctx, vendor, sns[:2])
				}
			},
		} {
			wg.Add(1)
			go func() { defer wg.Done(); op() }()
		}
	}
	wg.Wait()
	for _, s := range sns {
		h, err := f.db.BindingHistory(ctx, s)
		require.NoError(t, err)
		iv := domain.ConfirmationIntervals(h)
		for k := 1; k < len(iv); k++ {
			require.NotNil(t, iv[k-1].To, "%s: interval %d still open when %d began", s, k-1, k)
			assert.False(t, iv[k-1].To.After(iv[k].From), "%s: intervals overlap", s)
		}
		cur, err := f.db.Binding(ctx, s)
		require.NoError(t, err)
		open := len(iv) > 0 && iv[len(iv)-1].To == nil
		assert.Equal(t, cur.State == domain.BindingConfirmed, open, "%s: the binding and its history agree", s)
		if open {
			assert.Equal(t, cur.Provider, iv[len(iv)-1].Provider)
		}
	}
}

func TestMain(m *testing.M) { enginestest.Main(m) }

// counting is a store whose client counts the DynamoDB requests it sends, by operation.
func counting(t *testing.T) (*store.DB, *enginestest.Requests) {
	t.Helper()
	client, counts := enginestest.CountingDynamoDB(t)
	return storetest.NewDBOn(t, client), counts
}

// The requests of a 500-device bulk assignment, as the layout table in shared/store/bindings.go
// states them: 5 BatchGetItem for the devices, 5 for the bindings, one conditional PutItem per
// device, and the provider's number looked up once; a retry reads and writes nothing.
func TestBindings_BulkAssignCost(t *testing.T) {
	ctx := context.Background()
	db, counts := counting(t)
	var ws []store.DeviceWrite
	for i := range 500 {
		ws = append(ws, store.DeviceWrite{Device: &domain.Device{SN: sn(i), VendorOrg: vendor.Org, ModelID: "mdl_1", Status: domain.DevicePassed,
			SoftwareMode: domain.ModeSDK, AppVersion: "1.0", Result: domain.CheckPass, Station: "s1", CheckedAt: t0, ReceivedAt: t0, Checks: 1, Registration: 1}})
	}
	for _, err := range db.WriteDevices(ctx, ws) {
		require.NoError(t, err)
	}
	alloc, err := db.NextProviderNumber(ctx)
	require.NoError(t, err)
	require.NoError(t, db.Tx().TakeCode(alloc).CreateDeployer(domain.Deployer{Org: provA.Org, Number: alloc.Code}).Commit(ctx, "deployer"))
	b := &binding.Binder{DB: db, Now: func() time.Time { return t0 }}
	var rows []binding.Assignment
	for i := range 500 {
		rows = append(rows, binding.Assignment{SN: sn(i), Provider: alloc.Code})
	}
	counts.Take()
	outs, err := b.Assign(ctx, vendor, rows)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"changed/": 500}, results(outs))
	assert.Equal(t, map[string]int64{"GetItem": 1, "BatchGetItem": 10, "PutItem": 500}, counts.Take())
	outs, err = b.Assign(ctx, vendor, rows)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"unchanged/": 500}, results(outs))
	assert.Equal(t, map[string]int64{"GetItem": 1, "BatchGetItem": 10}, counts.Take())
	// Item size: a new binding is well under 1 KB (1 WCU); ten changes later still under 2 KB.
	bs, err := db.Bindings(ctx, []string{sn(0)}, true)
	require.NoError(t, err)
	cur := bs[sn(0)]
	for k := range 10 {
		next, _, err := domain.Confirm(cur, alloc.Code, "p", t0.Add(time.Duration(k)*time.Hour))
		if next == nil {
			next, _, err = domain.Unbind(cur, "v", t0.Add(time.Duration(k)*time.Hour))
		}
		require.NoError(t, err)
		if next.State == domain.BindingUnbound {
			next, _, err = domain.Assign(next, sn(0), vendor.Org, alloc.Code, false, "v", t0.Add(time.Duration(k)*time.Hour))
			require.NoError(t, err)
		}
		cur = next
	}
	size, err := store.BindingItemSize(cur)
	require.NoError(t, err)
	assert.Less(t, size, 2048, "%d bytes", size)
	first, _, _ := domain.Assign(nil, sn(1), vendor.Org, alloc.Code, false, "v", t0)
	size, err = store.BindingItemSize(first)
	require.NoError(t, err)
	assert.Less(t, size, 400, "%d bytes", size)
	t.Logf("binding item: %d bytes new", size)
}
