package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

func TestApplicationQueue(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	decision := &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: t0.Add(5 * time.Hour)}
	dv, sp := domain.PartnerDeviceVendor, domain.PartnerSoftwareProvider
	released := submittedApp("dv_released", "org-f", dv, t0)
	released.Status = domain.AppApproved
	for _, a := range []*domain.Application{
		submittedApp("dv_pending_late", "org-a", dv, t0.Add(time.Hour)),
		submittedApp("dv_pending_early", "org-b", dv, t0),
		submittedApp("dv_decided", "org-c", dv, t0.Add(30*time.Minute)),
		submittedApp("sp_pending", "org-d", sp, t0.Add(10*time.Minute)),
		draftApp("dv_draft", "org-e", dv, t0),
		released,
	} {
		require.NoError(t, db.CreateApplication(ctx, a, change(t0, "created")))
		if a.ID == "dv_decided" {
			a.Decision = decision
			require.NoError(t, db.HoldApplicationDecision(ctx, a, held(decision)))
		}
	}

	tests := []struct {
		name string
		t    domain.PartnerType
		f    store.QueueFilter
		want []string
	}{
		{"pending oldest first", dv, store.QueueFilter{State: store.QueuePending}, []string{"dv_pending_early", "dv_pending_late"}},
		{"decided", dv, store.QueueFilter{State: store.QueueDecided}, []string{"dv_decided"}},
		{"other partner type", sp, store.QueueFilter{State: store.QueuePending}, []string{"sp_pending"}},
		{"nothing decided", sp, store.QueueFilter{State: store.QueueDecided}, nil},
		{"empty type", domain.PartnerMerchant, store.QueueFilter{State: store.QueuePending}, nil},
		{"submitted until between", dv, store.QueueFilter{State: store.QueuePending, SubmittedUntil: t0.Add(30 * time.Minute)}, []string{"dv_pending_early"}},
		{"submitted until the instant itself", dv, store.QueueFilter{State: store.QueuePending, SubmittedUntil: t0}, []string{"dv_pending_early"}},
		{"submitted until before all", dv, store.QueueFilter{State: store.QueuePending, SubmittedUntil: t0.Add(-time.Second)}, nil},
		{"submitted until after all", dv, store.QueueFilter{State: store.QueuePending, SubmittedUntil: t0.Add(24 * time.Hour)}, []string{"dv_pending_early", "dv_pending_late"}},
		{"limit pages", dv, store.QueueFilter{State: store.QueuePending, Limit: 1}, []string{"dv_pending_early", "dv_pending_late"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, _ := allPages(t, func(a domain.Application) string { return a.ID }, func(cursor string) (store.Page[domain.Application], error) {
				f := tt.f
				f.Cursor = cursor
				return db.ApplicationQueue(ctx, tt.t, f)
			})
			assert.Equal(t, tt.want, ids)
		})
	}

	// A decision moves the application from the pending to the decided queue; a release
	// takes it off the queues.
	a, err := db.Application(ctx, "dv_pending_early")
	require.NoError(t, err)
	a.Decision = &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: t0.Add(6 * time.Hour)}
	require.NoError(t, db.HoldApplicationDecision(ctx, a, held(a.Decision)))
	p, err := db.ApplicationQueue(ctx, dv, store.QueueFilter{State: store.QueuePending})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	assert.Equal(t, "dv_pending_late", p.Items[0].ID)
	p, err = db.ApplicationQueue(ctx, dv, store.QueueFilter{State: store.QueueDecided})
	require.NoError(t, err)
	require.Len(t, p.Items, 2)
	assert.Equal(t, []string{"dv_pending_early", "dv_decided"}, []string{p.Items[0].ID, p.Items[1].ID})
	assert.Equal(t, a.Decision, p.Items[0].Decision)
	assert.Equal(t, decision, p.Items[1].Decision)

	_, err = a.Release("00", t0.Add(7*time.Hour))
	require.NoError(t, err)
	require.NoError(t, db.SaveApplication(ctx, a, change(t0.Add(7*time.Hour), "released")))
	p, err = db.ApplicationQueue(ctx, dv, store.QueueFilter{State: store.QueueDecided})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	assert.Equal(t, "dv_decided", p.Items[0].ID)
}

