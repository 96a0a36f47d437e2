package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
)

// The same Idempotency-Key means the same registration; with another model it is refused
// (issue 10 point 5).
func TestRegister_IdempotencyKeyMeansThisRequest(t *testing.T) {
	h, f := newHandler()
	register := func(mutators ...func(*httpapi.Request)) (int, map[string]any) {
		t.Helper()
		resp, err := h.router().Handle(context.Background(), loadEvent(t, "models/register-model.json", mutators...))
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &body), resp.Body)
		return resp.StatusCode, body
	}
	status, first := register(withHeader("idempotency-key", "m1"))
	require.Equal(t, http.StatusCreated, status, first)
	status, again := register(withHeader("idempotency-key", "m1"))
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, first["id"], again["id"])

	other := `{"name":"K2","deviceType":"handheld","os":"android","softwareModes":["sdk"],"cameraModel":"C1"}`
	status, reused := register(withHeader("idempotency-key", "m1"), eventstest.WithBody(other))
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, "idempotency_key_reused", reused["error"].(map[string]any)["code"])

	status, bob := register(withHeader("idempotency-key", "m1"), eventstest.WithClaim("sub", "bob"))
	require.Equal(t, http.StatusCreated, status, "another user's key is another key: %v", bob)
	assert.NotEqual(t, first["id"], bob["id"])
	assert.Len(t, f.claims, 2)
}
