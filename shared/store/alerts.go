package store

import (
	"context"

	"github.com/facepay/platform/shared/domain"
)

// Items: pk=ALERTS#reviewers sk=MSG#<at>#<id>: what the daily sweep raised to the reviewers
// (domain.Message; GET /admin/alerts reads them newest first). pk=RAISED#<key> sk=META: a
// raise-once claim, written with the alert in one transaction, so an overdue review is raised
// once whatever the redeliveries and re-runs of the sweep.

const reviewerAlerts = "ALERTS#reviewers"

// PutAlert adds a message for the reviewers to the transaction.
func (tx *Tx) PutAlert(m domain.Message) *Tx {
	data, err := marshalJSON(m)
	tx.add(item{PK: reviewerAlerts, SK: "MSG#" + ts(m.At) + "#" + m.ID, Data: data}, 0, err)
	return tx
}

// ClaimRaise adds the raise-once claim of key to the transaction: the commit fails with
// domain.ErrAlreadyRaised when it was claimed before.
func (tx *Tx) ClaimRaise(key string, at any) *Tx {
	data, err := marshalJSON(map[string]any{"key": key, "at": at})
	w, perr := tx.db.put(item{PK: "RAISED#" + key, SK: "META", Data: data}, 0)
	if err == nil {
		err = perr
	}
	tx.addWrite(w, err, domain.ErrAlreadyRaised.Withf("%s was raised before", key))
	return tx
}

// Alerts lists what was raised to the reviewers, newest first.
func (db *DB) Alerts(ctx context.Context, cursor string, limit int) (Page[domain.Message], error) {
	return query[domain.Message](ctx, db, newestFirst("", reviewerAlerts, "MSG#"), cursor, limit)
}

// RaiseOnce writes alert for the reviewers with the raise-once claim of key, in one
// transaction. It returns domain.ErrAlreadyRaised when key was raised before.
func (db *DB) RaiseOnce(ctx context.Context, key string, alert domain.Message) error {
	return db.Tx().ClaimRaise(key, alert.At).PutAlert(alert).Commit(ctx, "alert "+key)
}

// SaveSwept writes what the daily sweep did to a pipeline: the record (only if unchanged since
// read: Conflict "conflict" otherwise), its history, the vendor's messages and the reviewers'
// alerts, in one transaction, so each notice is sent exactly when the record says it was.
func (db *DB) SaveSwept(ctx context.Context, p *domain.Pipeline, changes []domain.Change, messages, alerts []domain.Message) error {
	tx := db.Tx().SavePipeline(p, changes...)
	for _, m := range messages {
		tx.PutMessage(m)
	}
	for _, a := range alerts {
		tx.PutAlert(a)
	}
	return tx.Commit(ctx, "pipeline of model "+p.ModelID)
}