func TestModelQueue(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	decided := newModel("mdl_decided", "org-a", t0.Add(20*time.Minute))
	approved := newModel("mdl_approved", "org-a", t0)
	approved.Status, approved.ModelCode, approved.UpdatedAt = domain.ModelApproved, "00", t0.Add(2*time.Hour)
	started := newModel("mdl_started", "org-a", t0)
	started.Status, started.ModelCode, started.Pipeline = domain.ModelApproved, "01", "arn:aws:states:::execution:sm:mdl_started"
	rejected := newModel("mdl_rejected", "org-a", t0)
	rejected.Status = domain.ModelRejected
	for _, m := range []*domain.Model{
		newModel("mdl_late", "org-a", t0.Add(time.Hour)), newModel("mdl_early", "org-b", t0),
		decided, approved, started, rejected,
	} {
		require.NoError(t, db.CreateModel(ctx, m, change(t0, "registered")))
	}
	decided.Decision = &domain.Decision{Approve: false, Reason: "blurry", Reviewer: "rita", DecidedAt: t0.Add(time.Hour)}
	require.NoError(t, db.HoldModelDecision(ctx, decided, held(decided.Decision)))

	tests := []struct {
		name string
		f    store.QueueFilter
		want []string
	}{
		{"pending oldest first", store.QueueFilter{State: store.QueuePending}, []string{"mdl_early", "mdl_late"}},
		{"decided", store.QueueFilter{State: store.QueueDecided}, []string{"mdl_decided"}},
		{"submitted until", store.QueueFilter{State: store.QueuePending, SubmittedUntil: t0.Add(59 * time.Minute)}, []string{"mdl_early"}},
		{"limit pages", store.QueueFilter{State: store.QueuePending, Limit: 1}, []string{"mdl_early", "mdl_late"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, _ := allPages(t, func(m domain.Model) string { return m.ID }, func(cursor string) (store.Page[domain.Model], error) {
				f := tt.f
				f.Cursor = cursor
				return db.ModelQueue(ctx, f)
			})
			assert.Equal(t, tt.want, ids)
		})
	}

	q, err := db.ModelQueue(ctx, store.QueueFilter{State: store.QueueDecided})
	require.NoError(t, err)
	require.Len(t, q.Items, 1)
	assert.Equal(t, decided.Decision, q.Items[0].Decision, "reviewers see the held decision")

	p, err := db.ModelsAwaitingPipeline(ctx, "")
	require.NoError(t, err)
	require.Len(t, p.Items, 1, "approved without a pipeline only")
	assert.Equal(t, "mdl_approved", p.Items[0].ID)
}

func TestNextCode_Sequential(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	for i, want := range []string{"00", "01", "02", "03"} {
		a, err := db.NextCode(ctx, "VENDOR")
		require.NoError(t, err)
		assert.Equal(t, want, a.Code)
		assert.Equal(t, i, a.Index)
		assert.Equal(t, "VENDOR", a.Scope)
		again, err := db.NextCode(ctx, "VENDOR")
		require.NoError(t, err)
		assert.Equal(t, a, again, "reading does not allocate")
		require.NoError(t, db.Tx().TakeCode(a).Commit(ctx, "code"))
	}
	other, err := db.NextCode(ctx, "MODEL#org-a")
	require.NoError(t, err)
	assert.Equal(t, "00", other.Code, "scopes count separately")
}

func TestTakeCode_RacingTransactionsOneWins(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		taken int // codes taken before the race
	}{{"first code", 0}, {"later code", 2}} {
		t.Run(tt.name, func(t *testing.T) {
			db := newTable(t)
			for range tt.taken {
				a, err := db.NextCode(ctx, "VENDOR")
				require.NoError(t, err)
				require.NoError(t, db.Tx().TakeCode(a).Commit(ctx, "code"))
			}
			a1, err := db.NextCode(ctx, "VENDOR")
			require.NoError(t, err)
			a2, err := db.NextCode(ctx, "VENDOR")
			require.NoError(t, err)
			require.Equal(t, a1, a2)

			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, a := range []store.CodeAllocation{a1, a2} {
				wg.Go(func() {
					errs[i] = db.Tx().TakeCode(a).
						PutMessage(domain.Message{ID: a.Code + "-" + string(rune('a'+i)), Org: "org-a", At: t0}).
						Commit(ctx, "release")
				})
			}
			wg.Wait()
			assert.ElementsMatch(t, []string{"", "conflict"}, []string{codeOf(errs[0]), codeOf(errs[1])}, "exactly one commits")
			for _, err := range errs {
				if err != nil {
					assert.Equal(t, domain.Conflict, domain.KindOf(err))
				}
			}
			msgs, err := db.Messages(ctx, "org-a", "", 10)
			require.NoError(t, err)
			assert.Len(t, msgs.Items, 1, "the loser wrote nothing")
			next, err := db.NextCode(ctx, "VENDOR")
			require.NoError(t, err)
			assert.Equal(t, a1.Index+1, next.Index)
		})
	}
}

