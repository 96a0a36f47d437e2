package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Pay Score applications (domain.PayScoreApplication): pk PAYSCORE#<id>, sk META, owner
// listing on gsi1 (ORG#<org> / PAYSCORE#<created>#<id>). They plug into held decisions with
// two review queues on gsi2: the application review (weekly calendar) and the go-live
// acceptance (Tuesday and Thursday calendar); an application whose released decision the
// workflow has not yet been told about waits in PAYSCORE#RESUME. Callback tokens of its
// workflow are items PAYSCORE#<id> / TOKEN#<step>, never sent to a client.

// PayScoreReviewQueue is the review of Pay Score applications, released on Mondays.
// Its reviews are held to the one-week promise: they are processed weekly (DOMAIN.md: an
// application without a verified phone "is deferred to the next week's processing").
var PayScoreReviewQueue = ReviewQueue{Key: "PAYSCORE#application", Entity: "payscore", PKPrefix: "PAYSCORE#", Calendar: domain.CalendarWeekly,
	Name: "payscore/application", Title: "Pay Score application", Kind: "payscore", SLA: domain.Week}

// PayScoreAcceptanceQueue is the review of go-live acceptance, released on Tuesdays and Thursdays.
// Acceptance takes 1–3 working days (DOMAIN.md): overdue after the third working day.
var PayScoreAcceptanceQueue = ReviewQueue{Key: "PAYSCORE#acceptance", Entity: "payscore_acceptance", PKPrefix: "PAYSCORE#", Calendar: domain.CalendarPayScoreAcceptance,
	Name: "payscore/acceptance", Title: "Pay Score go-live acceptance", Kind: "payscore", SLA: domain.ReviewSLA{WorkingDays: 3}}

func init() {
	extraReviewQueues = append(extraReviewQueues, PayScoreReviewQueue, PayScoreAcceptanceQueue)
}

const payScoreResume = "PAYSCORE#RESUME"

func payScorePK(id string) string { return "PAYSCORE#" + id }

// storedPayScore keeps what the API hides (object keys).
type storedPayScore struct {
	domain.PayScoreApplication
	Keys map[string]string `json:"keys,omitempty"`
}

// payScoreQueue is the review queue p is in, if any.
func payScoreQueue(p *domain.PayScoreApplication) (ReviewQueue, bool) {
	switch p.Status {
	case domain.PayScoreUnderReview:
		return PayScoreReviewQueue, true
	case domain.PayScoreAcceptanceReview:
		return PayScoreAcceptanceQueue, true
	}
	return ReviewQueue{}, false
}

func (db *DB) payScoreItem(p *domain.PayScoreApplication) (item, error) {
	s := storedPayScore{PayScoreApplication: *p, Keys: map[string]string{}}
	for slot, att := range p.Attachments {
		s.Keys[slot] = att.Key
	}
	data, err := marshalJSON(s)
	if err != nil {
		return item{}, err
	}
	it := item{PK: payScorePK(p.ID), SK: "META", Data: data,
		GSI1PK: "ORG#" + p.Org, GSI1SK: "PAYSCORE#" + ts(p.CreatedAt) + "#" + p.ID}
	if q, ok := payScoreQueue(p); ok {
		it.GSI2PK, it.GSI2SK = q.GSI(queueState(p.Decision != nil)), ts(p.UpdatedAt)+"#"+p.ID
	} else if p.Resume != "" {
		it.GSI2PK, it.GSI2SK = payScoreResume, ts(p.UpdatedAt)+"#"+p.ID
	}
	return it, nil
}

// CreatePayScore stores a new application with its first history entry and the request's
// Idempotency-Key claim. It returns Conflict when the id or the key is taken.
func (db *DB) CreatePayScore(ctx context.Context, p *domain.PayScoreApplication, c domain.Change, claims ...Claim) error {
	tx := db.Tx().savePayScore(p, 0, c)
	for _, cl := range claims {
		tx.claim(cl)
	}
	return tx.Commit(ctx, "Pay Score application "+p.ID)
}

// SavePayScore writes a changed application and its history, provided nobody changed it since
// read (Conflict otherwise). p.Version advances on success.
func (db *DB) SavePayScore(ctx context.Context, p *domain.PayScoreApplication, changes ...domain.Change) error {
	return db.Tx().SavePayScore(p, changes...).Commit(ctx, "Pay Score application "+p.ID)
}

// SavePayScore adds the write of a changed application and its history to the transaction.
// An application that left review retires its held decision (released).
func (tx *Tx) SavePayScore(p *domain.PayScoreApplication, changes ...domain.Change) *Tx {
	return tx.savePayScore(p, p.Version, changes...)
}

func (tx *Tx) savePayScore(p *domain.PayScoreApplication, version int, changes ...domain.Change) *Tx {
	stored := *p
	stored.Version = version + 1
	if _, inReview := payScoreQueue(p); !inReview {
		stored.Decision = nil
	}
	it, err := tx.db.payScoreItem(&stored)
	tx.add(it, version, err)
	if p.Decision != nil && stored.Decision == nil {
		tx.retireHeld(payScorePK(p.ID), p.Decision)
	}
	var kept []domain.Change
	for _, c := range changes {
		if c.Action != "" {
			kept = append(kept, c)
		}
	}
	tx.history(payScorePK(p.ID), kept...)
	tx.onCommit(func() { p.Version = version + 1 })
	return tx
}

