package store

// The service fee's view of the bindings and the daily figures (fee.Source for the monthly
// run; ConfirmationsOf and ConfirmedTo for the sign-up routes). Every read is by provider or
// by device, on a key or an index: no scan, so a month's cost grows with each provider's
// devices and the run can be split by provider.
//
// Requests (n: the provider's devices; k: devices that
// left the provider during the month; j: devices that had another provider during the month;
// each Query also pages per MB, about 2,500 figure items or 3,000 bindings):
//
//	confirmation intervals of a device      1 GetItem (the binding carries its history)
//	devices confirmed to a provider now     16 Query on the entity table's gsi1 (BIND#<provider>#<shard>,
//	                                        begins_with confirmed#), one per device shard, in parallel
//	a provider's month (the monthly run)    16 Query (its confirmed devices) + 8 Query on the figures
//	                                        table's gsi1 (PROV#<provider>#M#<month>#<bucket>: its devices'
//	                                        figures of the month, +1 per MB) + ceil(k/100) BatchGetItem (the
//	                                        bindings of devices that left) + j Query (a moved device's month)
//	the providers                           1 GetItem (provider numbers are allocated in sequence)
//	what n devices earned before a month    ceil(n/100) BatchGetItem (EARNED items: store/fee.go)
//	a provider's sign-ups                   1 Query on gsi1 FEESIGNUPS#<provider> (+1 per MB) + j Query
//
// Read units: about 0.05 RRU per device and day of figures (eventually consistent, ~400-byte
// items), so 1.5 RRU per device-month, plus 0.05 per binding.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/rollup"
)

// FeeSource reads the bindings (DB) and the daily figures (Figures) for the service fee.
type FeeSource struct {
	DB      *DB
	Figures *Figures
}

var _ fee.Source = FeeSource{}

// feeCriteria is what the rollup's fee_payers counts: distinct payers with a SUCCESS FACE
// payment of at least rollup.FeeMinFen.
var feeCriteria = fee.ValidPayment{Methods: []string{"FACE"}, Statuses: []string{"SUCCESS"}, MinAmountFen: rollup.FeeMinFen}

// confirmations turns binding intervals into the engine's.
func confirmations(is []domain.Interval) []fee.Confirmation {
	out := make([]fee.Confirmation, len(is))
	for i, in := range is {
		out[i] = fee.Confirmation{Provider: in.Provider, From: in.From.UTC()}
		if in.To != nil {
			out[i].Until = in.To.UTC()
		}
	}
	return out
}

// ConfirmationsOf returns device sn's confirmation intervals, to every provider, ever (none for
// a device never bound): 1 GetItem.
func (s FeeSource) ConfirmationsOf(ctx context.Context, sn string) ([]fee.Confirmation, error) {
	if _, err := domain.ParseSerialNumber(sn); err != nil {
		return nil, nil
	}
	is, err := s.DB.ConfirmationIntervals(ctx, sn, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	return confirmations(is), nil
}

// ConfirmationsOfEach returns the confirmation intervals of each of sns that has any: their
// bindings, 100 per BatchGetItem (strongly consistent: a sign-up follows a confirmation).
func (s FeeSource) ConfirmationsOfEach(ctx context.Context, sns []string) (map[string][]fee.Confirmation, error) {
	valid := make([]string, 0, len(sns))
	for _, sn := range sns {
		if _, err := domain.ParseSerialNumber(sn); err == nil {
			valid = append(valid, sn)
		}
	}
	bs, err := s.DB.Bindings(ctx, valid, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]fee.Confirmation, len(bs))
	for sn, b := range bs {
		if is := domain.ConfirmationIntervals(b.History); len(is) > 0 {
			out[sn] = confirmations(is)
		}
	}
	return out, nil
}

// ConfirmedTo returns the devices confirmed to provider (its number) at `at`, each with all of
// its confirmation intervals: the provider's confirmed bindings on gsi1 (16 Query), kept
// when their history has provider holding the device at `at`.
func (s FeeSource) ConfirmedTo(ctx context.Context, provider string, at time.Time) (map[string][]fee.Confirmation, error) {
	bs, err := s.DB.confirmedBindings(ctx, provider)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]fee.Confirmation, len(bs))
	for sn, b := range bs {
		is := domain.ConfirmationIntervals(b.History)
		if domain.ProviderAt(is, at) == provider {
			out[sn] = confirmations(is)
		}
	}
	return out, nil
}

