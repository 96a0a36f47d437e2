package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// storedModel is a model as stored; its held decision is an item of its own (held.go).
type storedModel struct {
	domain.Model
}

func modelPK(id string) string { return "MODEL#" + id }

func (db *DB) modelItem(m *domain.Model) (item, error) {
	data, err := marshalJSON(storedModel{Model: *m})
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

// CreateModel stores a newly registered model with its first history entry, takes its name
// for the vendor and, when the request carried an Idempotency-Key, records its claim. It
// returns Conflict: "conflict" when the id or the key is taken (checked first, so a retried
// registration finds its own model), "duplicate_model_name" when the vendor already has a
// model of that name in any letter case (two racing registrations cannot both take it).
func (db *DB) CreateModel(ctx context.Context, m *domain.Model, c domain.Change, claims ...Claim) error {
	tx := db.Tx().saveModel(m, 0, c)
	for _, cl := range claims {
		tx.claim(cl)
	}
	tx.claimModelName(m)
	return tx.Commit(ctx, "model "+m.ID)
}

// ResubmitModel saves a model changed by Model.Resubmit. When the change renamed it (other
// than in letter case) the new name is taken ("duplicate_model_name" if another model of the
// vendor has it) and previousName is given back, in the same transaction.
func (db *DB) ResubmitModel(ctx context.Context, m *domain.Model, previousName string, changes ...domain.Change) error {
	tx := db.Tx().SaveModel(m, changes...)
	if domain.NameKey(previousName) != domain.NameKey(m.Name) {
		tx.claimModelName(m)
		tx.addWrite(types.TransactWriteItem{Delete: &types.Delete{
			TableName: &db.table, Key: key(modelNamePK(m.VendorOrg, previousName), "META"),
			// The model took this name when it got it; it must still be there to give back.
			ConditionExpression: aws.String("attribute_exists(pk)"),
		}}, nil, nil)
	}
	return tx.Commit(ctx, "model "+m.ID)
}

func modelNamePK(org, name string) string { return "MODELNAME#" + org + "#" + domain.NameKey(name) }

// claimModelName adds the creation of m's name claim: it exists once per vendor and name.
func (tx *Tx) claimModelName(m *domain.Model) {
	data, err := marshalJSON(map[string]string{"modelId": m.ID, "name": m.Name})
	if err != nil {
		tx.addWrite(types.TransactWriteItem{}, err, nil)
		return
	}
	w, err := tx.db.put(item{PK: modelNamePK(m.VendorOrg, m.Name), SK: "META", Data: data}, 0)
	tx.addWrite(w, err, domain.Errorf(domain.Conflict, "duplicate_model_name",
		"your organisation already registered a model named %q (names are compared ignoring letter case); resubmit that model or choose another name", m.Name))
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
	if m.Decision != nil && m.Status != domain.ModelUnderReview {
		tx.retireHeld(modelPK(m.ID), m.Decision) // released
	}
	tx.history(modelPK(m.ID), changes...)
	tx.onCommit(func() { m.Version = version + 1 })
	return tx
}

// HoldModelDecision stores a reviewer's held decision m.Decision (from Model.Decide) and its
// history entry ch, without writing the model itself (held.go). It returns Conflict
// ("conflict") when the model or its held decision changed since read.
func (db *DB) HoldModelDecision(ctx context.Context, m *domain.Model, ch domain.Change) error {
	return db.Tx().holdDecision(modelPK(m.ID), m.Version, modelQueue(QueueDecided), m.Decision, ch).
		Commit(ctx, "decision on model "+m.ID)
}

// Model returns model id with its held decision (while under review). It returns NotFound
// ("model_not_found").
func (db *DB) Model(ctx context.Context, id string) (*domain.Model, error) {
	if err := safeID("model", id); err != nil {
		return nil, err
	}
	it, held, err := db.loadEntity(ctx, modelPK(id), "model_not_found", "model "+id)
	if err != nil {
		return nil, err
	}
	var s storedModel
	if err := unmarshalJSON(it.Data, &s); err != nil {
		return nil, err
	}
	m := s.Model
	m.Version = it.Version
	if m.Status == domain.ModelUnderReview {
		m.Decision = held
	}
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
	if err != nil {
		return Page[domain.Model]{}, err
	}
	out := Page[domain.Model]{Next: p.Next, Items: make([]domain.Model, 0, len(p.Items))}
	var pks []string
	for _, s := range p.Items {
		if s.Status == domain.ModelUnderReview {
			pks = append(pks, modelPK(s.ID))
		}
	}
	held, err := db.heldDecisions(ctx, pks)
	if err != nil {
		return Page[domain.Model]{}, err
	}
	for _, s := range p.Items {
		m := s.Model
		if m.Status == domain.ModelUnderReview {
			m.Decision = held[modelPK(m.ID)]
		}
		out.Items = append(out.Items, m)
	}
	return out, nil
}
