package handler

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// A refused request changes nothing (issue 10 point 3): an attach with a malformed SHA-256
// was answered 400 invalid_sha256 yet left the slot pending with that checksum.
func TestAttach_RefusedRequestLeavesTheSlotAlone(t *testing.T) {
	bodies := map[string]string{
		"not hex":        `{"fileName":"deck.pdf","contentType":"application/pdf","size":5,"sha256":"` + strings.Repeat("g", 64) + `"}`,
		"too short":      `{"fileName":"deck.pdf","contentType":"application/pdf","size":5,"sha256":"abcd"}`,
		"over-long name": `{"fileName":"` + strings.Repeat("a", 300) + `.pdf","contentType":"application/pdf","size":5,"sha256":"` + strings.Repeat("a", 64) + `"}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			e := newEnv(fixture(sampleOrg, domain.AppDraft))
			resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "applications/attach-deck.json", withBody(body)))
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, resp.Body)
			assert.Empty(t, e.apps.saved, "nothing recorded")
			assert.Empty(t, e.uploads.keys, "no upload signed")
		})
	}
}

// Every string a handler takes is bounded, as the OpenAPI document says (issue 10 point 1):
// a 300 KB withdraw reason (limit 500) was stored; 1 MiB fields ended in a 500.
func TestEveryMutatingRoute_RefusesOverLongFields(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	tests := []struct{ event, body string }{
		{"create-application.json", `{"partnerType":"device_vendor","company":{"name":"Acme","contactName":"` + long + `"}}`},
		{"create-application.json", `{"partnerType":"device_vendor","survey":{"q1":"` + long + `"}}`},
		{"create-application.json", `{"partnerType":"device_vendor","survey":{"` + strings.Repeat("k", 200) + `":"a"}}`},
		{"edit-application.json", `{"company":{"name":"Acme","registrationNumber":"` + long + `"}}`},
		{"withdraw-application.json", `{"reason":"` + strings.Repeat("r", 300_000) + `"}`},
		{"withdraw-application.json", `{"reason":"` + strings.Repeat("r", 501) + `"}`},
		{"attach-deck.json", `{"fileName":"deck.pdf","contentType":"` + long + `","size":5,"sha256":"` + strings.Repeat("a", 64) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			e := newEnv(fixture(sampleOrg, domain.AppDraft))
			resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "applications/"+tt.event, withBody(tt.body)))
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, resp.Body[:min(200, len(resp.Body))])
			assert.Equal(t, "field_too_long", errCode(t, resp))
			assert.Empty(t, e.apps.saved, "nothing recorded")
			assert.Empty(t, e.apps.created)
		})
	}
}
