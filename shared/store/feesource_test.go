package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines/enginestest"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/store/storetest"
)

// countingFeeSource is a FeeSource on fresh tables whose client counts requests by operation.
func countingFeeSource(t *testing.T) (store.FeeSource, func() map[string]int64) {
	t.Helper()
	client, requests := enginestest.CountingDynamoDB(t)
	return store.FeeSource{DB: storetest.NewDBOn(t, client), Figures: storetest.NewFiguresOn(t, client)}, requests.Take
}

func shanghaiAt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, fee.BusinessZone)
	if err != nil {
		panic(err)
	}
	return t
}

// The fee's reads of the bindings and the figures, on the engines: which devices a provider
// has in a month (one staying, one moved to another provider mid-month, one confirmed
// mid-month, one unbound mid-month, one assigned but never confirmed), the units of each on
// the days it belonged to a provider, and the requests, as feesource.go states them.
func TestFeeSource_ProviderMonthAndConfirmedTo(t *testing.T) {
	ctx := context.Background()
	src, requests := countingFeeSource(t)
	db := src.DB
	var providers []string
	for _, org := range []string{"deploy-a", "deploy-b"} {
		alloc, err := db.NextProviderNumber(ctx)
		require.NoError(t, err)
		require.NoError(t, db.Tx().TakeCode(alloc).CreateDeployer(domain.Deployer{Org: org, Number: alloc.Code}).Commit(ctx, "deployer"))
		providers = append(providers, alloc.Code)
	}
	a, b := providers[0], providers[1]
	bindings := map[string]*domain.Binding{}
	change := func(sn string, f func(*domain.Binding) (*domain.Binding, *domain.Change, error)) {
		next, _, err := f(bindings[sn])
		require.NoError(t, err)
		require.NotNil(t, next)
		require.NoError(t, db.WriteBindings(ctx, []store.BindingWrite{{Binding: next}})[0])
		next.Version++
		bindings[sn] = next
	}
	assign := func(sn, p, when string) {
		change(sn, func(cur *domain.Binding) (*domain.Binding, *domain.Change, error) {
			return domain.Assign(cur, sn, "acme", p, true, "v", shanghaiAt(when))
		})
	}
	confirm := func(sn, p, when string) {
		change(sn, func(cur *domain.Binding) (*domain.Binding, *domain.Change, error) {
			return domain.Confirm(cur, p, "p", shanghaiAt(when))
		})
	}
	staying, moved, midMonth, unbound, waiting := sn(0), sn(1), sn(2), sn(3), sn(4)
	assign(staying, a, "2026-09-20 10:00")
	confirm(staying, a, "2026-09-20 11:00")
	assign(moved, a, "2026-09-20 10:00")
	confirm(moved, a, "2026-09-20 11:00")
	assign(moved, b, "2026-10-16 10:00")
	confirm(moved, b, "2026-10-16 15:00") // Oct 16 is B's: it held the device when the day ended
	assign(midMonth, a, "2026-10-10 09:00")
	confirm(midMonth, a, "2026-10-10 12:00")
	assign(unbound, a, "2026-09-01 10:00")
	confirm(unbound, a, "2026-09-01 11:00")
	change(unbound, func(cur *domain.Binding) (*domain.Binding, *domain.Change, error) {
		return domain.Unbind(cur, "v", shanghaiAt("2026-10-20 09:00")) // Oct 20 is nobody's
	})
	assign(waiting, a, "2026-09-01 10:00")

	// October's figures, written as the rollup writes them: each device every day (units: the
	// day of the month), indexed for the provider holding it when the day ended.
	sns := []string{staying, moved, midMonth, unbound, waiting}
	for _, d := range fee.Month("2026-10").Days() {
		providerOf, err := db.ConfirmedProviders(ctx, string(d), sns)
		require.NoError(t, err)
		var figs []rollup.Figures
		for _, s := range sns {
			figs = append(figs, rollup.Figures{DeviceSN: s, Date: string(d), FeePayers: int64(dayOf(d)), ByMethod: map[string]int64{}})
		}
		require.NoError(t, src.Figures.PutFigures(ctx, figs, providerOf, shanghaiAt("2026-11-01 02:00")))
	}
	daysFrom := func(from, to int) map[fee.Date]int64 {
		out := map[fee.Date]int64{}
		for d := from; d <= to; d++ {
			out[fee.Date(fmt.Sprintf("2026-10-%02d", d))] = int64(d)
		}
		return out
	}
	requests()

	got, err := src.ProviderMonth(ctx, a, "2026-10", fee.DefaultPolicy("2026-01").ValidPayment)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"Query": 16 + 8 + 1, "BatchGetItem": 1}, requests(),
		"16 for its confirmed devices, 8 for its figures of the month, 1 for the moved device's month, 1 batch for the unbound device's binding")
	require.ElementsMatch(t, []string{staying, moved, midMonth, unbound}, keys(got), "the waiting device was never confirmed")
	assert.Equal(t, daysFrom(1, 31), got[staying].Units)
	assert.Equal(t, daysFrom(1, 31), got[moved].Units, "the moved device carries B's days too: the caps are shared in day order")
	assert.Equal(t, daysFrom(10, 31), got[midMonth].Units, "no units before it was confirmed")
	assert.Equal(t, daysFrom(1, 19), got[unbound].Units, "none after it was unbound")
	assert.Equal(t, []fee.Confirmation{{Provider: a, From: shanghaiAt("2026-09-20 11:00").UTC(), Until: shanghaiAt("2026-10-16 10:00").UTC()},
		{Provider: b, From: shanghaiAt("2026-10-16 15:00").UTC()}}, got[moved].Confirmations)

	gotB, err := src.ProviderMonth(ctx, b, "2026-10", fee.DefaultPolicy("2026-01").ValidPayment)
	require.NoError(t, err)
	assert.Equal(t, []string{moved}, keys(gotB))
	assert.Equal(t, daysFrom(1, 31), gotB[moved].Units)

	requests()
	now, err := src.ConfirmedTo(ctx, a, shanghaiAt("2026-11-01 02:00"))
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"Query": 16}, requests(), "one Query per device shard of the provider's index")
	assert.ElementsMatch(t, []string{staying, midMonth}, keys(now))
	before, err := src.ConfirmedTo(ctx, a, shanghaiAt("2026-10-05 00:00"))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{staying}, keys(before), "confirmed to it now, but not yet then")

	cs, err := src.ConfirmationsOf(ctx, moved)
	require.NoError(t, err)
	assert.Len(t, cs, 2)
	assert.Equal(t, map[string]int64{"Query": 16, "BatchGetItem": 1}, requests(), "a device's intervals: one read of its binding")
	each, err := src.ConfirmationsOfEach(ctx, []string{moved, staying, waiting, sn(99), "bad"})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{moved, staying}, keys(each), "the waiting device has no confirmation, sn(99) no binding")
	assert.Equal(t, cs, each[moved])
	assert.Equal(t, map[string]int64{"BatchGetItem": 1}, requests(), "a sign-up request's bindings: 100 per BatchGetItem")
	none, err := src.ConfirmationsOf(ctx, sn(99))
	require.NoError(t, err)
	assert.Empty(t, none)

	ps, err := src.Providers(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{a, b}, ps)

	other := fee.ComparablePolicy("2026-01").ValidPayment
	other.MinAmountFen = 100
	_, err = src.ProviderMonth(ctx, a, "2026-10", other)
	assert.Equal(t, "fee_figures_criteria", domain.CodeOf(err))
}

func dayOf(d fee.Date) int {
	var n int
	fmt.Sscanf(string(d)[8:], "%d", &n)
	return n
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
