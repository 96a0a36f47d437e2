package store

import (
	"context"

	"github.com/facepay/platform/shared/domain"
)

type storedModel struct {
	domain.Model
	HeldDecision *domain.Decision `json:"heldDecision,omitempty"`
}

func modelPK(id string) string { return "MODEL#" + id }

func (db *DB) modelItem(m *domain.Model) (item, error) {
	data, err := marshalJSON(storedModel{Model: *m, HeldDecision: m.Decision})
	if err != nil {
		return item{}, err
	}
	it := item{PK: modelPK(m.ID), SK: "META", Data: data,
		GSI1PK: "ORG#" + m.VendorOrg, GSI1SK: "MODEL#" + ts(m.CreatedAt) + "#" + m.ID}
	switch {
	case m.Status == domain.ModelUnderReview:
		it.GSI2PK, it.GSI2SK = modelQueue(queueState(m.Decision != nil)), ts(m.SubmittedAt)+"#"+m.ID
	case m.Status == domain.ModelApproved && m.Pipeline == "":
		// Approved but its pipeline not yet started: the release picks it up again.
		it.GSI2PK, it.GSI2SK = pipelinePending, ts(m.UpdatedAt)+"#"+m.ID
	}
	return it, nil
}

const pipelinePending = "PIPELINE#PENDING"

// CreateModel stores a newly registered model with its first history entry and, when the
// request carried an Idempotency-Key, its claim (Conflict when the id or the key is taken).
func (db *DB) CreateModel(ctx context.Context, m *domain.Model, c domain.Change, claims ...Claim) error {
	tx := db.Tx().saveModel(m, 0, c)
	for _, cl := range claims {
		tx.claim(cl)
	}
	return tx.Commit(ctx, "model "+m.ID)
}

// SaveModel writes a changed model and its history (Conflict if it changed meanwhile).
func (db *DB) SaveModel(ctx context.Context, m *domain.Model, changes ...domain.Change) error {
	return db.Tx().SaveModel(m, changes...).Commit(ctx, "model "+m.ID)
}

// SaveModel adds the write of a changed model and its history to the transaction.
func (tx *Tx) SaveModel(m *domain.Model, changes ...domain.Change) *Tx {
	return tx.saveModel(m, m.Version, changes...)
}

func (tx *Tx) saveModel(m *domain.Model, version int, changes ...domain.Change) *Tx {
	stored := *m
	stored.Version = version + 1 // what the item will hold, so listings show it too
	it, err := tx.db.modelItem(&stored)
	tx.add(it, version, err)
	tx.history(modelPK(m.ID), changes...)
	tx.onCommit(func() { m.Version = version + 1 })
	return tx
}

// Model returns model id. It returns NotFound ("model_not_found").
func (db *DB) Model(ctx context.Context, id string) (*domain.Model, error) {
	if err := safeID("model", id); err != nil {
		return nil, err
	}
	it, err := db.get(ctx, modelPK(id), "META", "model_not_found", "model "+id)
	if err != nil {
		return nil, err
	}
	var s storedModel
	if err := unmarshalJSON(it.Data, &s); err != nil {
		return nil, err
	}
	m := s.Model
	m.Decision, m.Version = s.HeldDecision, it.Version
	return &m, nil
}

// ModelHistory returns the model's history, oldest first.
func (db *DB) ModelHistory(ctx context.Context, id string) ([]domain.Change, error) {
	return db.historyOf(ctx, modelPK(id))
}

// ModelsOf lists org's models, newest first.
func (db *DB) ModelsOf(ctx context.Context, org, cursor string, limit int) (Page[domain.Model], error) {
	return query[domain.Model](ctx, db, newestFirst("gsi1", "ORG#"+org, "MODEL#"), cursor, limit)
}

// ModelsAwaitingPipeline lists approved models whose pipeline has not been started.
func (db *DB) ModelsAwaitingPipeline(ctx context.Context, cursor string) (Page[domain.Model], error) {
	return db.modelsIn(ctx, pipelinePending, QueueFilter{Cursor: cursor, Limit: 100})
}

// modelsIn lists the models of a gsi2 partition, oldest first, held decisions included.
func (db *DB) modelsIn(ctx context.Context, pk string, f QueueFilter) (Page[domain.Model], error) {
	p, err := query[storedModel](ctx, db, queueQuery(pk, f), f.Cursor, f.Limit)
	out := Page[domain.Model]{Next: p.Next}
	for _, s := range p.Items {
		m := s.Model
		m.Decision = s.HeldDecision
		out.Items = append(out.Items, m)
	}
	return out, err
}
