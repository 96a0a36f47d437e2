package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Items: pk=MODEL#<id> sk=SPOTCHECK#<id>: a market sample a reviewer recorded, with its
// rectification order (domain.SpotCheck); history in the model's history. A failed check's
// open order is also on the model's pipeline item (deadline), written in the same transaction,
// so the daily sweep and the runtime check see it with the one pipeline lookup.

func spotCheckSK(id string) string { return "SPOTCHECK#" + id }

// SaveSpotCheck writes s (created when s.Version is 0: Conflict "conflict" when it exists;
// else only if unchanged since read) with its history and, when p is not nil, the model's
// pipeline record, in one transaction.
func (db *DB) SaveSpotCheck(ctx context.Context, s *domain.SpotCheck, p *domain.Pipeline, changes ...domain.Change) error {
	data, err := marshalJSON(s)
	tx := db.Tx()
	tx.add(item{PK: modelPK(s.ModelID), SK: spotCheckSK(s.ID), Data: data}, s.Version, err)
	tx.history(modelPK(s.ModelID), changes...)
	if p != nil {
		tx.SavePipeline(p)
	}
	version := s.Version
	tx.onCommit(func() { s.Version = version + 1 })
	return tx.Commit(ctx, "spot check "+s.ID)
}

// SpotCheck returns spot check id of model. NotFound ("spot_check_not_found").
func (db *DB) SpotCheck(ctx context.Context, modelID, id string) (*domain.SpotCheck, error) {
	if err := safeID("spot_check", id); err != nil {
		return nil, err
	}
	it, err := db.get(ctx, modelPK(modelID), spotCheckSK(id), "spot_check_not_found", "spot check "+id)
	if err != nil {
		return nil, err
	}
	var s domain.SpotCheck
	if err := unmarshalJSON(it.Data, &s); err != nil {
		return nil, err
	}
	s.Version = it.Version
	return &s, nil
}

// SpotChecks lists model's spot checks (a handful per model).
func (db *DB) SpotChecks(ctx context.Context, modelID string) ([]domain.SpotCheck, error) {
	return all[domain.SpotCheck](ctx, db, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: modelPK(modelID)},
			":prefix": &types.AttributeValueMemberS{Value: "SPOTCHECK#"},
		},
		ConsistentRead: aws.Bool(true),
	})
}
