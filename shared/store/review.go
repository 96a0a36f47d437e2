package store

import (
	"context"
	"fmt"
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

func appQueue(t domain.PartnerType, state string) string {
	return "QUEUE#APP#" + string(t) + "#" + state
}
func modelQueue(state string) string { return "QUEUE#MODEL#" + state }

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
