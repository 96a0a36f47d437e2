package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Device bindings (a device's deployment provider; DOMAIN.md section 6) and deployment providers.
//
//	item             pk                        sk                      gsi1 (sparse: while assigned or confirmed)
//	binding          DEV#<sn[0:5]>#<shard>     B#<sn>                  BIND#<provider>#<shard> / <state>#<sn>
//	deployer         DEPLOYER#<number>         META                    –   (number → organisation)
//	deployer org     DEPLOYERORG#<org>         META                    –   (organisation → number; once per org)
//	number counter   COUNTER#DEPLOYER / CODE#DEPLOYER#<number>  (review.go's code allocation)
//	binding import   BINDIMPORT#<id>           META                    –   (a vendor's CSV import: status and totals)
//
// The binding is an item of its own in the device's partition rather than attributes of the
// device item: the factory check rewrites the device item (a repeated check, a re-registration)
// while the vendor and the provider change the binding, and separate items keep the two from
// contending on one version; a binding write also costs 1 KB less than rewriting the device.
//
// The binding carries its own history (attribute hist, at most domain.MaxBindingChanges
// entries of about 100 bytes; a device changes hands a few times in its life). So a change and
// its history entry are one conditional PutItem — atomic without a transaction, which in bulk
// halves the write units (a transactional write bills 2 WCU per KB) and lets one lost race
// fail only its own device — and a device's confirmation intervals, what the service fee
// reads, are one GetItem, as is the rollup's "provider of this SN on that date" for 100 SNs
// per BatchGetItem.
//
// The provider's listing (devices waiting for its confirmation, its confirmed devices) reads
// gsi1: its 16 shards (the device's shard), so 10^4 assignments a day to one provider spread
// over 16 index partitions, and state in the sort key makes "waiting" and "confirmed" two
// begins_with ranges. Declined and unbound bindings leave the index (sparse).
//
// Cost (a binding item is about 300 bytes new and about 100 bytes more per change; requests
// counted by TestBindings_BulkAssignCost):
//
//	bulk assignment of 500 new devices  5 BatchGetItem (devices, 0.5 RCU per device) + 5 BatchGetItem
//	                                    (bindings) + 500 conditional PutItem, 8 in flight = 510 requests;
//	                                    WCU: 1 per binding + 1 per gsi1 entry = 2 per device, 1,000 in all
//	                                    (as one transaction per 50 devices with history items it was
//	                                    20 requests but 5 WCU per device, 2,500 in all)
//	the same request again (a retry)    10 BatchGetItem, no write
//	confirm/decline n                   ceil(n/100) BatchGetItem + n PutItem; 1 WCU + 2 for the gsi1
//	                                    entry that moves (delete + put) = 3 per device
//	provider listing page (≤ 100)       1–16 Query on gsi1
//	confirmation intervals of a device  1 GetItem
//	provider of n SNs on a date         ceil(n/100) BatchGetItem (eventually consistent, 0.5 RCU each)

func bindingSK(sn string) string { return "B#" + sn }

func bindingKey(sn string) map[string]types.AttributeValue { return key(devicePK(sn), bindingSK(sn)) }

// bindingItem is the stored binding: real attributes, times in Unix milliseconds.
type bindingItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	GSI1PK      string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK      string `dynamodbav:"gsi1sk,omitempty"`
	Org         string `dynamodbav:"org"`
	Provider    string `dynamodbav:"provider,omitempty"`
	State       string `dynamodbav:"state"`
	Since       int64  `dynamodbav:"since"`
	ConfirmedAt int64  `dynamodbav:"confirmedAt,omitempty"`
	History     []byte `dynamodbav:"hist"` // JSON array of domain.Change, oldest first
	Version     int    `dynamodbav:"version"`
}

