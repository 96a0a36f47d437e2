package handler

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// loserReview is the store as a request sees it when an identical request commits first:
// its own save loses the race (the winner's write lands just before it).
type loserReview struct {
	*fakeReview
	winner func(f *fakeReview)
	lost   bool
}

func (l *loserReview) HoldApplicationDecision(ctx context.Context, a *domain.Application, ch domain.Change) error {
	if !l.lost {
		l.lost = true
		l.winner(l.fakeReview)
		return domain.ErrConflict.Withf("application %s changed meanwhile", a.ID)
	}
	return l.fakeReview.HoldApplicationDecision(ctx, a, ch)
}

// A decision that loses the race to an identical one reloads and answers as the winner did,
// recording nothing of its own (issue 10 point 4: it answered 409 conflict).
func TestDecide_LoserOfARaceWithAnIdenticalDecisionAnswersAsTheWinner(t *testing.T) {
	e := newEnv(appFixture(domain.AppSubmitted, nil), nil)
	winnerChanges := 0
	l := &loserReview{fakeReview: e.db, winner: func(f *fakeReview) {
		for _, a := range f.apps {
			ch, err := a.Decide(domain.Caller{Subject: "rita", Role: domain.RoleReviewer}, false, "Deck incomplete.", testNow)
			require.NoError(t, err)
			a.Decision.Revision++
			winnerChanges++
			_ = ch
		}
	}}
	e.h.db = l
	req := loadEvent(t, "review/decide-application.json", withBody(`{"decision":"reject","reason":"Deck incomplete."}`))
	resp, err := e.h.router().Handle(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.Contains(t, resp.Body, "Deck incomplete.")
	assert.True(t, l.lost, "the race was lost once")
	assert.Equal(t, 1, winnerChanges)
	assert.Empty(t, e.db.saved, "the loser records nothing: the winner's entry is the one")
}
