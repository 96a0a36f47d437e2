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
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/store/storetest"
)

// countingFigures is a figures table whose client counts the requests it sends.
func countingFigures(t *testing.T) (*store.Figures, *enginestest.Requests) {
	t.Helper()
	client, requests := enginestest.CountingDynamoDB(t)
	return storetest.NewFiguresOn(t, client), requests
}

// Each merge shard writes its part of a provider's day; a day's or a range's read sums the
// parts; a re-run's stale parts are deleted; another provider's totals never mix in.
func TestProviderTotalsShardsDaysAndReplace(t *testing.T) {
	f, queries := countingFigures(t)
	ctx := context.Background()
	days := []string{"2026-11-25", "2026-11-26", "2026-11-27"}
	providerOf := map[string]string{}
	var byDay = map[string][]rollup.Figures{}
	for i := range 40 {
		sn := fmt.Sprintf("01A00%010d0000000%d", i, i%10)
		providerOf[sn] = []string{"DP00000001", "DP00000002", ""}[i%3]
		for d, day := range days {
			byDay[day] = append(byDay[day], fig(sn, day, int64(i+d+2)))
		}
	}
	const shards = 4
	shardOf := func(i int) int { return i % shards }
	write := func(day string, figs []rollup.Figures, stale map[int][]string) {
		parts := make([][]rollup.Figures, shards)
		for i, fg := range figs {
			parts[shardOf(i)] = append(parts[shardOf(i)], fg)
		}
		for s := range shards {
			require.NoError(t, f.PutShardTotals(ctx, day, s, shards, store.SumTotals(day, parts[s], providerOf), stale[s]))
		}
	}
	for _, day := range days {
		write(day, byDay[day], nil)
	}

	want := func(day string, figs []rollup.Figures, p string) store.ProviderTotals {
		for _, tt := range store.SumTotals(day, figs, providerOf) {
			if tt.Provider == p {
				return tt
			}
		}
		return store.NewTotals(p, day)
	}
	queries.Take()
	got, err := f.ProviderTotalsRange(ctx, "DP00000001", days[0], days[2])
	require.NoError(t, err)
	assert.EqualValues(t, 1, queries.Count("Query"), "a range of days is one Query")
	require.Len(t, got, 3)
	for i, day := range days {
		assert.Equal(t, want(day, byDay[day], "DP00000001"), got[i])
	}
	assert.EqualValues(t, 14, got[0].Devices)
	var fee int64
	for _, fg := range byDay[days[0]] {
		if providerOf[fg.DeviceSN] == "DP00000001" {
			fee += fg.FeePayers
		}
	}
	assert.Equal(t, fee, got[0].FeePayers, "fee payers summed over the devices")

	one, err := f.ProviderTotalsRange(ctx, "DP00000002", days[1], days[1])
	require.NoError(t, err)
	assert.Equal(t, []store.ProviderTotals{want(days[1], byDay[days[1]], "DP00000002")}, one)

	// Re-running the 26th without DP00000002's devices, and with DP00000001's changed: that
	// day's totals are replaced exactly, the other days untouched.
	var rerun []rollup.Figures
	for _, fg := range byDay[days[1]] {
		if providerOf[fg.DeviceSN] != "DP00000002" {
			fg.SuccessCount += 100
			rerun = append(rerun, fg)
		}
	}
	// Keep the shard assignment of the first run: the same SN is in the same shard.
	parts := make([][]rollup.Figures, shards)
	for i, fg := range byDay[days[1]] {
		if providerOf[fg.DeviceSN] != "DP00000002" {
			fg.SuccessCount += 100
			parts[shardOf(i)] = append(parts[shardOf(i)], fg)
		}
	}
	for s := range shards {
		require.NoError(t, f.PutShardTotals(ctx, days[1], s, shards, store.SumTotals(days[1], parts[s], providerOf), []string{"DP00000002"}))
	}
	two, err := f.ProviderTotalsRange(ctx, "DP00000002", days[0], days[2])
	require.NoError(t, err)
	require.Len(t, two, 2)
	assert.Equal(t, []string{days[0], days[2]}, []string{two[0].Date, two[1].Date})
	got, err = f.ProviderTotalsRange(ctx, "DP00000001", days[1], days[1])
	require.NoError(t, err)
	assert.Equal(t, []store.ProviderTotals{want(days[1], rerun, "DP00000001")}, got)

	none, err := f.ProviderTotalsRange(ctx, "DP00000003", days[0], days[2])
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = f.ProviderTotalsRange(ctx, "DP00000001", days[2], days[0])
	assert.Equal(t, "invalid_date_range", domain.CodeOf(err))
}

