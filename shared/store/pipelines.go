package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Items: pk=MODEL#<id> sk=PIPELINE: the model's certification stage and tracks as the
// pipeline's record steps wrote them (domain.Pipeline), with its restriction set, certificate
// validity and open rectification orders. One GetItem answers "what stage is this model in,
// may its devices pay" for every capability; history entries go to the model's own history.
// While the daily sweep has something to do for it (domain.Pipeline.NextDue), the item is on
// gsi2 SWEEP#PIPELINE / <next due>#<model>: the sweep reads only what is due (sparse; models
// are thousands, not millions, so one partition holds them).

const (
	pipelineSK    = "PIPELINE"
	pipelineSweep = "SWEEP#PIPELINE"
)

// Pipeline returns model id's pipeline record. It returns NotFound ("pipeline_not_started")
// before the pipeline's first record step ran.
func (db *DB) Pipeline(ctx context.Context, id string) (*domain.Pipeline, error) {
	if err := safeID("model", id); err != nil {
		return nil, err
	}
	it, err := db.get(ctx, modelPK(id), pipelineSK, "pipeline_not_started", "the pipeline of model "+id)
	if err != nil {
		return nil, err
	}
	var p domain.Pipeline
	if err := unmarshalJSON(it.Data, &p); err != nil {
		return nil, err
	}
	p.Version = it.Version
	return &p, nil
}

func pipelineItem(p *domain.Pipeline) (item, error) {
	data, err := marshalJSON(p)
	it := item{PK: modelPK(p.ModelID), SK: pipelineSK, Data: data}
	if due := p.NextDue(); !due.IsZero() {
		it.GSI2PK, it.GSI2SK = pipelineSweep, ts(due)+"#"+p.ModelID
	}
	return it, err
}

// SavePipeline writes p (created when p.Version is 0, else only if unchanged since read) with
// its history entries in the model's history, in one transaction. Conflict ("conflict") when
// another record step wrote meanwhile.
func (db *DB) SavePipeline(ctx context.Context, p *domain.Pipeline, changes ...domain.Change) error {
	return db.Tx().SavePipeline(p, changes...).Commit(ctx, "pipeline of model "+p.ModelID)
}

// SavePipeline adds p and its history to the transaction (see DB.SavePipeline).
func (tx *Tx) SavePipeline(p *domain.Pipeline, changes ...domain.Change) *Tx {
	it, err := pipelineItem(p)
	tx.add(it, p.Version, err)
	tx.history(modelPK(p.ModelID), changes...)
	version := p.Version
	tx.onCommit(func() { p.Version = version + 1 })
	return tx
}

// PipelinesDue lists the ids of the models whose pipeline has something due at or before until.
func (db *DB) PipelinesDue(ctx context.Context, until time.Time) ([]string, error) {
	ps, err := all[domain.Pipeline](ctx, db, &dynamodb.QueryInput{
		IndexName:              aws.String("gsi2"),
		KeyConditionExpression: aws.String("gsi2pk = :pk AND gsi2sk <= :until"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":    &types.AttributeValueMemberS{Value: pipelineSweep},
			":until": &types.AttributeValueMemberS{Value: ts(until) + "#~"},
		},
	})
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ModelID)
	}
	return ids, err
}