func toBindingItem(b *domain.Binding) (bindingItem, error) {
	hist, err := marshalJSON(b.History)
	if err != nil {
		return bindingItem{}, err
	}
	it := bindingItem{PK: devicePK(b.SN), SK: bindingSK(b.SN), Org: b.VendorOrg, Provider: b.Provider, State: string(b.State),
		Since: b.Since.UnixMilli(), History: hist}
	if b.ConfirmedAt != nil {
		it.ConfirmedAt = b.ConfirmedAt.UnixMilli()
	}
	if b.Provider != "" && (b.State == domain.BindingAssigned || b.State == domain.BindingConfirmed) {
		it.GSI1PK, it.GSI1SK = providerShardPK(b.Provider, DeviceShard(b.SN)), string(b.State)+"#"+b.SN
	}
	return it, nil
}

func providerShardPK(provider string, shard int) string {
	return fmt.Sprintf("BIND#%s#%x", provider, shard)
}

func (it bindingItem) binding() (*domain.Binding, error) {
	b := &domain.Binding{SN: strings.TrimPrefix(it.SK, "B#"), VendorOrg: it.Org, Provider: it.Provider,
		State: domain.BindingState(it.State), Since: time.UnixMilli(it.Since).UTC(), Version: it.Version, History: []domain.Change{}}
	if len(it.History) > 0 {
		if err := unmarshalJSON(it.History, &b.History); err != nil {
			return nil, err
		}
	}
	if it.ConfirmedAt != 0 {
		t := time.UnixMilli(it.ConfirmedAt).UTC()
		b.ConfirmedAt = &t
	}
	return b, nil
}

// Bindings reads the bindings of sns (valid SNs only; a device never bound has none), 100 per
// BatchGetItem. consistent asks for strongly consistent reads (after a lost race).
func (db *DB) Bindings(ctx context.Context, sns []string, consistent bool) (map[string]*domain.Binding, error) {
	out := make(map[string]*domain.Binding, len(sns))
	err := db.batchGet(ctx, sns, bindingKey, consistent, func(av map[string]types.AttributeValue) error {
		var it bindingItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return fmt.Errorf("unmarshal binding: %w", err)
		}
		b, err := it.binding()
		if err != nil {
			return err
		}
		out[b.SN] = b
		return nil
	})
	return out, err
}

// Binding returns the binding of sn. NotFound ("binding_not_found") when it has none.
func (db *DB) Binding(ctx context.Context, sn string) (*domain.Binding, error) {
	bs, err := db.Bindings(ctx, []string{sn}, true)
	if err != nil {
		return nil, err
	}
	if b := bs[sn]; b != nil {
		return b, nil
	}
	return nil, domain.ErrBindingNotFound.Withf("device %s has no deployment provider", sn)
}

// batchGet reads the items keyed by keyOf(id) for ids, 100 per BatchGetItem, retrying
// unprocessed keys with backoff, and hands each item found to f.
func (db *DB) batchGet(ctx context.Context, ids []string, keyOf func(string) map[string]types.AttributeValue, consistent bool,
	f func(map[string]types.AttributeValue) error) error {
	seen := make(map[string]bool, len(ids))
	for start := 0; start < len(ids); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, id := range ids[start:min(start+100, len(ids))] {
			if !seen[id] { // BatchGetItem refuses duplicate keys
				seen[id] = true
				keys = append(keys, keyOf(id))
			}
		}
		if len(keys) == 0 {
			continue
		}
		req := map[string]types.KeysAndAttributes{db.table: {Keys: keys, ConsistentRead: aws.Bool(consistent)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, attempt); err != nil {
					return err
				}
			}
			res, err := db.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return fmt.Errorf("batch get: %w", err)
			}
			for _, av := range res.Responses[db.table] {
				if err := f(av); err != nil {
					return err
				}
			}
			req = res.UnprocessedKeys
			if attempt > 8 && len(req) > 0 {
				return fmt.Errorf("batch get: %d keys still unprocessed", len(req[db.table].Keys))
			}
		}
	}
	return nil
}

// BindingWrite is one binding change; Binding carries its whole history, the change last.
// Binding.Version is the version read (0: the device had no binding).
type BindingWrite struct {
	Binding *domain.Binding
	Change  domain.Change
}

