// Package store is the platform's DynamoDB access. It owns the table's shape; nothing else
// builds keys or reads attributes.
//
// One table, generic key names so every entity fits:
//
//	entity        pk                  sk                 gsi1 (owner listing)               gsi2 (work queues)
//	application   APP#<id>            META               ORG#<org> / APP#<created>#<id>     QUEUE#APP#<type>#<pending|decided> / <submitted>#<id>
//	model         MODEL#<id>          META               ORG#<org> / MODEL#<created>#<id>   QUEUE#MODEL#<pending|decided> / <submitted>#<id>
//	held decision <entity pk>         META#DECISION      –                                  –   (a reviewer's decision until released; held.go)
//	Pay Score     PAYSCORE#<id>       META               ORG#<org> / PAYSCORE#<created>#<id>  QUEUE#PAYSCORE#<application|acceptance>#<pending|decided> | PAYSCORE#RESUME / <updated>#<id>
//	Pay Score tok PAYSCORE#<id>       TOKEN#<step>       –                                  –   (the Pay Score workflow's callback tokens; payscore.go)
//	model name    MODELNAME#<org>#<name, lower case>  META  –                               –   (a vendor's model name is taken once; models.go)
//	task token    MODEL#<id>          TOKEN#<step>       –                                  –
//	pipeline      MODEL#<id>          PIPELINE           –                                  SWEEP#PIPELINE / <next due>#<model>   (stage, tracks, inspection, restriction set,
//	                                                                                            certificate validity, open rectification deadlines; on gsi2 while the daily sweep has something due)
//	spot check    MODEL#<id>          SPOTCHECK#<id>     –                                  –   (a market sample and its rectification order; spotchecks.go)
//	alert         ALERTS#reviewers    MSG#<at>#<id>      –                                  –   (what the daily sweep raised to the reviewers; alerts.go)
//	raise claim   RAISED#<key>        META               –                                  –   (an overdue review raised once)
//	test cameras  MODEL#<id>          TESTCAM#<request>  –                                  –   (a vendor's request for free test cameras)
//	camera count  MODEL#<id> | VENDOR#<org>  TESTCAM#COUNT  –                           –   (cameras given; conditions hold 2 per model, 4 per vendor)
//	test device   TESTDEV#<sn>        META               ORG#<org> / TESTDEV#<model>#<sn>   TESTDEV#ACTIVE / <clearAt>#<sn>   (while active: the daily clearing)
//	history       <entity pk>         HIST#<at>#<seq>    –                                  –
//	device        DEV#<sn[0:5]>#<shard>  D#<sn>          –                                  DEVATTN#<sn[0:5]>#<status> / <sn>   (real attributes, sparse; devices.go;
//	                                                                                            its deployment provider is the binding item's, listed on the binding's gsi1)
//	device hist.  DEV#<sn[0:5]>#<shard>  H#<sn>#<at>#<seq>  –                               –
//	PVT pass mark MODEL#<id>          FACTORY#PVTPASS    –                                  –   (a device passed the factory check in PVT: the MP gate)
//	factory code  VENDOR#<org>        FACTORYCODE        –                                  –   (the current device authorization code: id, SHA-256, expiry)
//	code lookup   FCODE#<sha256>      META               –                                  –   (the authorizer's lookup; deleted by a reset)
//	vendor        VENDOR#<org>        META               –                                  –
//	outbox msg    ORG#<org>           MSG#<at>#<id>      –                                  –
//	code counter  COUNTER#<scope>     META               –                                  –   (next code index; only grows)
//	code claim    CODE#<scope>#<code> META               –                                  –   (a code is taken once, ever)
//	idem. claim   IDEM#<scope hash>   META               –                                  –   (an Idempotency-Key: request fingerprint, entity id)
//	sub. version  SUB#<model>#<kind>  VER#<nnnn>         –                                  QUEUE#SUB#pending / <submitted>#<model>#<kind>#VER#<nnnn>
//	                                                                                            (one item per version, the last is current; queued while under review)
//	sub. file     SUB#<model>#<kind>  VER#<nnnn>#SLOT#<slot id>  –                          –   (one item per file of a version: slots never contend)
//	upload ticket UPTICKET#<shard 0-3>  <YYYY-MM-DD requested>#<object key>  –            –   (an issued upload until it settles; TTL 7 days; uploads.go)
//	fee policy    FEEPOLICY           V#<nnnnnn>         –                                  –   (a fee policy version; usedAt once a statement used it: fee.go)
//	fee statement FEESTMT#<provider>#<month>  V#<nnnn>   FEESTMTS#<provider> / <month>#V#<nnnn>   FEEMONTH#<month> / <provider>#V#<nnnn>   (header; lines in S3)
//	fee sign-up   FEEDEV#<sn>         SIGNUP#<provider>#<confirmed from>   FEESIGNUPS#<provider> / <sn>#<confirmed from>   –
//	fee earnings  FEEDEV#<sn>         EARNED             –                                  –   (one per device: a number attribute EARN#<month>#<provider> per month and
//	                                                                                            provider it earned from; the monthly run reads 100 devices per BatchGetItem; fee.go)
//	binding       DEV#<sn[0:5]>#<shard>  B#<sn>          BIND#<provider>#<shard> / <state>#<sn>  –   (a device's deployment provider with its history;
//	                                                                                            gsi1 while assigned or confirmed; bindings.go)
//	deployer      DEPLOYER#<number> | DEPLOYERORG#<org>  META  –                            –   (provider number ↔ organisation, given at the release)
//	bind. import  BINDIMPORT#<id>     META               –                                  –   (a vendor's CSV import: status, totals)
//	mode request  MODEREQ#<id>        META               –                                  QUEUE#MODEREQ#pending / <requested>#<id>   (a vendor's software-mode change
//	                                                                                            request; queued while pending; moderequests.go)
//	inv. export   EXPORT#<id>         META               –                                  –   (an asynchronous inventory CSV export: filters, status, lease, rows; exports.go)
//
// Binding cost (bindings.go, measured by shared/binding TestBindings_BulkAssignCost): a bulk
// assignment of 500 new devices is 510 requests — 5 BatchGetItem for the devices, 5 for the
// bindings, 500 conditional PutItem (8 in flight) — and 1,000 WCU (1 per binding item of
// ~250 bytes + 1 for its gsi1 entry); the same request again is 10 BatchGetItem and no write.
//
// The daily transaction figures have a table of their own (FiguresTable; figures.go).
//
// The review queue holds only what is under review: "pending" until a reviewer decides,
// "decided" until the release of its calendar publishes the decision. Every queue is a
// ReviewQueue (review.go): QUEUE#<key>#<state>, the entities' key prefix and the release
// calendar (domain.ReleaseCalendars) that publishes it.
//
// A submission version's files are items of their own (see submissions.go): asking for one
// slot's upload or settling its arrival writes only that slot's item, so the slots of a
// version never contend; submitting and deciding write the version item and re-write its
// files at the revisions read.
//
// Upload tickets are real attributes (requestedAt, issuedAt, ttl), not the JSON envelope: the
// reconciliation sweep reads them with one Query per shard (4 a run, from the oldest live day on),
// 0.5 read unit per 4 KB of live tickets, plus one S3 HeadObject per ticket older than an hour;
// issuing an upload costs one PutItem more, settling one a DeleteItem.
//
// Access patterns: get an entity by id with its held decision (Query pk, begins_with META); an entity and its history
// (Query pk, begins_with HIST#); an organisation's entities newest first (gsi1); a review
// queue oldest first (gsi2). Every write states its precondition: creates use
// attribute_not_exists(pk), updates compare the item's version. Entity writes and their
// history entries go in one transaction, so history is never missing nor invented.
package store

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
)

