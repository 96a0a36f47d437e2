package rollup_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/rollup/rolluptest"
)

type buf struct{ bytes.Buffer }

func (*buf) Close() error { return nil }

// genDay generates a day in memory, object by object.
func genDay(t *testing.T, cfg rollup.GenConfig) [][]byte {
	t.Helper()
	objs := make([]*buf, cfg.Objects)
	require.NoError(t, rollup.Generate(cfg, func(name string) (io.WriteCloser, error) {
		var k int
		_, err := fmtSscanf(name, &k)
		objs[k] = &buf{}
		return objs[k], err
	}))
	out := make([][]byte, len(objs))
	for i, o := range objs {
		out[i] = o.Bytes()
	}
	return out
}

func fmtSscanf(name string, k *int) (int, error) {
	var n int
	for _, c := range strings.TrimSuffix(strings.TrimPrefix(name, "part-"), ".ndjson.gz") {
		n = n*10 + int(c-'0')
	}
	*k = n
	return 1, nil
}

// rollupDay runs the production path: one Aggregator per object, partials encoded, merged
// shard by shard (one Merger, reset between shards, as a warm Lambda reuses it).
func rollupDay(t *testing.T, date string, objs [][]byte, shards int) []rollup.Figures {
	t.Helper()
	var parts [][]byte
	for _, o := range objs {
		a, err := rollup.NewAggregator(date)
		require.NoError(t, err)
		require.NoError(t, a.ReadGzip(bytes.NewReader(o)))
		parts = append(parts, a.Encode(shards))
	}
	var all []rollup.Figures
	m := rollup.NewMerger(date, 0)
	for k := range shards {
		m.Reset(date)
		for _, p := range parts {
			body, err := rollup.ShardOfPartial(p, k)
			require.NoError(t, err)
			require.NoError(t, m.Add(body))
		}
		for _, f := range figures(t, m) {
			assert.Equal(t, k, rollup.ShardOf([]byte(f.DeviceSN), shards), "device %s merged in shard %d", f.DeviceSN, k)
			all = append(all, f)
		}
	}
	return all
}

func TestRollupEqualsReference(t *testing.T) {
	cfg := rollup.GenConfig{Date: "2026-11-27", Devices: 300, Rows: 40000, Objects: 8, Seed: 7, Workers: 2}
	objs := genDay(t, cfg)
	want, err := rolluptest.Reference(cfg.Date, objs...)
	require.NoError(t, err)
	for _, shards := range []int{1, 4, 16} {
		got := rollupDay(t, cfg.Date, objs, shards)
		require.Len(t, got, len(want), "shards %d", shards)
		for _, f := range got {
			assert.Equal(t, want[f.DeviceSN], f, "shards %d", shards)
		}
	}
}

