package handler

// The release commits through store.Tx, which only a real table can run: these tests use the
// local DynamoDB engine (moto_server), one table per test, and fake only the pipelines.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines/enginestest"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/store/storetest"
)

// loadEvent reads events/release-decisions/<name> (shared/lambdafn/eventstest).
func loadEvent(t *testing.T, name string, mutators ...func(*Event)) Event {
	return eventstest.Load(t, "release-decisions/"+name, mutators...)
}

func TestMain(m *testing.M) { enginestest.Main(m) }

// cutoff is the sample's scheduledTime; the run itself happens a few minutes later.
var (
	cutoff = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	runAt  = cutoff.Add(3 * time.Minute)
)

type startCall struct {
	name  string
	input PipelineInput
}

type fakePipelines struct {
	calls []startCall
	err   error
}

func (f *fakePipelines) Start(_ context.Context, name string, input any) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	f.calls = append(f.calls, startCall{name: name, input: input.(PipelineInput)})
	return "arn:aws:states:us-east-1:000000000000:execution:pipeline:" + name, nil
}

// racingStore is the real store with hooks that let a competing writer act between the
// release's read and its commit.
type racingStore struct {
	*store.DB
	nextCodes      int
	beforeNextCode func(ctx context.Context, a store.CodeAllocation)
	afterReadApp   func(ctx context.Context, id string)
}

func (r *racingStore) NextCode(ctx context.Context, scope string) (store.CodeAllocation, error) {
	a, err := r.DB.NextCode(ctx, scope)
	r.nextCodes++
	if hook := r.beforeNextCode; hook != nil && err == nil {
		r.beforeNextCode = nil
		hook(ctx, a)
	}
	return a, err
}

func (r *racingStore) Application(ctx context.Context, id string) (*domain.Application, error) {
	a, err := r.DB.Application(ctx, id)
	if hook := r.afterReadApp; hook != nil && err == nil {
		r.afterReadApp = nil
		hook(ctx, id)
	}
	return a, err
}

func decision(approve bool, at time.Time) *domain.Decision {
	d := &domain.Decision{Approve: approve, Reviewer: "rita", DecidedAt: at}
	if !approve {
		d.Reason = "The licence is expired."
	}
	return d
}

func seedApp(t *testing.T, db *store.DB, id, org string, pt domain.PartnerType, held *domain.Decision) {
	t.Helper()
	sub := cutoff.Add(-72 * time.Hour)
	a := &domain.Application{ID: id, Org: org, PartnerType: pt, Status: domain.AppSubmitted,
		Company: domain.Company{Name: "Co " + id}, Attachments: map[string]*domain.Attachment{}, Round: 1,
		CreatedBy: "alice", CreatedAt: sub.Add(-time.Hour), UpdatedAt: sub, SubmittedAt: &sub}
	require.NoError(t, db.CreateApplication(context.Background(), a, domain.Change{At: sub, By: "alice", Action: "submitted"}))
	if held != nil {
		a.Decision = held
		require.NoError(t, db.HoldApplicationDecision(context.Background(), a, heldChange(held)))
	}
}

func heldChange(d *domain.Decision) domain.Change {
	return domain.Change{At: d.DecidedAt, By: d.Reviewer, ByReviewer: true, Held: true, Action: "decided"}
}

func seedModel(t *testing.T, db *store.DB, id, org string, submitted time.Time, held *domain.Decision) {
	t.Helper()
	m := &domain.Model{ID: id, VendorOrg: org, VendorCode: "05",
		ModelSpec: domain.ModelSpec{Name: "K " + id, DeviceType: domain.DeviceVendingMachine, OS: domain.OSAndroid,
			SoftwareModes: []domain.SoftwareMode{domain.ModeSDK, domain.ModeAPP}, Connectivity: []domain.Connectivity{domain.ConnWiFi}, CameraModel: "C"},
		Status: domain.ModelUnderReview, Round: 1,
		CreatedBy: "alice", CreatedAt: submitted, UpdatedAt: submitted, SubmittedAt: submitted}
	require.NoError(t, db.CreateModel(context.Background(), m, domain.Change{At: submitted, By: "alice", Action: "registered"}))
	if held != nil {
		m.Decision = held
		require.NoError(t, db.HoldModelDecision(context.Background(), m, heldChange(held)))
	}
}

func newHandler(db releaseStore, p *fakePipelines) *handler {
	return &handler{db: db, pipelines: p, now: func() time.Time { return runAt }}
}

// historyActions returns a function taking a history read's results: historyActions(t)(db.ModelHistory(ctx, id)).
// ownerActions is the actions of a history as its owner reads it (domain.OwnerHistory).
func ownerActions(t *testing.T) func([]domain.Change, error) []string {
	return func(changes []domain.Change, err error) []string {
		t.Helper()
		return historyActions(t)(domain.OwnerHistory(changes), err)
	}
}

