package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

// BenchmarkFactoryBatch500 measures one factory batch of 500 new devices on the local engine
// as the devices function makes it (read the SNs, decide, write conditionally): DynamoDB
// requests, write units (computed from the items' sizes as DynamoDB bills them; moto reports
// none) and latency; then the runtime check's read. `make bench` runs it.
func BenchmarkFactoryBatch500(b *testing.B) {
	ctx := context.Background()
	db, counts := countingDB(b)
	model := &domain.Model{ID: "mdl_0123456789abcdef", VendorOrg: "demo-vendor", VendorCode: "0A", ModelCode: "1B",
		ModelSpec: domain.ModelSpec{Name: "K1", OS: domain.OSAndroid, SoftwareModes: []domain.SoftwareMode{domain.ModeSDK}}}
	now := time.Now().UTC().Truncate(time.Second)
	var wcu, requests int
	for i := range b.N {
		ws := make([]store.DeviceWrite, 500)
		sns := make([]string, 500)
		for j := range ws {
			sns[j] = fmt.Sprintf("0AA1B%010dX7Q2M9ZK", i*500+j)
		}
		before := counts.Count("BatchGetItem") + counts.Count("TransactWriteItems")
		b.StartTimer()
		known, err := db.Devices(ctx, sns, false)
		if err != nil {
			b.Fatal(err)
		}
		for j, sn := range sns {
			r, err := domain.NewFactoryReport(sn, fmt.Sprintf("FC200-%06d", j), model.ID, "sdk", "00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5F", "",
				"", "2.3.1", "pass", nil, "line-1", now.Add(-time.Minute).Format(time.RFC3339), false, now)
			if err != nil {
				b.Fatal(err)
			}
			d, _, changes, err := domain.Check(known[sn], r, model, domain.StageMP, now)
			if err != nil {
				b.Fatal(err)
			}
			ws[j] = store.DeviceWrite{Device: d, Changes: changes}
		}
		for _, err := range db.WriteDevices(ctx, ws) {
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		requests += int(counts.Count("BatchGetItem") + counts.Count("TransactWriteItems") - before)
		for _, w := range ws {
			av, err := store.DeviceAttributes(w.Device)
			if err != nil {
				b.Fatal(err)
			}
			// A transactional put of the item; a passed device writes no index entry (gsi1 and
			// gsi2 are sparse).
			wcu += store.WriteUnits(store.ItemSize(av), true)
		}
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/batch")
	b.ReportMetric(float64(wcu)/float64(b.N*500), "WCU/device")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/batch")

	// The runtime check: one GetItem of the device (eventually consistent), the model's
	// standing cached by the function.
	before := counts.Count("GetItem")
	d, err := db.Device(ctx, "0AA1B0000000007X7Q2M9ZK")
	if err != nil {
		b.Fatal(err)
	}
	av, _ := store.DeviceAttributes(d)
	b.ReportMetric(float64(counts.Count("GetItem")-before), "requests/runtime-check")
	b.ReportMetric(float64(store.ReadHalfUnits(store.ItemSize(av), false))/2, "RCU/runtime-check")
}
