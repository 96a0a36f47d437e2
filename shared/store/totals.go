package store

// Per-provider daily totals and the deployer's multi-device window read (issue 13), in the
// figures table (layout: figures.go).
//
//	item                     pk               sk                          written by
//	provider totals (shard)  PROV#<provider>  TOTAL#<date>#<shard>/<n>    the rollup's merge of shard <shard> of <n>
//
// The merge fans out over device shards, and each shard knows only its own devices, so each
// writes its part of a provider's day: one item per (provider, day, shard) that has any of the
// provider's devices. A provider's day is the sum of at most n items (16 today), and a range
// of days is one Query on the provider's partition: sk between TOTAL#<from># and
// TOTAL#<to>#~. The partition key is the provider, so the night's writes (providers × shards
// items, one write unit each) spread over the providers; a provider's one partition takes at
// most 16 writes a night.
//
// Distinct payers are not additive across devices (a payer who pays at two devices is one
// payer), and exact provider-wide distinct counts would need every device's payer set in one
// place. What is stored instead, said by its name: payer_days, the sum of the devices' daily
// distinct payers ("device-payers"); and fee_payers, the sum of the devices' fee payers,
// which is exactly the quantity the default fee multiplies (0.5 yuan × fee payers per device
// and day), so it is additive by the fee's own definition.
//
// Re-running a day replaces exactly its totals: the shard puts the totals of every provider it
// has now and deletes the items of the providers it wrote in an earlier run of the day and no
// longer has (the rollup keeps that list per shard in S3, next to its device list). A device
// counts for the provider holding its confirmation when the day closed, which a later unbind
// does not change, so re-running a past day after an unbind gives the same totals.
//
// Cost (on-demand; a totals item is ~250 bytes: 1 WRU to write, ~0.03 RRU to read):
//   - nightly: one PutRequest per (provider, shard) in the shared BatchWriteItem path: at 10^3
//     providers over 16 shards at most 1.6×10^4 WRU (~$0.02), next to the 10^5 of the figures;
//   - a provider's totals for a day: 1 Query, ≤ 16 items, 0.5 RRU;
//   - for 30 days: 1 Query, ≤ 480 items ≈ 120 KB, 15 RRU; for a year ~ 180 RRU in 2 pages.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/rollup"
)

// ProviderTotals are a deployment provider's additive figures for one day over the devices
// confirmed to it when the day closed.
type ProviderTotals struct {
	Provider         string           `json:"provider"`
	Date             string           `json:"date"`
	Devices          int64            `json:"devices"` // devices with figures that day
	SuccessCount     int64            `json:"success_count"`
	SuccessAmountFen int64            `json:"success_amount_fen"`
	PayerDays        int64            `json:"payer_days"` // Σ devices' distinct payers: a payer at two devices counts twice
	FeePayers        int64            `json:"fee_payers"` // Σ devices' fee payers: the default fee's input, additive
	FailedCount      int64            `json:"failed_count"`
	TimeoutCount     int64            `json:"timeout_count"`
	RefundedCount    int64            `json:"refunded_count"`
	OverLimitCount   int64            `json:"over_limit_count"`
	OverLimitDevices int64            `json:"over_limit_devices"` // devices with a face payment over the limit that day
	ByMethod         map[string]int64 `json:"by_method"`
}

// Add adds o's figures to t's (a sum over shards, days or devices).
func (t *ProviderTotals) Add(o ProviderTotals) {
	t.Devices += o.Devices
	t.SuccessCount += o.SuccessCount
	t.SuccessAmountFen += o.SuccessAmountFen
	t.PayerDays += o.PayerDays
	t.FeePayers += o.FeePayers
	t.FailedCount += o.FailedCount
	t.TimeoutCount += o.TimeoutCount
	t.RefundedCount += o.RefundedCount
	t.OverLimitCount += o.OverLimitCount
	t.OverLimitDevices += o.OverLimitDevices
	for m, n := range o.ByMethod {
		t.ByMethod[m] += n
	}
}

