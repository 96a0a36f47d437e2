package store

import (
	"context"

	"github.com/facepay/platform/shared/domain"
)

// Items: pk=MODEL#<id> sk=PIPELINE: the model's certification stage and tracks as the
// pipeline's record steps wrote them (domain.Pipeline). One GetItem answers "what stage is
// this model in" for every capability; history entries go to the model's own history.

const pipelineSK = "PIPELINE"

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

// SavePipeline writes p (created when p.Version is 0, else only if unchanged since read) with
// its history entries in the model's history, in one transaction. Conflict ("conflict") when
// another record step wrote meanwhile.
func (db *DB) SavePipeline(ctx context.Context, p *domain.Pipeline, changes ...domain.Change) error {
	data, err := marshalJSON(p)
	tx := db.Tx()
	tx.add(item{PK: modelPK(p.ModelID), SK: pipelineSK, Data: data}, p.Version, err)
	tx.history(modelPK(p.ModelID), changes...)
	version := p.Version
	tx.onCommit(func() { p.Version = version + 1 })
	return tx.Commit(ctx, "pipeline of model "+p.ModelID)
}