func historyActions(t *testing.T) func([]domain.Change, error) []string {
	return func(changes []domain.Change, err error) []string {
		t.Helper()
		require.NoError(t, err)
		out := []string{}
		for _, c := range changes {
			out = append(out, c.Action)
		}
		return out
	}
}

func TestRelease_PublishesDecisionsMadeBeforeTheCutoff(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	seedApp(t, db, "app_vendor", "org-v1", domain.PartnerDeviceVendor, decision(true, cutoff.Add(-time.Hour)))
	seedApp(t, db, "app_software", "org-s", domain.PartnerSoftwareProvider, decision(true, cutoff.Add(-time.Hour)))
	seedApp(t, db, "app_merchant", "org-m", domain.PartnerMerchant, decision(false, cutoff.Add(500*time.Millisecond))) // within the cutoff's second
	seedApp(t, db, "app_late", "org-v2", domain.PartnerDeviceVendor, decision(true, cutoff.Add(time.Second)))
	seedApp(t, db, "app_pending", "org-v3", domain.PartnerDeviceVendor, nil)
	seedModel(t, db, "mdl_first", "org-v0", cutoff.Add(-72*time.Hour), decision(true, cutoff.Add(-2*time.Hour)))
	seedModel(t, db, "mdl_second", "org-v0", cutoff.Add(-48*time.Hour), decision(true, cutoff.Add(-3*time.Hour)))
	seedModel(t, db, "mdl_rejected", "org-v0", cutoff.Add(-24*time.Hour), decision(false, cutoff.Add(-time.Hour)))
	seedModel(t, db, "mdl_late", "org-v0", cutoff.Add(-24*time.Hour), decision(true, cutoff.Add(time.Minute)))
	pipelines := &fakePipelines{}
	h := newHandler(db, pipelines)

	res, err := h.handle(ctx, loadEvent(t, "weekly-release.json"))
	require.NoError(t, err)
	assert.Equal(t, Result{Applications: 3, Models: 3, PipelinesStarted: 2}, res)

	// Applications: a vendor code only for the approved device vendor.
	tests := []struct {
		id, org    string
		wantStatus domain.ApplicationStatus
		wantCode   string
		wantVendor bool
		wantHeld   bool
		wantMsg    string
	}{
		{"app_vendor", "org-v1", domain.AppApproved, "00", true, false, "Your partner application was approved. Your code is 00."},
		{"app_software", "org-s", domain.AppApproved, "", false, false, "Your partner application was approved."},
		{"app_merchant", "org-m", domain.AppRejected, "", false, false, "Your partner application was rejected: The licence is expired. You may change it and submit it again."},
		{"app_late", "org-v2", domain.AppSubmitted, "", false, true, ""},
		{"app_pending", "org-v3", domain.AppSubmitted, "", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			a, err := db.Application(ctx, tt.id)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, a.Status)
			assert.Equal(t, tt.wantCode, a.VendorCode)
			assert.Equal(t, tt.wantHeld, a.Decision != nil)
			v, err := db.Vendor(ctx, tt.org)
			if tt.wantVendor {
				require.NoError(t, err)
				assert.Equal(t, domain.Vendor{Org: tt.org, Code: tt.wantCode, Name: "Co " + tt.id, ApplicationID: tt.id, ApprovedAt: runAt}, v)
			} else {
				assert.Equal(t, "vendor_not_approved", domain.CodeOf(err))
			}
			msgs, err := db.Messages(ctx, tt.org, "", 10)
			require.NoError(t, err)
			if tt.wantMsg == "" {
				assert.Empty(t, msgs.Items)
				assert.Nil(t, a.Outcome)
				return
			}
			require.Len(t, msgs.Items, 1)
			assert.Equal(t, tt.wantMsg, msgs.Items[0].Body)
			assert.Equal(t, tt.id, msgs.Items[0].EntityID)
			require.NotNil(t, a.Outcome)
			require.NotNil(t, a.Outcome.ReleasedAt)
			assert.Equal(t, runAt, *a.Outcome.ReleasedAt)
			assert.Equal(t, []string{"submitted", "released"}, ownerActions(t)(db.ApplicationHistory(ctx, tt.id)))
			assert.Equal(t, []string{"submitted", "decided", "released"}, historyActions(t)(db.ApplicationHistory(ctx, tt.id)), "reviewers read the held decision too")
		})
	}

	// Models: codes in queue order (oldest submission first), pipelines for the approved.
	for _, tt := range []struct {
		id         string
		wantStatus domain.ModelStatus
		wantCode   string
		wantHist   []string
	}{
		{"mdl_first", domain.ModelApproved, "00", []string{"registered", "released", "pipeline_started"}},
		{"mdl_second", domain.ModelApproved, "01", []string{"registered", "released", "pipeline_started"}},
		{"mdl_rejected", domain.ModelRejected, "", []string{"registered", "released"}},
		{"mdl_late", domain.ModelUnderReview, "", []string{"registered"}},
	} {
		t.Run(tt.id, func(t *testing.T) {
			m, err := db.Model(ctx, tt.id)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, m.Status)
			assert.Equal(t, tt.wantCode, m.ModelCode)
			assert.Equal(t, tt.wantHist, ownerActions(t)(db.ModelHistory(ctx, tt.id)))
			if tt.wantStatus == domain.ModelApproved {
				assert.Equal(t, "arn:aws:states:us-east-1:000000000000:execution:pipeline:"+tt.id, m.Pipeline)
			} else {
				assert.Empty(t, m.Pipeline)
			}
		})
	}
	require.Len(t, pipelines.calls, 2)
	assert.Equal(t, startCall{name: "mdl_first", input: PipelineInput{ModelID: "mdl_first", VendorOrg: "org-v0", VendorCode: "05", ModelCode: "00",
		DeviceType: domain.DeviceVendingMachine, SoftwareModes: []domain.SoftwareMode{domain.ModeSDK, domain.ModeAPP},
		Connectivity: []domain.Connectivity{domain.ConnWiFi}}}, pipelines.calls[0])
	msgs, err := db.Messages(ctx, "org-v0", "", 10)
	require.NoError(t, err)
	var subjects []string
	for _, m := range msgs.Items {
		subjects = append(subjects, m.Subject)
	}
	assert.ElementsMatch(t, []string{"model registration K mdl_first approved", "model registration K mdl_second approved",
		"model registration K mdl_rejected rejected"}, subjects)

	// A second delivery of the same schedule publishes nothing twice.
	res, err = h.handle(ctx, loadEvent(t, "weekly-release.json"))
	require.NoError(t, err)
	assert.Equal(t, Result{}, res)
	assert.Len(t, pipelines.calls, 2)
	next, err := db.NextCode(ctx, "VENDOR")
	require.NoError(t, err)
	assert.Equal(t, "01", next.Code, "one vendor code taken in all")

	// The next week's release publishes what was decided late.
	res, err = h.handle(ctx, loadEvent(t, "weekly-release.json", func(e *Event) { e.ScheduledTime = "2026-12-07T01:00:00Z" }))
	require.NoError(t, err)
	assert.Equal(t, Result{Applications: 1, Models: 1, PipelinesStarted: 1}, res)
	late, err := db.Application(ctx, "app_late")
	require.NoError(t, err)
	assert.Equal(t, "01", late.VendorCode)
}