// NewTotals returns zero totals of provider on date, every method present.
func NewTotals(provider, date string) ProviderTotals {
	t := ProviderTotals{Provider: provider, Date: date, ByMethod: make(map[string]int64, len(rollup.Methods))}
	for _, m := range rollup.Methods {
		t.ByMethod[m] = 0
	}
	return t
}

// SumTotals sums a day's figures per provider; providerOf maps an SN to the provider it was
// confirmed to that day (devices absent from it count nowhere). Sorted by provider.
func SumTotals(date string, figs []rollup.Figures, providerOf map[string]string) []ProviderTotals {
	by := map[string]*ProviderTotals{}
	for i := range figs {
		f := &figs[i]
		p := providerOf[f.DeviceSN]
		if p == "" {
			continue
		}
		t := by[p]
		if t == nil {
			nt := NewTotals(p, date)
			t = &nt
			by[p] = t
		}
		one := ProviderTotals{Devices: 1, SuccessCount: f.SuccessCount, SuccessAmountFen: f.SuccessAmountFen,
			PayerDays: f.DistinctPayers, FeePayers: f.FeePayers, FailedCount: f.FailedCount, TimeoutCount: f.TimeoutCount,
			RefundedCount: f.RefundedCount, OverLimitCount: f.OverLimitCount, ByMethod: f.ByMethod}
		if f.OverLimitCount > 0 {
			one.OverLimitDevices = 1
		}
		t.Add(one)
	}
	out := make([]ProviderTotals, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b ProviderTotals) int { return strings.Compare(a.Provider, b.Provider) })
	return out
}

// totalsItem is one shard's part of a provider's day as stored.
type totalsItem struct {
	PK               string           `dynamodbav:"pk"`
	SK               string           `dynamodbav:"sk"`
	Provider         string           `dynamodbav:"provider"`
	Date             string           `dynamodbav:"date"`
	Devices          int64            `dynamodbav:"devices"`
	SuccessCount     int64            `dynamodbav:"success_count"`
	SuccessAmountFen int64            `dynamodbav:"success_amount_fen"`
	PayerDays        int64            `dynamodbav:"payer_days"`
	FeePayers        int64            `dynamodbav:"fee_payers"`
	FailedCount      int64            `dynamodbav:"failed_count"`
	TimeoutCount     int64            `dynamodbav:"timeout_count"`
	RefundedCount    int64            `dynamodbav:"refunded_count"`
	OverLimitCount   int64            `dynamodbav:"over_limit_count"`
	OverLimitDevices int64            `dynamodbav:"over_limit_devices"`
	ByMethod         map[string]int64 `dynamodbav:"by_method"`
}

func totalsPK(provider string) string { return "PROV#" + provider }

func totalsSK(date string, shard, shards int) string {
	return fmt.Sprintf("TOTAL#%s#%03d/%03d", date, shard, shards)
}

// PutShardTotals writes shard (of shards)'s part of each provider's totals for date and
// deletes that part for the providers in stale (written by an earlier run of the day, absent
// now). Unconditional puts and deletes: the rollup is the only writer of a day's shard, and a
// repeated write is the same write.
func (f *Figures) PutShardTotals(ctx context.Context, date string, shard, shards int, totals []ProviderTotals, stale []string) error {
	reqs := make([]types.WriteRequest, 0, len(totals)+len(stale))
	for _, t := range totals {
		if strings.Contains(t.Provider, "#") || t.Date != date {
			return fmt.Errorf("totals of provider %q on %s in the write of %s", t.Provider, t.Date, date)
		}
		av, err := attributevalue.MarshalMap(totalsItem{PK: totalsPK(t.Provider), SK: totalsSK(date, shard, shards),
			Provider: t.Provider, Date: date, Devices: t.Devices, SuccessCount: t.SuccessCount, SuccessAmountFen: t.SuccessAmountFen,
			PayerDays: t.PayerDays, FeePayers: t.FeePayers, FailedCount: t.FailedCount, TimeoutCount: t.TimeoutCount,
			RefundedCount: t.RefundedCount, OverLimitCount: t.OverLimitCount, OverLimitDevices: t.OverLimitDevices, ByMethod: t.ByMethod})
		if err != nil {
			return fmt.Errorf("marshal totals of %s on %s: %w", t.Provider, date, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	for _, p := range stale {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(totalsPK(p), totalsSK(date, shard, shards))}})
	}
	return f.batchWrite(ctx, reqs)
}

