package store

// The daily transaction figures live in a table of their own (template: FiguresTable): one
// item per device and day, 10^5 written in a burst each night and 3.65×10^7 a year, read by
// device and by provider. Its keys, capacity and backups are tuned apart from the entity
// table's, and a burst there never throttles the platform's API.
//
//	item                pk               sk             gsi1 (provider's devices of a month, by day)
//	device figures      DEV#<sn>         D#<date>       PROV#<provider>#M#<month>#<b> / <date>#<sn>   (gsi1 only when the
//	                                                                                           device is confirmed to a provider that day)
//	provider totals     PROV#<provider>  TOTAL#<date>#<shard>/<n>   –   (one per merge shard with the provider's devices; totals.go)
//
// <b> is the SN's hash modulo FigureBuckets: a provider's month is spread over that many index
// partitions, so the night's burst of one large provider's devices is not one hot key, and a
// listing reads the buckets in parallel. The month in the key and the date leading the sort
// key make one provider's day a begins_with range and its whole month 8 Query (the service
// fee's monthly run), not 8 per day.
//
// Access patterns and cost (on-demand; an item is ~400 bytes: one write unit, half a read
// unit eventually consistent):
//   - the rollup writes a day: BatchWriteItem, 25 items a call, keys spread by SN over the
//     table's partitions: 10^5 devices = 4,000 calls, 10^5 WRU (+10^5 for gsi1 once devices
//     have providers), about $0.25 a day at $1.25 per million WRU;
//   - a device's daily series (a reviewer, later its provider): Query pk=DEV#<sn>, sk between
//     D#<from> and D#<to>: 30 days ≈ 12 KB = 1.5 RRU;
//   - a provider's devices on a day (yesterday's view): Query gsi1 over the FigureBuckets
//     keys of (provider, month), begins_with the day, paged: ~0.05 RRU per device;
//   - a provider's month (the service fee): the same keys, whole, paged: ~0.05 RRU per
//     device-day;
//   - a provider's totals for a day or a range of days: Query pk=PROV#<provider>, sk between
//     TOTAL#<from># and TOTAL#<to>#~, summing the shards' parts (totals.go: ≤ 16 items a day);
//   - a page of a provider's devices with their last 30 days: one Query per device
//     (DeviceWindows, totals.go), ~150 RRU per page of 100.
//
// Re-running a day replaces exactly that day's figures: the rollup puts every device it
// computed and deletes the day's items of devices it no longer has (DeleteFigures; the list of
// the day's devices is the rollup's own, kept in S3 by the merge step).

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/rollup"
)

// FigureBuckets is how many gsi1 partitions one provider's day is spread over.
const FigureBuckets = 8

// Figures is the figures table.
type Figures struct {
	client  *dynamodb.Client
	table   string
	cursors cipher.AEAD
}

// NewFigures returns the store of the figures table. Its page cursors are sealed with a
// per-process secret unless WithCursorKey gives the function's.
func NewFigures(client *dynamodb.Client, table string) *Figures {
	return &Figures{client: client, table: table, cursors: processSealer}
}

// WithCursorKey seals f's page cursors with secret (the CURSOR_KEY setting), as the entity
// table's store does, so a cursor handed to a client works on the next invocation.
func (f *Figures) WithCursorKey(secret string) *Figures {
	f.cursors = newSealer([]byte(secret))
	return f
}

// FiguresTableInput is the figures table's definition: the template's FiguresTable declares
// the same keys and index (infra/template_test.go checks), and tests create tables from it.
func FiguresTableInput(name string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	attr := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: s}
	}
	keys := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{attr("pk"), attr("sk"), attr("gsi1pk"), attr("gsi1sk")},
		KeySchema:            keys("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String("gsi1"), KeySchema: keys("gsi1pk", "gsi1sk"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
		},
	}
}

