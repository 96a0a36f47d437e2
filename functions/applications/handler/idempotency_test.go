package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/httpapi"
)

// An Idempotency-Key means "this request" for this caller and operation (issue 10 point 5).
func TestCreate_IdempotencyKeyMeansThisRequest(t *testing.T) {
	e := newEnv()
	create := func(mutators ...func(*httpapi.Request)) (int, map[string]any) {
		t.Helper()
		resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "applications/create-application.json", mutators...))
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &body), resp.Body)
		return resp.StatusCode, body
	}
	status, first := create(withHeader("idempotency-key", "k1"))
	require.Equal(t, http.StatusCreated, status, first)

	status, again := create(withHeader("idempotency-key", "k1"))
	assert.Equal(t, http.StatusOK, status, "the same request again")
	assert.Equal(t, first["id"], again["id"])

	status, other := create(withHeader("idempotency-key", "k1"), withBody(`{"partnerType":"device_vendor","company":{"name":"Another Ltd"}}`))
	assert.Equal(t, http.StatusUnprocessableEntity, status, "the same key with another body")
	assert.Equal(t, "idempotency_key_reused", other["error"].(map[string]any)["code"])

	status, deployer := create(withHeader("idempotency-key", "k1"), withRole("deployer"), withBody(`{"partnerType":"deployer"}`))
	require.Equal(t, http.StatusCreated, status, "another role of the organisation has keys of its own: %v", deployer)
	assert.NotEqual(t, first["id"], deployer["id"])
	assert.Equal(t, "deployer", deployer["partnerType"])

	status, bob := create(withHeader("idempotency-key", "k1"), withClaim("sub", "bob"))
	require.Equal(t, http.StatusCreated, status, "another user's key is another key: %v", bob)
	assert.NotEqual(t, first["id"], bob["id"])
	assert.Len(t, e.apps.created, 3)

	status, long := create(withHeader("idempotency-key", strings.Repeat("k", 5000)))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_idempotency_key", long["error"].(map[string]any)["code"])
	assert.Len(t, e.apps.created, 3, "nothing made for a refused key")
}