// HoldPayScoreDecision stores a reviewer's held decision p.Decision (application or acceptance
// review, with the licence scopes the reviewer read) and its history entry, without writing
// the application (held.go). Conflict when it changed since read.
func (db *DB) HoldPayScoreDecision(ctx context.Context, p *domain.PayScoreApplication, ch domain.Change) error {
	q, _ := payScoreQueue(p)
	return db.Tx().holdDecision(payScorePK(p.ID), p.Version, q.GSI(QueueDecided), p.Decision, ch).
		Commit(ctx, "decision on Pay Score application "+p.ID)
}

// PayScore returns the application id with its held decision (while under review). It
// returns NotFound ("payscore_application_not_found").
func (db *DB) PayScore(ctx context.Context, id string) (*domain.PayScoreApplication, error) {
	if err := safeID("payscore_application", id); err != nil {
		return nil, err
	}
	it, held, err := db.loadEntity(ctx, payScorePK(id), "payscore_application_not_found", "Pay Score application "+id)
	if err != nil {
		return nil, err
	}
	var s storedPayScore
	if err := unmarshalJSON(it.Data, &s); err != nil {
		return nil, err
	}
	p := s.PayScoreApplication
	p.Version = it.Version
	if p.Attachments == nil {
		p.Attachments = map[string]*domain.Attachment{}
	}
	for slot, k := range s.Keys {
		if att := p.Attachments[slot]; att != nil {
			att.Key = k
		}
	}
	if p.UnderReview() {
		p.Decision = held
		if held != nil && p.Status == domain.PayScoreUnderReview {
			p.LicenceScopes = held.LicenceScopes
		}
	}
	return &p, nil
}

// PayScoreHistory returns the application's history, oldest first.
func (db *DB) PayScoreHistory(ctx context.Context, id string) ([]domain.Change, error) {
	return db.historyOf(ctx, payScorePK(id))
}

// PayScoresOf lists org's Pay Score applications, newest first.
func (db *DB) PayScoresOf(ctx context.Context, org, cursor string, limit int) (Page[domain.PayScoreApplication], error) {
	return query[domain.PayScoreApplication](ctx, db, newestFirst("gsi1", "ORG#"+org, "PAYSCORE#"), cursor, limit)
}

// PayScoreQueue lists the applications of q (PayScoreReviewQueue or PayScoreAcceptanceQueue)
// in the state f selects, oldest first, with their held decisions.
func (db *DB) PayScoreQueue(ctx context.Context, q ReviewQueue, f QueueFilter) (Page[domain.PayScoreApplication], error) {
	p, err := query[storedPayScore](ctx, db, queueQuery(q.GSI(f.State), f), f.Cursor, f.Limit)
	if err != nil {
		return Page[domain.PayScoreApplication]{}, err
	}
	var pks []string
	for _, s := range p.Items {
		pks = append(pks, payScorePK(s.ID))
	}
	held, err := db.heldDecisions(ctx, pks)
	if err != nil {
		return Page[domain.PayScoreApplication]{}, err
	}
	out := Page[domain.PayScoreApplication]{Next: p.Next, Items: make([]domain.PayScoreApplication, 0, len(p.Items))}
	for _, s := range p.Items {
		a := s.PayScoreApplication
		if a.UnderReview() {
			a.Decision = held[payScorePK(a.ID)]
		}
		out.Items = append(out.Items, a)
	}
	return out, nil
}

// PayScoresAwaitingResume lists applications whose released decision the workflow is still to be told.
func (db *DB) PayScoresAwaitingResume(ctx context.Context, cursor string) (Page[domain.PayScoreApplication], error) {
	return query[domain.PayScoreApplication](ctx, db, queueQuery(payScoreResume, QueueFilter{}), cursor, 100)
}

// PayScoreToken is the callback token of a Pay Score workflow step.
type PayScoreToken struct {
	ApplicationID string `json:"applicationId"`
	Step          string `json:"step"`
	Token         string `json:"token"`
}

// PutPayScoreToken records the token the workflow waits on for (application, step); a newer
// token (the step waited again, e.g. a second acceptance round) replaces it.
func (db *DB) PutPayScoreToken(ctx context.Context, t PayScoreToken) error {
	data, err := marshalJSON(t)
	if err != nil {
		return err
	}
	it := item{PK: payScorePK(t.ApplicationID), SK: tokenSK(t.Step), Data: data}
	cur, err := db.get(ctx, it.PK, it.SK, "not_waiting", "token")
	version := 0
	switch {
	case err == nil:
		var old PayScoreToken
		if uerr := unmarshalJSON(cur.Data, &old); uerr == nil && old.Token == t.Token {
			return nil
		}
		version = cur.Version
	case domain.KindOf(err) != domain.NotFound:
		return err
	}
	w, err := db.put(it, version)
	if err != nil {
		return err
	}
	return db.write(ctx, "Pay Score token "+t.ApplicationID+"/"+t.Step, []types.TransactWriteItem{w}, nil)
}

// PayScoreTokenOf returns the token waiting on (application, step). It returns NotFound
// ("not_waiting") when the workflow has not reached the step.
func (db *DB) PayScoreTokenOf(ctx context.Context, id, step string) (PayScoreToken, error) {
	it, err := db.get(ctx, payScorePK(id), tokenSK(step), "not_waiting", "a Pay Score step "+step+" waiting on "+id)
	if err != nil {
		return PayScoreToken{}, err
	}
	var t PayScoreToken
	return t, unmarshalJSON(it.Data, &t)
}
