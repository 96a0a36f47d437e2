package handler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
)

func serve(t *testing.T, status int, body []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/evidence/key?versionId=v1"
}

func TestPrescreenWorkbook(t *testing.T) {
	allPass, err := os.ReadFile("../../../shared/evidence/evidencetest/testdata/hardware-all-pass.xls")
	require.NoError(t, err)
	missing, err := os.ReadFile("../../../shared/evidence/evidencetest/testdata/hardware-missing-sheet.xls")
	require.NoError(t, err)
	sample := eventstest.Load[evidence.PrescreenRequest](t, "prescreen-workbook/hardware-workbook.json") // the sam local invoke sample
	h, err := New(context.Background(), lambdafn.Deps{})
	require.NoError(t, err)

	t.Run("a workbook laid out as the standard passes", func(t *testing.T) {
		r := sample
		r.URL = serve(t, http.StatusOK, allPass)
		res, err := h(context.Background(), r)
		require.NoError(t, err)
		require.NotNil(t, res.Prescreen)
		assert.True(t, res.Prescreen.Passed, "%+v", res.Prescreen.Findings)
		assert.Nil(t, res.Refused)
	})
	t.Run("a missing required sheet is a finding", func(t *testing.T) {
		r := sample
		r.URL = serve(t, http.StatusOK, missing)
		res, err := h(context.Background(), r)
		require.NoError(t, err)
		require.NotNil(t, res.Prescreen)
		assert.False(t, res.Prescreen.Passed)
		assert.Equal(t, "missing_sheet", res.Prescreen.Findings[0].Code)
	})
	t.Run("a file over the slot's limit is refused, not read", func(t *testing.T) {
		r := sample
		r.URL = serve(t, http.StatusOK, []byte(strings.Repeat("x", int(evidence.MaxFileSize)+1)))
		res, err := h(context.Background(), r)
		require.NoError(t, err)
		require.NotNil(t, res.Refused)
		assert.Equal(t, "file_too_large", res.Refused.Code)
	})
	t.Run("an object it cannot read is an error, for the caller to retry", func(t *testing.T) {
		r := sample
		r.URL = serve(t, http.StatusForbidden, nil)
		_, err := h(context.Background(), r)
		assert.ErrorContains(t, err, "403")
		assert.Equal(t, domain.Internal, domain.KindOf(err))
	})
	t.Run("a request without a URL is an error", func(t *testing.T) {
		_, err := h(context.Background(), evidence.PrescreenRequest{Key: "k"})
		assert.Error(t, err)
	})
}
