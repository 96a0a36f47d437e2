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
	"github.com/facepay/platform/shared/fee"
)

// The technical service fee's items (layout table in store.go):
//
//	fee policy     FEEPOLICY                  V#<nnnnnn>                 one item per version (fee.PolicyRecord); attribute usedAt once a statement used it
//	fee statement  FEESTMT#<provider>#<month> V#<nnnn>                   one item per version (fee.StatementRecord: header and file keys)
//	                 gsi1 FEESTMTS#<provider> / <month>#V#<nnnn> (a provider's statements)   gsi2 FEEMONTH#<month> / <provider>#V#<nnnn> (a month's, reviewers)
//	fee sign-up    FEEDEV#<sn>                SIGNUP#<provider>#<confirmed from>   (fee.Enrolment)   gsi1 FEESIGNUPS#<provider> / <sn>#<confirmed from>
//	fee earnings   FEEDEV#<sn>                EARNED                     one item per device: a number attribute EARN#<month>#<provider> (fen) per month and provider
//
// A policy version is edited only while no statement has used it: the edit's condition is
// `version = :read AND attribute_not_exists(usedAt)`, and saving a statement sets usedAt in
// the statement's own transaction, conditioned on the policy's version as the run read it. So
// either the edit lands first (the statement's write fails and the run recomputes) or the
// statement does (the edit fails with fee_policy_in_use).
//
// Per provider-month the monthly run reads the sign-ups with one Query (paged) on gsi1
// FEESIGNUPS#<provider> plus one Query per device that had another provider during the month,
// and what its n devices earned before with ceil(n/100) BatchGetItem on the EARNED items (the
// total cap is the device's, across providers); it writes n UpdateItem (the month's earnings).

const feePolicyPK = "FEEPOLICY"

func feePolicySK(v int) string                    { return fmt.Sprintf("V#%06d", v) }
func feeStatementPK(p string, m fee.Month) string { return "FEESTMT#" + p + "#" + string(m) }
func feeVersionSK(v int) string                   { return fmt.Sprintf("V#%04d", v) }
func feeDevicePK(sn string) string                { return "FEEDEV#" + sn }

// policyItem is the envelope plus usedAt, which a statement's transaction sets on its own.
type policyItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Version int    `dynamodbav:"version"`
	Data    []byte `dynamodbav:"data"`
	UsedAt  string `dynamodbav:"usedAt,omitempty"`
}

func (p policyItem) record() (fee.PolicyRecord, error) {
	var r fee.PolicyRecord
	if err := unmarshalJSON(p.Data, &r); err != nil {
		return r, err
	}
	r.Revision = p.Version
	if p.UsedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, p.UsedAt)
		if err != nil {
			return r, fmt.Errorf("policy %s usedAt: %w", p.SK, err)
		}
		r.UsedAt = &t
	}
	return r, nil
}

// FeePolicies returns every policy version, oldest first.
func (db *DB) FeePolicies(ctx context.Context) ([]fee.PolicyRecord, error) {
	var out []fee.PolicyRecord
	q := &dynamodb.QueryInput{
		TableName:                 &db.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: feePolicyPK}},
		ConsistentRead:            aws.Bool(true),
	}
	for {
		res, err := db.client.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("query fee policies: %w", err)
		}
		for _, av := range res.Items {
			var it policyItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("unmarshal fee policy: %w", err)
			}
			r, err := it.record()
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// FeePolicy returns policy version v. NotFound ("fee_policy_not_found").
func (db *DB) FeePolicy(ctx context.Context, v int) (fee.PolicyRecord, error) {
	out, err := db.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &db.table,
		Key: key(feePolicyPK, feePolicySK(v)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fee.PolicyRecord{}, fmt.Errorf("get fee policy %d: %w", v, err)
	}
	if out.Item == nil {
		return fee.PolicyRecord{}, domain.Errorf(domain.NotFound, "fee_policy_not_found", "fee policy version %d does not exist", v)
	}
	var it policyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return fee.PolicyRecord{}, fmt.Errorf("unmarshal fee policy: %w", err)
	}
	return it.record()
}

