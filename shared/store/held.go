package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// A reviewer's held decision on an application or a model is an item of its own in the
// entity's partition (sk META#DECISION), never part of the entity: deciding and revising leave
// the entity's data, version and updatedAt as they were, so nothing the applicant reads moves
// before the release. In the same transaction the entity's queue key moves to the "decided"
// queue (an update that checks the entity's version without advancing it) and a history entry
// marked Held is added (owners never read those; see domain.OwnerHistory).
//
// Loading an entity reads it and its held decision with one query (sk begins with META). The
// store retires the held item when a save takes the entity out of review (the release, a
// withdrawal), checking the item's version: a revision made after the release read it makes
// the release fail (Conflict) and reload, so a release never publishes a superseded decision.
// A decision taken between a withdrawal's read and its write is left behind unread: loads
// ignore the held item of an entity that is not under review, and a withdrawn application is
// off the queues for good.
const heldSK = "META#DECISION"

// loadEntity reads the entity item at pk (sk META) and its held decision, nil when there is
// none. A missing entity is NotFound with the given code.
func (db *DB) loadEntity(ctx context.Context, pk, code, what string) (item, *domain.Decision, error) {
	out, err := db.client.Query(ctx, &dynamodb.QueryInput{
		TableName:              &db.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :meta)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: pk},
			":meta": &types.AttributeValueMemberS{Value: "META"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return item{}, nil, fmt.Errorf("get %s: %w", what, err)
	}
	var entity item
	var held *domain.Decision
	for _, av := range out.Items {
		var it item
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return item{}, nil, fmt.Errorf("unmarshal %s: %w", what, err)
		}
		switch it.SK {
		case "META":
			entity = it
		case heldSK:
			if held, err = decodeHeld(it); err != nil {
				return item{}, nil, err
			}
		}
	}
	if entity.PK == "" {
		return item{}, nil, domain.Errorf(domain.NotFound, code, "%s does not exist", what)
	}
	return entity, held, nil
}

func decodeHeld(it item) (*domain.Decision, error) {
	var d domain.Decision
	if err := unmarshalJSON(it.Data, &d); err != nil {
		return nil, err
	}
	d.Revision = it.Version
	return &d, nil
}

// heldDecisions reads the held decisions of the entities at pks (at most 100), by pk.
func (db *DB) heldDecisions(ctx context.Context, pks []string) (map[string]*domain.Decision, error) {
	out := map[string]*domain.Decision{}
	if len(pks) == 0 {
		return out, nil
	}
	keys := make([]map[string]types.AttributeValue, len(pks))
	for i, pk := range pks {
		keys[i] = key(pk, heldSK)
	}
	req := map[string]types.KeysAndAttributes{db.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for len(req) > 0 {
		res, err := db.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("get held decisions: %w", err)
		}
		for _, av := range res.Responses[db.table] {
			var it item
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("unmarshal held decision: %w", err)
			}
			d, err := decodeHeld(it)
			if err != nil {
				return nil, err
			}
			out[it.PK] = d
		}
		req = res.UnprocessedKeys
	}
	return out, nil
}

// holdDecision adds a reviewer's decision (or revision) d on the entity at pk, read at
// entityVersion, to the transaction: the held item (created, or replaced if unchanged since
// read), the entity's move to the decided queue (only if the entity is unchanged; its version
// stays) and the Held history entry. d.Revision advances on commit.
func (tx *Tx) holdDecision(pk string, entityVersion int, decidedQueue string, d *domain.Decision, ch domain.Change) *Tx {
	data, err := marshalJSON(d)
	tx.add(item{PK: pk, SK: heldSK, Data: data}, d.Revision, err)
	tx.addWrite(types.TransactWriteItem{Update: &types.Update{
		TableName:           &tx.db.table,
		Key:                 key(pk, "META"),
		UpdateExpression:    aws.String("SET gsi2pk = :q"),
		ConditionExpression: aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":q": &types.AttributeValueMemberS{Value: decidedQueue},
			":v": &types.AttributeValueMemberN{Value: fmt.Sprint(entityVersion)},
		},
	}}, nil, nil)
	tx.history(pk, ch)
	revision := d.Revision
	tx.onCommit(func() { d.Revision = revision + 1 })
	return tx
}

// retireHeld adds the deletion of the held decision d of the entity at pk, provided it is
// still the one read (Conflict otherwise).
func (tx *Tx) retireHeld(pk string, d *domain.Decision) {
	tx.addWrite(types.TransactWriteItem{Delete: &types.Delete{
		TableName:           &tx.db.table,
		Key:                 key(pk, heldSK),
		ConditionExpression: aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: fmt.Sprint(d.Revision)},
		},
	}}, nil, nil)
}
