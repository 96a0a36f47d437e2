package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/store/storetest"
)

func fig(sn, date string, n int64) rollup.Figures {
	return rollup.Figures{DeviceSN: sn, Date: date, SuccessCount: n, SuccessAmountFen: 100 * n, DistinctPayers: n - 1, FeePayers: n / 2,
		FailedCount: 1, OverLimitCount: n % 2,
		ByMethod: map[string]int64{"FACE": n, "QUICK_PAY": 0, "QR_CODE": 0, "JSAPI": 0, "IN_APP": 0, "H5": 0}}
}

func TestFiguresWriteReadReplace(t *testing.T) {
	f := storetest.NewFigures(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	var day []rollup.Figures
	providers := map[string]string{}
	for i := range 60 { // more than two BatchWriteItem calls
		sn := fmt.Sprintf("01A00%010d0000000%d", i, i%10)
		day = append(day, fig(sn, "2026-11-27", int64(i+2)))
		if i%3 == 0 {
			providers[sn] = "P1"
		}
	}
	require.NoError(t, f.PutFigures(ctx, day, providers, now))
	require.NoError(t, f.PutFigures(ctx, []rollup.Figures{fig(day[0].DeviceSN, "2026-11-26", 9)}, nil, now))

	series, err := f.DeviceSeries(ctx, day[0].DeviceSN, "2026-10-29", "2026-11-27")
	require.NoError(t, err)
	require.Len(t, series, 2)
	assert.Equal(t, fig(day[0].DeviceSN, "2026-11-26", 9), series[0], "oldest first")
	assert.Equal(t, day[0], series[1])

	mine, err := f.ProviderDayPage(ctx, "P1", "2026-11-27", "", 100)
	require.NoError(t, err)
	assert.Empty(t, mine.Next, "one page")
	assert.Len(t, mine.Items, 20, "only the devices confirmed to P1 that day")
	for _, m := range mine.Items {
		assert.Equal(t, "P1", providers[m.DeviceSN])
	}
	none, err := f.ProviderDayPage(ctx, "P2", "2026-11-27", "", 100)
	require.NoError(t, err)
	assert.Empty(t, none.Items)

	// A re-run replaces: new values overwrite, and a device the re-run no longer has is deleted.
	rerun := []rollup.Figures{fig(day[0].DeviceSN, "2026-11-27", 40)}
	require.NoError(t, f.PutFigures(ctx, rerun, providers, now))
	require.NoError(t, f.DeleteFigures(ctx, "2026-11-27", []string{day[1].DeviceSN}))
	series, err = f.DeviceSeries(ctx, day[0].DeviceSN, "2026-11-27", "2026-11-27")
	require.NoError(t, err)
	assert.Equal(t, rerun, series)
	series, err = f.DeviceSeries(ctx, day[1].DeviceSN, "2026-11-01", "2026-11-30")
	require.NoError(t, err)
	assert.Empty(t, series)

	for _, r := range [][2]string{{"2026-11-27", "2026-11-01"}, {"2026-11-x", "2026-11-27"}, {"2025-01-01", "2026-11-27"}} {
		_, err := f.DeviceSeries(ctx, day[0].DeviceSN, r[0], r[1])
		assert.Equal(t, "invalid_date_range", domain.CodeOf(err), r)
	}
}