// CreateFeePolicy stores r as the next policy version (setting r.Policy.Version and
// r.Revision), with the Idempotency-Key claim c when given, in one transaction. Conflict
// ("conflict") when another version was created meanwhile (retry: the next attempt takes the
// next number) or the claim exists.
func (db *DB) CreateFeePolicy(ctx context.Context, r *fee.PolicyRecord, c *Claim) error {
	all, err := db.FeePolicies(ctx)
	if err != nil {
		return err
	}
	r.Policy.Version = len(all) + 1 // versions are 1..n, never deleted
	r.UsedAt, r.Revision = nil, 0
	data, err := marshalJSON(r)
	tx := db.Tx()
	tx.add(item{PK: feePolicyPK, SK: feePolicySK(r.Policy.Version), Data: data}, 0, err)
	if c != nil {
		c.EntityID = strconv.Itoa(r.Policy.Version)
		tx.claim(*c)
	}
	if err := tx.Commit(ctx, "fee policy"); err != nil {
		return err
	}
	r.Revision = 1
	return nil
}

// UpdateFeePolicy replaces policy version r.Policy.Version with r if it still has r.Revision
// and no statement has used it. Conflict: "fee_policy_in_use" (a statement used it: create a
// new version instead), "conflict" (edited meanwhile: reload); NotFound "fee_policy_not_found".
func (db *DB) UpdateFeePolicy(ctx context.Context, r *fee.PolicyRecord) error {
	used, revision := r.UsedAt, r.Revision
	r.UsedAt = nil
	data, err := marshalJSON(r)
	r.UsedAt = used
	if err != nil {
		return err
	}
	av, err := attributevalue.MarshalMap(policyItem{PK: feePolicyPK, SK: feePolicySK(r.Policy.Version), Version: revision + 1, Data: data})
	if err != nil {
		return fmt.Errorf("marshal fee policy: %w", err)
	}
	_, err = db.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &db.table, Item: av,
		ConditionExpression: aws.String("version = :v AND attribute_not_exists(usedAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: strconv.Itoa(revision)},
		}})
	if errors.As(err, new(*types.ConditionalCheckFailedException)) {
		now, gerr := db.FeePolicy(ctx, r.Policy.Version)
		switch {
		case gerr != nil:
			return gerr
		case now.UsedAt != nil:
			return errFeePolicyInUse(r.Policy.Version)
		default:
			return domain.ErrConflict.Withf("fee policy version %d changed meanwhile; reload and retry", r.Policy.Version)
		}
	}
	if err != nil {
		return fmt.Errorf("put fee policy %d: %w", r.Policy.Version, err)
	}
	r.Revision = revision + 1
	return nil
}

func errFeePolicyInUse(v int) error {
	return domain.Errorf(domain.Conflict, "fee_policy_in_use", "fee policy version %d was used by a statement and is never edited; create a new version", v)
}

func statementItem(r fee.StatementRecord) (item, error) {
	data, err := marshalJSON(r)
	return item{PK: feeStatementPK(r.Provider, r.Month), SK: feeVersionSK(r.Version), Data: data,
		GSI1PK: "FEESTMTS#" + r.Provider, GSI1SK: string(r.Month) + "#" + feeVersionSK(r.Version),
		GSI2PK: "FEEMONTH#" + string(r.Month), GSI2SK: r.Provider + "#" + feeVersionSK(r.Version)}, err
}

// SaveFeeStatement stores statement version r and marks its policy version used, in one
// transaction conditioned on the policy still having policyRevision. Conflict ("conflict")
// when the version exists or the policy changed since the run read it.
func (db *DB) SaveFeeStatement(ctx context.Context, r fee.StatementRecord, policyRevision int) error {
	it, err := statementItem(r)
	tx := db.Tx()
	tx.add(it, 0, err)
	tx.addWrite(types.TransactWriteItem{Update: &types.Update{
		TableName:           &db.table,
		Key:                 key(feePolicyPK, feePolicySK(r.PolicyVersion)),
		ConditionExpression: aws.String("version = :r"),
		UpdateExpression:    aws.String("SET usedAt = if_not_exists(usedAt, :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":r":   &types.AttributeValueMemberN{Value: strconv.Itoa(policyRevision)},
			":now": &types.AttributeValueMemberS{Value: r.ComputedAt.UTC().Format(time.RFC3339Nano)},
		},
	}}, nil, domain.ErrConflict.Withf("fee policy version %d changed while the statement was computed; compute again", r.PolicyVersion))
	return tx.Commit(ctx, fmt.Sprintf("fee statement %s %s v%d", r.Provider, r.Month, r.Version))
}