// bindingWriters is how many conditional puts of one bulk request are in flight at once.
const bindingWriters = 8

// WriteBindings writes each of ws with one conditional PutItem (attribute_not_exists for a new
// binding, else the version read), 8 at a time. It returns one error per write: nil (written),
// domain.ErrConflict (the binding changed since it was read: reload and decide again), or an
// error wrapping ErrRetryable (throttled past the SDK's retries). The binding carries its
// history, so the change and its entry are one atomic single-item write: no transaction
// needed, and one lost race never holds back the other writes.
func (db *DB) WriteBindings(ctx context.Context, ws []BindingWrite) []error {
	errs := make([]error, len(ws))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(bindingWriters, len(ws)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = db.putBinding(ctx, ws[i].Binding)
			}
		}()
	}
	for i := range ws {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

func (db *DB) putBinding(ctx context.Context, b *domain.Binding) error {
	it, err := toBindingItem(b)
	if err != nil {
		return err
	}
	it.Version = b.Version + 1
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("marshal binding %s: %w", b.SN, err)
	}
	p := &dynamodb.PutItemInput{TableName: &db.table, Item: av}
	if b.Version == 0 {
		p.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		p.ConditionExpression = aws.String("version = :v")
		p.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(b.Version)}}
	}
	_, err = db.client.PutItem(ctx, p)
	var ccf *types.ConditionalCheckFailedException
	var throttled *types.ProvisionedThroughputExceededException
	var limit *types.RequestLimitExceeded
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return domain.ErrConflict.Withf("the binding of %s changed meanwhile", b.SN)
	case errors.As(err, &throttled), errors.As(err, &limit):
		return fmt.Errorf("write binding %s: %w: %w", b.SN, ErrRetryable, err)
	}
	return fmt.Errorf("write binding %s: %w", b.SN, err)
}

// BindingHistory returns the device's binding history, oldest first (none for a device never
// bound).
func (db *DB) BindingHistory(ctx context.Context, sn string) ([]domain.Change, error) {
	b, err := db.Binding(ctx, sn)
	switch {
	case domain.KindOf(err) == domain.NotFound:
		return []domain.Change{}, nil
	case err != nil:
		return nil, err
	}
	return b.History, nil
}

// ConfirmationIntervals returns the intervals during which a provider held sn's confirmation
// that meet [from, to) (zero times: all of them), oldest first: the service fee's input.
func (db *DB) ConfirmationIntervals(ctx context.Context, sn string, from, to time.Time) ([]domain.Interval, error) {
	h, err := db.BindingHistory(ctx, sn)
	if err != nil {
		return nil, err
	}
	all := domain.ConfirmationIntervals(h)
	if from.IsZero() && to.IsZero() {
		return all, nil
	}
	out := all[:0]
	for _, i := range all {
		if i.Overlaps(from, to) {
			out = append(out, i)
		}
	}
	return out, nil
}

// ProvidersAt maps each of sns to the provider whose confirmation covers at (SNs with none
// are left out): the rollup's "provider of SN on date" (at: the end of the day). It reads the
// bindings in batches of 100; a binding changed after at answers from its history.
func (db *DB) ProvidersAt(ctx context.Context, sns []string, at time.Time) (map[string]string, error) {
	valid := make([]string, 0, len(sns))
	for _, sn := range sns {
		if _, err := domain.ParseSerialNumber(sn); err == nil {
			valid = append(valid, sn)
		}
	}
	bs, err := db.Bindings(ctx, valid, false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(bs))
	for sn, b := range bs {
		if !b.Since.After(at) {
			if b.State == domain.BindingConfirmed {
				out[sn] = b.Provider
			}
			continue
		}
		if p := domain.ProviderAt(domain.ConfirmationIntervals(b.History), at); p != "" {
			out[sn] = p
		}
	}
	return out, nil
}

