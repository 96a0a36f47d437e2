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

	"github.com/facepay/platform/shared/blob"
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
	appID   = "app_0123456789abcdef" // the ids in events/review/*.json
	modelID = "mdl_0123456789abcdef"
)

func asVendor(r *httpapi.Request) {
	r.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": "alice", "org": "demo-vendor", "role": "vendor"}
}

func withoutQuery(r *httpapi.Request) { r.QueryStringParameters = nil }

// fakeReview is an in-memory reviewStore. The *Err fields make the matching calls fail.
type fakeReview struct {
	apps                  map[string]*domain.Application
	models                map[string]*domain.Model
	saved                 []domain.Change
	getErr, saveErr, qErr error
	appQueueType          domain.PartnerType
	filter                *store.QueueFilter
}

func (f *fakeReview) Application(_ context.Context, id string) (*domain.Application, error) {
	if f.getErr != nil {
		return nil, f.getErr
	}
	a, ok := f.apps[id]
	if !ok {
		return nil, domain.Errorf(domain.NotFound, "application_not_found", "application %s does not exist", id)
	}
	c := *a
	return &c, nil
}

// HoldApplicationDecision keeps the decision beside the application, as the store does: the
// application's version does not move.
func (f *fakeReview) HoldApplicationDecision(_ context.Context, a *domain.Application, ch domain.Change) error {
	if f.saveErr != nil {
		return f.saveErr
	}
	a.Decision.Revision++
	c := *a
	f.apps[a.ID] = &c
	f.saved = append(f.saved, ch)
	return nil
}

func (f *fakeReview) ApplicationHistory(context.Context, string) ([]domain.Change, error) {
	return []domain.Change{{At: testNow, By: "alice", Action: "submitted"}}, nil
}

func (f *fakeReview) ApplicationQueue(_ context.Context, t domain.PartnerType, q store.QueueFilter) (store.Page[domain.Application], error) {
	f.appQueueType, f.filter = t, &q
	p := store.Page[domain.Application]{Next: "n"}
	for _, a := range f.apps {
		p.Items = append(p.Items, *a)
	}
	return p, f.qErr
}

func (f *fakeReview) Model(_ context.Context, id string) (*domain.Model, error) {
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

func (f *fakeReview) HoldModelDecision(_ context.Context, m *domain.Model, ch domain.Change) error {
	if f.saveErr != nil {
		return f.saveErr
	}
	m.Decision.Revision++
	c := *m
	f.models[m.ID] = &c
	f.saved = append(f.saved, ch)
	return nil
}

func (f *fakeReview) ModelHistory(context.Context, string) ([]domain.Change, error) {
	return []domain.Change{{At: testNow, By: "alice", Action: "registered"}}, nil
}

func (f *fakeReview) ModelQueue(_ context.Context, q store.QueueFilter) (store.Page[domain.Model], error) {
	f.filter = &q
	p := store.Page[domain.Model]{}
	for _, m := range f.models {
		p.Items = append(p.Items, *m)
	}
	return p, f.qErr
}

type fakeDownloads struct {
	keys []string
	err  error
}

func (f *fakeDownloads) PresignDownload(_ context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error) {
	if f.err != nil {
		return blob.Download{}, f.err
	}
	f.keys = append(f.keys, key+"@"+versionID)
	return blob.Download{URL: "https://s3.example/" + key, FileName: fileName, ExpiresAt: now.Add(5 * time.Minute)}, nil
}

var heldApproval = &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: testNow.Add(-time.Hour)}

func appFixture(status domain.ApplicationStatus, held *domain.Decision) *domain.Application {
	sub := testNow.Add(-48 * time.Hour)
	at := testNow.Add(-72 * time.Hour)
	return &domain.Application{
		ID: appID, Org: "demo-vendor", PartnerType: domain.PartnerDeviceVendor, Status: status,
		Company: domain.Company{Name: "Demo Devices Ltd"},
		Attachments: map[string]*domain.Attachment{
			"deck": {Slot: "deck", UploadID: "up_1", FileName: "deck.pdf", Key: "k/deck", VersionID: "v1",
				Status: domain.AttachmentReceived, RequestedAt: at, ReceivedAt: &at},
			"qualification": {Slot: "qualification", UploadID: "up_2", FileName: "q.pdf", Key: "k/q",
				Status: domain.AttachmentPending, RequestedAt: at},
			"business_licence": {Slot: "business_licence", UploadID: "up_3", FileName: "bl.exe.pdf", Key: "k/bl",
				Status: domain.AttachmentRejected, Reason: "not a PDF", RequestedAt: at, ReceivedAt: &at},
		},
		Round: 1, Decision: held, SubmittedAt: &sub, CreatedAt: at, UpdatedAt: sub, Version: 4,
	}
}