func decodeStatement(it item) (fee.StatementRecord, error) {
	var r fee.StatementRecord
	return r, unmarshalJSON(it.Data, &r)
}

// LatestFeeStatement returns provider's latest statement version for m. NotFound
// ("fee_statement_not_found").
func (db *DB) LatestFeeStatement(ctx context.Context, provider string, m fee.Month) (fee.StatementRecord, error) {
	q := newestFirst("", feeStatementPK(provider, m), "V#")
	q.ConsistentRead = aws.Bool(true)
	p, err := query[fee.StatementRecord](ctx, db, q, "", 1)
	if err != nil {
		return fee.StatementRecord{}, err
	}
	if len(p.Items) == 0 {
		return fee.StatementRecord{}, domain.Errorf(domain.NotFound, "fee_statement_not_found", "no statement for %s", m)
	}
	return p.Items[0], nil
}

// FeeStatement returns version v of provider's statement for m. NotFound ("fee_statement_not_found").
func (db *DB) FeeStatement(ctx context.Context, provider string, m fee.Month, v int) (fee.StatementRecord, error) {
	it, err := db.get(ctx, feeStatementPK(provider, m), feeVersionSK(v), "fee_statement_not_found", fmt.Sprintf("statement version %d for %s", v, m))
	if err != nil {
		return fee.StatementRecord{}, err
	}
	return decodeStatement(it)
}

// FeeStatementVersions returns every version of provider's statement for m, newest first.
func (db *DB) FeeStatementVersions(ctx context.Context, provider string, m fee.Month) ([]fee.StatementRecord, error) {
	q := newestFirst("", feeStatementPK(provider, m), "V#")
	q.ConsistentRead = aws.Bool(true)
	return all[fee.StatementRecord](ctx, db, q)
}

// FeeStatementsOf returns one page of provider's statement versions, newest month first.
func (db *DB) FeeStatementsOf(ctx context.Context, provider, cursor string, limit int) (Page[fee.StatementRecord], error) {
	return query[fee.StatementRecord](ctx, db, wholePartition("gsi1", "FEESTMTS#"+provider, false), cursor, limit)
}

// FeeStatementsForMonth returns one page of every provider's statement versions for m, by
// provider (reviewers).
func (db *DB) FeeStatementsForMonth(ctx context.Context, m fee.Month, cursor string, limit int) (Page[fee.StatementRecord], error) {
	q := wholePartition("gsi2", "FEEMONTH#"+string(m), true)
	return query[fee.StatementRecord](ctx, db, q, cursor, limit)
}

// FeeMonthStated reports whether any provider has a statement for m: one Query of Limit 1 on
// the month's index partition (the rollup asks it after every day, fee.Runner.Restate).
func (db *DB) FeeMonthStated(ctx context.Context, m fee.Month) (bool, error) {
	p, err := db.FeeStatementsForMonth(ctx, m, "", 1)
	return len(p.Items) > 0, err
}

