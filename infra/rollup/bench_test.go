package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/rollup/rolluptest"
)

// The bench's figures file must be what encoding/json writes, byte for byte.
func TestAppendFiguresIsEncodingJSON(t *testing.T) {
	for _, sn := range []string{"01A0020260000017KQ2M9XB", `odd"<sn>&\` + "\x01é"} {
		f := rollup.Figures{DeviceSN: sn, Date: "2026-11-27", SuccessCount: 12, SuccessAmountFen: 123456789,
			DistinctPayers: 9, FeePayers: 3, FailedCount: 1, TimeoutCount: 2, RefundedCount: 3, OverLimitCount: 4,
			ByMethod: map[string]int64{"FACE": 5, "QUICK_PAY": 1, "QR_CODE": 2, "JSAPI": 0, "IN_APP": 3, "H5": 1}}
		want, err := json.Marshal(&f)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(appendFigures(nil, &f)); got != string(want)+"\n" {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

// The bench runs the Lambdas' path (partials through the storage stand-in, shard merges over
// their byte ranges): its figures file must be the reference's, and its report must carry
// the fields the README's table reads. The storage is made too small for every partial, so
// its fallback to fresh memory is exercised too.
func TestBenchFiguresAreTheReferences(t *testing.T) {
	const date = "2026-11-27"
	root := t.TempDir()
	dir := filepath.Join(root, filepath.FromSlash(rollup.DayPrefix(date)))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	cfg := rollup.GenConfig{Date: date, Devices: 400, Rows: 30000, Objects: 6, Seed: 7, Workers: 2}
	require.NoError(t, rollup.Generate(cfg, func(name string) (io.WriteCloser, error) {
		return os.Create(filepath.Join(dir, name))
	}))
	files, err := filepath.Glob(filepath.Join(dir, "*.ndjson.gz"))
	require.NoError(t, err)
	var objects [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		objects = append(objects, b)
	}
	want, err := rolluptest.Reference(date, objects...)
	require.NoError(t, err)

	figs, rows, err := rollupFiles(date, files, 2, newStorage(len(files), 64<<10))
	require.NoError(t, err)
	assert.Equal(t, cfg.Rows, rows)
	require.Len(t, figs, len(want))
	for _, f := range figs {
		assert.Equal(t, want[f.DeviceSN], f, f.DeviceSN)
	}

	out := filepath.Join(root, "figures.ndjson")
	var report bytes.Buffer
	require.NoError(t, bench([]string{"-in", dir, "-out", out, "-duckdb=false", "-rounds", "2"}, &report))
	var r struct {
		Rows, Devices     int64
		CPUS              float64         `json:"cpu_s"`
		VsGunzip          float64         `json:"vs_gunzip"`
		VsGunzipKlauspost float64         `json:"vs_gunzip_klauspost"`
		Targets           map[string]bool `json:"targets_met"`
		Rounds            []map[string]float64
	}
	require.NoError(t, json.Unmarshal(report.Bytes(), &r), report.String())
	assert.Equal(t, cfg.Rows, r.Rows)
	assert.Equal(t, int64(len(want)), r.Devices)
	assert.Positive(t, r.CPUS)
	assert.Positive(t, r.VsGunzip)
	assert.Positive(t, r.VsGunzipKlauspost)
	assert.Contains(t, r.Targets, "vs_gunzip<=1.5")
	require.Len(t, r.Rounds, 2)
	assert.Contains(t, []float64{r.Rounds[0]["vs_gunzip"], r.Rounds[1]["vs_gunzip"]}, r.VsGunzip) // the lower middle of two
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	var lines int
	for l := range bytes.Lines(written) {
		var f rollup.Figures
		require.NoError(t, json.Unmarshal(l, &f))
		assert.Equal(t, want[f.DeviceSN], f)
		lines++
	}
	assert.Equal(t, len(want), lines)
}