func modelFixture(status domain.ModelStatus, held *domain.Decision) *domain.Model {
	m := &domain.Model{
		ID: modelID, VendorOrg: "demo-vendor", VendorCode: "07", Status: status, Round: 1, Decision: held,
		ModelSpec: domain.ModelSpec{Name: "K1 Pro", DeviceType: domain.DeviceHandheld, OS: domain.OSAndroid,
			SoftwareModes: []domain.SoftwareMode{domain.ModeSDK}, CameraModel: "C"},
		CreatedAt: testNow.Add(-72 * time.Hour), SubmittedAt: testNow.Add(-72 * time.Hour), Version: 2,
	}
	if status == domain.ModelApproved {
		released := testNow.Add(-24 * time.Hour)
		m.Outcome = &domain.Decision{Approve: true, Reviewer: "rita", ReleasedAt: &released}
	}
	return m
}

type env struct {
	h     *handler
	db    *fakeReview
	files *fakeDownloads
}

func newEnv(app *domain.Application, model *domain.Model) env {
	db := &fakeReview{apps: map[string]*domain.Application{}, models: map[string]*domain.Model{}}
	if app != nil {
		db.apps[app.ID] = app
	}
	if model != nil {
		db.models[model.ID] = model
	}
	files := &fakeDownloads{}
	return env{h: &handler{db: db, files: files, now: func() time.Time { return testNow }}, db: db, files: files}
}

func errCode(t *testing.T, resp httpapi.Response) string {
	t.Helper()
	var b httpapi.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &b), resp.Body)
	return b.Error.Code
}

var (
	errConflict = domain.Errorf(domain.Conflict, "conflict", "changed meanwhile; reload and retry")
	errInternal = errors.New("dynamodb: throttled")
)