// DB is the table and the client that reaches it.
type DB struct {
	client  *dynamodb.Client
	table   string
	cursors cipher.AEAD // seals page cursors (cursor.go)
}

// New returns the store for table. Functions that hand page cursors to clients pass
// WithCursorKey.
func New(client *dynamodb.Client, table string, opts ...Option) *DB {
	db := &DB{client: client, table: table, cursors: processSealer}
	for _, o := range opts {
		o(db)
	}
	return db
}

// NewClient is a function's DynamoDB client, built from its settings (endpoint override:
// AWS_ENDPOINT_URL_DYNAMODB).
func NewClient(s awsx.Settings) *dynamodb.Client {
	return dynamodb.NewFromConfig(s.Config(s.DynamoDBURL))
}

// TableInput is the table's definition: the template's Table resource declares the same keys
// and indexes (infra/template_test.go checks), and tests create per-test tables from it.
func TableInput(name string) *dynamodb.CreateTableInput {
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
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			attr("pk"), attr("sk"), attr("gsi1pk"), attr("gsi1sk"), attr("gsi2pk"), attr("gsi2sk"),
		},
		KeySchema: keys("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String("gsi1"), KeySchema: keys("gsi1pk", "gsi1sk"), Projection: all},
			{IndexName: aws.String("gsi2"), KeySchema: keys("gsi2pk", "gsi2sk"), Projection: all},
		},
	}
}