// figureItem is a device's day as stored: real attributes, so a listing reads what it needs.
type figureItem struct {
	PK               string           `dynamodbav:"pk"`
	SK               string           `dynamodbav:"sk"`
	GSI1PK           string           `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK           string           `dynamodbav:"gsi1sk,omitempty"`
	DeviceSN         string           `dynamodbav:"sn"`
	Date             string           `dynamodbav:"date"`
	Provider         string           `dynamodbav:"provider,omitempty"`
	SuccessCount     int64            `dynamodbav:"success_count"`
	SuccessAmountFen int64            `dynamodbav:"success_amount_fen"`
	DistinctPayers   int64            `dynamodbav:"distinct_payers"`
	FeePayers        int64            `dynamodbav:"fee_payers"`
	FailedCount      int64            `dynamodbav:"failed_count"`
	TimeoutCount     int64            `dynamodbav:"timeout_count"`
	RefundedCount    int64            `dynamodbav:"refunded_count"`
	OverLimitCount   int64            `dynamodbav:"over_limit_count"`
	ByMethod         map[string]int64 `dynamodbav:"by_method"`
	RolledUpAt       string           `dynamodbav:"rolled_up_at"`
}

func figurePK(sn string) string   { return "DEV#" + sn }
func figureSK(date string) string { return "D#" + date }

// figureBucket spreads a provider's day over FigureBuckets index keys (FNV-1a of the SN).
func figureBucket(sn string) int {
	h := uint32(2166136261)
	for i := 0; i < len(sn); i++ {
		h ^= uint32(sn[i])
		h *= 16777619
	}
	return int(h % FigureBuckets)
}

// providerMonthKey is the gsi1 key of a provider's figures of a month (date YYYY-MM-DD or
// month YYYY-MM) in one bucket.
func providerMonthKey(provider, date string, bucket int) string {
	return fmt.Sprintf("PROV#%s#M#%s#%d", provider, date[:min(7, len(date))], bucket)
}

// PutFigures writes figs (one day's, of any devices), replacing what those devices had for
// the day. providerOf maps an SN to the provider it is confirmed to that day (nil or absent:
// none), which indexes the item for the provider's listing. Writes go in BatchWriteItem calls
// of 25, several at a time; unprocessed items are retried with backoff.
func (f *Figures) PutFigures(ctx context.Context, figs []rollup.Figures, providerOf map[string]string, now time.Time) error {
	reqs := make([]types.WriteRequest, 0, len(figs))
	for _, fg := range figs {
		it := figureItem{PK: figurePK(fg.DeviceSN), SK: figureSK(fg.Date), DeviceSN: fg.DeviceSN, Date: fg.Date,
			SuccessCount: fg.SuccessCount, SuccessAmountFen: fg.SuccessAmountFen, DistinctPayers: fg.DistinctPayers,
			FeePayers: fg.FeePayers, FailedCount: fg.FailedCount, TimeoutCount: fg.TimeoutCount,
			RefundedCount: fg.RefundedCount, OverLimitCount: fg.OverLimitCount, ByMethod: fg.ByMethod,
			RolledUpAt: now.UTC().Format(time.RFC3339)}
		if p := providerOf[fg.DeviceSN]; p != "" {
			it.Provider = p
			it.GSI1PK, it.GSI1SK = providerMonthKey(p, fg.Date, figureBucket(fg.DeviceSN)), fg.Date+"#"+fg.DeviceSN
		}
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			return fmt.Errorf("marshal figures of %s on %s: %w", fg.DeviceSN, fg.Date, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	return f.batchWrite(ctx, reqs)
}

// DeleteFigures removes the day's figures of sns (devices a re-run of the day no longer has).
func (f *Figures) DeleteFigures(ctx context.Context, date string, sns []string) error {
	reqs := make([]types.WriteRequest, 0, len(sns))
	for _, sn := range sns {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(figurePK(sn), figureSK(date))}})
	}
	return f.batchWrite(ctx, reqs)
}

// batchWriteWorkers is how many BatchWriteItem calls one writer has in flight: enough to
// write a shard's devices in seconds, few enough to stay within a Lambda's connections.
const batchWriteWorkers = 8

func (f *Figures) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	var batches [][]types.WriteRequest
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		batches = append(batches, reqs[:n])
		reqs = reqs[n:]
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan []types.WriteRequest)
	errs := make(chan error, batchWriteWorkers)
	var wg sync.WaitGroup
	for range batchWriteWorkers {
		wg.Go(func() {
			for b := range next {
				if err := f.writeBatch(ctx, b); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
feed:
	for _, b := range batches {
		select {
		case next <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// writeBatch writes one batch, retrying what DynamoDB leaves unprocessed (throttling) with
// exponential backoff.
func (f *Figures) writeBatch(ctx context.Context, batch []types.WriteRequest) error {
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		out, err := f.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{f.table: batch}})
		if err != nil {
			return fmt.Errorf("batch write figures: %w", err)
		}
		batch = out.UnprocessedItems[f.table]
		if len(batch) == 0 {
			return nil
		}
		if attempt == 8 {
			return fmt.Errorf("batch write figures: %d items still unprocessed after %d attempts", len(batch), attempt+1)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// DeviceSeries returns a device's figures from one date to another (inclusive, YYYY-MM-DD),
// oldest first; days without figures are absent. Invalid ("invalid_date_range") when the
// range is malformed or longer than 366 days.
func (f *Figures) DeviceSeries(ctx context.Context, sn, from, to string) ([]rollup.Figures, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	var out []rollup.Figures
	in := &dynamodb.QueryInput{
		TableName:              &f.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: figurePK(sn)},
			":from": &types.AttributeValueMemberS{Value: figureSK(from)}, ":to": &types.AttributeValueMemberS{Value: figureSK(to)},
		},
	}
	pages := dynamodb.NewQueryPaginator(f.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query figures of %s: %w", sn, err)
		}
		figs, err := unmarshalFigures(page.Items)
		if err != nil {
			return nil, err
		}
		out = append(out, figs...)
	}
	return out, nil
}

// ProviderMonth returns the figures of every day of month (YYYY-MM) on which a device was
// confirmed to provider: FigureBuckets Query, in parallel, paged.
func (f *Figures) ProviderMonth(ctx context.Context, provider, month string) ([]rollup.Figures, error) {
	if _, err := time.Parse("2006-01", month); err != nil || len(month) != 7 {
		return nil, domain.Errorf(domain.Invalid, "invalid_month", "month must be YYYY-MM, not %q", month)
	}
	if strings.Contains(provider, "#") {
		return nil, domain.Errorf(domain.Invalid, "invalid_provider", "a provider number has no '#'")
	}
	results := make([][]rollup.Figures, FigureBuckets)
	errs := make([]error, FigureBuckets)
	var wg sync.WaitGroup
	for b := range FigureBuckets {
		wg.Go(func() {
			in := &dynamodb.QueryInput{
				TableName: &f.table, IndexName: aws.String("gsi1"),
				KeyConditionExpression:    aws.String("gsi1pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: providerMonthKey(provider, month, b)}},
			}
			pages := dynamodb.NewQueryPaginator(f.client, in)
			for pages.HasMorePages() {
				page, err := pages.NextPage(ctx)
				if err != nil {
					errs[b] = fmt.Errorf("query provider %s figures of %s: %w", provider, month, err)
					return
				}
				figs, err := unmarshalFigures(page.Items)
				if err != nil {
					errs[b] = err
					return
				}
				results[b] = append(results[b], figs...)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []rollup.Figures
	for _, r := range results {
		out = append(out, r...)
	}
	sortFigures(out)
	return out, nil
}

func unmarshalFigures(items []map[string]types.AttributeValue) ([]rollup.Figures, error) {
	out := make([]rollup.Figures, 0, len(items))
	for _, av := range items {
		var it figureItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal figures: %w", err)
		}
		out = append(out, rollup.Figures{DeviceSN: it.DeviceSN, Date: it.Date, SuccessCount: it.SuccessCount,
			SuccessAmountFen: it.SuccessAmountFen, DistinctPayers: it.DistinctPayers, FeePayers: it.FeePayers,
			FailedCount: it.FailedCount, TimeoutCount: it.TimeoutCount, RefundedCount: it.RefundedCount,
			OverLimitCount: it.OverLimitCount, ByMethod: it.ByMethod})
	}
	return out, nil
}

func sortFigures(figs []rollup.Figures) {
	slices.SortFunc(figs, func(a, b rollup.Figures) int { return strings.Compare(a.DeviceSN, b.DeviceSN) })
}

// ProviderDayPage is a page (at most limit ≤ 100) of the figures of the devices confirmed to
// provider on date, bucket by bucket (SN order within a bucket). The cursor is sealed to this
// provider's day. Requests: 1–FigureBuckets Query per page, ~0.05 RRU per device.
func (f *Figures) ProviderDayPage(ctx context.Context, provider, date, cursor string, limit int) (Page[rollup.Figures], error) {
	if strings.Contains(provider, "#") {
		return Page[rollup.Figures]{}, domain.Errorf(domain.Invalid, "invalid_provider", "a provider number has no '#'")
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	listing := "figures|gsi1|PROV#" + provider + "#D#" + date
	bucket := 0
	var start map[string]types.AttributeValue
	if cursor != "" {
		k, err := openCursor(f.cursors, listing, cursor)
		if err != nil {
			return Page[rollup.Figures]{}, err
		}
		b, _ := k["bucket"].(*types.AttributeValueMemberS)
		n, perr := -1, error(nil)
		if b != nil {
			n, perr = strconv.Atoi(b.Value)
		}
		if perr != nil || n < 0 || n >= FigureBuckets {
			return Page[rollup.Figures]{}, domain.ErrInvalidCursor.Withf("the page cursor is not one this API returned for this listing; start again without it")
		}
		bucket = n
		delete(k, "bucket")
		if len(k) > 0 {
			start = k
		}
	}
	page := Page[rollup.Figures]{Items: []rollup.Figures{}}
	for bucket < FigureBuckets && len(page.Items) < limit {
		out, err := f.client.Query(ctx, &dynamodb.QueryInput{
			TableName: &f.table, IndexName: aws.String("gsi1"),
			KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :day)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk":  &types.AttributeValueMemberS{Value: providerMonthKey(provider, date, bucket)},
				":day": &types.AttributeValueMemberS{Value: date + "#"},
			},
			ExclusiveStartKey: start,
			Limit:             aws.Int32(int32(limit - len(page.Items))),
		})
		if err != nil {
			return Page[rollup.Figures]{}, fmt.Errorf("query provider %s day %s: %w", provider, date, err)
		}
		figs, err := unmarshalFigures(out.Items)
		if err != nil {
			return Page[rollup.Figures]{}, err
		}
		page.Items = append(page.Items, figs...)
		start = out.LastEvaluatedKey
		if len(start) == 0 {
			bucket++
		}
	}
	if bucket < FigureBuckets {
		k := map[string]types.AttributeValue{"bucket": &types.AttributeValueMemberS{Value: strconv.Itoa(bucket)}}
		for n, v := range start {
			k[n] = v
		}
		next, err := sealCursor(f.cursors, listing, k)
		if err != nil {
			return Page[rollup.Figures]{}, err
		}
		page.Next = next
	}
	return page, nil
}