func TestRelease_LostRaceIsRetried(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		seed      func(t *testing.T, db *store.DB)
		race      func(t *testing.T, db *store.DB, r *racingStore)
		check     func(t *testing.T, db *store.DB)
		wantRes   Result
		wantCodes int // NextCode calls
	}{
		{
			name: "vendor code taken by a racing release",
			seed: func(t *testing.T, db *store.DB) {
				seedApp(t, db, "app_1", "org-v1", domain.PartnerDeviceVendor, decision(true, cutoff.Add(-time.Hour)))
			},
			race: func(t *testing.T, db *store.DB, r *racingStore) {
				r.beforeNextCode = func(ctx context.Context, a store.CodeAllocation) {
					require.NoError(t, db.Tx().TakeCode(a).Commit(ctx, "racing release"))
				}
			},
			check: func(t *testing.T, db *store.DB) {
				a, err := db.Application(ctx, "app_1")
				require.NoError(t, err)
				assert.Equal(t, domain.AppApproved, a.Status)
				assert.Equal(t, "01", a.VendorCode, "the next free code")
				v, err := db.Vendor(ctx, "org-v1")
				require.NoError(t, err)
				assert.Equal(t, "01", v.Code)
			},
			wantRes:   Result{Applications: 1},
			wantCodes: 2,
		},
		{
			name: "model code taken by a racing release",
			seed: func(t *testing.T, db *store.DB) {
				seedModel(t, db, "mdl_1", "org-v0", cutoff.Add(-time.Hour), decision(true, cutoff.Add(-time.Hour)))
			},
			race: func(t *testing.T, db *store.DB, r *racingStore) {
				r.beforeNextCode = func(ctx context.Context, a store.CodeAllocation) {
					require.NoError(t, db.Tx().TakeCode(a).Commit(ctx, "racing release"))
				}
			},
			check: func(t *testing.T, db *store.DB) {
				m, err := db.Model(ctx, "mdl_1")
				require.NoError(t, err)
				assert.Equal(t, domain.ModelApproved, m.Status)
				assert.Equal(t, "01", m.ModelCode)
				assert.NotEmpty(t, m.Pipeline)
			},
			wantRes:   Result{Models: 1, PipelinesStarted: 1},
			wantCodes: 2,
		},
		{
			name: "decision revised while releasing",
			seed: func(t *testing.T, db *store.DB) {
				seedApp(t, db, "app_1", "org-m", domain.PartnerMerchant, decision(true, cutoff.Add(-time.Hour)))
			},
			race: func(t *testing.T, db *store.DB, r *racingStore) {
				r.afterReadApp = func(ctx context.Context, id string) {
					a, err := db.Application(ctx, id)
					require.NoError(t, err)
					ch, err := a.Decide(domain.Caller{Subject: "rita", Role: domain.RoleReviewer}, false, "Missing store photo.", cutoff.Add(-time.Minute))
					require.NoError(t, err)
					require.NoError(t, db.HoldApplicationDecision(ctx, a, ch))
				}
			},
			check: func(t *testing.T, db *store.DB) {
				a, err := db.Application(ctx, "app_1")
				require.NoError(t, err)
				assert.Equal(t, domain.AppRejected, a.Status, "the revised decision is the one released")
				require.NotNil(t, a.Outcome)
				assert.Equal(t, "Missing store photo.", a.Outcome.Reason)
				assert.Equal(t, []string{"submitted", "decided", "decision_revised", "released"}, historyActions(t)(db.ApplicationHistory(ctx, "app_1")))
				assert.Equal(t, []string{"submitted", "released"}, ownerActions(t)(db.ApplicationHistory(ctx, "app_1")), "the applicant never reads the revision")
				msgs, err := db.Messages(ctx, "org-m", "", 10)
				require.NoError(t, err)
				assert.Len(t, msgs.Items, 1, "one message, from the committed attempt")
			},
			wantRes: Result{Applications: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newDB(t)
			tt.seed(t, db)
			r := &racingStore{DB: db}
			tt.race(t, db, r)
			res, err := newHandler(r, &fakePipelines{}).handle(ctx, loadEvent(t, "weekly-release.json"))
			require.NoError(t, err)
			assert.Equal(t, tt.wantRes, res)
			assert.Equal(t, tt.wantCodes, r.nextCodes)
			tt.check(t, db)
		})
	}
}