// The generated day has what the figures must get right: valid SNs, devices in several
// objects, payers repeating across objects at one device, face payments over the limit,
// small face payments that do not count for the fee, and every status.
func TestGeneratedDayIsRealistic(t *testing.T) {
	cfg := rollup.GenConfig{Date: "2026-11-27", Devices: 200, Rows: 30000, Objects: 6, Seed: 1}
	objs := genDay(t, cfg)
	again := genDay(t, cfg)
	assert.Equal(t, objs, again, "the same config gives the same bytes")

	lo, hi, err := rollup.ParseDate(cfg.Date)
	require.NoError(t, err)
	txns := decodeAll(t, objs)
	assert.Len(t, txns, 30000)
	devObjects := map[string]map[int]bool{}
	payerObjects := map[string]map[int]bool{}
	var overLimit, smallFace, statuses = 0, 0, map[string]int{}
	ids := map[string]bool{}
	for _, tx := range txns {
		_, err := domain.ParseSerialNumber(tx.DeviceSN)
		require.NoError(t, err, tx.DeviceSN)
		assert.True(t, tx.TS >= lo && tx.TS < hi)
		assert.False(t, ids[tx.TxnID], "txn_id %s repeats", tx.TxnID)
		ids[tx.TxnID] = true
		if devObjects[tx.DeviceSN] == nil {
			devObjects[tx.DeviceSN] = map[int]bool{}
		}
		devObjects[tx.DeviceSN][tx.obj] = true
		key := tx.DeviceSN + "/" + tx.Payer
		if payerObjects[key] == nil {
			payerObjects[key] = map[int]bool{}
		}
		payerObjects[key][tx.obj] = true
		if tx.Method == "FACE" && tx.AmountFen > rollup.FaceLimitFen {
			overLimit++
		}
		if tx.Method == "FACE" && tx.AmountFen < rollup.FeeMinFen {
			smallFace++
		}
		statuses[tx.Status]++
	}
	multi := 0
	for _, o := range devObjects {
		if len(o) > 1 {
			multi++
		}
	}
	repeat := 0
	for _, o := range payerObjects {
		if len(o) > 1 {
			repeat++
		}
	}
	assert.Greater(t, multi, len(devObjects)/2, "most devices appear in several objects")
	assert.Greater(t, repeat, 100, "payers repeat at a device across objects")
	assert.Greater(t, overLimit, 5)
	assert.Greater(t, smallFace, 100)
	assert.Len(t, statuses, 4)
}

type objTxn struct {
	rollup.Txn
	obj int
}

func decodeAll(t *testing.T, objs [][]byte) []objTxn {
	t.Helper()
	var out []objTxn
	for i, o := range objs {
		zr, err := gzip.NewReader(bytes.NewReader(o))
		require.NoError(t, err)
		data, err := io.ReadAll(zr)
		require.NoError(t, err)
		for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			var tx rollup.Txn
			require.NoError(t, jsonUnmarshalStrict(line, &tx))
			out = append(out, objTxn{tx, i})
		}
	}
	return out
}

const okLine = `{"txn_id":"1","device_sn":"01A0020260000017KQ2M9XB","merchant_id":"m","payer":"p1","amount_fen":250,"method":"FACE","status":"SUCCESS","ts":1795752000}`

func TestScannerReadsOnlyWhatItNeedsAndRefusesBadRecords(t *testing.T) {
	good := []string{
		okLine,
		// other key order, whitespace, unknown fields of every JSON type, escapes
		` { "ts" : 1795752000 , "status":"SUCCESS","method":"FACE","amount_fen":250,"extra":{"a":[1,2,{"b":null}],"c":"x\"}"},` +
			`"payer":"p\u0031","device_sn":"01A0020260000017KQ2M9XB","txn_id":"1","merchant_id":"m","n":-1.5e3,"t":true}`,
	}
	for _, l := range good {
		a, err := rollup.NewAggregator("2026-11-27")
		require.NoError(t, err)
		require.NoError(t, a.Read(strings.NewReader(l+"\n\n")), l)
		m := rollup.NewMerger("2026-11-27", 0)
		require.NoError(t, m.Add(mustShard(t, a.Encode(1))))
		f := figures(t, m)
		require.Len(t, f, 1)
		assert.Equal(t, int64(1), f[0].DistinctPayers)
		assert.Equal(t, int64(1), f[0].FeePayers)
		assert.Equal(t, int64(250), f[0].SuccessAmountFen)
	}
	// p1 twice (once escaped) is one payer
	a, _ := rollup.NewAggregator("2026-11-27")
	require.NoError(t, a.Read(strings.NewReader(good[0]+"\n"+good[1])))
	m := rollup.NewMerger("2026-11-27", 0)
	require.NoError(t, m.Add(mustShard(t, a.Encode(1))))
	assert.Equal(t, int64(1), figures(t, m)[0].DistinctPayers)

	bad := map[string]string{
		"missing payer":    strings.Replace(okLine, `"payer":"p1",`, "", 1),
		"float amount":     strings.Replace(okLine, `250`, `2.5`, 1),
		"string amount":    strings.Replace(okLine, `250`, `"250"`, 1),
		"unknown method":   strings.Replace(okLine, `"FACE"`, `"CASH"`, 1),
		"unknown status":   strings.Replace(okLine, `"SUCCESS"`, `"OK"`, 1),
		"other day":        strings.Replace(okLine, `1795752000`, `1795708799`, 1),
		"negative amount":  strings.Replace(okLine, `250`, `-1`, 1),
		"trailing garbage": okLine + "x",
		"not an object":    `[1,2]`,
		"truncated":        okLine[:50],
	}
	for name, l := range bad {
		a, _ := rollup.NewAggregator("2026-11-27")
		err := a.Read(strings.NewReader(okLine + "\n" + l + "\n"))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "line 2", name)
	}
}