// ProviderTotalsRange returns provider's totals per day from one date to another (inclusive,
// YYYY-MM-DD), oldest first; a day on which none of its devices had figures is absent.
// Invalid ("invalid_date_range") when the range is malformed or longer than 366 days.
func (f *Figures) ProviderTotalsRange(ctx context.Context, provider, from, to string) ([]ProviderTotals, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	if strings.Contains(provider, "#") {
		return nil, domain.Errorf(domain.Invalid, "invalid_provider", "a provider number has no '#'")
	}
	pages := dynamodb.NewQueryPaginator(f.client, &dynamodb.QueryInput{
		TableName:              &f.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: totalsPK(provider)},
			":from": &types.AttributeValueMemberS{Value: "TOTAL#" + from + "#"},
			":to":   &types.AttributeValueMemberS{Value: "TOTAL#" + to + "#~"},
		},
	})
	var out []ProviderTotals
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query totals of %s: %w", provider, err)
		}
		for _, av := range page.Items {
			var it totalsItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("unmarshal totals: %w", err)
			}
			// Items come sorted by date: a day's shards are adjacent.
			if len(out) == 0 || out[len(out)-1].Date != it.Date {
				out = append(out, NewTotals(provider, it.Date))
			}
			out[len(out)-1].Add(ProviderTotals{Devices: it.Devices, SuccessCount: it.SuccessCount, SuccessAmountFen: it.SuccessAmountFen,
				PayerDays: it.PayerDays, FeePayers: it.FeePayers, FailedCount: it.FailedCount, TimeoutCount: it.TimeoutCount,
				RefundedCount: it.RefundedCount, OverLimitCount: it.OverLimitCount, OverLimitDevices: it.OverLimitDevices, ByMethod: it.ByMethod})
		}
	}
	return out, nil
}

func checkRange(from, to string) error {
	lo, _, err1 := rollup.ParseDate(from)
	hi, _, err2 := rollup.ParseDate(to)
	if err1 != nil || err2 != nil || hi < lo || (hi-lo)/86400 > 366 {
		return domain.Errorf(domain.Invalid, "invalid_date_range", "from and to are dates (YYYY-MM-DD), from not after to, at most 366 days apart")
	}
	return nil
}

// windowReaders is how many device Queries one window read has in flight.
const windowReaders = 16

// DeviceWindows returns the figures of each of sns from one date to another (inclusive), oldest
// first, by SN (an SN without figures in the range is absent): the deployer's listing of its
// devices with yesterday's and the last 30 days' figures.
//
// One Query per device, 16 in flight: a device's days are one partition's contiguous range, so
// 30 days of one device (~12 KB) cost 1.5 RRU as one Query, where a BatchGetItem of its 30
// day items would bill each item separately (30 × 0.5 = 15 RRU) and need the same number of
// round trips per 100 keys. A page of 100 devices: 100 Query, ~150 RRU, about 7 round trips.
func (f *Figures) DeviceWindows(ctx context.Context, sns []string, from, to string) (map[string][]rollup.Figures, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	out := make(map[string][]rollup.Figures, len(sns))
	var mu sync.Mutex
	errs := make([]error, len(sns))
	sem := make(chan struct{}, windowReaders)
	var wg sync.WaitGroup
	for i, sn := range sns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			figs, err := f.DeviceSeries(ctx, sn, from, to)
			if err != nil {
				errs[i] = err
				return
			}
			if len(figs) > 0 {
				mu.Lock()
				out[sn] = figs
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
