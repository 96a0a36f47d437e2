package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Queue states.
const (
	QueuePending = "pending" // no decision yet
	QueueDecided = "decided" // a decision is held until the weekly release
)

func queueState(decided bool) string {
	if decided {
		return QueueDecided
	}
	return QueuePending
}

// ReviewQueue is one queue of a reviewable entity whose decisions are held (held.go): where its
// entities wait in gsi2 ("QUEUE#<Key>#pending|decided") and the release calendar that
// publishes their decisions (domain.ReleaseCalendars). An entity type plugs into held
// decisions by naming its queues here; the release (functions/release-decisions) walks every
// queue's decided part, each as of its own calendar; the review-SLA sweep (functions/review-sla)
// walks every queue's pending part against the queue's SLA, and the reconciliation sweep
// (functions/reconcile) every decided part against its calendar's last due release.
type ReviewQueue struct {
	Key      string // e.g. "APP#device_vendor", "MODEL"
	Entity   string // "application", "model", ...: what the release counts
	PKPrefix string // the entities' partition key prefix ("APP#"); the rest is the entity id
	Calendar string // domain.CalendarWeekly, ...
	// Name is the queue in metrics (OverdueReviews' Queue dimension) and logs.
	Name string // "applications/device_vendor", "models", "payscore/application", ...
	// Title is what one item of the queue is, in a reviewer's alert; Kind is the entity kind
	// messages and alerts name (domain.Message.Entity: "application", "model", "payscore").
	Title string // "device_vendor application", "model registration", ...
	Kind  string
	SLA   domain.ReviewSLA
}

// GSI is the queue's gsi2 partition for state (QueuePending or QueueDecided).
func (q ReviewQueue) GSI(state string) string { return "QUEUE#" + q.Key + "#" + state }

// ApplicationReviewQueue is the review queue of partner applications of type t.
func ApplicationReviewQueue(t domain.PartnerType) ReviewQueue {
	return ReviewQueue{Key: "APP#" + string(t), Entity: "application", PKPrefix: "APP#", Calendar: domain.CalendarWeekly,
		Name: "applications/" + string(t), Title: string(t) + " application", Kind: "application", SLA: domain.Week}
}

// ModelReviewQueue is the review queue of model registrations.
var ModelReviewQueue = ReviewQueue{Key: "MODEL", Entity: "model", PKPrefix: "MODEL#", Calendar: domain.CalendarWeekly,
	Name: "models", Title: "model registration", Kind: "model", SLA: domain.Week}

// ReviewQueues lists every queue whose decisions are held, in release order.
func ReviewQueues() []ReviewQueue {
	var out []ReviewQueue
	for _, t := range domain.PartnerTypes {
		out = append(out, ApplicationReviewQueue(t))
	}
	out = append(out, ModelReviewQueue)
	return append(out, extraReviewQueues...)
}

// extraReviewQueues are the queues of entity types added after applications and models; each
// such type appends its queues in its own file's init.
var extraReviewQueues []ReviewQueue

func appQueue(t domain.PartnerType, state string) string { return ApplicationReviewQueue(t).GSI(state) }
func modelQueue(state string) string                     { return ModelReviewQueue.GSI(state) }

// DecidedIDs lists, oldest submission first, the ids of the entities in q that hold a decision
// waiting for its release. The release reloads each (with its held decision) before publishing.
func (db *DB) DecidedIDs(ctx context.Context, q ReviewQueue, cursor string) (Page[string], error) {
	in := queueQuery(q.GSI(QueueDecided), QueueFilter{})
	in.TableName = &db.table
	in.Limit = aws.Int32(100)
	listing := listingOf(in)
	if cursor != "" {
		start, err := db.openCursor(listing, cursor)
		if err != nil {
			return Page[string]{}, err
		}
		in.ExclusiveStartKey = start
	}
	out, err := db.client.Query(ctx, in)
	if err != nil {
		return Page[string]{}, fmt.Errorf("query %s: %w", q.Key, err)
	}
	page := Page[string]{Items: make([]string, 0, len(out.Items))}
	for _, av := range out.Items {
		pk, ok := av["pk"].(*types.AttributeValueMemberS)
		if !ok || !strings.HasPrefix(pk.Value, q.PKPrefix) {
			return Page[string]{}, fmt.Errorf("queue %s holds an item of another kind", q.Key)
		}
		page.Items = append(page.Items, strings.TrimPrefix(pk.Value, q.PKPrefix))
	}
	if len(out.LastEvaluatedKey) > 0 {
		if page.Next, err = db.sealCursor(listing, out.LastEvaluatedKey); err != nil {
			return Page[string]{}, err
		}
	}
	return page, nil
}