// A page of devices' windows: one Query per device, every device's days in range only.
func TestDeviceWindowsOneQueryPerDevice(t *testing.T) {
	f, queries := countingFigures(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	var sns []string
	var figs []rollup.Figures
	for i := range 30 {
		sn := fmt.Sprintf("01A00%010d0000000%d", i, i%10)
		sns = append(sns, sn)
		for d := range i % 5 { // device i trades on i%5 days; device 0 never
			figs = append(figs, fig(sn, fmt.Sprintf("2026-11-%02d", 27-d), int64(i+2)))
		}
		figs = append(figs, fig(sn, "2026-10-01", 3)) // outside the window
	}
	require.NoError(t, f.PutFigures(ctx, figs, nil, now))
	queries.Take()
	w, err := f.DeviceWindows(ctx, sns, "2026-10-29", "2026-11-27")
	require.NoError(t, err)
	assert.EqualValues(t, len(sns), queries.Count("Query"))
	assert.NotContains(t, w, sns[0])
	for i, sn := range sns[1:] {
		assert.Len(t, w[sn], (i+1)%5, sn)
	}
	assert.Equal(t, "2026-11-27", w[sns[4]][3].Date, "oldest first")
}

// A provider's day pages over its index buckets with a sealed cursor: every device once, no
// other provider's, and a cursor of another provider's day is refused.
func TestProviderDayPages(t *testing.T) {
	f, queries := countingFigures(t)
	f.WithCursorKey("a-cursor-key-of-at-least-32-characters!")
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	var day []rollup.Figures
	providers := map[string]string{}
	for i := range 250 {
		sn := fmt.Sprintf("01A00%010d0000000%d", i, i%10)
		day = append(day, fig(sn, "2026-11-27", int64(i+2)))
		providers[sn] = []string{"DP00000001", "DP00000002"}[i%5/4] // 4 in 5 are DP00000001's
	}
	require.NoError(t, f.PutFigures(ctx, day, providers, now))
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	queries.Take()
	for {
		p, err := f.ProviderDayPage(ctx, "DP00000001", "2026-11-27", cursor, 70)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(p.Items), 70)
		for _, it := range p.Items {
			assert.False(t, seen[it.DeviceSN], "%s twice", it.DeviceSN)
			assert.Equal(t, "DP00000001", providers[it.DeviceSN])
			seen[it.DeviceSN] = true
		}
		pages++
		if p.Next == "" {
			break
		}
		if pages == 1 {
			_, err := f.ProviderDayPage(ctx, "DP00000002", "2026-11-27", p.Next, 70)
			assert.Equal(t, "invalid_cursor", domain.CodeOf(err), "a cursor of another provider's day")
			_, err = f.ProviderDayPage(ctx, "DP00000001", "2026-11-26", p.Next, 70)
			assert.Equal(t, "invalid_cursor", domain.CodeOf(err), "a cursor of another day")
		}
		cursor = p.Next
		require.Less(t, pages, 10)
	}
	assert.Len(t, seen, 200)
	assert.GreaterOrEqual(t, pages, 3)
	t.Logf("%d pages, %d Query", pages, queries.Count("Query"))
}
