package main

import (
	"encoding/json"
	"testing"

	"github.com/facepay/platform/shared/rollup"
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
