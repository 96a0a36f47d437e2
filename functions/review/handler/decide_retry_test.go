package handler

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

func TestDecide_RetryWithPaddedReasonChangesNothing(t *testing.T) {
	e := newEnv(appFixture(domain.AppSubmitted, nil), nil)
	req := loadEvent(t, "review/decide-application.json", withBody(`{"decision":"reject","reason":"Deck incomplete. "}`))
	for range 2 {
		resp, err := e.h.router().Handle(context.Background(), req)
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode, resp.Body)
	}
	assert.Len(t, e.db.saved, 1, "a retried identical decision should change nothing")
}
