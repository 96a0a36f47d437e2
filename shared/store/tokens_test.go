package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

func TestTaskToken(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)

	_, err := db.TaskTokenOf(ctx, "mdl_1", "prototype_evidence")
	assert.Equal(t, domain.NotFound, domain.KindOf(err))
	assert.Equal(t, "not_waiting", domain.CodeOf(err))

	first := store.TaskToken{ModelID: "mdl_1", Step: "prototype_evidence", Token: "token-1", Since: t0}
	require.NoError(t, db.PutTaskToken(ctx, first))
	got, err := db.TaskTokenOf(ctx, "mdl_1", "prototype_evidence")
	require.NoError(t, err)
	assert.Equal(t, first, got)

	// A redelivered invocation (same token, later) changes nothing.
	redelivered := first
	redelivered.Since = t0.Add(time.Minute)
	require.NoError(t, db.PutTaskToken(ctx, redelivered))
	got, err = db.TaskTokenOf(ctx, "mdl_1", "prototype_evidence")
	require.NoError(t, err)
	assert.Equal(t, first, got)

	// A retried task's newer token replaces it, twice over (the version check follows).
	for i, tok := range []string{"token-2", "token-3"} {
		newer := store.TaskToken{ModelID: "mdl_1", Step: "prototype_evidence", Token: tok, Since: t0.Add(time.Duration(i+2) * time.Minute)}
		require.NoError(t, db.PutTaskToken(ctx, newer))
		got, err = db.TaskTokenOf(ctx, "mdl_1", "prototype_evidence")
		require.NoError(t, err)
		assert.Equal(t, newer, got)
	}

	// Steps and models are separate.
	_, err = db.TaskTokenOf(ctx, "mdl_1", "certification")
	assert.Equal(t, "not_waiting", domain.CodeOf(err))
	_, err = db.TaskTokenOf(ctx, "mdl_2", "prototype_evidence")
	assert.Equal(t, "not_waiting", domain.CodeOf(err))

	// The token item lives beside the model without disturbing it.
	m := newModel("mdl_1", "org-a", t0)
	require.NoError(t, db.CreateModel(ctx, m, change(t0, "registered")))
	gotModel, err := db.Model(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, m, gotModel)
	hist, err := db.ModelHistory(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, []string{"registered"}, actions(hist))
}
