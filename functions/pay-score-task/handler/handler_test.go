package handler

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

// fakeStore keeps one application and the tokens; saves count history entries.
type fakeStore struct {
	app     *domain.PayScoreApplication
	tokens  map[string]string
	changes []domain.Change
}

func (f *fakeStore) PayScore(_ context.Context, id string) (*domain.PayScoreApplication, error) {
	if f.app == nil || f.app.ID != id {
		return nil, domain.Errorf(domain.NotFound, "payscore_application_not_found", "no %s", id)
	}
	cp := *f.app
	return &cp, nil
}

func (f *fakeStore) SavePayScore(_ context.Context, p *domain.PayScoreApplication, changes ...domain.Change) error {
	cp := *p
	f.app, f.changes = &cp, append(f.changes, changes...)
	return nil
}

func (f *fakeStore) PutPayScoreToken(_ context.Context, t store.PayScoreToken) error {
	f.tokens[t.Step] = t.Token
	return nil
}

func (f *fakeStore) PayScoreTokenOf(_ context.Context, id, step string) (store.PayScoreToken, error) {
	t, ok := f.tokens[step]
	if !ok {
		return store.PayScoreToken{}, domain.ErrNotWaiting.Withf("not waiting")
	}
	return store.PayScoreToken{ApplicationID: id, Step: step, Token: t}, nil
}

type resumed struct{ step, token string }

type fakeFlows struct{ calls []resumed }

func (f *fakeFlows) ResumePayScore(ctx context.Context, a *domain.PayScoreApplication, step string, tokenOf func(context.Context, string, string) (string, error)) error {
	if _, passed := a.StepOutput(step); !passed {
		return nil
	}
	tok, err := tokenOf(ctx, a.ID, step)
	if err != nil {
		return nil
	}
	f.calls = append(f.calls, resumed{step, tok})
	return nil
}

func loadSample(t *testing.T) Event {
	raw, err := os.ReadFile("../../../events/pay-score-task/agreement.json")
	require.NoError(t, err)
	var e Event
	require.NoError(t, json.Unmarshal(raw, &e))
	return e
}

func TestTokenStepResumesAStepAlreadyPassed(t *testing.T) {
	e := loadSample(t)
	now := time.Date(2026, 9, 28, 10, 0, 0, 0, time.UTC)
	db := &fakeStore{tokens: map[string]string{}, app: &domain.PayScoreApplication{ID: e.ApplicationID, Status: domain.PayScoreServiceReady}}
	flows := &fakeFlows{}
	h := &handler{db: db, workflow: flows, now: func() time.Time { return now }}

	_, err := h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, e.TaskToken, db.tokens["agreement"], "kept server-side")
	assert.Empty(t, flows.calls, "not signed yet: the workflow waits")

	// Signed before the workflow (re)stored its token: the task completes the wait itself.
	db.app.Signature, db.app.Status = &domain.Signature{By: "mia", At: now}, domain.PayScoreDeveloping
	_, err = h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, []resumed{{"agreement", e.TaskToken}}, flows.calls)
}

func TestTimedStepsAreIdempotentUnderRedelivery(t *testing.T) {
	monday := time.Date(2026, 9, 7, 1, 0, 0, 0, time.UTC)
	db := &fakeStore{tokens: map[string]string{}, app: &domain.PayScoreApplication{ID: "psa_1", Status: domain.PayScoreDeferred,
		DeferredUntil: &monday, Phone: &domain.Phone{Number: "400-820-1234"}}}
	h := &handler{db: db, workflow: &fakeFlows{}, now: func() time.Time { return monday }}
	for range 2 { // Lambda retries a task; the second finds the review started
		res, err := h.handle(context.Background(), Event{Step: "start_review", ApplicationID: "psa_1"})
		require.NoError(t, err)
		assert.Equal(t, Result{Status: domain.PayScoreUnderReview}, res)
	}
	assert.Len(t, db.changes, 1, "one history entry")

	_, err := h.handle(context.Background(), Event{Step: "sleep", ApplicationID: "psa_1", TaskToken: "t"})
	assert.IsType(t, &InvalidEvent{}, err)
	_, err = h.handle(context.Background(), Event{Step: "agreement", ApplicationID: "psa_1"})
	assert.IsType(t, &InvalidEvent{}, err, "a callback without its token")
}

func TestStartReviewDefersAgainWithoutAPhone(t *testing.T) {
	monday := time.Date(2026, 9, 7, 1, 0, 0, 0, time.UTC)
	db := &fakeStore{tokens: map[string]string{}, app: &domain.PayScoreApplication{ID: "psa_1", Status: domain.PayScoreDeferred, DeferredUntil: &monday}}
	h := &handler{db: db, workflow: &fakeFlows{}, now: func() time.Time { return monday }}
	res, err := h.handle(context.Background(), Event{Step: "start_review", ApplicationID: "psa_1"})
	require.NoError(t, err)
	assert.Equal(t, Result{Status: domain.PayScoreDeferred, DeferredUntil: "2026-09-14T01:00:00Z"}, res, "deferred by another week")
}
