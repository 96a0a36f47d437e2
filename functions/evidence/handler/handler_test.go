package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
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

var testNow = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

// fakeStore holds one model and its submissions in memory. Tx is not faked: the decision
// route is covered end to end (infra/e2e).
type fakeStore struct {
	model    *domain.Model
	subs     map[domain.SubmissionKind]*domain.Submission
	saved    []domain.Change
	pipeline *domain.Pipeline
}

func (f *fakeStore) Pipeline(_ context.Context, id string) (*domain.Pipeline, error) {
	if f.pipeline == nil {
		return nil, domain.Errorf(domain.NotFound, "pipeline_not_started", "no pipeline")
	}
	cp := *f.pipeline
	return &cp, nil
}

func (f *fakeStore) SavePipeline(_ context.Context, p *domain.Pipeline, changes ...domain.Change) error {
	f.pipeline = p
	f.saved = append(f.saved, changes...)
	return nil
}

// loadEvent reads events/evidence/<name> (shared/lambdafn/eventstest).
func loadEvent(t *testing.T, name string) httpapi.Request {
	return eventstest.Load[httpapi.Request](t, "evidence/"+name)
}

func (f *fakeStore) Tx() *store.Tx { return nil }
func (f *fakeStore) Model(_ context.Context, id string) (*domain.Model, error) {
	if f.model == nil || id != f.model.ID {
		return nil, domain.Errorf(domain.NotFound, "model_not_found", "model %s does not exist", id)
	}
	m := *f.model
	return &m, nil
}
func (f *fakeStore) Vendor(_ context.Context, org string) (domain.Vendor, error) {
	return domain.Vendor{Org: org, Name: "Demo Vendor Ltd"}, nil
}
func (f *fakeStore) Submission(_ context.Context, modelID, org string, kind domain.SubmissionKind) (*domain.Submission, error) {
	if s := f.subs[kind]; s != nil {
		return s, nil
	}
	return &domain.Submission{ModelID: modelID, VendorOrg: org, Kind: kind}, nil
}
func (f *fakeStore) SubmissionHistory(context.Context, string, domain.SubmissionKind) ([]domain.Change, error) {
	return f.saved, nil
}
func (f *fakeStore) SaveSubmissionVersion(_ context.Context, v *domain.SubmissionVersion, changes ...domain.Change) error {
	if f.subs == nil {
		f.subs = map[domain.SubmissionKind]*domain.Submission{}
	}
	s := f.subs[v.Kind]
	if s == nil {
		s = &domain.Submission{ModelID: v.ModelID, VendorOrg: v.VendorOrg, Kind: v.Kind}
		f.subs[v.Kind] = s
	}
	if len(s.Versions) < v.Number {
		s.Versions = append(s.Versions, v)
	}
	v.Revision++
	f.saved = append(f.saved, changes...)
	return nil
}
func (f *fakeStore) SaveArtifact(ctx context.Context, v *domain.SubmissionVersion, _ string, changes ...domain.Change) error {
	return f.SaveSubmissionVersion(ctx, v, changes...)
}

func (f *fakeStore) TaskTokenOf(_ context.Context, modelID, step string) (store.TaskToken, error) {
	return store.TaskToken{}, domain.Errorf(domain.NotFound, "not_waiting", "no step %s waits on model %s", step, modelID)
}

func (f *fakeStore) SubmissionQueue(context.Context, store.QueueFilter) (store.Page[domain.SubmissionVersion], error) {
	return store.Page[domain.SubmissionVersion]{}, nil
}

type fakeTickets struct{ issued []store.UploadTicket }

func (f *fakeTickets) PutUploadTicket(_ context.Context, t store.UploadTicket) error {
	f.issued = append(f.issued, t)
	return nil
}

type fakeFiles struct{ keys []string }

func (f *fakeFiles) PresignUpload(_ context.Context, key, contentType, sha string, now time.Time) (blob.Upload, error) {
	f.keys = append(f.keys, key)
	return blob.Upload{URL: "https://s3.example/" + key, Method: "PUT", Headers: map[string]string{"Content-Type": contentType}, ExpiresAt: now}, nil
}
func (f *fakeFiles) PresignDownload(_ context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error) {
	return blob.Download{URL: "https://s3.example/" + key, FileName: fileName, ExpiresAt: now}, nil
}

func newTestHandler(status domain.ModelStatus) (*handler, *fakeStore, *fakeFiles) {
	db := &fakeStore{model: &domain.Model{ID: "mdl_0123456789abcdef", VendorOrg: "demo-vendor", Status: status,
		ModelSpec: domain.ModelSpec{Name: "K1 Pro", DeviceType: domain.DeviceDesktopDualScreen,
			SoftwareModes: []domain.SoftwareMode{domain.ModeSDK}, Connectivity: []domain.Connectivity{domain.ConnWiFi}}}}
	files := &fakeFiles{}
	return &handler{db: db, tickets: &fakeTickets{}, files: files, now: func() time.Time { return testNow }, newID: func(p string) string { return p + "_1" }}, db, files
}

