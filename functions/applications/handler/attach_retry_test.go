package handler

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

func TestAttach_RetryWithUpperCaseSHA256ReusesTheUpload(t *testing.T) {
	e := newEnv(fixture(sampleOrg, domain.AppDraft))
	req := loadEvent(t, "applications/attach-deck.json",
		withBody(`{"fileName":"deck.pdf","contentType":"application/pdf","size":5,"sha256":"`+strings.Repeat("C", 64)+`"}`))
	for range 2 {
		resp, err := e.h.router().Handle(context.Background(), req)
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode, resp.Body)
	}
	assert.Len(t, e.apps.saved, 1, "the retry should reuse the pending upload")
	assert.Equal(t, e.uploads.keys[0], e.uploads.keys[1])
}

func TestSubmit_AnApprovedVendorDoesNotApplyAgain(t *testing.T) {
	e := newEnv(fixture(sampleOrg, domain.AppDraft))
	e.apps.vendors = map[string]domain.Vendor{sampleOrg: {Org: sampleOrg, Code: "0A"}}
	resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "applications/submit-application.json"))
	require.NoError(t, err)
	assert.Equal(t, 409, resp.StatusCode)
	assert.Contains(t, resp.Body, "already_a_vendor")
	assert.Empty(t, e.apps.saved)
}