// FeeStatementsOfMonth returns the latest version of each provider's statement for m.
func (db *DB) FeeStatementsOfMonth(ctx context.Context, m fee.Month) ([]fee.StatementRecord, error) {
	q := wholePartition("gsi2", "FEEMONTH#"+string(m), true)
	versions, err := all[fee.StatementRecord](ctx, db, q)
	if err != nil {
		return nil, err
	}
	var out []fee.StatementRecord
	for _, r := range versions { // by provider, then version: the last of each provider is its latest
		if n := len(out); n > 0 && out[n-1].Provider == r.Provider {
			out[n-1] = r
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// wholePartition queries every item of partition pk of index, in sort key order (forward) or
// reversed.
func wholePartition(index, pk string, forward bool) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{IndexName: aws.String(index), ScanIndexForward: aws.Bool(forward),
		KeyConditionExpression:    aws.String(index + "pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}}}
}

func enrolmentSK(provider string, from time.Time) string {
	return "SIGNUP#" + provider + "#" + ts(from)
}

// CreateFeeEnrolment stores sign-up e. Conflict ("conflict") when the device already has one
// for the same provider and confirmation (read it with FeeEnrolmentsOf). One conditional
// PutItem: a single item needs no transaction (which would bill twice the write units).
func (db *DB) CreateFeeEnrolment(ctx context.Context, e fee.Enrolment) error {
	data, err := marshalJSON(e)
	if err != nil {
		return err
	}
	av, err := attributevalue.MarshalMap(item{PK: feeDevicePK(e.SN), SK: enrolmentSK(e.Provider, e.ConfirmedFrom), Data: data,
		GSI1PK: "FEESIGNUPS#" + e.Provider, GSI1SK: e.SN + "#" + ts(e.ConfirmedFrom), Version: 1})
	if err != nil {
		return fmt.Errorf("marshal sign-up of %s: %w", e.SN, err)
	}
	_, err = db.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &db.table, Item: av,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if errors.As(err, new(*types.ConditionalCheckFailedException)) {
		return domain.ErrConflict.Withf("device %s is already signed up within this confirmation", e.SN)
	}
	if err != nil {
		return fmt.Errorf("put sign-up of %s: %w", e.SN, err)
	}
	return nil
}

// FeeEnrolmentsByProviderAll returns every sign-up provider made, by SN: its sign-ups index
// (gsi1 FEESIGNUPS#<provider>), one Query per MB (about 4,000 sign-ups). Eventually
// consistent: a sign-up written a moment ago may be missing (its write then fails on the
// condition, and the caller reads the device again).
func (db *DB) FeeEnrolmentsByProviderAll(ctx context.Context, provider string) (map[string][]fee.Enrolment, error) {
	if strings.Contains(provider, "#") {
		return nil, domain.Errorf(domain.Invalid, "invalid_provider", "a provider number has no '#'")
	}
	q := wholePartition("gsi1", "FEESIGNUPS#"+provider, true)
	es, err := all[fee.Enrolment](ctx, db, q)
	if err != nil {
		return nil, err
	}
	out := map[string][]fee.Enrolment{}
	for _, e := range es {
		out[e.SN] = append(out[e.SN], e)
	}
	return out, nil
}

// FeeEnrolmentsOf returns device sn's sign-ups, to every provider.
func (db *DB) FeeEnrolmentsOf(ctx context.Context, sn string) ([]fee.Enrolment, error) {
	q := newestFirst("", feeDevicePK(sn), "SIGNUP#")
	q.ConsistentRead, q.ScanIndexForward = aws.Bool(true), aws.Bool(true)
	return all[fee.Enrolment](ctx, db, q)
}

// FeeEnrolmentsByProvider returns one page of provider's sign-ups, by SN.
func (db *DB) FeeEnrolmentsByProvider(ctx context.Context, provider, cursor string, limit int) (Page[fee.Enrolment], error) {
	q := wholePartition("gsi1", "FEESIGNUPS#"+provider, true)
	return query[fee.Enrolment](ctx, db, q, cursor, limit)
}

// FeeSignUps returns the sign-ups the monthly run needs for provider's month: every sign-up
// provider made (its sign-ups index, one Query per MB, about 4,000 sign-ups) and every sign-up
// of each of others (a device that had another provider during the month: its partition, one
// consistent Query each), by SN. The index is eventually consistent: a sign-up written within
// the last second may be missing; the month is recomputed at the next month's run.
func (db *DB) FeeSignUps(ctx context.Context, provider string, others []string) (map[string][]fee.Enrolment, error) {
	out, err := db.FeeEnrolmentsByProviderAll(ctx, provider)
	if err != nil {
		return nil, err
	}
	whole, err := perDevice(ctx, others, db.FeeEnrolmentsOf)
	if err != nil {
		return nil, err
	}
	for sn, es := range whole {
		out[sn] = es
	}
	return out, nil
}

// FeeEnrolments returns the sign-ups of each of sns (a query per device, a few at a time).
func (db *DB) FeeEnrolments(ctx context.Context, sns []string) (map[string][]fee.Enrolment, error) {
	return perDevice(ctx, sns, db.FeeEnrolmentsOf)
}

// A device's earnings are one item (FEEDEV#<sn> / EARNED) with one number attribute per month
// and provider it earned from, named EARN#<month>#<provider>: what it earned before a month,
// across providers, is one key, so the monthly run reads 100 devices per BatchGetItem.
const earnedSK = "EARNED"

func earnAttr(m fee.Month, provider string) string { return "EARN#" + string(m) + "#" + provider }

// RecordFeeEarnings writes what each device of s earns from s's provider in s's month (one
// UpdateItem per device, 8 at a time), and removes the figure of devices an earlier version
// listed and s does not. Writing the same statement again writes the same values: it is safe to
// repeat after a crash.
func (db *DB) RecordFeeEarnings(ctx context.Context, s fee.Statement) error {
	amounts := make(map[string]*fee.Fen, len(s.Lines))
	for _, l := range s.Lines {
		amounts[l.SN] = &l.AmountFen
	}
	for _, c := range s.Changes {
		if _, listed := amounts[c.SN]; c.Kind == fee.ChangeRemoved && !listed {
			amounts[c.SN] = nil
		}
	}
	sns := make([]string, 0, len(amounts))
	for sn := range amounts {
		sns = append(sns, sn)
	}
	_, err := perDevice(ctx, sns, func(ctx context.Context, sn string) (struct{}, error) {
		in := &dynamodb.UpdateItemInput{TableName: &db.table, Key: key(feeDevicePK(sn), earnedSK),
			ExpressionAttributeNames: map[string]string{"#a": earnAttr(s.Month, s.Provider)}}
		if a := amounts[sn]; a != nil {
			in.UpdateExpression = aws.String("SET #a = :v")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(*a, 10)}}
		} else {
			in.UpdateExpression = aws.String("REMOVE #a")
		}
		if _, err := db.client.UpdateItem(ctx, in); err != nil {
			return struct{}{}, fmt.Errorf("record earning of %s: %w", sn, err)
		}
		return struct{}{}, nil
	})
	return err
}

// batchWrite writes reqs, resending what DynamoDB leaves unprocessed (throttling) with backoff.
func (db *DB) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt == 8 {
			return fmt.Errorf("batch write: %d items still unprocessed", len(reqs))
		}
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 20 * time.Millisecond):
			}
		}
		out, err := db.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{db.table: reqs}})
		if err != nil {
			return fmt.Errorf("batch write: %w", err)
		}
		reqs = out.UnprocessedItems[db.table]
	}
	return nil
}