func asVendor(req httpapi.Request, org string) httpapi.Request {
	req.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": "someone", "org": org, "role": "vendor"}
	return req
}

func TestRequestUpload(t *testing.T) {
	tests := []struct {
		name       string
		status     domain.ModelStatus
		org, body  string
		wantStatus int
		wantCode   string
	}{
		{"the sample", domain.ModelApproved, "demo-vendor", "", http.StatusOK, ""},
		{"another vendor's model", domain.ModelApproved, "vendor-b", "", http.StatusNotFound, "model_not_found"},
		{"model not approved", domain.ModelUnderReview, "demo-vendor", "", http.StatusConflict, "model_not_approved"},
		{"wrong name", domain.ModelApproved, "demo-vendor",
			`{"fileName":"video.mp4","contentType":"video/mp4","size":10,"sha256":"` + strings.Repeat("a", 64) + `"}`, http.StatusBadRequest, "bad_file_name"},
		{"over 10 MB", domain.ModelApproved, "demo-vendor",
			`{"fileName":"[3设备流程视频]-[Demo Vendor Ltd][K1 Pro][SDK模式].mp4","contentType":"video/mp4","size":10485761,"sha256":"` + strings.Repeat("a", 64) + `"}`,
			http.StatusRequestEntityTooLarge, "file_too_large"},
		{"bad checksum", domain.ModelApproved, "demo-vendor",
			`{"fileName":"[3设备流程视频]-[Demo Vendor Ltd][K1 Pro][SDK模式].mp4","contentType":"video/mp4","size":10,"sha256":"xyz"}`, http.StatusBadRequest, "invalid_sha256"},
		{"unknown field", domain.ModelApproved, "demo-vendor", `{"fileName":"x","extra":1}`, http.StatusBadRequest, "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, db, files := newTestHandler(tt.status)
			req := asVendor(loadEvent(t, "request-evidence-upload.json"), tt.org)
			if tt.body != "" {
				req.Body = tt.body
			}
			resp, err := h.router().Handle(context.Background(), req)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.StatusCode, resp.Body)
			if tt.wantCode != "" {
				assert.Contains(t, resp.Body, `"code":"`+tt.wantCode+`"`)
				assert.Empty(t, db.saved, "nothing written")
				return
			}
			assert.Equal(t, []string{"evidence/demo-vendor/mdl_0123456789abcdef/software/v1/software.3.sdk/up_1"}, files.keys)
			// Asking again for the same file reuses the pending upload.
			resp, err = h.router().Handle(context.Background(), req)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Len(t, db.saved, 1)
			assert.Equal(t, files.keys[0], files.keys[1])
			issued := h.tickets.(*fakeTickets).issued
			require.Len(t, issued, 2, "every URL handed out has its ticket")
			assert.Equal(t, files.keys[0], issued[1].Key)
			assert.Equal(t, testNow, issued[1].RequestedAt)

			// A day later the same request gets a new upload (and a ticket of that day).
			later := testNow.Add(store.UploadReusableFor + time.Minute)
			h.now = func() time.Time { return later }
			h.newID = func(p string) string { return p + "_2" }
			resp, err = h.router().Handle(context.Background(), req)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			require.Len(t, files.keys, 3)
			assert.NotEqual(t, files.keys[0], files.keys[2])
			issued = h.tickets.(*fakeTickets).issued
			assert.Equal(t, later, issued[2].RequestedAt)
		})
	}
}

func TestRolesAndSamples(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join("..", "..", "..", "events", "evidence", "*.json"))
	require.NoError(t, err)
	require.Len(t, samples, 7)
	for _, s := range samples {
		name := filepath.Base(s)
		h, _, _ := newTestHandler(domain.ModelApproved)
		req := loadEvent(t, name)
		if strings.HasPrefix(req.RouteKey, "POST /admin") || strings.HasPrefix(req.RouteKey, "GET /admin") {
			resp, err := h.router().Handle(context.Background(), asVendor(req, "demo-vendor"))
			require.NoError(t, err)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, name)
			assert.Contains(t, resp.Body, "forbidden_role", name)
			continue
		}
		req.RequestContext.Authorizer.JWT.Claims["role"] = "reviewer"
		resp, err := h.router().Handle(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s as a reviewer", name)
	}
}

func TestGetSubmissionListsSlots(t *testing.T) {
	h, _, _ := newTestHandler(domain.ModelApproved)
	resp, err := h.router().Handle(context.Background(), loadEvent(t, "get-submission.json"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var view SubmissionView
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &view))
	require.Len(t, view.Slots, 4)
	assert.Equal(t, "software.2.sdk", view.Slots[1].Path)
	assert.Equal(t, "[2软件预检测结果]-[Demo Vendor Ltd][K1 Pro][SDK模式].xls", view.Slots[1].ExpectedFileName)
	assert.Nil(t, view.Current)
	assert.NotNil(t, view.Versions)
}
