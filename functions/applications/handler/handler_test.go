package handler

import (
	"context"
	"encoding/json"
	"errors"
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
	sampleID  = "app_0123456789abcdef" // the id in events/applications/*.json
	sampleOrg = "demo-vendor"
)

func withClaim(name, value string) func(*httpapi.Request) {
	return func(r *httpapi.Request) { r.RequestContext.Authorizer.JWT.Claims[name] = value }
}

func asReviewer(r *httpapi.Request) {
	r.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": "rita", "role": "reviewer"}
}

func withHeader(name, value string) func(*httpapi.Request) {
	return func(r *httpapi.Request) { r.Headers[name] = value }
}

// fakeApps is an in-memory applicationStore. The *Err fields make the matching call fail.
type fakeApps struct {
	apps                                map[string]*domain.Application
	history                             []domain.Change
	created                             []*domain.Application
	saved                               []domain.Change
	createErr, saveErr, getErr, listErr error
	listOrg, listCursor                 string
	listLimit                           int
	vendors                             map[string]domain.Vendor
	claims                              map[string]store.Claim
}

func (f *fakeApps) ClaimOf(_ context.Context, scope string) (store.Claim, error) {
	cl, ok := f.claims[scope]
	if !ok {
		return store.Claim{}, domain.Errorf(domain.NotFound, "claim_not_found", "no claim")
	}
	return cl, nil
}

func clone(a *domain.Application) *domain.Application {
	c := *a
	c.Attachments = map[string]*domain.Attachment{}
	for k, v := range a.Attachments {
		att := *v
		c.Attachments[k] = &att
	}
	return &c
}

func (f *fakeApps) CreateApplication(_ context.Context, a *domain.Application, c domain.Change, claims ...store.Claim) error {
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
	a.Version = 1
	f.apps[a.ID] = clone(a)
	f.created = append(f.created, clone(a))
	f.saved = append(f.saved, c)
	return nil
}

func (f *fakeApps) SaveApplication(_ context.Context, a *domain.Application, changes ...domain.Change) error {
	if f.saveErr != nil {
		return f.saveErr
	}
	a.Version++
	f.apps[a.ID] = clone(a)
	f.saved = append(f.saved, changes...)
	return nil
}

func (f *fakeApps) Application(_ context.Context, id string) (*domain.Application, error) {
	if f.getErr != nil {
		return nil, f.getErr
	}
	a, ok := f.apps[id]
	if !ok {
		return nil, domain.Errorf(domain.NotFound, "application_not_found", "application %s does not exist", id)
	}
	return clone(a), nil
}

func (f *fakeApps) ApplicationHistory(context.Context, string) ([]domain.Change, error) {
	return f.history, nil
}

func (f *fakeApps) ApplicationsOf(_ context.Context, org, cursor string, limit int) (store.Page[domain.Application], error) {
	f.listOrg, f.listCursor, f.listLimit = org, cursor, limit
	p := store.Page[domain.Application]{Next: "next-cursor"}
	for _, a := range f.apps {
		p.Items = append(p.Items, *a)
	}
	return p, f.listErr
}

func (f *fakeApps) Messages(_ context.Context, org, cursor string, limit int) (store.Page[domain.Message], error) {
	f.listOrg, f.listCursor, f.listLimit = org, cursor, limit
	return store.Page[domain.Message]{Items: []domain.Message{{ID: "msg_1", Org: org, Subject: "partner application approved"}}}, f.listErr
}

func (f *fakeApps) Vendor(_ context.Context, org string) (domain.Vendor, error) {
	if v, ok := f.vendors[org]; ok {
		return v, nil
	}
	return domain.Vendor{}, domain.Errorf(domain.NotFound, "vendor_not_approved", "%s is not an approved vendor", org)
}

type fakeTickets struct{ issued []store.UploadTicket }

func (f *fakeTickets) PutUploadTicket(_ context.Context, t store.UploadTicket) error {
	f.issued = append(f.issued, t)
	return nil
}

type fakeUploads struct {
	keys []string
	err  error
}