func mustShard(t *testing.T, p []byte) []byte {
	t.Helper()
	b, err := rollup.ShardOfPartial(p, 0)
	require.NoError(t, err)
	return b
}

func TestYesterdayIsTheShanghaiDayBefore(t *testing.T) {
	at, _ := timeParse("2026-11-27T18:00:00Z") // 02:00 on the 28th in Shanghai
	assert.Equal(t, "2026-11-27", rollup.Yesterday(at))
	at, _ = timeParse("2026-11-27T15:59:59Z") // 23:59:59 on the 27th
	assert.Equal(t, "2026-11-26", rollup.Yesterday(at))
	_, _, err := rollup.ParseDate("2026-02-30")
	assert.Error(t, err)
}

// Reserve only sizes the partition buffers: an object bigger than reserved (partitions
// outgrow their share of the slab) or smaller gives the same figures, with one Aggregator
// reused across objects as a warm Lambda does.
func TestReserveKeepsFiguresEqual(t *testing.T) {
	cfg := rollup.GenConfig{Date: "2026-11-27", Devices: 300, Rows: 20000, Objects: 4, Seed: 9}
	objs := genDay(t, cfg)
	want, err := rolluptest.Reference(cfg.Date, objs...)
	require.NoError(t, err)
	for _, scale := range []int64{0, 1, 50} { // size/50: far too small; size: enough; 50×: far too big
		a, err := rollup.NewAggregator(cfg.Date)
		require.NoError(t, err)
		var parts [][]byte
		for _, o := range objs {
			require.NoError(t, a.Reset(cfg.Date))
			if scale == 0 {
				a.Reserve(int64(len(o)) / 50)
			} else {
				a.Reserve(int64(len(o)) * scale)
			}
			require.NoError(t, a.ReadGzip(bytes.NewReader(o)))
			parts = append(parts, a.Encode(1))
		}
		m := rollup.NewMerger(cfg.Date, 0)
		for _, p := range parts {
			body, err := rollup.ShardOfPartial(p, 0)
			require.NoError(t, err)
			require.NoError(t, m.Add(body))
		}
		got := figures(t, m)
		require.Len(t, got, len(want), "scale %d", scale)
		for _, f := range got {
			assert.Equal(t, want[f.DeviceSN], f, "scale %d", scale)
		}
	}
}

// A warm merge reads its next shard into the buffer of the previous one: the figures it
// returned must not change with it.
func TestFiguresOutliveTheBodiesBuffer(t *testing.T) {
	a, err := rollup.NewAggregator("2026-11-27")
	require.NoError(t, err)
	require.NoError(t, a.Read(strings.NewReader(okLine+"\n")))
	body := mustShard(t, a.Encode(1))
	m := rollup.NewMerger("2026-11-27", 0)
	require.NoError(t, m.Add(body))
	f := figures(t, m)
	for i := range body {
		body[i] = 'x'
	}
	m.Reset("2026-11-27")
	assert.Equal(t, "01A0020260000017KQ2M9XB", f[0].DeviceSN)
}