func TestRelease_PipelineStartFailure(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	seedModel(t, db, "mdl_1", "org-v0", cutoff.Add(-time.Hour), decision(true, cutoff.Add(-time.Hour)))
	startErr := errors.New("sfn: throttled")

	_, err := newHandler(db, &fakePipelines{err: startErr}).handle(ctx, loadEvent(t, "weekly-release.json"))
	require.ErrorIs(t, err, startErr)
	m, err := db.Model(ctx, "mdl_1")
	require.NoError(t, err)
	assert.Equal(t, domain.ModelApproved, m.Status, "the release itself is committed")
	assert.Empty(t, m.Pipeline)
	waiting, err := db.ModelsAwaitingPipeline(ctx, "")
	require.NoError(t, err)
	require.Len(t, waiting.Items, 1)

	// The next run starts the pipeline it could not start.
	pipelines := &fakePipelines{}
	res, err := newHandler(db, pipelines).handle(ctx, loadEvent(t, "weekly-release.json"))
	require.NoError(t, err)
	assert.Equal(t, Result{PipelinesStarted: 1}, res)
	require.Len(t, pipelines.calls, 1)
	assert.Equal(t, "00", pipelines.calls[0].input.ModelCode)
	waiting, err = db.ModelsAwaitingPipeline(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, waiting.Items)
}

func TestRelease_ScheduledTime(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	seedApp(t, db, "app_1", "org-m", domain.PartnerMerchant, decision(true, runAt.Add(-time.Second)))

	_, err := newHandler(db, &fakePipelines{}).handle(ctx, loadEvent(t, "weekly-release.json", func(e *Event) { e.ScheduledTime = "Monday 9am" }))
	assert.Error(t, err)

	// Without a scheduled time the cutoff is now.
	res, err := newHandler(db, &fakePipelines{}).handle(ctx, loadEvent(t, "weekly-release.json", func(e *Event) { e.ScheduledTime = "" }))
	require.NoError(t, err)
	assert.Equal(t, Result{Applications: 1}, res)
}

// newDB is a table of its own on the local engine (shared/store/storetest).
func newDB(t *testing.T) *store.DB { return storetest.NewDB(t) }