func (f *fakeUploads) PresignUpload(_ context.Context, key, contentType, sha256Hex string, now time.Time) (blob.Upload, error) {
	if f.err != nil {
		return blob.Upload{}, f.err
	}
	f.keys = append(f.keys, key)
	return blob.Upload{URL: "https://s3.example/" + key, Method: "PUT", Headers: map[string]string{"Content-Type": contentType}, ExpiresAt: now.Add(blob.UploadTTL)}, nil
}

// fixture is the sample application in a given state, owned by org, ready to submit.
func fixture(org string, status domain.ApplicationStatus) *domain.Application {
	received := testNow.Add(-time.Hour)
	a := &domain.Application{
		ID: sampleID, Org: org, PartnerType: domain.PartnerDeviceVendor, Status: status,
		Company: domain.Company{Name: "Demo Devices Ltd"}, AgreementAccepted: true, Survey: map[string]string{"plannedModels": "2"},
		Attachments: map[string]*domain.Attachment{"deck": {Slot: "deck", UploadID: "up_1", FileName: "deck.pdf",
			ContentType: "application/pdf", Size: 10, SHA256: strings.Repeat("a", 64), Key: "applications/x/deck/up_1",
			Status: domain.AttachmentReceived, RequestedAt: received, ReceivedAt: &received}},
		CreatedBy: "alice", CreatedAt: testNow.Add(-24 * time.Hour), UpdatedAt: testNow.Add(-time.Hour), Version: 3,
	}
	if status == domain.AppSubmitted {
		sub := testNow.Add(-time.Hour)
		a.SubmittedAt, a.Round = &sub, 1
	}
	return a
}

type env struct {
	h       *handler
	apps    *fakeApps
	uploads *fakeUploads
	tickets *fakeTickets
}

func newEnv(apps ...*domain.Application) env {
	f := &fakeApps{apps: map[string]*domain.Application{}, history: []domain.Change{{At: testNow, By: "alice", Action: "created"}}}
	for _, a := range apps {
		f.apps[a.ID] = a
	}
	u, tk := &fakeUploads{}, &fakeTickets{}
	return env{h: &handler{apps: f, uploads: u, tickets: tk, now: func() time.Time { return testNow }, newID: func() string { return "app_new" }},
		apps: f, uploads: u, tickets: tk}
}

func errCode(t *testing.T, resp httpapi.Response) string {
	t.Helper()
	var b httpapi.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &b), resp.Body)
	return b.Error.Code
}

var (
	errConflict = domain.Errorf(domain.Conflict, "conflict", "application changed meanwhile; reload and retry")
	errInternal = errors.New("dynamodb: connection reset")
)