// ProviderBindings lists the bindings visible to provider (its number) in state (assigned or
// confirmed; "" for both), a page of at most limit, shard by shard. The cursor is sealed to
// this provider's listing.
func (db *DB) ProviderBindings(ctx context.Context, provider string, state domain.BindingState, cursor string, limit int) (Page[domain.Binding], error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	listing := "gsi1|BIND#" + provider + "#" + string(state)
	shard := 0
	var start map[string]types.AttributeValue
	if cursor != "" {
		k, err := db.openCursor(listing, cursor)
		if err != nil {
			return Page[domain.Binding]{}, err
		}
		s, _ := k["shard"].(*types.AttributeValueMemberS)
		n, perr := -1, error(nil)
		if s != nil {
			n, perr = strconv.Atoi(s.Value)
		}
		if perr != nil || n < 0 || n >= DeviceShards {
			return Page[domain.Binding]{}, domain.ErrInvalidCursor.Withf("the page cursor is not one this API returned for this listing; start again without it")
		}
		shard = n
		delete(k, "shard")
		if len(k) > 0 {
			start = k
		}
	}
	prefix := ""
	if state != "" {
		prefix = string(state) + "#"
	}
	page := Page[domain.Binding]{Items: []domain.Binding{}}
	for shard < DeviceShards {
		q := &dynamodb.QueryInput{
			TableName:              &db.table,
			IndexName:              aws.String("gsi1"),
			KeyConditionExpression: aws.String("gsi1pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: providerShardPK(provider, shard)},
			},
			ExclusiveStartKey: start,
			Limit:             aws.Int32(int32(limit - len(page.Items))),
		}
		if prefix != "" {
			q.KeyConditionExpression = aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :p)")
			q.ExpressionAttributeValues[":p"] = &types.AttributeValueMemberS{Value: prefix}
		}
		out, err := db.client.Query(ctx, q)
		if err != nil {
			return Page[domain.Binding]{}, fmt.Errorf("list bindings of provider %s: %w", provider, err)
		}
		for _, av := range out.Items {
			var it bindingItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return Page[domain.Binding]{}, fmt.Errorf("unmarshal binding: %w", err)
			}
			b, err := it.binding()
			if err != nil {
				return Page[domain.Binding]{}, err
			}
			page.Items = append(page.Items, *b)
		}
		start = out.LastEvaluatedKey
		if len(start) == 0 {
			shard++
		}
		if len(page.Items) >= limit {
			break
		}
	}
	if shard < DeviceShards {
		k := map[string]types.AttributeValue{}
		for n, v := range start {
			k[n] = v
		}
		k["shard"] = &types.AttributeValueMemberS{Value: strconv.Itoa(shard)}
		next, err := db.sealCursor(listing, k)
		if err != nil {
			return Page[domain.Binding]{}, err
		}
		page.Next = next
	}
	return page, nil
}

// NextProviderNumber reads the next free deployment provider number (taken with Tx.TakeCode,
// in the release that approves the provider).
func (db *DB) NextProviderNumber(ctx context.Context) (CodeAllocation, error) {
	it, err := db.get(ctx, "COUNTER#DEPLOYER", "META", "no_counter", "counter DEPLOYER")
	var c counter
	switch {
	case domain.KindOf(err) == domain.NotFound:
	case err != nil:
		return CodeAllocation{}, err
	default:
		if err := unmarshalJSON(it.Data, &c); err != nil {
			return CodeAllocation{}, err
		}
	}
	n, err := domain.ProviderNumberAt(c.Next)
	if err != nil {
		return CodeAllocation{}, err
	}
	return CodeAllocation{Scope: "DEPLOYER", Index: c.Next, Code: n, version: it.Version}, nil
}

// CreateDeployer adds the approved deployment provider to the transaction: its number's item
// and its organisation's (each once).
func (tx *Tx) CreateDeployer(d domain.Deployer) *Tx {
	data, err := marshalJSON(d)
	tx.add(item{PK: "DEPLOYER#" + d.Number, SK: "META", Data: data}, 0, err)
	tx.add(item{PK: "DEPLOYERORG#" + d.Org, SK: "META", Data: data}, 0, err)
	return tx
}