func TestRoutes(t *testing.T) {
	tests := []struct {
		name       string
		event      string
		mutators   []func(*httpapi.Request)
		app        *domain.Application
		model      *domain.Model
		setup      func(*env)
		wantStatus int
		wantCode   string
		wantSaved  []string
	}{
		// application queue
		{name: "application queue", event: "list-application-queue.json", app: appFixture(domain.AppSubmitted, nil), wantStatus: http.StatusOK},
		{name: "application queue defaults", event: "list-application-queue.json", mutators: []func(*httpapi.Request){withoutQuery}, wantStatus: http.StatusOK},
		{name: "application queue as vendor", event: "list-application-queue.json", mutators: []func(*httpapi.Request){asVendor},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "application queue unknown partner type", event: "list-application-queue.json", mutators: []func(*httpapi.Request){withQuery("partnerType", "bank")},
			wantStatus: http.StatusBadRequest, wantCode: "unknown_partner_type"},
		{name: "application queue unknown status", event: "list-application-queue.json", mutators: []func(*httpapi.Request){withQuery("status", "approved")},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_status"},
		{name: "application queue bad age", event: "list-application-queue.json", mutators: []func(*httpapi.Request){withQuery("minAgeDays", "-1")},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_age"},
		{name: "application queue bad limit", event: "list-application-queue.json", mutators: []func(*httpapi.Request){withQuery("limit", "x")},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_limit"},
		{name: "application queue bad cursor", event: "list-application-queue.json",
			setup:      func(e *env) { e.db.qErr = domain.Errorf(domain.Invalid, "invalid_cursor", "bad") },
			wantStatus: http.StatusBadRequest, wantCode: "invalid_cursor"},
		{name: "application queue store failure", event: "list-application-queue.json", setup: func(e *env) { e.db.qErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},

		// one application
		{name: "application", event: "get-application-for-review.json", app: appFixture(domain.AppSubmitted, heldApproval), wantStatus: http.StatusOK},
		{name: "application missing", event: "get-application-for-review.json", wantStatus: http.StatusNotFound, wantCode: "application_not_found"},
		{name: "application as vendor", event: "get-application-for-review.json", app: appFixture(domain.AppSubmitted, nil), mutators: []func(*httpapi.Request){asVendor},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "application presign failure", event: "get-application-for-review.json", app: appFixture(domain.AppSubmitted, nil),
			setup: func(e *env) { e.files.err = errInternal }, wantStatus: http.StatusInternalServerError, wantCode: "internal"},
		{name: "application store failure", event: "get-application-for-review.json", setup: func(e *env) { e.db.getErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},

		// decide an application
		{name: "decide application (sample: reject)", event: "decide-application.json", app: appFixture(domain.AppSubmitted, nil),
			wantStatus: http.StatusOK, wantSaved: []string{"decided"}},
		{name: "revise a held decision", event: "decide-application.json", app: appFixture(domain.AppSubmitted, heldApproval),
			wantStatus: http.StatusOK, wantSaved: []string{"decision_revised"}},
		{name: "repeat the held decision", event: "decide-application.json", app: appFixture(domain.AppSubmitted, heldApproval),
			mutators: []func(*httpapi.Request){withBody(`{"decision":"approve"}`)}, wantStatus: http.StatusOK},
		{name: "decide application as vendor", event: "decide-application.json", app: appFixture(domain.AppSubmitted, nil), mutators: []func(*httpapi.Request){asVendor},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "decide application bad json", event: "decide-application.json", app: appFixture(domain.AppSubmitted, nil), mutators: []func(*httpapi.Request){withBody(`{"decision":"approve","note":1}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "decide application empty body", event: "decide-application.json", app: appFixture(domain.AppSubmitted, nil), mutators: []func(*httpapi.Request){withBody("")},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "decide application unknown verdict", event: "decide-application.json", app: appFixture(domain.AppSubmitted, nil), mutators: []func(*httpapi.Request){withBody(`{"decision":"maybe"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_decision"},
		{name: "decide application missing verdict", event: "decide-application.json", app: appFixture(domain.AppSubmitted, nil), mutators: []func(*httpapi.Request){withBody(`{"reason":"x"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_decision"},
		{name: "reject without reason", event: "decide-application.json", app: appFixture(domain.AppSubmitted, nil), mutators: []func(*httpapi.Request){withBody(`{"decision":"reject","reason":"  "}`)},
			wantStatus: http.StatusBadRequest, wantCode: "reason_required"},
		{name: "decide a draft", event: "decide-application.json", app: appFixture(domain.AppDraft, nil),
			wantStatus: http.StatusConflict, wantCode: "not_under_review"},
		{name: "decide application missing", event: "decide-application.json", wantStatus: http.StatusNotFound, wantCode: "application_not_found"},
		{name: "decide application lost race", event: "decide-application.json", app: appFixture(domain.AppSubmitted, nil), setup: func(e *env) { e.db.saveErr = errConflict },
			wantStatus: http.StatusConflict, wantCode: "conflict"},
		{name: "decide application store failure", event: "decide-application.json", app: appFixture(domain.AppSubmitted, nil), setup: func(e *env) { e.db.saveErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},

		// model queue, one model, decide a model
		{name: "model queue", event: "list-model-queue.json", model: modelFixture(domain.ModelUnderReview, heldApproval), wantStatus: http.StatusOK},
		{name: "model queue as vendor", event: "list-model-queue.json", mutators: []func(*httpapi.Request){asVendor},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "model queue unknown status", event: "list-model-queue.json", mutators: []func(*httpapi.Request){withQuery("status", "")},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_status"},
		{name: "model queue store failure", event: "list-model-queue.json", setup: func(e *env) { e.db.qErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},
		{name: "model", event: "get-model-for-review.json", model: modelFixture(domain.ModelUnderReview, nil), wantStatus: http.StatusOK},
		{name: "model missing", event: "get-model-for-review.json", wantStatus: http.StatusNotFound, wantCode: "model_not_found"},
		{name: "model as vendor", event: "get-model-for-review.json", model: modelFixture(domain.ModelUnderReview, nil), mutators: []func(*httpapi.Request){asVendor},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "decide model (sample: approve)", event: "decide-model.json", model: modelFixture(domain.ModelUnderReview, nil),
			wantStatus: http.StatusOK, wantSaved: []string{"decided"}},
		{name: "decide model again", event: "decide-model.json", model: modelFixture(domain.ModelUnderReview, heldApproval), wantStatus: http.StatusOK},
		{name: "decide released model", event: "decide-model.json", model: modelFixture(domain.ModelApproved, nil),
			wantStatus: http.StatusConflict, wantCode: "already_released"},
		{name: "decide model as vendor", event: "decide-model.json", model: modelFixture(domain.ModelUnderReview, nil), mutators: []func(*httpapi.Request){asVendor},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "decide model bad json", event: "decide-model.json", model: modelFixture(domain.ModelUnderReview, nil), mutators: []func(*httpapi.Request){withBody(`"approve"`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "decide model lost race", event: "decide-model.json", model: modelFixture(domain.ModelUnderReview, nil), setup: func(e *env) { e.db.saveErr = errConflict },
			wantStatus: http.StatusConflict, wantCode: "conflict"},
		{name: "decide model store failure", event: "decide-model.json", model: modelFixture(domain.ModelUnderReview, nil), setup: func(e *env) { e.db.saveErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(tt.app, tt.model)
			if tt.setup != nil {
				tt.setup(&e)
			}
			resp, err := e.h.router().Handle(context.Background(), loadEvent(t, filepath.Join("review", tt.event), tt.mutators...))
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.StatusCode, resp.Body)
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, errCode(t, resp))
			}
			if e.db.saveErr == nil {
				var saved []string
				for _, c := range e.db.saved {
					saved = append(saved, c.Action)
				}
				assert.Equal(t, tt.wantSaved, saved, "history written")
			}
		})
	}
}

func TestApplicationQueue_Filter(t *testing.T) {
	tests := []struct {
		name     string
		mutators []func(*httpapi.Request)
		wantType domain.PartnerType
		want     store.QueueFilter
	}{
		{"sample", nil, domain.PartnerDeviceVendor, store.QueueFilter{State: store.QueuePending, Limit: 50}},
		{"defaults", []func(*httpapi.Request){withoutQuery}, domain.PartnerDeviceVendor, store.QueueFilter{State: store.QueuePending, Limit: 50}},
		{"decided merchants, aged, paged", []func(*httpapi.Request){withQuery("partnerType", "merchant"), withQuery("status", "decided"),
			withQuery("minAgeDays", "3"), withQuery("limit", "10"), withQuery("cursor", "c1")},
			domain.PartnerMerchant, store.QueueFilter{State: store.QueueDecided, SubmittedUntil: testNow.Add(-72 * time.Hour), Cursor: "c1", Limit: 10}},
		{"age zero", []func(*httpapi.Request){withQuery("minAgeDays", "0")}, domain.PartnerDeviceVendor,
			store.QueueFilter{State: store.QueuePending, SubmittedUntil: testNow, Limit: 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(appFixture(domain.AppSubmitted, heldApproval), nil)
			resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "review/list-application-queue.json", tt.mutators...))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
			assert.Equal(t, tt.wantType, e.db.appQueueType)
			require.NotNil(t, e.db.filter)
			assert.Equal(t, tt.want, *e.db.filter)

			var page struct {
				Items []struct {
					Item     domain.Application `json:"item"`
					Decision *domain.Decision   `json:"decision"`
				} `json:"items"`
				Next string `json:"next"`
			}
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &page))
			require.Len(t, page.Items, 1)
			assert.Equal(t, heldApproval, page.Items[0].Decision, "reviewers see the held decision")
			assert.Equal(t, "n", page.Next)
		})
	}
}

func TestApplication_DownloadsOnlyReceivedFiles(t *testing.T) {
	e := newEnv(appFixture(domain.AppSubmitted, heldApproval), nil)
	resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "review/get-application-for-review.json"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.Equal(t, []string{"k/deck@v1"}, e.files.keys)
	var got struct {
		Decision  *domain.Decision         `json:"decision"`
		Downloads map[string]blob.Download `json:"downloads"`
		History   []domain.Change          `json:"history"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
	assert.Equal(t, heldApproval, got.Decision)
	assert.Equal(t, []string{"deck"}, keys(got.Downloads))
	assert.Equal(t, "deck.pdf", got.Downloads["deck"].FileName)
	require.Len(t, got.History, 1)
}

func keys[V any](m map[string]V) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDecideApplication_HoldsTheDecision(t *testing.T) {
	e := newEnv(appFixture(domain.AppSubmitted, nil), nil)
	resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "review/decide-application.json"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	got := e.db.apps[appID]
	assert.Equal(t, domain.AppSubmitted, got.Status, "held until the release")
	require.NotNil(t, got.Decision)
	assert.Equal(t, domain.Decision{Approve: false, Reason: "The deck lacks the one-year deployment plan.", Reviewer: "rita", DecidedAt: testNow, Revision: 1}, *got.Decision)
	assert.Nil(t, got.Outcome)
	assert.Equal(t, 4, got.Version, "a held decision does not write the application")
	require.Len(t, e.db.saved, 1)
	assert.True(t, e.db.saved[0].Held, "its history entry is for reviewers only")
}

func TestModelQueue_Filter(t *testing.T) {
	e := newEnv(nil, modelFixture(domain.ModelUnderReview, heldApproval))
	resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "review/list-model-queue.json", withQuery("minAgeDays", "1")))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	require.NotNil(t, e.db.filter)
	assert.Equal(t, store.QueueFilter{State: store.QueueDecided, SubmittedUntil: testNow.Add(-24 * time.Hour), Limit: 50}, *e.db.filter)
	assert.Contains(t, resp.Body, `"decision":{"approve":true`)
}
