package rollup_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/facepay/platform/shared/rollup"
)

// benchObject is one object of a 5M-row day over 10^5 devices in 32 objects.
func benchObject(b *testing.B) []byte {
	b.Helper()
	var obj []byte
	cfg := rollup.GenConfig{Date: "2026-11-27", Devices: 100000, Rows: 5000000 / 32, Objects: 1, Seed: 3}
	if err := rollup.Generate(cfg, func(string) (io.WriteCloser, error) { return &sink{out: &obj}, nil }); err != nil {
		b.Fatal(err)
	}
	return obj
}

type sink struct {
	bytes.Buffer
	out *[]byte
}

func (s *sink) Close() error { *s.out = s.Bytes(); return nil }

// BenchmarkGunzip is the floor: decompressing one object.
func BenchmarkGunzip(b *testing.B) {
	obj := benchObject(b)
	zr, _ := gzip.NewReader(bytes.NewReader(obj))
	b.ResetTimer()
	for b.Loop() {
		_ = zr.Reset(bytes.NewReader(obj))
		_, _ = io.Copy(io.Discard, zr)
	}
	b.ReportMetric(float64(b.N*int(5000000/32))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkAggregate is the Map's item processor: one object read and encoded as a partial.
func BenchmarkAggregate(b *testing.B) {
	obj := benchObject(b)
	a, _ := rollup.NewAggregator("2026-11-27")
	b.ResetTimer()
	for b.Loop() {
		_ = a.Reset("2026-11-27")
		if err := a.ReadGzip(bytes.NewReader(obj)); err != nil {
			b.Fatal(err)
		}
		_ = a.Encode(16)
	}
	b.ReportMetric(float64(b.N*int(5000000/32))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkMerge is one shard's merge of 32 partials.
func BenchmarkMerge(b *testing.B) {
	obj := benchObject(b)
	a, _ := rollup.NewAggregator("2026-11-27")
	if err := a.ReadGzip(bytes.NewReader(obj)); err != nil {
		b.Fatal(err)
	}
	part := a.Encode(16)
	body, _ := rollup.ShardOfPartial(part, 0)
	b.ResetTimer()
	for b.Loop() {
		m := rollup.NewMerger("2026-11-27", 0)
		for range 32 {
			_ = m.Add(bytes.Clone(body))
		}
		_, _ = m.Figures()
	}
}
