package handler

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/store"
)

// marketStore is the pipeline store with a model whose codes the sample SN carries.
type marketStore struct{ fakeStore }

func (f *marketStore) Model(ctx context.Context, id string) (*domain.Model, error) {
	m, err := f.fakeStore.Model(ctx, id)
	if err == nil {
		m.VendorCode, m.ModelCode, m.OS = "00", "00", domain.OSAndroid
	}
	return m, err
}

type fakeSpots struct {
	checks map[string]*domain.SpotCheck
	saved  *domain.Pipeline
}

func (f *fakeSpots) SpotCheck(_ context.Context, _, id string) (*domain.SpotCheck, error) {
	if s, ok := f.checks[id]; ok {
		cp := *s
		return &cp, nil
	}
	return nil, domain.Errorf(domain.NotFound, "spot_check_not_found", "none")
}

func (f *fakeSpots) SpotChecks(context.Context, string) ([]domain.SpotCheck, error) {
	var out []domain.SpotCheck
	for _, id := range slices.Sorted(maps.Keys(f.checks)) {
		out = append(out, *f.checks[id])
	}
	return out, nil
}

func (f *fakeSpots) SaveSpotCheck(_ context.Context, s *domain.SpotCheck, p *domain.Pipeline, _ ...domain.Change) error {
	f.checks[s.ID] = s
	if p != nil {
		f.saved = p
	}
	return nil
}

func (f *fakeSpots) SavePipeline(_ context.Context, p *domain.Pipeline, _ ...domain.Change) error {
	f.saved = p
	return nil
}

func (f *fakeSpots) Alerts(context.Context, string, int) (store.Page[domain.Message], error) {
	return store.Page[domain.Message]{Items: []domain.Message{}}, nil
}

type fakeReports struct {
	keys    []string
	arrived map[string]bool
}

func (f *fakeReports) Head(_ context.Context, key string) (string, int64, bool, error) {
	return "v1", 10, f.arrived[key], nil
}

func (f *fakeReports) PresignDownload(_ context.Context, key, version, fileName string, _ time.Time) (blob.Download, error) {
	return blob.Download{URL: "https://s3.local/" + key + "?versionId=" + version, FileName: fileName}, nil
}

func (f *fakeReports) PresignUpload(_ context.Context, key, _, _ string, _ time.Time) (blob.Upload, error) {
	f.keys = append(f.keys, key)
	return blob.Upload{URL: "https://s3.local/" + key, Method: http.MethodPut}, nil
}

func newMarketHandler(stage domain.Stage) (*handler, *fakeSpots, *fakeReports, *fakePipelines) {
	h, db, p := newHandler()
	ms := &marketStore{fakeStore: *db}
	ms.pipeline = &domain.Pipeline{ModelID: modelID, VendorOrg: "demo-vendor", Run: 2, Stage: stage, Position: stage}
	spots, reports := &fakeSpots{checks: map[string]*domain.SpotCheck{}}, &fakeReports{}
	h.db, h.spots, h.reports = ms, spots, reports
	return h, spots, reports, p
}