// Queued is an entity waiting in a review queue: its id, since when (the queue's sort key:
// when it was submitted or entered the review) and, in the decided state, its held decision.
type Queued struct {
	ID       string
	Since    time.Time
	Decision *domain.Decision
}

// QueuedIn lists the entities of q in the state f selects (f.SubmittedUntil bounds Since),
// oldest first: one Query of keys per page and, for the decided state, one BatchGetItem of
// the page's held decisions. The sweeps read every queue this one way.
func (db *DB) QueuedIn(ctx context.Context, q ReviewQueue, f QueueFilter) (Page[Queued], error) {
	in := queueQuery(q.GSI(f.State), f)
	in.TableName = &db.table
	in.ProjectionExpression = aws.String("pk, gsi2sk")
	in.Limit = aws.Int32(100)
	if f.Limit > 0 {
		in.Limit = aws.Int32(int32(min(f.Limit, 100)))
	}
	listing := listingOf(in)
	if f.Cursor != "" {
		start, err := db.openCursor(listing, f.Cursor)
		if err != nil {
			return Page[Queued]{}, err
		}
		in.ExclusiveStartKey = start
	}
	out, err := db.client.Query(ctx, in)
	if err != nil {
		return Page[Queued]{}, fmt.Errorf("query %s: %w", q.Key, err)
	}
	page := Page[Queued]{Items: make([]Queued, 0, len(out.Items))}
	var pks []string
	for _, av := range out.Items {
		pk, ok1 := av["pk"].(*types.AttributeValueMemberS)
		sk, ok2 := av["gsi2sk"].(*types.AttributeValueMemberS)
		if !ok1 || !ok2 || !strings.HasPrefix(pk.Value, q.PKPrefix) {
			return Page[Queued]{}, fmt.Errorf("queue %s holds an item of another kind", q.Key)
		}
		stamp, _, _ := strings.Cut(sk.Value, "#")
		since, err := time.Parse(tsLayout, stamp)
		if err != nil {
			return Page[Queued]{}, fmt.Errorf("queue %s: sort key %q: %w", q.Key, sk.Value, err)
		}
		page.Items = append(page.Items, Queued{ID: strings.TrimPrefix(pk.Value, q.PKPrefix), Since: since})
		pks = append(pks, pk.Value)
	}
	if f.State == QueueDecided {
		held, err := db.heldDecisions(ctx, pks)
		if err != nil {
			return Page[Queued]{}, err
		}
		for i := range page.Items {
			page.Items[i].Decision = held[pks[i]]
		}
	}
	if len(out.LastEvaluatedKey) > 0 {
		if page.Next, err = db.sealCursor(listing, out.LastEvaluatedKey); err != nil {
			return Page[Queued]{}, err
		}
	}
	return page, nil
}