// item is the envelope every stored item shares: keys, optional index keys, a version and the
// entity as a JSON-like map under "data". Keeping the entity in one attribute keeps the stored
// shape independent of Go field tags on domain types.
type item struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	GSI1PK  string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK  string `dynamodbav:"gsi1sk,omitempty"`
	GSI2PK  string `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK  string `dynamodbav:"gsi2sk,omitempty"`
	Version int    `dynamodbav:"version"`
	Data    []byte `dynamodbav:"data"`
	TTL     int64  `dynamodbav:"ttl,omitempty"`
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: sk},
	}
}

// put returns a transactional put of it. version is the version the stored item must have
// (0: the item must not exist); the written item carries version+1.
func (db *DB) put(it item, version int) (types.TransactWriteItem, error) {
	it.Version = version + 1
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal %s/%s: %w", it.PK, it.SK, err)
	}
	p := &types.Put{TableName: &db.table, Item: av}
	if version == 0 {
		p.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		p.ConditionExpression = aws.String("version = :v")
		p.ExpressionAttributeValues = map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: fmt.Sprint(version)},
		}
	}
	return types.TransactWriteItem{Put: p}, nil
}

var histSeq atomic.Uint64

// history returns the put of one history entry of the entity at pk. The sort key orders
// entries by time; the sequence keeps two entries of the same instant apart.
func (db *DB) history(pk string, c domain.Change) (types.TransactWriteItem, error) {
	data, err := marshalJSON(c)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	sk := fmt.Sprintf("HIST#%s#%06d", ts(c.At), histSeq.Add(1)%1_000_000)
	return db.put(item{PK: pk, SK: sk, Data: data}, 0)
}

// write runs writes as one transaction. A failed condition becomes a Conflict error:
// conflicts[i] when writes[i] declared one (a name already taken), else code "conflict" (the
// entity changed since it was read, or already exists). The first failed write in order wins.
func (db *DB) write(ctx context.Context, what string, writes []types.TransactWriteItem, conflicts []error) error {
	_, err := db.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			// TransactionConflict: another transaction was writing the same item at that moment.
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i < len(conflicts) && conflicts[i] != nil {
					return conflicts[i]
				}
				return domain.ErrConflict.Withf("%s changed meanwhile; reload and retry", what)
			case "TransactionConflict":
				return domain.ErrConflict.Withf("%s changed meanwhile; reload and retry", what)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}

// get reads the item at pk/sk. A missing item is a NotFound error with the given code.
func (db *DB) get(ctx context.Context, pk, sk, code, what string) (item, error) {
	out, err := db.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &db.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return item{}, fmt.Errorf("get %s: %w", what, err)
	}
	if out.Item == nil {
		return item{}, domain.Errorf(domain.NotFound, code, "%s does not exist", what)
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return item{}, fmt.Errorf("unmarshal %s: %w", what, err)
	}
	return it, nil
}

// Page is one page of a listing; Next is the opaque cursor of the following page ("" at the end).
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// query runs one page of q and decodes each item's entity into T.
func query[T any](ctx context.Context, db *DB, q *dynamodb.QueryInput, cursor string, limit int) (Page[T], error) {
	q.TableName = &db.table
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	q.Limit = aws.Int32(int32(limit))
	listing := listingOf(q)
	if cursor != "" {
		start, err := db.openCursor(listing, cursor)
		if err != nil {
			return Page[T]{}, err
		}
		q.ExclusiveStartKey = start
	}
	out, err := db.client.Query(ctx, q)
	if err != nil {
		return Page[T]{}, fmt.Errorf("query: %w", err)
	}
	page := Page[T]{Items: make([]T, 0, len(out.Items))}
	for _, av := range out.Items {
		var it item
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return Page[T]{}, fmt.Errorf("unmarshal: %w", err)
		}
		var v T
		if err := unmarshalJSON(it.Data, &v); err != nil {
			return Page[T]{}, err
		}
		page.Items = append(page.Items, v)
	}
	if len(out.LastEvaluatedKey) > 0 {
		page.Next, err = db.sealCursor(listing, out.LastEvaluatedKey)
		if err != nil {
			return Page[T]{}, err
		}
	}
	return page, nil
}

// newestFirst is the query for the items of partition pk (in index, "" for the table) whose
// sort key starts with prefix, newest first: what every "list mine" access pattern reads.
func newestFirst(index, pk, prefix string) *dynamodb.QueryInput {
	pkName, skName := "pk", "sk"
	q := &dynamodb.QueryInput{ScanIndexForward: aws.Bool(false)}
	if index != "" {
		q.IndexName = aws.String(index)
		pkName, skName = index+"pk", index+"sk"
	}
	q.KeyConditionExpression = aws.String(pkName + " = :pk AND begins_with(" + skName + ", :prefix)")
	q.ExpressionAttributeValues = map[string]types.AttributeValue{
		":pk":     &types.AttributeValueMemberS{Value: pk},
		":prefix": &types.AttributeValueMemberS{Value: prefix},
	}
	return q
}

// historyOf returns every history entry of the entity at pk, oldest first.
func (db *DB) historyOf(ctx context.Context, pk string) ([]domain.Change, error) {
	var all []domain.Change
	cursor := ""
	for {
		p, err := query[domain.Change](ctx, db, &dynamodb.QueryInput{
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :h)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: pk},
				":h":  &types.AttributeValueMemberS{Value: "HIST#"},
			},
			ConsistentRead: aws.Bool(true),
		}, cursor, 100)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all, nil
		}
		cursor = p.Next
	}
}

// ts formats t for sort keys: UTC with a fixed nine-digit fraction, so keys sort as times do
// (RFC3339Nano drops trailing zeros, and "…:00Z" would sort after "…:00.5Z").
func ts(t time.Time) string { return t.UTC().Format(tsLayout) }

// tsLayout is the layout of ts: fixed width, so the strings sort as the times.
const tsLayout = "2006-01-02T15:04:05.000000000Z"

// safeID refuses ids that could break out of their key segment.
func safeID(what, id string) error {
	if id == "" || len(id) > 100 || strings.ContainsAny(id, "#/ ") {
		return domain.Errorf(domain.NotFound, what+"_not_found", "%s %q does not exist", what, id)
	}
	return nil
}