// A failed spot check opens its order on the pipeline record; the same record again is 200;
// only reviewers record, only of a model in the market, with the model's SN.
func TestRecordSpotCheck(t *testing.T) {
	h, spots, reports, _ := newMarketHandler(domain.StageMP)
	status, body := call(t, h, "record-spot-check.json")
	require.Equal(t, http.StatusCreated, status, body)
	require.Len(t, spots.checks, 1)
	for id := range spots.checks {
		assert.Contains(t, spots.saved.Rectifications, id, "the order's deadline is on the pipeline record")
		assert.Equal(t, []string{"spotchecks/demo-vendor/" + modelID + "/" + id + "/report.pdf"}, reports.keys)
	}
	status, _ = call(t, h, "record-spot-check.json")
	assert.Equal(t, http.StatusOK, status, "the same record again")

	tests := []struct {
		name     string
		stage    domain.Stage
		mutators []func(*httpapi.Request)
		status   int
		code     string
	}{
		{"vendor records", domain.StageMP, []func(*httpapi.Request){asVendor}, http.StatusForbidden, "forbidden_role"},
		{"not in the market", domain.StageDVT, nil, http.StatusConflict, "not_in_market"},
		{"another model's SN", domain.StageMP, []func(*httpapi.Request){eventstest.WithBody(`{"sn":"00A010000012345X7Q2M9ZK","lab":"L","findings":"f","result":"pass","report":{"fileName":"r.pdf","contentType":"application/pdf","size":1,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}`)}, http.StatusBadRequest, "sn_model_mismatch"},
		{"failed without a deadline", domain.StageMP, []func(*httpapi.Request){eventstest.WithBody(`{"sn":"00A000000012345X7Q2M9ZK","lab":"L","findings":"f","result":"fail","report":{"fileName":"r.pdf","contentType":"application/pdf","size":1,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}`)}, http.StatusBadRequest, "invalid_deadline"},
		{"not a PDF", domain.StageMP, []func(*httpapi.Request){eventstest.WithBody(`{"sn":"00A000000012345X7Q2M9ZK","lab":"L","findings":"f","result":"pass","report":{"fileName":"r.exe","contentType":"application/pdf","size":1,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}`)}, http.StatusBadRequest, "invalid_report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, spots, _, _ := newMarketHandler(tt.stage)
			status, body := call(t, h, "record-spot-check.json", tt.mutators...)
			assert.Equal(t, tt.status, status, body)
			assert.Equal(t, tt.code, code(body))
			assert.Empty(t, spots.checks, "nothing written")
		})
	}
}

// Withdrawal records the stage, then stops the run's execution; a repeat answers the same; a
// model in MP cannot be withdrawn.
func TestWithdraw(t *testing.T) {
	h, spots, _, p := newMarketHandler(domain.StagePVT)
	status, body := call(t, h, "withdraw-model.json")
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, domain.StageWithdrawn, spots.saved.Stage)
	assert.Equal(t, []string{domain.ExecutionName(modelID, 2)}, p.stopped)
	h.db.(*marketStore).pipeline = spots.saved
	status, _ = call(t, h, "withdraw-model.json")
	assert.Equal(t, http.StatusOK, status, "a repeat")
	assert.Len(t, p.stopped, 2, "stopped again (harmless)")

	h, _, _, _ = newMarketHandler(domain.StageMP)
	status, body = call(t, h, "withdraw-model.json")
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "model_in_production", code(body))
	status, body = call(t, h, "withdraw-model.json", asReviewer)
	assert.Equal(t, http.StatusForbidden, status, body)
}

// The vendor lists its model's spot checks: a report that arrived has a download link, one
// still awaited has none; the reviewer who recorded them stays hidden.
func TestListSpotChecksLinksArrivedReports(t *testing.T) {
	h, spots, reports, _ := newMarketHandler(domain.StageMP)
	status, body := call(t, h, "record-spot-check.json")
	require.Equal(t, http.StatusCreated, status, body)
	status, body = call(t, h, "record-spot-check.json", eventstest.WithBody(`{"sn":"00A000000012345X7Q2M9ZK","lab":"L","findings":"f","result":"pass","report":{"fileName":"second.pdf","contentType":"application/pdf","size":1,"sha256":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}}`))
	require.Equal(t, http.StatusCreated, status, body)
	require.Len(t, spots.checks, 2)
	var arrived *domain.SpotCheck
	for _, s := range spots.checks {
		if s.Report.FileName == "second.pdf" {
			arrived = s
		}
	}
	reports.arrived = map[string]bool{reportKey(arrived): true}

	status, body = call(t, h, "list-spot-checks.json")
	require.Equal(t, http.StatusOK, status, body)
	var out struct {
		Items []struct {
			ID             string         `json:"id"`
			RecordedBy     string         `json:"recordedBy"`
			ReportDownload *blob.Download `json:"reportDownload"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	require.Len(t, out.Items, 2)
	for _, it := range out.Items {
		assert.Empty(t, it.RecordedBy, "the vendor never sees the reviewer")
		if it.ID == arrived.ID {
			require.NotNil(t, it.ReportDownload)
			assert.Equal(t, "second.pdf", it.ReportDownload.FileName)
			assert.Contains(t, it.ReportDownload.URL, reportKey(arrived))
		} else {
			assert.Nil(t, it.ReportDownload, "no link before the report arrived")
		}
	}
}
