package handler

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/store"
)

// The samples of events/ and their adjustments (shared/lambdafn/eventstest).
func loadEvent(t *testing.T, path string, mutators ...func(*httpapi.Request)) httpapi.Request {
	return eventstest.Load(t, path, mutators...)
}

var (
	withBody  = eventstest.WithBody
	withQuery = eventstest.WithQuery
	withPath  = eventstest.WithPath
)

func withRole(role string) func(*httpapi.Request) { return eventstest.WithClaim("role", role) }

var testNow = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)

const (
	sampleID  = "mdl_0123456789abcdef" // the id in events/models/*.json
	sampleOrg = "demo-vendor"
)

func asReviewer(r *httpapi.Request) {
	r.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": "rita", "role": "reviewer"}
}

func withHeader(name, value string) func(*httpapi.Request) {
	return func(r *httpapi.Request) { r.Headers[name] = value }
}

// fakeModels is an in-memory modelStore. The *Err fields make the matching call fail.
type fakeModels struct {
	vendors                                        map[string]domain.Vendor
	models                                         map[string]*domain.Model
	saved                                          []domain.Change
	vendorErr, createErr, saveErr, getErr, listErr error
	listOrg, listCursor                            string
	listLimit                                      int
	claims                                         map[string]store.Claim
}

func (f *fakeModels) ClaimOf(_ context.Context, scope string) (store.Claim, error) {
	cl, ok := f.claims[scope]
	if !ok {
		return store.Claim{}, domain.Errorf(domain.NotFound, "claim_not_found", "no claim")
	}
	return cl, nil
}

func (f *fakeModels) Vendor(_ context.Context, org string) (domain.Vendor, error) {
	if f.vendorErr != nil {
		return domain.Vendor{}, f.vendorErr
	}
	v, ok := f.vendors[org]
	if !ok {
		return domain.Vendor{}, domain.Errorf(domain.NotFound, "vendor_not_approved", "no vendor %s", org)
	}
	return v, nil
}

func (f *fakeModels) CreateModel(_ context.Context, m *domain.Model, c domain.Change, claims ...store.Claim) error {
	if f.createErr != nil {
		return f.createErr
	}
	for _, cl := range claims {
		if _, taken := f.claims[cl.Scope]; taken {
			return domain.ErrConflict.Withf("claim taken")
		}
	}
	for _, cl := range claims {
		if f.claims == nil {
			f.claims = map[string]store.Claim{}
		}
		f.claims[cl.Scope] = cl
	}
	m.Version = 1
	c2 := *m
	f.models[m.ID] = &c2
	f.saved = append(f.saved, c)
	return nil
}

func (f *fakeModels) ResubmitModel(_ context.Context, m *domain.Model, _ string, changes ...domain.Change) error {
	if f.saveErr != nil {
		return f.saveErr
	}
	m.Version++
	c := *m
	f.models[m.ID] = &c
	f.saved = append(f.saved, changes...)
	return nil
}

func (f *fakeModels) Model(_ context.Context, id string) (*domain.Model, error) {
	if f.getErr != nil {
		return nil, f.getErr
	}
	m, ok := f.models[id]
	if !ok {
		return nil, domain.Errorf(domain.NotFound, "model_not_found", "model %s does not exist", id)
	}
	c := *m
	return &c, nil
}

func (f *fakeModels) ModelHistory(context.Context, string) ([]domain.Change, error) {
	return []domain.Change{{At: testNow, By: "alice", Action: "registered"}}, nil
}

func (f *fakeModels) ModelsOf(_ context.Context, org, cursor string, limit int) (store.Page[domain.Model], error) {
	f.listOrg, f.listCursor, f.listLimit = org, cursor, limit
	p := store.Page[domain.Model]{}
	for _, m := range f.models {
		p.Items = append(p.Items, *m)
	}
	return p, f.listErr
}

func fixture(org string, status domain.ModelStatus, round int) *domain.Model {
	return &domain.Model{
		ID: sampleID, VendorOrg: org, VendorCode: "07",
		ModelSpec: domain.ModelSpec{Name: "K0", DeviceType: domain.DeviceHandheld, OS: domain.OSLinux,
			SoftwareModes: []domain.SoftwareMode{domain.ModeAPP}, CameraModel: "C1"},
		Status: status, Round: round, CreatedBy: "alice", CreatedAt: testNow.Add(-48 * time.Hour),
		UpdatedAt: testNow.Add(-24 * time.Hour), SubmittedAt: testNow.Add(-48 * time.Hour), Version: 2,
	}
}

func newHandler(models ...*domain.Model) (*handler, *fakeModels) {
	f := &fakeModels{
		vendors: map[string]domain.Vendor{sampleOrg: {Org: sampleOrg, Code: "07", Name: "Demo Devices Ltd"}},
		models:  map[string]*domain.Model{},
	}
	for _, m := range models {
		f.models[m.ID] = m
	}
	return &handler{db: f, now: func() time.Time { return testNow }, newID: func() string { return "mdl_new" }}, f
}

