package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/store"
)

var testNow = time.Date(2026, 12, 20, 2, 0, 0, 0, time.UTC)

const modelID = "mdl_0123456789abcdef"

type fakeStore struct {
	pipeline *domain.Pipeline
	tokens   map[string]store.TaskToken
	marked   map[string]string
}

func (f *fakeStore) Model(_ context.Context, id string) (*domain.Model, error) {
	if id != modelID {
		return nil, domain.Errorf(domain.NotFound, "model_not_found", "no model %s", id)
	}
	return &domain.Model{ID: id, VendorOrg: "demo-vendor", Status: domain.ModelApproved, ModelCode: "01",
		ModelSpec: domain.ModelSpec{Connectivity: []domain.Connectivity{domain.ConnWiFi}}}, nil
}

func (f *fakeStore) Pipeline(context.Context, string) (*domain.Pipeline, error) {
	if f.pipeline == nil {
		return nil, domain.Errorf(domain.NotFound, "pipeline_not_started", "none")
	}
	return f.pipeline, nil
}

func (f *fakeStore) Submission(_ context.Context, id, org string, kind domain.SubmissionKind) (*domain.Submission, error) {
	return &domain.Submission{ModelID: id, VendorOrg: org, Kind: kind}, nil
}

func (f *fakeStore) TaskTokenOf(_ context.Context, id, step string) (store.TaskToken, error) {
	tok, ok := f.tokens[step]
	if !ok {
		return store.TaskToken{}, domain.Errorf(domain.NotFound, "not_waiting", "no %s", step)
	}
	return tok, nil
}

func (f *fakeStore) MarkTaskTokenCompleted(_ context.Context, id, step, token, fp string) error {
	tok := f.tokens[step]
	tok.CompletedWith = fp
	f.tokens[step] = tok
	return nil
}

// fakePipelines: a token can be resumed once, like Step Functions.
type fakePipelines struct {
	resumed map[string]any
	started []string
	stopped []string
}

func (f *fakePipelines) Stop(_ context.Context, name, _ string) error {
	f.stopped = append(f.stopped, name)
	return nil
}

func (f *fakePipelines) Resume(_ context.Context, token string, output any) error {
	if _, done := f.resumed[token]; done {
		return domain.Errorf(domain.Conflict, "not_waiting", "no longer waiting")
	}
	f.resumed[token] = output
	return nil
}

func (f *fakePipelines) Start(_ context.Context, name string, input any) (string, error) {
	f.started = append(f.started, name)
	return "arn:aws:states:us-east-1:000000000000:execution:sm:" + name, nil
}

func newHandler(waiting ...string) (*handler, *fakeStore, *fakePipelines) {
	db := &fakeStore{tokens: map[string]store.TaskToken{}}
	for _, s := range waiting {
		db.tokens[s] = store.TaskToken{ModelID: modelID, Step: s, Token: "token-" + s}
	}
	p := &fakePipelines{resumed: map[string]any{}}
	return &handler{db: db, pipelines: p, now: func() time.Time { return testNow }, trackDays: 180}, db, p
}

func call(t *testing.T, h *handler, event string, mutators ...func(*httpapi.Request)) (int, string) {
	t.Helper()
	resp, err := h.router().Handle(context.Background(), eventstest.Load(t, "pipeline/"+event, mutators...))
	require.NoError(t, err)
	return resp.StatusCode, resp.Body
}

func code(body string) string {
	var e httpapi.ErrorBody
	_ = json.Unmarshal([]byte(body), &e)
	return e.Error.Code
}

var (
	asVendor   = eventstest.WithClaim("role", "vendor")
	asReviewer = eventstest.WithClaim("role", "reviewer")
	asOther    = eventstest.WithClaim("org", "someone-else")
)