// Deployer returns the approved deployment provider of org. NotFound ("deployer_not_approved").
func (db *DB) Deployer(ctx context.Context, org string) (domain.Deployer, error) {
	return db.deployer(ctx, "DEPLOYERORG#"+org, "deployer_not_approved", fmt.Sprintf("an approved deployment provider %q", org))
}

// DeployerByNumber returns the deployment provider numbered number. NotFound ("provider_not_found").
func (db *DB) DeployerByNumber(ctx context.Context, number string) (domain.Deployer, error) {
	if err := domain.ValidateProviderNumber(number); err != nil {
		return domain.Deployer{}, err
	}
	return db.deployer(ctx, "DEPLOYER#"+number, "provider_not_found", "deployment provider "+number)
}

func (db *DB) deployer(ctx context.Context, pk, code, what string) (domain.Deployer, error) {
	it, err := db.get(ctx, pk, "META", code, what)
	if err != nil {
		return domain.Deployer{}, err
	}
	var d domain.Deployer
	return d, unmarshalJSON(it.Data, &d)
}

func importPK(id string) string { return "BINDIMPORT#" + id }

// SaveBindingImport creates (Version 0) or updates an import, conditional on its version.
func (db *DB) SaveBindingImport(ctx context.Context, im *domain.BindingImport) error {
	data, err := marshalJSON(im)
	if err != nil {
		return err
	}
	tx := db.Tx()
	tx.add(item{PK: importPK(im.ID), SK: "META", Data: data}, im.Version, nil)
	if err := tx.Commit(ctx, "binding import "+im.ID); err != nil {
		return err
	}
	im.Version++
	return nil
}

// BindingImport returns the import id. NotFound ("import_not_found").
func (db *DB) BindingImport(ctx context.Context, id string) (*domain.BindingImport, error) {
	if err := safeID("import", id); err != nil {
		return nil, err
	}
	it, err := db.get(ctx, importPK(id), "META", "import_not_found", "import "+id)
	if err != nil {
		return nil, err
	}
	var im domain.BindingImport
	if err := unmarshalJSON(it.Data, &im); err != nil {
		return nil, err
	}
	im.Version = it.Version
	return &im, nil
}

// BindingItemSize is the stored size of b's item in bytes as DynamoDB bills it (attribute
// names plus values): what one write of it costs, in KB rounded up.
func BindingItemSize(b *domain.Binding) (int, error) {
	it, err := toBindingItem(b)
	if err != nil {
		return 0, err
	}
	it.Version = b.Version + 1
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return 0, err
	}
	return itemSize(av), nil
}

func itemSize(av map[string]types.AttributeValue) int {
	n := 0
	for k, v := range av {
		n += len(k)
		switch x := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(x.Value)
		case *types.AttributeValueMemberB:
			n += len(x.Value)
		case *types.AttributeValueMemberN:
			n += len(x.Value)/2 + 1
		default:
			n += 8
		}
	}
	return n
}

// ConfirmedProviders maps each of sns to the provider confirmed for it on date (YYYY-MM-DD,
// the Asia/Shanghai business day): the one holding its confirmation at the day's last
// instant *(our choice: a device that changes hands during a day counts for the provider that
// holds it when the day closes)*. It is the daily rollup's "provider of SN on date", which
// indexes each figure record for its provider and sums the provider totals.
func (db *DB) ConfirmedProviders(ctx context.Context, date string, sns []string) (map[string]string, error) {
	day, err := time.ParseInLocation(time.DateOnly, date, shanghai)
	if err != nil {
		return nil, fmt.Errorf("providers on %q: %w", date, err)
	}
	return db.ProvidersAt(ctx, sns, DayEnd(day))
}

// DayEnd is the last instant (in milliseconds, the bindings' precision) of the business day
// that starts at day.
func DayEnd(day time.Time) time.Time { return day.AddDate(0, 0, 1).Add(-time.Millisecond) }

// shanghai is the business day's zone: UTC+8 all year since 1991 (no tzdata needed).
var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)
