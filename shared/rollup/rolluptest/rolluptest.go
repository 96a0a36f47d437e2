// Package rolluptest computes a day's figures the slow, obvious way (encoding/json, maps of
// sets), independently of the rollup's scanner, partials and merge, for tests to compare.
package rolluptest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"

	"github.com/facepay/platform/shared/rollup"
)

// Reference returns the figures of date over the gzip NDJSON objects, keyed by SN.
func Reference(date string, objects ...[]byte) (map[string]rollup.Figures, error) {
	type acc struct {
		f      rollup.Figures
		payers map[string]bool // payer -> fee-qualifying
	}
	devs := map[string]*acc{}
	for _, obj := range objects {
		zr, err := gzip.NewReader(bytes.NewReader(obj))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var t rollup.Txn
			if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
				return nil, fmt.Errorf("%s: %w", sc.Text(), err)
			}
			a := devs[t.DeviceSN]
			if a == nil {
				a = &acc{f: rollup.Figures{DeviceSN: t.DeviceSN, Date: date, ByMethod: map[string]int64{}}, payers: map[string]bool{}}
				for _, m := range rollup.Methods {
					a.f.ByMethod[m] = 0
				}
				devs[t.DeviceSN] = a
			}
			if t.Method == "FACE" && t.AmountFen > 100000 {
				a.f.OverLimitCount++
			}
			switch t.Status {
			case "SUCCESS":
				a.f.SuccessCount++
				a.f.SuccessAmountFen += t.AmountFen
				a.f.ByMethod[t.Method]++
				a.payers[t.Payer] = a.payers[t.Payer] || (t.Method == "FACE" && t.AmountFen >= 200)
			case "FAILED":
				a.f.FailedCount++
			case "TIMEOUT":
				a.f.TimeoutCount++
			case "REFUNDED":
				a.f.RefundedCount++
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return nil, err
		}
	}
	out := make(map[string]rollup.Figures, len(devs))
	for sn, a := range devs {
		a.f.DistinctPayers = int64(len(a.payers))
		for _, fee := range a.payers {
			if fee {
				a.f.FeePayers++
			}
		}
		out[sn] = a.f
	}
	return out, nil
}