// Providers returns every deployment provider's number: they are allocated in sequence, so
// the counter names them all (1 GetItem).
func (s FeeSource) Providers(ctx context.Context) ([]string, error) {
	c, err := s.DB.NextProviderNumber(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, c.Index)
	for i := range c.Index {
		n, err := domain.ProviderNumberAt(i)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// ProviderMonth returns the devices of provider in month m (fee.Source): those its figures
// index lists on a day of m (confirmed to it when the day ended, the rollup's rule and the
// engine's) and those confirmed to it now, each with all of its intervals and its fee units on
// the days it belonged to some provider. A device that had another provider during the month
// is read whole from its own partition, so the caps are shared in day order.
func (s FeeSource) ProviderMonth(ctx context.Context, provider string, m fee.Month, v fee.ValidPayment) (map[string]fee.DeviceMonth, error) {
	if !sameCriteria(v, feeCriteria) {
		return nil, domain.Errorf(domain.Invalid, "fee_figures_criteria",
			"the daily figures count distinct payers with a SUCCESS FACE payment of at least %d fen; the policy counts otherwise", rollup.FeeMinFen)
	}
	if err := m.Validate("month"); err != nil {
		return nil, err
	}
	confirmed, err := s.DB.confirmedBindings(ctx, provider)
	if err != nil {
		return nil, err
	}
	days := m.Days()
	units, err := s.providerUnits(ctx, provider, m)
	if err != nil {
		return nil, err
	}
	var departed []string
	for sn := range units {
		if confirmed[sn] == nil {
			departed = append(departed, sn)
		}
	}
	slices.Sort(departed)
	if len(departed) > 0 {
		bs, err := s.DB.Bindings(ctx, departed, false)
		if err != nil {
			return nil, err
		}
		for sn, b := range bs {
			confirmed[sn] = b
		}
	}
	first, last := string(days[0]), string(days[len(days)-1])
	monthStart, _ := time.ParseInLocation(time.DateOnly, first, shanghai)
	monthEnd := monthStart.AddDate(0, 1, 0)
	out := make(map[string]fee.DeviceMonth, len(confirmed))
	for sn, b := range confirmed {
		is := domain.ConfirmationIntervals(b.History)
		dm := fee.DeviceMonth{Confirmations: confirmations(is), Units: units[sn]}
		if dm.Units == nil {
			dm.Units = map[fee.Date]int64{}
		}
		moved := false
		for _, in := range is {
			if in.Provider != provider && in.Overlaps(monthStart, monthEnd) {
				moved = true
			}
		}
		if moved { // its other provider's days are in that provider's index: read the device's month
			series, err := s.Figures.DeviceSeries(ctx, sn, first, last)
			if err != nil {
				return nil, err
			}
			for _, f := range series {
				day, _ := time.ParseInLocation(time.DateOnly, f.Date, shanghai)
				if domain.ProviderAt(is, DayEnd(day)) != "" {
					dm.Units[fee.Date(f.Date)] = f.FeePayers
				}
			}
		}
		out[sn] = dm
	}
	return out, nil
}

func sameCriteria(a, b fee.ValidPayment) bool {
	norm := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return slices.Compact(s) }
	return slices.Equal(norm(a.Methods), norm(b.Methods)) && slices.Equal(norm(a.Statuses), norm(b.Statuses)) && a.MinAmountFen == b.MinAmountFen
}

// providerUnits reads provider's figures of the month from the figures table's provider
// index (8 Query, paged): fee units by device and day.
func (s FeeSource) providerUnits(ctx context.Context, provider string, m fee.Month) (map[string]map[fee.Date]int64, error) {
	figs, err := s.Figures.ProviderMonth(ctx, provider, string(m))
	if err != nil {
		return nil, err
	}
	out := map[string]map[fee.Date]int64{}
	for _, f := range figs {
		if out[f.DeviceSN] == nil {
			out[f.DeviceSN] = map[fee.Date]int64{}
		}
		out[f.DeviceSN][fee.Date(f.Date)] = f.FeePayers
	}
	return out, nil
}

// confirmedBindings returns the bindings confirmed to provider now, by SN: one Query per
// device shard on gsi1 (BIND#<provider>#<shard>, begins_with confirmed#), in parallel, paged.
func (db *DB) confirmedBindings(ctx context.Context, provider string) (map[string]*domain.Binding, error) {
	if err := domain.ValidateProviderNumber(provider); err != nil {
		return nil, err
	}
	results := make([][]*domain.Binding, DeviceShards)
	errs := make([]error, DeviceShards)
	var wg sync.WaitGroup
	for shard := range DeviceShards {
		wg.Go(func() {
			pages := dynamodb.NewQueryPaginator(db.client, &dynamodb.QueryInput{
				TableName: &db.table, IndexName: aws.String("gsi1"),
				KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :p)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": &types.AttributeValueMemberS{Value: providerShardPK(provider, shard)},
					":p":  &types.AttributeValueMemberS{Value: string(domain.BindingConfirmed) + "#"},
				},
			})
			for pages.HasMorePages() {
				page, err := pages.NextPage(ctx)
				if err != nil {
					errs[shard] = fmt.Errorf("confirmed devices of %s: %w", provider, err)
					return
				}
				for _, av := range page.Items {
					var it bindingItem
					if err := attributevalue.UnmarshalMap(av, &it); err != nil {
						errs[shard] = fmt.Errorf("unmarshal binding: %w", err)
						return
					}
					b, err := it.binding()
					if err != nil {
						errs[shard] = err
						return
					}
					results[shard] = append(results[shard], b)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := map[string]*domain.Binding{}
	for _, bs := range results {
		for _, b := range bs {
			out[b.SN] = b
		}
	}
	return out, nil
}
