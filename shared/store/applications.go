package store

import (
	"context"

	"github.com/facepay/platform/shared/domain"
)

// storedApplication keeps what the API hides from applicants (object keys). The held
// decision is an item of its own (held.go).
type storedApplication struct {
	domain.Application
	Keys map[string]string `json:"keys,omitempty"` // slot → object key
}

func appPK(id string) string { return "APP#" + id }

func (db *DB) applicationItem(a *domain.Application) (item, error) {
	s := storedApplication{Application: *a, Keys: map[string]string{}}
	for slot, att := range a.Attachments {
		s.Keys[slot] = att.Key
	}
	data, err := marshalJSON(s)
	if err != nil {
		return item{}, err
	}
	it := item{
		PK: appPK(a.ID), SK: "META", Data: data,
		GSI1PK: "ORG#" + a.Org, GSI1SK: "APP#" + ts(a.CreatedAt) + "#" + a.ID,
	}
	if a.Status == domain.AppSubmitted && a.SubmittedAt != nil {
		it.GSI2PK, it.GSI2SK = appQueue(a.PartnerType, queueState(a.Decision != nil)), ts(*a.SubmittedAt)+"#"+a.ID
	}
	return it, nil
}

// CreateApplication stores a new application with its first history entry and, when the
// request carried an Idempotency-Key, its claim. It returns Conflict when the id or the key
// is taken.
func (db *DB) CreateApplication(ctx context.Context, a *domain.Application, c domain.Change, claims ...Claim) error {
	tx := db.Tx().saveApplication(a, 0, c)
	for _, cl := range claims {
		tx.claim(cl)
	}
	return tx.Commit(ctx, "application "+a.ID)
}

// SaveApplication writes a changed application and its history entries, provided nobody
// changed it since it was read (Conflict otherwise). a.Version is advanced on success.
func (db *DB) SaveApplication(ctx context.Context, a *domain.Application, changes ...domain.Change) error {
	return db.Tx().SaveApplication(a, changes...).Commit(ctx, "application "+a.ID)
}

// SaveApplication adds the write of a changed application and its history to the transaction.
func (tx *Tx) SaveApplication(a *domain.Application, changes ...domain.Change) *Tx {
	return tx.saveApplication(a, a.Version, changes...)
}

func (tx *Tx) saveApplication(a *domain.Application, version int, changes ...domain.Change) *Tx {
	stored := *a
	stored.Version = version + 1 // what the item will hold, so listings show it too
	it, err := tx.db.applicationItem(&stored)
	tx.add(it, version, err)
	if a.Decision != nil && a.Status != domain.AppSubmitted {
		tx.retireHeld(appPK(a.ID), a.Decision) // released or withdrawn
	}
	tx.history(appPK(a.ID), changes...)
	tx.onCommit(func() { a.Version = version + 1 })
	return tx
}

// HoldApplicationDecision stores a reviewer's held decision a.Decision (from Application.Decide)
// and its history entry ch, without writing the application itself (held.go). It returns
// Conflict ("conflict") when the application or its held decision changed since read.
func (db *DB) HoldApplicationDecision(ctx context.Context, a *domain.Application, ch domain.Change) error {
	return db.Tx().holdDecision(appPK(a.ID), a.Version, appQueue(a.PartnerType, QueueDecided), a.Decision, ch).
		Commit(ctx, "decision on application "+a.ID)
}

// Application returns the application id with its held decision (while under review). It
// returns NotFound ("application_not_found").
func (db *DB) Application(ctx context.Context, id string) (*domain.Application, error) {
	if err := safeID("application", id); err != nil {
		return nil, err
	}
	it, held, err := db.loadEntity(ctx, appPK(id), "application_not_found", "application "+id)
	if err != nil {
		return nil, err
	}
	a, err := decodeApplication(it)
	if err != nil {
		return nil, err
	}
	if a.Status == domain.AppSubmitted {
		a.Decision = held
	}
	return a, nil
}

func decodeApplication(it item) (*domain.Application, error) {
	var s storedApplication
	if err := unmarshalJSON(it.Data, &s); err != nil {
		return nil, err
	}
	a := s.Application
	a.Version = it.Version
	for slot, k := range s.Keys {
		if att := a.Attachments[slot]; att != nil {
			att.Key = k
		}
	}
	return &a, nil
}

// ApplicationHistory returns the application's history, oldest first.
func (db *DB) ApplicationHistory(ctx context.Context, id string) ([]domain.Change, error) {
	return db.historyOf(ctx, appPK(id))
}

// ApplicationsOf lists org's applications, newest first, one page at a time.
func (db *DB) ApplicationsOf(ctx context.Context, org, cursor string, limit int) (Page[domain.Application], error) {
	return query[domain.Application](ctx, db, newestFirst("gsi1", "ORG#"+org, "APP#"), cursor, limit)
}