// Each step resumes only the callback it names; roles and ownership are checked first; a step
// the pipeline does not wait on is 409 with its own code.
func TestSteps(t *testing.T) {
	tests := []struct {
		name, event, waiting string
		mutators             []func(*httpapi.Request)
		wantStatus           int
		wantCode             string
	}{
		{"invite", "invite-inspection.json", "pvt", nil, http.StatusAccepted, ""},
		{"invite before PVT", "invite-inspection.json", "", nil, http.StatusConflict, "not_in_pvt"},
		{"vendor invites", "invite-inspection.json", "pvt", []func(*httpapi.Request){asVendor}, http.StatusForbidden, "forbidden_role"},
		{"too many devices", "invite-inspection.json", "pvt", []func(*httpapi.Request){eventstest.WithBody(`{"lab":"L","devices":17,"deadline":"2027-01-15T00:00:00Z"}`)}, http.StatusBadRequest, "invalid_device_count"},
		{"shipment", "record-inspection-shipment.json", "inspection_shipment", nil, http.StatusAccepted, ""},
		{"shipment with nothing invited", "record-inspection-shipment.json", "pvt", nil, http.StatusConflict, "no_inspection_invited"},
		{"another vendor's shipment", "record-inspection-shipment.json", "inspection_shipment", []func(*httpapi.Request){asOther}, http.StatusNotFound, "model_not_found"},
		{"reviewer ships", "record-inspection-shipment.json", "inspection_shipment", []func(*httpapi.Request){asReviewer}, http.StatusForbidden, "forbidden_role"},
		{"result", "record-inspection-result.json", "inspection_result", nil, http.StatusAccepted, ""},
		{"result before shipment", "record-inspection-result.json", "inspection_shipment", nil, http.StatusConflict, "no_inspection_shipped"},
		{"lift", "lift-model-restriction.json", "lift_restriction", nil, http.StatusAccepted, ""},
		{"lift when not restricted", "lift-model-restriction.json", "pvt", nil, http.StatusConflict, "not_liftable"},
		{"declare", "declare-pvt-done.json", "pvt", nil, http.StatusAccepted, ""},
		{"declare without cameras", "declare-pvt-done.json", "pvt", []func(*httpapi.Request){eventstest.WithBody(`{"camerasPurchased":false,"factoryChecksRunning":true}`)}, http.StatusBadRequest, "pvt_not_ready"},
		{"declare during an inspection", "declare-pvt-done.json", "inspection_shipment", nil, http.StatusConflict, "not_in_pvt"},
		{"unknown field", "declare-pvt-done.json", "pvt", []func(*httpapi.Request){eventstest.WithBody(`{"camerasPurchased":true,"factoryChecksRunning":true,"x":1}`)}, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var waiting []string
			if tt.waiting != "" {
				waiting = append(waiting, tt.waiting)
			}
			h, _, p := newHandler(waiting...)
			status, body := call(t, h, tt.event, tt.mutators...)
			assert.Equal(t, tt.wantStatus, status, body)
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, code(body))
			}
			if status == http.StatusAccepted {
				assert.Contains(t, p.resumed, "token-"+tt.waiting)
				assert.NotContains(t, body, "token-", "the token never reaches a client")
				// The same request again: the same answer, nothing resumed twice.
				again, againBody := call(t, h, tt.event, tt.mutators...)
				assert.Equal(t, status, again, againBody)
				assert.JSONEq(t, body, againBody)
			} else {
				assert.Empty(t, p.resumed, "nothing resumed")
			}
		})
	}
}

// A different request after a step completed is not a repeat: 409.
func TestDifferentRequestAfterCompletion(t *testing.T) {
	h, _, _ := newHandler("pvt")
	status, _ := call(t, h, "invite-inspection.json")
	require.Equal(t, http.StatusAccepted, status)
	status, body := call(t, h, "invite-inspection.json", eventstest.WithBody(`{"lab":"Other lab","devices":12,"deadline":"2027-01-15T00:00:00Z"}`))
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "not_in_pvt", code(body))
}

func TestRestart(t *testing.T) {
	h, db, p := newHandler()
	status, body := call(t, h, "restart-model-pipeline.json")
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "not_expired", code(body), "no pipeline yet")

	db.pipeline = &domain.Pipeline{ModelID: modelID, Run: 1, Stage: domain.StageDVT}
	status, body = call(t, h, "restart-model-pipeline.json")
	assert.Equal(t, "not_expired", code(body))
	assert.Equal(t, http.StatusConflict, status)

	db.pipeline.Stage = domain.StageExpired
	status, body = call(t, h, "restart-model-pipeline.json", asReviewer)
	assert.Equal(t, http.StatusForbidden, status, body)
	status, body = call(t, h, "restart-model-pipeline.json", asOther)
	assert.Equal(t, http.StatusNotFound, status, body)
	status, body = call(t, h, "restart-model-pipeline.json")
	require.Equal(t, http.StatusAccepted, status, body)
	assert.JSONEq(t, `{"modelId":"`+modelID+`","run":2}`, body)
	assert.Equal(t, []string{modelID + "-run2"}, p.started, "a new execution name per run")
}

func TestTimeline(t *testing.T) {
	h, db, _ := newHandler()
	status, body := call(t, h, "get-model-timeline.json")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"stage":"registered"`)
	db.pipeline = &domain.Pipeline{ModelID: modelID, Run: 1, Stage: domain.StageDVT, StageSince: testNow, TrackTimeoutDays: 180,
		Tracks: map[domain.Track]*domain.TrackState{domain.TrackSoftware: {Status: domain.TrackWaiting, Since: testNow}}}
	status, body = call(t, h, "get-model-timeline.json")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"from":"vendor"`)
	status, _ = call(t, h, "get-model-timeline.json", asReviewer)
	assert.Equal(t, http.StatusOK, status, "reviewers read any model's timeline")
	status, body = call(t, h, "get-model-timeline.json", asOther)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "model_not_found", code(body))
	status, _ = call(t, h, "get-model-timeline.json", eventstest.WithClaim("role", "deployer"))
	assert.Equal(t, http.StatusForbidden, status)
}
