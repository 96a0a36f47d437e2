package handler

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
)

// fakeCameras holds requests in memory; limitErr is what the store's transaction answers.
type fakeCameras struct {
	reqs     map[string]*domain.TestCameraRequest
	limitErr error
}

func (f *fakeCameras) CreateTestCameraRequest(_ context.Context, r *domain.TestCameraRequest, _ domain.Change) error {
	if f.limitErr != nil {
		return f.limitErr
	}
	if _, ok := f.reqs[r.ID]; ok {
		return domain.Errorf(domain.Conflict, "conflict", "exists")
	}
	cp := *r
	f.reqs[r.ID] = &cp
	return nil
}

func (f *fakeCameras) TestCameraRequest(_ context.Context, _, id string) (*domain.TestCameraRequest, error) {
	r, ok := f.reqs[id]
	if !ok {
		return nil, domain.Errorf(domain.NotFound, "test_camera_request_not_found", "no %s", id)
	}
	cp := *r
	return &cp, nil
}

func (f *fakeCameras) SaveTestCameraRequest(_ context.Context, r *domain.TestCameraRequest, _ domain.Change) error {
	cp := *r
	f.reqs[r.ID] = &cp
	return nil
}

func (f *fakeCameras) TestCameraRequests(context.Context, string) ([]domain.TestCameraRequest, error) {
	var out []domain.TestCameraRequest
	for _, r := range f.reqs {
		out = append(out, *r)
	}
	return out, nil
}

func cameraHandler(stage domain.Stage) (*handler, *fakeCameras) {
	h, db, _ := newHandler()
	if stage != "" {
		db.pipeline = &domain.Pipeline{ModelID: modelID, Run: 1, Stage: stage}
	}
	cams := &fakeCameras{reqs: map[string]*domain.TestCameraRequest{}}
	h.cameras = cams
	return h, cams
}

func TestRequestTestCameras(t *testing.T) {
	withKey := func(r *httpapi.Request) { r.Headers["idempotency-key"] = "k1" }
	tests := []struct {
		name       string
		stage      domain.Stage
		limitErr   error
		mutators   []func(*httpapi.Request)
		wantStatus int
		wantCode   string
	}{
		{"in DVT", domain.StageDVT, nil, nil, http.StatusCreated, ""},
		{"before the pipeline", "", nil, nil, http.StatusConflict, "model_not_in_dvt"},
		{"in PVT", domain.StagePVT, nil, nil, http.StatusConflict, "model_not_in_dvt"},
		{"unsupported camera", domain.StageDVT, nil, []func(*httpapi.Request){eventstest.WithBody(`{"cameraModel":"XYZ","quantity":1}`)}, http.StatusBadRequest, "unsupported_camera"},
		{"three cameras", domain.StageDVT, nil, []func(*httpapi.Request){eventstest.WithBody(`{"cameraModel":"FC-200","quantity":3}`)}, http.StatusBadRequest, "invalid_quantity"},
		{"model limit", domain.StageDVT, domain.Errorf(domain.Conflict, "test_camera_model_limit", "2"), nil, http.StatusConflict, "test_camera_model_limit"},
		{"vendor limit", domain.StageDVT, domain.Errorf(domain.Conflict, "test_camera_vendor_limit", "4"), nil, http.StatusConflict, "test_camera_vendor_limit"},
		{"reviewer", domain.StageDVT, nil, []func(*httpapi.Request){asReviewer}, http.StatusForbidden, "forbidden_role"},
		{"another vendor", domain.StageDVT, nil, []func(*httpapi.Request){asOther}, http.StatusNotFound, "model_not_found"},
		{"with an idempotency key", domain.StageDVT, nil, []func(*httpapi.Request){withKey}, http.StatusCreated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, cams := cameraHandler(tt.stage)
			cams.limitErr = tt.limitErr
			status, body := call(t, h, "request-test-cameras.json", tt.mutators...)
			assert.Equal(t, tt.wantStatus, status, body)
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, code(body))
				assert.Empty(t, cams.reqs, "nothing stored")
			}
			if tt.name == "with an idempotency key" {
				again, againBody := call(t, h, "request-test-cameras.json", tt.mutators...)
				assert.Equal(t, http.StatusOK, again, againBody)
				assert.JSONEq(t, body, againBody, "a retry returns the first request")
				assert.Len(t, cams.reqs, 1)
			}
		})
	}
}

func TestShipTestCameras(t *testing.T) {
	h, cams := cameraHandler(domain.StageDVT)
	status, body := call(t, h, "ship-test-cameras.json")
	assert.Equal(t, http.StatusNotFound, status, body)
	cams.reqs["tcr_0123456789abcdef"] = &domain.TestCameraRequest{ID: "tcr_0123456789abcdef", ModelID: modelID, VendorOrg: "demo-vendor",
		CameraModel: "FC-200", Quantity: 2, Status: domain.TestCameraRequested}
	status, body = call(t, h, "ship-test-cameras.json", asVendor)
	assert.Equal(t, http.StatusForbidden, status, body)
	status, body = call(t, h, "ship-test-cameras.json")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"status":"shipped"`)
	status, _ = call(t, h, "ship-test-cameras.json")
	assert.Equal(t, http.StatusOK, status, "the same tracking number again is harmless")
	status, body = call(t, h, "ship-test-cameras.json", eventstest.WithBody(`{"trackingNumber":"OTHER"}`))
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "already_shipped", code(body))

	status, body = call(t, h, "list-test-cameras.json")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "SF9876543210")
}

// The Idempotency-Key means this request: checked before anything is looked up, scoped to the
// caller, and refused with another request.
func TestRequestTestCameras_IdempotencyKey(t *testing.T) {
	withKey := func(k string) func(*httpapi.Request) {
		return func(r *httpapi.Request) { r.Headers["idempotency-key"] = k }
	}
	h, cams := cameraHandler(domain.StageDVT)
	status, body := call(t, h, "request-test-cameras.json", withKey("k1"))
	require.Equal(t, http.StatusCreated, status, body)

	status, body = call(t, h, "request-test-cameras.json", withKey("k1"), eventstest.WithBody(`{"cameraModel":"FC-200","quantity":1}`))
	assert.Equal(t, http.StatusUnprocessableEntity, status, body)
	assert.Equal(t, "idempotency_key_reused", code(body))

	status, body = call(t, h, "request-test-cameras.json", withKey(strings.Repeat("k", 200)))
	assert.Equal(t, http.StatusBadRequest, status, body)
	assert.Equal(t, "invalid_idempotency_key", code(body))
	assert.Len(t, cams.reqs, 1, "neither refusal stored anything")
}
