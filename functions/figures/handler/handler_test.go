package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/rollup"
)

type fakeFigures struct {
	from, to string
	items    []rollup.Figures
}

func (f *fakeFigures) DeviceSeries(_ context.Context, sn, from, to string) ([]rollup.Figures, error) {
	f.from, f.to = from, to
	return f.items, nil
}

func TestDeviceSeries(t *testing.T) {
	now := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC) // 11:00 on the 28th in Shanghai
	day := rollup.Figures{DeviceSN: "01A0020260000017KQ2M9XB", Date: "2026-11-27", SuccessCount: 3, OverLimitCount: 1}
	tests := []struct {
		name       string
		mutate     []func(*httpapi.Request)
		wantStatus int
		wantCode   string
		wantRange  [2]string
	}{
		{"sample", nil, http.StatusOK, "", [2]string{"2026-11-01", "2026-11-27"}},
		{"default range: 30 days to yesterday", []func(*httpapi.Request){func(r *httpapi.Request) { r.QueryStringParameters = nil }}, http.StatusOK, "", [2]string{"2026-10-29", "2026-11-27"}},
		{"a vendor", []func(*httpapi.Request){eventstest.WithClaim("role", "vendor")}, http.StatusForbidden, "forbidden_role", [2]string{}},
		{"bad SN", []func(*httpapi.Request){eventstest.WithPath("sn", "01a00")}, http.StatusBadRequest, "invalid_sn", [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFigures{items: []rollup.Figures{day}}
			h := &handler{figures: f, now: func() time.Time { return now }}
			resp, err := h.router().Handle(context.Background(), eventstest.Load(t, "figures/get-device-figures.json", tt.mutate...))
			require.NoError(t, err)
			require.Equal(t, tt.wantStatus, resp.StatusCode, resp.Body)
			if tt.wantCode != "" {
				assert.Contains(t, resp.Body, `"code":"`+tt.wantCode+`"`)
				return
			}
			assert.Equal(t, tt.wantRange, [2]string{f.from, f.to})
			var s Series
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &s))
			assert.Equal(t, []rollup.Figures{day}, s.Items)
			assert.Equal(t, []string{"2026-11-27"}, s.OverLimitDays, "the day with a face payment over the limit is flagged")
		})
	}
}
