package rollup_test

import (
	"bytes"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/facepay/platform/shared/rollup"
)

// dayObjects is a quarter-size day with the 5M-row day's density: 1.25M rows over 25,000
// devices in 32 time-sliced objects, so a device has ~1.5 records per object as in the
// README's day (the merge's work per record is the same). Generated once per process.
var dayObjects = sync.OnceValue(func() [][]byte {
	cfg := rollup.GenConfig{Date: "2026-11-27", Devices: 25000, Rows: 1250000, Objects: 32, Seed: 7, Workers: 2}
	objs := make([][]byte, cfg.Objects)
	err := rollup.Generate(cfg, func(name string) (io.WriteCloser, error) {
		var k int
		if _, err := fmtSscanf(name, &k); err != nil {
			return nil, err
		}
		return &sink{out: &objs[k]}, nil
	})
	if err != nil {
		panic(err)
	}
	return objs
})

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDay is the whole aggregation step over a fixed in-memory day, on one goroutine:
// every object aggregated into its partial (the Aggregator reused, as a warm Lambda
// does; each partial written once, into fresh memory that stands for its S3 object), then the 16 shard merges. rows/cpu-s is the
// process's CPU time (getrusage), which the machine's load inflates less than wall time.
func BenchmarkDay(b *testing.B) {
	objs := dayObjects()
	const date, shards = "2026-11-27", 16
	a, _ := rollup.NewAggregator(date)
	var rows int64
	partials := make([][]byte, len(objs))
	b.ResetTimer()
	c0 := cpuNow()
	for b.Loop() {
		rows = 0
		for i, obj := range objs {
			_ = a.Reset(date)
			a.Reserve(int64(len(obj))) // as the Lambda does with the object's size
			if err := a.ReadGzip(bytes.NewReader(obj)); err != nil {
				b.Fatal(err)
			}
			partials[i] = a.Encode(shards)
			rows += a.Rows()
		}
		devices := 0
		for k := range shards {
			m := rollup.NewMerger(date, 0)
			for _, p := range partials {
				body, err := rollup.ShardOfPartial(p, k)
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Add(body); err != nil {
					b.Fatal(err)
				}
			}
			devices += len(figures(b, m))
		}
		if devices == 0 {
			b.Fatal("no devices")
		}
	}
	cpu := (cpuNow() - c0).Seconds()
	b.ReportMetric(float64(int64(b.N)*rows)/cpu, "rows/cpu-s")
	b.ReportMetric(float64(int64(b.N)*rows)/b.Elapsed().Seconds(), "rows/s")
}
