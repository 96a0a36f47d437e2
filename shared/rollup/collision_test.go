package rollup_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/rollup/rolluptest"
)

// Payers are sorted and compared by a 64-bit hash; equal hashes are checked against the ids.
// With the hash narrowed to 4 bits (every device's payers collide many times over) and to
// nothing at all (one run of equal hashes per device), the figures must still equal the
// reference's: distinct counts are exact, not probable.
func TestPayerHashCollisionsKeepCountsExact(t *testing.T) {
	for _, cfg := range []rollup.GenConfig{
		{Date: "2026-11-27", Devices: 200, Rows: 30000, Objects: 6, Seed: 11},  // dense: partials of devices
		{Date: "2026-11-27", Devices: 5000, Rows: 12000, Objects: 6, Seed: 12}, // sparse: partials of records
	} {
		collisionsKeepCountsExact(t, cfg)
	}
}

func collisionsKeepCountsExact(t *testing.T, cfg rollup.GenConfig) {
	objs := genDay(t, cfg)
	want, err := rolluptest.Reference(cfg.Date, objs...)
	require.NoError(t, err)
	for _, mask := range []uint64{^uint64(0), 0xF, 0} {
		restore := rollup.SetPayerHashMask(mask)
		var parts [][]byte
		for _, o := range objs {
			a, err := rollup.NewAggregator(cfg.Date)
			require.NoError(t, err)
			require.NoError(t, a.ReadGzip(bytes.NewReader(o)))
			parts = append(parts, a.Encode(4))
		}
		var got []rollup.Figures
		for k := range 4 {
			m := rollup.NewMerger(cfg.Date, 0)
			for _, p := range parts {
				body, err := rollup.ShardOfPartial(p, k)
				require.NoError(t, err)
				require.NoError(t, m.Add(body))
			}
			got = append(got, figures(t, m)...)
		}
		restore()
		byDev := map[string]rollup.Figures{}
		for _, f := range got {
			byDev[f.DeviceSN] = f
		}
		require.Len(t, byDev, len(want), "mask %x", mask)
		for _, w := range want {
			require.Equal(t, w.DistinctPayers, byDev[w.DeviceSN].DistinctPayers, "mask %x device %s", mask, w.DeviceSN)
			require.Equal(t, w.FeePayers, byDev[w.DeviceSN].FeePayers, "mask %x device %s", mask, w.DeviceSN)
			require.Equal(t, w.SuccessCount, byDev[w.DeviceSN].SuccessCount, "mask %x device %s", mask, w.DeviceSN)
		}
	}
}

// A damaged partial is refused with an error, never read past its end: every truncation and
// a flipped byte at every position of a small partial (both chunk forms).
func TestDamagedPartialsAreRefused(t *testing.T) {
	for _, cfg := range []rollup.GenConfig{
		{Date: "2026-11-27", Devices: 5, Rows: 60, Objects: 1, Seed: 3},   // devices
		{Date: "2026-11-27", Devices: 500, Rows: 60, Objects: 1, Seed: 3}, // records
	} {
		obj := genDay(t, cfg)[0]
		a, err := rollup.NewAggregator(cfg.Date)
		require.NoError(t, err)
		require.NoError(t, a.ReadGzip(bytes.NewReader(obj)))
		body, err := rollup.ShardOfPartial(a.Encode(1), 0)
		require.NoError(t, err)
		refusedByFigures := 0 // chunk contents are checked as the merge reads them
		for n := range len(body) {
			m := rollup.NewMerger(cfg.Date, 0)
			if m.Add(bytes.Clone(body[:n])) == nil {
				_, _ = m.Figures() // a cut between chunks is a shorter valid body
			}
			for _, x := range []byte{0x01, 0x80, 0xff} {
				b := bytes.Clone(body)
				b[n] ^= x
				m := rollup.NewMerger(cfg.Date, 0)
				if m.Add(b) == nil {
					// a changed count or id is still a well-formed body; a changed length,
					// kind or payer flag is not
					if f, err := m.Figures(); err != nil {
						require.Nil(t, f)
						refusedByFigures++
					}
				}
			}
		}
		require.Positive(t, refusedByFigures, "devices: %d", cfg.Devices)
	}
}