func TestTakeCode_ClaimedOnce(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	a0, err := db.NextCode(ctx, "MODEL#org-a")
	require.NoError(t, err)
	require.NoError(t, db.Tx().TakeCode(a0).Commit(ctx, "code"))
	a1, err := db.NextCode(ctx, "MODEL#org-a")
	require.NoError(t, err)
	require.NoError(t, db.Tx().TakeCode(a1).Commit(ctx, "code"))

	// Reusing an allocation after the counter moved on fails, whichever it was.
	for _, a := range []store.CodeAllocation{a0, a1} {
		err := db.Tx().TakeCode(a).Commit(ctx, "code")
		assert.Equal(t, "conflict", codeOf(err), a.Code)
	}
	next, err := db.NextCode(ctx, "MODEL#org-a")
	require.NoError(t, err)
	assert.Equal(t, "02", next.Code)
}

// QueuedIn reads every review queue one way: ids and since when, oldest first, paged; the
// decided state with the held decisions. Pay Score's two queues are apart.
func TestQueuedIn(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	for _, m := range []*domain.Model{newModel("mdl_late", "org-a", t0.Add(time.Hour)), newModel("mdl_early", "org-b", t0)} {
		require.NoError(t, db.CreateModel(ctx, m, change(t0, "registered")))
	}
	payScore := func(id string, status domain.PayScoreStatus, since time.Time) *domain.PayScoreApplication {
		p := &domain.PayScoreApplication{ID: id, Org: "coldbox", Scenario: domain.ScenarioSmartFridge, Status: status,
			Attachments: map[string]*domain.Attachment{}, CreatedAt: t0, UpdatedAt: since}
		require.NoError(t, db.CreatePayScore(ctx, p, change(since, "created")))
		return p
	}
	payScore("psa_review", domain.PayScoreUnderReview, t0.Add(2*time.Hour))
	payScore("psa_accept", domain.PayScoreAcceptanceReview, t0.Add(3*time.Hour))
	decided := payScore("psa_accept_decided", domain.PayScoreAcceptanceReview, t0.Add(4*time.Hour))
	decided.Decision = &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: t0.Add(5 * time.Hour)}
	require.NoError(t, db.HoldPayScoreDecision(ctx, decided, held(decided.Decision)))

	list := func(q store.ReviewQueue, f store.QueueFilter) []store.Queued {
		var out []store.Queued
		for {
			p, err := db.QueuedIn(ctx, q, f)
			require.NoError(t, err)
			out = append(out, p.Items...)
			if p.Next == "" {
				return out
			}
			f.Cursor = p.Next
		}
	}
	got := list(store.ModelReviewQueue, store.QueueFilter{State: store.QueuePending, Limit: 1})
	require.Len(t, got, 2, "paged one by one")
	assert.Equal(t, store.Queued{ID: "mdl_early", Since: t0}, got[0])
	assert.Equal(t, store.Queued{ID: "mdl_late", Since: t0.Add(time.Hour)}, got[1])
	assert.Len(t, list(store.ModelReviewQueue, store.QueueFilter{State: store.QueuePending, SubmittedUntil: t0.Add(59 * time.Minute)}), 1)

	assert.Equal(t, []store.Queued{{ID: "psa_review", Since: t0.Add(2 * time.Hour)}},
		list(store.PayScoreReviewQueue, store.QueueFilter{State: store.QueuePending}))
	assert.Equal(t, []store.Queued{{ID: "psa_accept", Since: t0.Add(3 * time.Hour)}},
		list(store.PayScoreAcceptanceQueue, store.QueueFilter{State: store.QueuePending}))
	got = list(store.PayScoreAcceptanceQueue, store.QueueFilter{State: store.QueueDecided})
	require.Len(t, got, 1)
	assert.Equal(t, "psa_accept_decided", got[0].ID)
	require.NotNil(t, got[0].Decision, "the decided state carries the held decision")
	assert.Equal(t, t0.Add(5*time.Hour), got[0].Decision.DecidedAt)

	// Every queue has a name, an alert title and an SLA.
	for _, q := range store.ReviewQueues() {
		assert.NotEmpty(t, q.Name, q.Key)
		assert.NotEmpty(t, q.Title, q.Key)
		assert.Contains(t, []string{"application", "model", "payscore"}, q.Kind, q.Key)
		assert.NotZero(t, q.SLA, q.Key)
	}
}