func TestRoutes(t *testing.T) {
	deck := `{"fileName":"deck.pptx","contentType":"application/vnd.openxmlformats-officedocument.presentationml.presentation","size":1000,"sha256":"` + strings.Repeat("b", 64) + `"}`
	tests := []struct {
		name       string
		event      string
		mutators   []func(*httpapi.Request)
		app        *domain.Application // stored before the call (nil: none)
		setup      func(*env)
		wantStatus int
		wantCode   string // error code, "" on success
		wantSaved  []string
	}{
		// create
		{name: "create", event: "create-application.json", wantStatus: http.StatusCreated, wantSaved: []string{"created"}},
		{name: "create as reviewer", event: "create-application.json", mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "create without organisation", event: "create-application.json", mutators: []func(*httpapi.Request){withClaim("org", "")},
			wantStatus: http.StatusForbidden, wantCode: "no_organisation"},
		{name: "create without caller", event: "create-application.json", mutators: []func(*httpapi.Request){withClaim("sub", "")},
			wantStatus: http.StatusUnauthorized, wantCode: "unauthenticated"},
		{name: "create bad json", event: "create-application.json", mutators: []func(*httpapi.Request){withBody(`{"partnerType":`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "create unknown field", event: "create-application.json", mutators: []func(*httpapi.Request){withBody(`{"partnerType":"merchant","status":"approved"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "create unknown partner type", event: "create-application.json", mutators: []func(*httpapi.Request){withBody(`{"partnerType":"bank"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "unknown_partner_type"},
		{name: "create as another partner type", event: "create-application.json", mutators: []func(*httpapi.Request){withBody(`{"partnerType":"merchant"}`)},
			wantStatus: http.StatusForbidden, wantCode: "wrong_role"},
		{name: "create as a vendor without a service provider account", event: "create-application.json", mutators: []func(*httpapi.Request){withClaim("account_type", "merchant")},
			wantStatus: http.StatusForbidden, wantCode: "wrong_account_type"},
		{name: "create with a company name that cannot go in file names", event: "create-application.json",
			mutators:   []func(*httpapi.Request){withBody(`{"partnerType":"device_vendor","company":{"name":"Acme [CN]"}}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_company_name"},
		{name: "create conflict", event: "create-application.json", setup: func(e *env) { e.apps.createErr = errConflict },
			wantStatus: http.StatusConflict, wantCode: "conflict"},
		{name: "create store failure", event: "create-application.json", setup: func(e *env) { e.apps.createErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},

		// list, messages
		{name: "list", event: "list-applications.json", app: fixture(sampleOrg, domain.AppDraft), wantStatus: http.StatusOK},
		{name: "list as reviewer", event: "list-applications.json", mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "list bad limit", event: "list-applications.json", mutators: []func(*httpapi.Request){withQuery("limit", "500")},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_limit"},
		{name: "list bad cursor", event: "list-applications.json",
			setup:      func(e *env) { e.apps.listErr = domain.Errorf(domain.Invalid, "invalid_cursor", "bad cursor") },
			wantStatus: http.StatusBadRequest, wantCode: "invalid_cursor"},
		{name: "list store failure", event: "list-applications.json", setup: func(e *env) { e.apps.listErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},
		{name: "messages", event: "list-messages.json", wantStatus: http.StatusOK},
		{name: "messages as reviewer", event: "list-messages.json", mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "messages store failure", event: "list-messages.json", setup: func(e *env) { e.apps.listErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},

		// get, history
		{name: "get", event: "get-application.json", app: fixture(sampleOrg, domain.AppDraft), wantStatus: http.StatusOK},
		{name: "get another org's", event: "get-application.json", app: fixture("other-org", domain.AppDraft),
			wantStatus: http.StatusNotFound, wantCode: "application_not_found"},
		{name: "get missing", event: "get-application.json", wantStatus: http.StatusNotFound, wantCode: "application_not_found"},
		{name: "get as reviewer", event: "get-application.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "get store failure", event: "get-application.json", setup: func(e *env) { e.apps.getErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},
		{name: "history", event: "get-application-history.json", app: fixture(sampleOrg, domain.AppSubmitted), wantStatus: http.StatusOK},
		{name: "history of another org's", event: "get-application-history.json", app: fixture("other-org", domain.AppSubmitted),
			wantStatus: http.StatusNotFound, wantCode: "application_not_found"},

		// edit
		{name: "edit", event: "edit-application.json", app: fixture(sampleOrg, domain.AppDraft), wantStatus: http.StatusOK, wantSaved: []string{"edited"}},
		{name: "edit a rejected application", event: "edit-application.json", app: fixture(sampleOrg, domain.AppRejected), wantStatus: http.StatusOK, wantSaved: []string{"edited"}},
		{name: "edit another org's", event: "edit-application.json", app: fixture("other-org", domain.AppDraft),
			wantStatus: http.StatusNotFound, wantCode: "application_not_found"},
		{name: "edit as reviewer", event: "edit-application.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "edit bad json", event: "edit-application.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){withBody(`{"survey": [1]}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "edit submitted", event: "edit-application.json", app: fixture(sampleOrg, domain.AppSubmitted),
			wantStatus: http.StatusConflict, wantCode: "not_editable"},
		{name: "edit lost race", event: "edit-application.json", app: fixture(sampleOrg, domain.AppDraft), setup: func(e *env) { e.apps.saveErr = errConflict },
			wantStatus: http.StatusConflict, wantCode: "conflict"},
		{name: "edit store failure", event: "edit-application.json", app: fixture(sampleOrg, domain.AppDraft), setup: func(e *env) { e.apps.saveErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},

		// attach
		{name: "attach", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){withBody(deck)},
			wantStatus: http.StatusOK, wantSaved: []string{"attachment_requested"}},
		{name: "attach the sample", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft),
			wantStatus: http.StatusOK, wantSaved: []string{"attachment_requested"}},
		{name: "attach another org's", event: "attach-deck.json", app: fixture("other-org", domain.AppDraft),
			wantStatus: http.StatusNotFound, wantCode: "application_not_found"},
		{name: "attach as reviewer", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "attach bad json", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){withBody(`{`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "attach an image as deck", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft),
			mutators:   []func(*httpapi.Request){withBody(`{"fileName":"deck.png","contentType":"image/png","size":10,"sha256":"` + strings.Repeat("a", 64) + `"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "wrong_extension"},
		{name: "attach wrong content type", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft),
			mutators:   []func(*httpapi.Request){withBody(`{"fileName":"deck.pdf","contentType":"text/plain","size":10,"sha256":"` + strings.Repeat("a", 64) + `"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "wrong_content_type"},
		{name: "attach empty file", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft),
			mutators:   []func(*httpapi.Request){withBody(`{"fileName":"deck.pdf","contentType":"application/pdf","size":0,"sha256":"` + strings.Repeat("a", 64) + `"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "empty_file"},
		{name: "attach a path", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft),
			mutators:   []func(*httpapi.Request){withBody(`{"fileName":"../deck.pdf","contentType":"application/pdf","size":1,"sha256":"` + strings.Repeat("a", 64) + `"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_file_name"},
		{name: "attach too large", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft),
			mutators:   []func(*httpapi.Request){withBody(`{"fileName":"deck.pdf","contentType":"application/pdf","size":52428801,"sha256":"` + strings.Repeat("a", 64) + `"}`)},
			wantStatus: http.StatusRequestEntityTooLarge, wantCode: "file_too_large"},
		{name: "attach to an unknown slot", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft),
			mutators:   []func(*httpapi.Request){withPath("slot", "selfie"), withBody(`{"fileName":"a.pdf","contentType":"application/pdf","size":1,"sha256":"` + strings.Repeat("a", 64) + `"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "unknown_slot"},
		{name: "attach after submission", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppSubmitted),
			wantStatus: http.StatusConflict, wantCode: "not_editable"},
		{name: "attach lost race", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft), setup: func(e *env) { e.apps.saveErr = errConflict },
			wantStatus: http.StatusConflict, wantCode: "conflict"},
		{name: "attach presign failure", event: "attach-deck.json", app: fixture(sampleOrg, domain.AppDraft), setup: func(e *env) { e.uploads.err = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal", wantSaved: []string{"attachment_requested"}},

		// submit
		{name: "submit", event: "submit-application.json", app: fixture(sampleOrg, domain.AppDraft), wantStatus: http.StatusOK, wantSaved: []string{"submitted"}},
		{name: "submit retried", event: "submit-application.json", app: fixture(sampleOrg, domain.AppSubmitted), wantStatus: http.StatusOK},
		{name: "submit another org's", event: "submit-application.json", app: fixture("other-org", domain.AppDraft),
			wantStatus: http.StatusNotFound, wantCode: "application_not_found"},
		{name: "submit as reviewer", event: "submit-application.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "submit without a service provider account", event: "submit-application.json", app: fixture(sampleOrg, domain.AppDraft),
			mutators: []func(*httpapi.Request){withClaim("account_type", "merchant")}, wantStatus: http.StatusForbidden, wantCode: "wrong_account_type"},
		{name: "submit without deck", event: "submit-application.json", app: fixture(sampleOrg, domain.AppDraft),
			setup: func(e *env) { delete(e.apps.apps[sampleID].Attachments, "deck") }, wantStatus: http.StatusBadRequest, wantCode: "missing_deck"},
		{name: "submit approved", event: "submit-application.json", app: fixture(sampleOrg, domain.AppApproved),
			wantStatus: http.StatusConflict, wantCode: "not_editable"},
		{name: "submit lost race", event: "submit-application.json", app: fixture(sampleOrg, domain.AppDraft), setup: func(e *env) { e.apps.saveErr = errConflict },
			wantStatus: http.StatusConflict, wantCode: "conflict"},
		{name: "submit store failure", event: "submit-application.json", app: fixture(sampleOrg, domain.AppDraft), setup: func(e *env) { e.apps.saveErr = errInternal },
			wantStatus: http.StatusInternalServerError, wantCode: "internal"},

		// withdraw
		{name: "withdraw", event: "withdraw-application.json", app: fixture(sampleOrg, domain.AppSubmitted), wantStatus: http.StatusOK, wantSaved: []string{"withdrawn"}},
		{name: "withdraw without body", event: "withdraw-application.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){withBody("")},
			wantStatus: http.StatusOK, wantSaved: []string{"withdrawn"}},
		{name: "withdraw retried", event: "withdraw-application.json", app: fixture(sampleOrg, domain.AppWithdrawn), wantStatus: http.StatusOK},
		{name: "withdraw bad json", event: "withdraw-application.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){withBody(`{"why":"x"}`)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_json"},
		{name: "withdraw approved", event: "withdraw-application.json", app: fixture(sampleOrg, domain.AppApproved),
			wantStatus: http.StatusConflict, wantCode: "not_withdrawable"},
		{name: "withdraw another org's", event: "withdraw-application.json", app: fixture("other-org", domain.AppDraft),
			wantStatus: http.StatusNotFound, wantCode: "application_not_found"},
		{name: "withdraw as reviewer", event: "withdraw-application.json", app: fixture(sampleOrg, domain.AppDraft), mutators: []func(*httpapi.Request){asReviewer},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_role"},
		{name: "withdraw lost race", event: "withdraw-application.json", app: fixture(sampleOrg, domain.AppSubmitted), setup: func(e *env) { e.apps.saveErr = errConflict },
			wantStatus: http.StatusConflict, wantCode: "conflict"},

		{name: "unknown route", event: "get-application.json", mutators: []func(*httpapi.Request){func(r *httpapi.Request) { r.RouteKey = "DELETE /applications/{id}" }},
			wantStatus: http.StatusNotFound, wantCode: "route_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e env
			if tt.app != nil {
				e = newEnv(tt.app)
			} else {
				e = newEnv()
			}
			if tt.setup != nil {
				tt.setup(&e)
			}
			req := loadEvent(t, filepath.Join("applications", tt.event), tt.mutators...)
			resp, err := e.h.router().Handle(context.Background(), req)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.StatusCode, resp.Body)
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, errCode(t, resp))
			}
			var saved []string
			for _, c := range e.apps.saved {
				saved = append(saved, c.Action)
			}
			if e.apps.saveErr == nil && e.apps.createErr == nil {
				assert.Equal(t, tt.wantSaved, saved, "history written")
			}
		})
	}
}

func TestCreate_ReturnsTheDraft(t *testing.T) {
	e := newEnv()
	resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "applications/create-application.json"))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, resp.Body)
	var got domain.Application
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
	assert.Equal(t, "app_new", got.ID)
	assert.Equal(t, sampleOrg, got.Org)
	assert.Equal(t, domain.PartnerDeviceVendor, got.PartnerType)
	assert.Equal(t, domain.AppDraft, got.Status)
	assert.Equal(t, "Demo Devices Ltd", got.Company.Name)
	assert.True(t, got.AgreementAccepted)
	require.Len(t, e.apps.created, 1)
	assert.Equal(t, "alice", e.apps.created[0].CreatedBy)
}

func TestList_PassesCallerOrgCursorAndLimit(t *testing.T) {
	for _, event := range []string{"list-applications.json", "list-messages.json"} {
		t.Run(event, func(t *testing.T) {
			e := newEnv(fixture(sampleOrg, domain.AppDraft))
			resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "applications/"+event, withQuery("cursor", "c1"), withQuery("limit", "7")))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
			assert.Equal(t, sampleOrg, e.apps.listOrg)
			assert.Equal(t, "c1", e.apps.listCursor)
			assert.Equal(t, 7, e.apps.listLimit)

			_, err = e.h.router().Handle(context.Background(), loadEvent(t, "applications/"+event))
			require.NoError(t, err)
			assert.Equal(t, "", e.apps.listCursor)
			assert.Equal(t, 50, e.apps.listLimit, "default limit")
		})
	}
}

func TestGet_HidesHeldDecisionAndKeys(t *testing.T) {
	a := fixture(sampleOrg, domain.AppSubmitted)
	a.Decision = &domain.Decision{Approve: false, Reason: "held-reason", Reviewer: "rita", DecidedAt: testNow}
	e := newEnv(a)
	resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "applications/get-application.json"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.NotContains(t, resp.Body, "held-reason")
	assert.NotContains(t, resp.Body, "applications/x/deck/up_1")
	assert.Contains(t, resp.Body, `"status":"under_review"`)
}

func TestAttach_IssuesUploadAndReusesAPendingOne(t *testing.T) {
	e := newEnv(fixture(sampleOrg, domain.AppDraft))
	req := loadEvent(t, "applications/attach-deck.json")

	resp, err := e.h.router().Handle(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var first attachResponse
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &first))
	assert.Equal(t, domain.AttachmentPending, first.Attachment.Status)
	assert.Equal(t, "deck.pdf", first.Attachment.FileName)
	require.Len(t, e.uploads.keys, 1)
	assert.Equal(t, AttachmentKey(sampleOrg, sampleID, "deck", first.Attachment.UploadID), e.uploads.keys[0])
	assert.Equal(t, "https://s3.example/"+e.uploads.keys[0], first.Upload.URL)
	assert.NotContains(t, resp.Body, `"key"`)
	stored := e.apps.apps[sampleID].Attachments["deck"]
	assert.Equal(t, e.uploads.keys[0], stored.Key)

	// The same request again: the same upload, nothing saved.
	resp, err = e.h.router().Handle(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var second attachResponse
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &second))
	assert.Equal(t, first.Attachment.UploadID, second.Attachment.UploadID)
	assert.Equal(t, []string{e.uploads.keys[0], e.uploads.keys[0]}, e.uploads.keys)
	assert.Len(t, e.apps.saved, 1, "a retry saves nothing")

	// Another file replaces the pending upload.
	resp, err = e.h.router().Handle(context.Background(), loadEvent(t, "applications/attach-deck.json",
		withBody(`{"fileName":"deck2.pdf","contentType":"application/pdf","size":5,"sha256":"`+strings.Repeat("c", 64)+`"}`)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var third attachResponse
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &third))
	assert.NotEqual(t, first.Attachment.UploadID, third.Attachment.UploadID)
	assert.Len(t, e.apps.saved, 2)

	// Every URL handed out has its ticket, keyed by the upload's first request.
	require.Len(t, e.tickets.issued, 3)
	for i, key := range e.uploads.keys {
		assert.Equal(t, key, e.tickets.issued[i].Key)
		assert.Equal(t, testNow, e.tickets.issued[i].IssuedAt)
	}
	assert.Equal(t, first.Attachment.RequestedAt, e.tickets.issued[1].RequestedAt, "a re-issue keeps the ticket's day")
}

// A pending upload is reused for a day; asked again later, the slot gets a new upload, so no
// URL is issued for an upload whose ticket the sweep no longer reads.
func TestAttach_OldPendingUploadIsNotReused(t *testing.T) {
	a := fixture(sampleOrg, domain.AppDraft)
	old := testNow.Add(-store.UploadReusableFor - time.Minute)
	a.Attachments["deck"] = &domain.Attachment{Slot: "deck", UploadID: "up_old", FileName: "deck.pdf", ContentType: "application/pdf",
		Size: 1024, SHA256: strings.Repeat("a", 64), Key: "applications/x/deck/up_old", Status: domain.AttachmentPending, RequestedAt: old}
	e := newEnv(a)
	resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "applications/attach-deck.json",
		withBody(`{"fileName":"deck.pdf","contentType":"application/pdf","size":1024,"sha256":"`+strings.Repeat("a", 64)+`"}`)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var got attachResponse
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
	assert.NotEqual(t, "up_old", got.Attachment.UploadID)
	require.Len(t, e.tickets.issued, 1)
	assert.Equal(t, testNow, e.tickets.issued[0].RequestedAt)
}

func TestSubmit_SendsToReview(t *testing.T) {
	e := newEnv(fixture(sampleOrg, domain.AppDraft))
	resp, err := e.h.router().Handle(context.Background(), loadEvent(t, "applications/submit-application.json"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	got := e.apps.apps[sampleID]
	assert.Equal(t, domain.AppSubmitted, got.Status)
	assert.Equal(t, 1, got.Round)
	require.NotNil(t, got.SubmittedAt)
	assert.Equal(t, testNow, *got.SubmittedAt)
	assert.Equal(t, 4, got.Version)
}