// CountQueue counts the entities of q in the state and age f selects (f.Cursor and f.Limit
// are ignored): what the review-SLA sweep reports.
func (db *DB) CountQueue(ctx context.Context, q ReviewQueue, f QueueFilter) (int, error) {
	in := queueQuery(q.GSI(f.State), f)
	in.TableName = &db.table
	in.Select = types.SelectCount
	n := 0
	for {
		out, err := db.client.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("count %s: %w", q.Key, err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// QueueFilter selects part of a review queue.
type QueueFilter struct {
	State          string    // QueuePending or QueueDecided
	SubmittedUntil time.Time // zero: no age filter; otherwise only what was submitted at or before
	Cursor         string
	Limit          int
}

func queueQuery(pk string, f QueueFilter) *dynamodb.QueryInput {
	q := &dynamodb.QueryInput{
		IndexName:              aws.String("gsi2"),
		KeyConditionExpression: aws.String("gsi2pk = :q"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":q": &types.AttributeValueMemberS{Value: pk},
		},
	}
	if !f.SubmittedUntil.IsZero() {
		// "~" sorts after every id character, so the bound includes the whole instant.
		q.KeyConditionExpression = aws.String("gsi2pk = :q AND gsi2sk <= :until")
		q.ExpressionAttributeValues[":until"] = &types.AttributeValueMemberS{Value: ts(f.SubmittedUntil) + "#~"}
	}
	return q
}

// ApplicationQueue lists applications of partner type t under review, oldest first.
func (db *DB) ApplicationQueue(ctx context.Context, t domain.PartnerType, f QueueFilter) (Page[domain.Application], error) {
	p, err := query[storedApplication](ctx, db, queueQuery(appQueue(t, f.State), f), f.Cursor, f.Limit)
	if err != nil {
		return Page[domain.Application]{}, err
	}
	out := Page[domain.Application]{Next: p.Next, Items: make([]domain.Application, 0, len(p.Items))}
	var pks []string
	for _, s := range p.Items {
		if s.Status == domain.AppSubmitted {
			pks = append(pks, appPK(s.ID))
		}
	}
	held, err := db.heldDecisions(ctx, pks)
	if err != nil {
		return Page[domain.Application]{}, err
	}
	for _, s := range p.Items {
		a := s.Application
		if a.Status == domain.AppSubmitted {
			a.Decision = held[appPK(a.ID)]
		}
		out.Items = append(out.Items, a)
	}
	return out, nil
}

// ModelQueue lists models under review, oldest first.
func (db *DB) ModelQueue(ctx context.Context, f QueueFilter) (Page[domain.Model], error) {
	return db.modelsIn(ctx, modelQueue(f.State), f)
}

// CodeAllocation is the next free code of a scope, read before the release transaction that
// takes it; the transaction fails (Conflict) if another release took it first.
type CodeAllocation struct {
	Scope   string // "VENDOR" or "MODEL#<vendor org>"
	Index   int
	Code    string
	Owner   string // what the code names: the vendor's org, the model's id (CodeOwner reads it)
	version int
}

type counter struct {
	Next int `json:"next"`
}

// NextCode reads the next free code of scope. It returns Conflict ("codes_exhausted") when
// none is left.
func (db *DB) NextCode(ctx context.Context, scope string) (CodeAllocation, error) {
	it, err := db.get(ctx, "COUNTER#"+scope, "META", "no_counter", "counter "+scope)
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
	code, err := domain.CodeAt(c.Next)
	if err != nil {
		return CodeAllocation{}, err
	}
	return CodeAllocation{Scope: scope, Index: c.Next, Code: code, version: it.Version}, nil
}

// TakeCode adds the allocation to the transaction: the counter moves past it (if nobody moved
// it meanwhile) and the code is claimed (if nobody ever claimed it).
func (tx *Tx) TakeCode(a CodeAllocation) *Tx {
	data, err := marshalJSON(counter{Next: a.Index + 1})
	tx.add(item{PK: "COUNTER#" + a.Scope, SK: "META", Data: data}, a.version, err)
	claim, err := marshalJSON(codeClaim{Scope: a.Scope, Code: a.Code, Index: a.Index, Owner: a.Owner})
	tx.add(item{PK: "CODE#" + a.Scope + "#" + a.Code, SK: "META", Data: claim}, 0, err)
	return tx
}

type codeClaim struct {
	Scope string `json:"scope"`
	Code  string `json:"code"`
	Index int    `json:"index"`
	Owner string `json:"owner,omitempty"`
}

// CodeOwner returns what code of scope names (the vendor org of a vendor code, the model id of
// a model code), "" when the code was never given (or was given before owners were recorded).
func (db *DB) CodeOwner(ctx context.Context, scope, code string) (string, error) {
	it, err := db.get(ctx, "CODE#"+scope+"#"+code, "META", "code_not_found", "code "+code)
	switch {
	case domain.KindOf(err) == domain.NotFound:
		return "", nil
	case err != nil:
		return "", err
	}
	var c codeClaim
	return c.Owner, unmarshalJSON(it.Data, &c)
}

// PutMessage adds a message to the organisation's outbox.
func (tx *Tx) PutMessage(m domain.Message) *Tx {
	data, err := marshalJSON(m)
	tx.add(item{PK: "ORG#" + m.Org, SK: "MSG#" + ts(m.At) + "#" + m.ID, Data: data}, 0, err)
	return tx
}

// Messages lists org's outbox, newest first.
func (db *DB) Messages(ctx context.Context, org, cursor string, limit int) (Page[domain.Message], error) {
	return query[domain.Message](ctx, db, newestFirst("", "ORG#"+org, "MSG#"), cursor, limit)
}

// CreateVendor adds the approved vendor to the transaction (once per organisation).
func (tx *Tx) CreateVendor(v domain.Vendor) *Tx {
	data, err := marshalJSON(v)
	tx.add(item{PK: "VENDOR#" + v.Org, SK: "META", Data: data}, 0, err)
	return tx
}

// Vendor returns the approved vendor of org. It returns NotFound ("vendor_not_approved").
func (db *DB) Vendor(ctx context.Context, org string) (domain.Vendor, error) {
	it, err := db.get(ctx, "VENDOR#"+org, "META", "vendor_not_approved", fmt.Sprintf("an approved device vendor %q", org))
	if err != nil {
		return domain.Vendor{}, err
	}
	var v domain.Vendor
	return v, unmarshalJSON(it.Data, &v)
}