func errCode(t *testing.T, resp httpapi.Response) string {
	t.Helper()
	var b httpapi.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &b), resp.Body)
	return b.Error.Code
}

var (
	errConflict = domain.Errorf(domain.Conflict, "conflict", "model changed meanwhile; reload and retry")
	errInternal = errors.New("dynamodb: throttled")
)

func TestRoutes(t *testing.T) {
	tests := []struct {
		name       string
		event      string
		mutators   []func(*httpapi.Request)
		model      *domain.Model
		setup      func(*fakeModels)
		wantStatus int
		wantCode   string
		wantSaved  []string
	}{
		// register
		{name: "register", event: "register-model.json", wantStatus: http.StatusCreated, wantSaved: []string{"registered"}},
		{name: "register as reviewer", event: "register-model.json", mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "register as merchant", event: "register-model.json", mutators: []func(*httpapi.Request){withRole("merchant")},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "register not yet approved", event: "register-model.json", setup: func(f *fakeModels) { delete(f.vendors, sampleOrg) },
			wantStatus: http.StatusForbidden, wantCode: "vendor_not_approved"},
		{name: "register vendor lookup failure", event: "register-model.json", setup: func(f *fakeModels) { f.vendorErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},
		{name: "register bad json", event: "register-model.json", mutators: []func(*httpapi.Request){withBody(`{"name":"K1",}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "register unknown field", event: "register-model.json", mutators: []func(*httpapi.Request){withBody(`{"name":"K1","modelCode":"ZZ"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "register unknown device type", event: "register-model.json",
			mutators:   []func(*httpapi.Request){withBody(`{"name":"K1","deviceType":"toaster","os":"android","softwareModes":["sdk"],"cameraModel":"C"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "unknown_device_type"},
		{name: "register without software mode", event: "register-model.json",
			mutators:   []func(*httpapi.Request){withBody(`{"name":"K1","deviceType":"handheld","os":"android","softwareModes":[],"cameraModel":"C"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "missing_software_mode"},
		{name: "register conflict", event: "register-model.json", setup: func(f *fakeModels) { f.createErr = errConflict },
			wantStatus: http.StatusConflict, wantCode: "conflict"},
		{name: "register store failure", event: "register-model.json", setup: func(f *fakeModels) { f.createErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},
		{name: "register duplicate name", event: "register-model.json",
			setup:      func(f *fakeModels) { f.createErr = domain.Errorf(domain.Conflict, "duplicate_model_name", "taken") },
			wantStatus: http.StatusConflict, wantCode: "duplicate_model_name"},
		{name: "register duplicate name with a new idempotency key", event: "register-model.json", mutators: []func(*httpapi.Request){withHeader("idempotency-key", "new")},
			setup:      func(f *fakeModels) { f.createErr = domain.Errorf(domain.Conflict, "duplicate_model_name", "taken") },
			wantStatus: http.StatusConflict, wantCode: "duplicate_model_name"},
		{name: "register name with a bracket", event: "register-model.json",
			mutators:   []func(*httpapi.Request){withBody(`{"name":"K1 [Pro]","deviceType":"handheld","os":"android","softwareModes":["sdk"],"cameraModel":"C"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_model_name"},

		// list
		{name: "list", event: "list-models.json", model: fixture(sampleOrg, domain.ModelUnderReview, 1), wantStatus: http.StatusOK},
		{name: "list as reviewer", event: "list-models.json", mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "list bad limit", event: "list-models.json", mutators: []func(*httpapi.Request){withQuery("limit", "0")},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_limit"},
		{name: "list store failure", event: "list-models.json", setup: func(f *fakeModels) { f.listErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},

		// get, history
		{name: "get", event: "get-model.json", model: fixture(sampleOrg, domain.ModelApproved, 1), wantStatus: http.StatusOK},
		{name: "get another vendor's", event: "get-model.json", model: fixture("other-vendor", domain.ModelApproved, 1),
			wantStatus: http.StatusNotFound, wantCode: "model_not_found"},
		{name: "get missing", event: "get-model.json", wantStatus: http.StatusNotFound, wantCode: "model_not_found"},
		{name: "get as reviewer", event: "get-model.json", model: fixture(sampleOrg, domain.ModelApproved, 1), mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "get store failure", event: "get-model.json", setup: func(f *fakeModels) { f.getErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},
		{name: "history", event: "get-model-history.json", model: fixture(sampleOrg, domain.ModelApproved, 1), wantStatus: http.StatusOK},
		{name: "history of another vendor's", event: "get-model-history.json", model: fixture("other-vendor", domain.ModelApproved, 1),
			wantStatus: http.StatusNotFound, wantCode: "model_not_found"},

		// resubmit
		{name: "resubmit", event: "resubmit-model.json", model: fixture(sampleOrg, domain.ModelRejected, 1), wantStatus: http.StatusOK, wantSaved: []string{"resubmitted"}},
		{name: "resubmit retried", event: "resubmit-model.json", model: fixture(sampleOrg, domain.ModelUnderReview, 2), wantStatus: http.StatusOK},
		{name: "resubmit under first review", event: "resubmit-model.json", model: fixture(sampleOrg, domain.ModelUnderReview, 1),
			wantStatus: http.StatusConflict, wantCode: "not_editable"},
		{name: "resubmit approved", event: "resubmit-model.json", model: fixture(sampleOrg, domain.ModelApproved, 1),
			wantStatus: http.StatusConflict, wantCode: "not_editable"},
		{name: "resubmit another vendor's", event: "resubmit-model.json", model: fixture("other-vendor", domain.ModelRejected, 1),
			wantStatus: http.StatusNotFound, wantCode: "model_not_found"},
		{name: "resubmit as reviewer", event: "resubmit-model.json", model: fixture(sampleOrg, domain.ModelRejected, 1), mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "resubmit bad json", event: "resubmit-model.json", model: fixture(sampleOrg, domain.ModelRejected, 1), mutators: []func(*httpapi.Request){withBody(`[]`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "resubmit bad spec", event: "resubmit-model.json", model: fixture(sampleOrg, domain.ModelRejected, 1),
			mutators:   []func(*httpapi.Request){withBody(`{"name":"K1","deviceType":"handheld","os":"beos","softwareModes":["sdk"],"cameraModel":"C"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "unknown_os"},
		{name: "resubmit lost race", event: "resubmit-model.json", model: fixture(sampleOrg, domain.ModelRejected, 1), setup: func(f *fakeModels) { f.saveErr = errConflict },
			wantStatus: http.StatusConflict, wantCode: "conflict"},
		{name: "resubmit store failure", event: "resubmit-model.json", model: fixture(sampleOrg, domain.ModelRejected, 1), setup: func(f *fakeModels) { f.saveErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var models []*domain.Model
			if tt.model != nil {
				models = append(models, tt.model)
			}
			h, f := newHandler(models...)
			if tt.setup != nil {
				tt.setup(f)
			}
			resp, err := h.router().Handle(context.Background(), loadEvent(t, filepath.Join("models", tt.event), tt.mutators...))
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.StatusCode, resp.Body)
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, errCode(t, resp))
			}
			if f.saveErr == nil && f.createErr == nil {
				var saved []string
				for _, c := range f.saved {
					saved = append(saved, c.Action)
				}
				assert.Equal(t, tt.wantSaved, saved, "history written")
			}
		})
	}
}

func TestRegister_ModelUnderReviewWithVendorCode(t *testing.T) {
	h, f := newHandler()
	resp, err := h.router().Handle(context.Background(), loadEvent(t, "models/register-model.json"))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, resp.Body)
	var got domain.Model
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
	assert.Equal(t, "mdl_new", got.ID)
	assert.Equal(t, sampleOrg, got.VendorOrg)
	assert.Equal(t, "07", got.VendorCode)
	assert.Equal(t, domain.ModelUnderReview, got.Status)
	assert.Equal(t, 1, got.Round)
	assert.Equal(t, "K1 Pro", got.Name)
	assert.Equal(t, domain.DeviceDesktopDualScreen, got.DeviceType)
	assert.Equal(t, []domain.SoftwareMode{domain.ModeSDK, domain.ModeAPP}, got.SoftwareModes)
	assert.Equal(t, testNow, got.SubmittedAt)
	assert.Contains(t, f.models, "mdl_new")
}

func TestResubmit_ChangesSpecAndRound(t *testing.T) {
	m := fixture(sampleOrg, domain.ModelRejected, 1)
	m.Outcome = &domain.Decision{Approve: false, Reason: "blurry"}
	h, f := newHandler(m)
	resp, err := h.router().Handle(context.Background(), loadEvent(t, "models/resubmit-model.json"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	got := f.models[sampleID]
	assert.Equal(t, domain.ModelUnderReview, got.Status)
	assert.Equal(t, 2, got.Round)
	assert.Equal(t, "K1 Pro", got.Name)
	assert.Nil(t, got.Outcome)
	assert.Equal(t, testNow, got.SubmittedAt)
	assert.Equal(t, 3, got.Version)
}

func TestList_CallerOrgCursorLimit(t *testing.T) {
	h, f := newHandler()
	resp, err := h.router().Handle(context.Background(), loadEvent(t, "models/list-models.json", withQuery("cursor", "c"), withQuery("limit", "3")))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.Equal(t, []any{sampleOrg, "c", 3}, []any{f.listOrg, f.listCursor, f.listLimit})
}