// FeeEarnedBefore returns what each of sns earned before month m, from every provider: their
// earnings items, 100 per BatchGetItem (strongly consistent: the run has just recorded the
// month before).
func (db *DB) FeeEarnedBefore(ctx context.Context, m fee.Month, sns []string) (map[string]fee.Fen, error) {
	out := make(map[string]fee.Fen, len(sns))
	for _, sn := range sns {
		if strings.Contains(sn, "#") {
			return nil, domain.Errorf(domain.Invalid, "invalid_sn", "SN %q is not valid", sn)
		}
		out[sn] = 0
	}
	keyOf := func(sn string) map[string]types.AttributeValue { return key(feeDevicePK(sn), earnedSK) }
	err := db.batchGet(ctx, sns, keyOf, true, func(av map[string]types.AttributeValue) error {
		pk, _ := av["pk"].(*types.AttributeValueMemberS)
		if pk == nil {
			return fmt.Errorf("earnings item without pk")
		}
		sn := strings.TrimPrefix(pk.Value, "FEEDEV#")
		for name, v := range av {
			rest, ok := strings.CutPrefix(name, "EARN#")
			if !ok || len(rest) < 7 || fee.Month(rest[:7]) >= m {
				continue
			}
			n, ok := v.(*types.AttributeValueMemberN)
			if !ok {
				return fmt.Errorf("earning %s of %s is not a number", name, sn)
			}
			amount, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				return fmt.Errorf("earning %s of %s: %w", name, sn, err)
			}
			out[sn] += amount
		}
		return nil
	})
	return out, err
}

// perDevice runs f for each of sns, eight at a time, and collects the results by SN.
func perDevice[T any](ctx context.Context, sns []string, f func(context.Context, string) (T, error)) (map[string]T, error) {
	out := make(map[string]T, len(sns))
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, sn := range sns {
		if strings.ContainsAny(sn, "#") {
			return nil, domain.Errorf(domain.Invalid, "invalid_sn", "SN %q is not valid", sn)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			v, err := f(ctx, sn)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			out[sn] = v
		}()
	}
	wg.Wait()
	return out, firstErr
}
