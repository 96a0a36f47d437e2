package rollup

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// benchLines is one generated object's lines, decompressed.
func benchLines(b *testing.B) [][]byte {
	b.Helper()
	var obj bytes.Buffer
	cfg := GenConfig{Date: "2026-11-27", Devices: 10000, Rows: 100000, Objects: 1, Seed: 5}
	if err := Generate(cfg, func(string) (io.WriteCloser, error) { return nopWriteCloser{&obj}, nil }); err != nil {
		b.Fatal(err)
	}
	zr, _ := gzip.NewReader(&obj)
	data, _ := io.ReadAll(zr)
	return bytes.Split(bytes.TrimSpace(data), []byte("\n"))
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// Parsing the fields the rollup needs, per record: the one-pass path the payment core's
// layout takes, the general scanner (any key order), and encoding/json into a struct of
// the needed fields (what the scanner replaced).
func BenchmarkParse(b *testing.B) {
	lines := benchLines(b)
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N*len(lines))/b.Elapsed().Seconds(), "records/s")
	}
	b.Run("fast-path", func(b *testing.B) {
		var r record
		for b.Loop() {
			for _, l := range lines {
				if !parseFast(l, &r, false) {
					b.Fatal("not the payment core's layout")
				}
			}
		}
		report(b)
	})
	b.Run("general-scanner", func(b *testing.B) {
		var s scanner
		var r record
		for b.Loop() {
			for _, l := range lines {
				if err := s.parse(l, &r); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})
	b.Run("encoding-json", func(b *testing.B) {
		var t struct {
			DeviceSN  string `json:"device_sn"`
			Payer     string `json:"payer"`
			AmountFen int64  `json:"amount_fen"`
			Method    string `json:"method"`
			Status    string `json:"status"`
			TS        int64  `json:"ts"`
		}
		for b.Loop() {
			for _, l := range lines {
				if err := json.Unmarshal(l, &t); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})
}
