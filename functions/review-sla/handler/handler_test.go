package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

type fakeQueues struct {
	queued    map[string][]store.Page[store.Queued] // by queue key
	subs      []store.Page[domain.SubmissionVersion]
	seen      []store.QueueFilter
	raised    map[string]domain.Message
	pipelines map[string]*domain.Pipeline
	messages  []domain.Message
	alerts    []domain.Message
}

func (f *fakeQueues) RaiseOnce(_ context.Context, key string, m domain.Message) error {
	if f.raised == nil {
		f.raised = map[string]domain.Message{}
	}
	if _, ok := f.raised[key]; ok {
		return domain.ErrAlreadyRaised.Withf("raised")
	}
	f.raised[key] = m
	return nil
}

func (f *fakeQueues) PipelinesDue(_ context.Context, until time.Time) ([]string, error) {
	var ids []string
	for id, p := range f.pipelines {
		if due := p.NextDue(); !due.IsZero() && !due.After(until) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (f *fakeQueues) Pipeline(_ context.Context, id string) (*domain.Pipeline, error) {
	cp := *f.pipelines[id]
	return &cp, nil
}

func (f *fakeQueues) SaveSwept(_ context.Context, p *domain.Pipeline, _ []domain.Change, messages, alerts []domain.Message) error {
	f.pipelines[p.ModelID] = p
	f.messages = append(f.messages, messages...)
	f.alerts = append(f.alerts, alerts...)
	return nil
}

func (f *fakeQueues) QueuedIn(_ context.Context, q store.ReviewQueue, qf store.QueueFilter) (store.Page[store.Queued], error) {
	f.seen = append(f.seen, qf)
	pages := f.queued[q.Key]
	if len(pages) == 0 {
		return store.Page[store.Queued]{}, nil
	}
	i := 0
	if qf.Cursor != "" {
		i = int(qf.Cursor[0] - '0')
	}
	p := pages[i]
	var items []store.Queued
	for _, it := range p.Items {
		if qf.SubmittedUntil.IsZero() || !it.Since.After(qf.SubmittedUntil) {
			items = append(items, it)
		}
	}
	return store.Page[store.Queued]{Items: items, Next: p.Next}, nil
}

func (f *fakeQueues) SubmissionQueue(_ context.Context, q store.QueueFilter) (store.Page[domain.SubmissionVersion], error) {
	f.seen = append(f.seen, q)
	if len(f.subs) == 0 {
		return store.Page[domain.SubmissionVersion]{}, nil
	}
	return f.subs[0], nil
}

func TestSweepCountsOverdueAcrossPagesAndEmitsMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../../events/review-sla/daily-sweep.json")
	require.NoError(t, err)
	var ev Event
	require.NoError(t, json.Unmarshal(raw, &ev))

	at, _ := time.Parse(time.RFC3339, ev.ScheduledTime)
	old := func(n int) []store.Queued {
		out := make([]store.Queued, n)
		for i := range out {
			out[i] = store.Queued{ID: fmt.Sprintf("x_%d", i), Since: at.Add(-8 * 24 * time.Hour)}
		}
		return out
	}
	q := &fakeQueues{
		queued: map[string][]store.Page[store.Queued]{
			store.ApplicationReviewQueue(domain.PartnerDeviceVendor).Key: {{Items: old(100), Next: "1"}, {Items: old(3)}},
			store.ModelReviewQueue.Key:                                   {{Items: old(2)}},
			store.PayScoreReviewQueue.Key:                                {{Items: old(1)}},
		},
		subs: []store.Page[domain.SubmissionVersion]{{Items: make([]domain.SubmissionVersion, 4)}},
	}
	var out bytes.Buffer
	h := &handler{db: q, now: time.Now, out: &out, newID: func(p string) string { return p + "_1" }}
	res, err := h.handle(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, 103, res.Overdue["applications/device_vendor"])
	assert.Equal(t, 0, res.Overdue["applications/merchant"])
	assert.Equal(t, 2, res.Overdue["models"])
	assert.Equal(t, 4, res.Overdue["evidence"])
	assert.Equal(t, 1, res.Overdue["payscore/application"])
	assert.Equal(t, 0, res.Overdue["payscore/acceptance"])

	for _, f := range q.seen {
		assert.Equal(t, store.QueuePending, f.State)
		assert.True(t, f.SubmittedUntil.Equal(at.Add(-7*24*time.Hour)) || f.SubmittedUntil.Equal(at.Add(-3*24*time.Hour)),
			"overdue means queued more than a week (3 working days for acceptance) before the run: %s", f.SubmittedUntil)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Len(t, lines, len(store.ReviewQueues())+1, "one EMF record per queue")
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	assert.Contains(t, rec, "_aws")
	assert.Contains(t, rec, "OverdueReviews")
}

func TestSweepRefusesABadScheduledTime(t *testing.T) {
	h := &handler{db: &fakeQueues{}, now: time.Now, out: &bytes.Buffer{}, newID: func(p string) string { return p + "_1" }}
	_, err := h.handle(context.Background(), Event{ScheduledTime: "yesterday"})
	assert.Error(t, err)
}

// Each overdue review is raised once, whatever the re-runs; a due pipeline record is swept
// once, its vendor told in its outbox and the reviewers in their alerts.
func TestSweepRaisesOnce(t *testing.T) {
	at := time.Date(2026, 12, 1, 18, 30, 0, 0, time.UTC)
	sub := at.Add(-8 * 24 * time.Hour)
	q := &fakeQueues{
		queued: map[string][]store.Page[store.Queued]{store.ModelReviewQueue.Key: {{Items: []store.Queued{{ID: "mdl_1", Since: sub}}}}},
		subs:   []store.Page[domain.SubmissionVersion]{{Items: []domain.SubmissionVersion{{ModelID: "mdl_2", Kind: domain.SubmissionSoftware, Number: 2, SubmittedAt: &sub}}}},
		pipelines: map[string]*domain.Pipeline{"mdl_3": {ModelID: "mdl_3", VendorOrg: "v3", Stage: domain.StageMP, Position: domain.StageMP,
			Rectifications: map[string]time.Time{"spc_1": at.Add(-time.Hour)}}},
	}
	h := &handler{db: q, now: time.Now, out: &bytes.Buffer{}, newID: func(p string) string { return p + "_1" }}
	ev := Event{ScheduledTime: at.Format(time.RFC3339)}
	res, err := h.handle(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Raised)
	assert.Equal(t, []string{"mdl_3"}, res.Swept)
	assert.Contains(t, q.raised["review#SUB#mdl_2#software#v2"].Body, "due "+sub.Add(7*24*time.Hour).Format(time.RFC3339))
	assert.Len(t, q.messages, 1)
	assert.Equal(t, "v3", q.messages[0].Org)
	assert.Len(t, q.alerts, 1)
	assert.Equal(t, domain.StageRestricted, q.pipelines["mdl_3"].Stage)

	res, err = h.handle(context.Background(), ev)
	require.NoError(t, err)
	assert.Zero(t, res.Raised, "raised once")
	assert.Empty(t, res.Swept)
	assert.Len(t, q.messages, 1)
}

// Every held-decision queue is swept against its own SLA: Pay Score go-live acceptance after
// three working days (not before; across a holiday), Pay Score application review after a week.
// Each overdue review is raised once, with its queue's title and due date.
func TestSweepEveryReviewQueueAgainstItsSLA(t *testing.T) {
	friday := time.Date(2026, 9, 18, 2, 0, 0, 0, time.UTC) // Friday 18 September 2026, 10:00 Shanghai
	q := &fakeQueues{queued: map[string][]store.Page[store.Queued]{
		store.PayScoreAcceptanceQueue.Key: {{Items: []store.Queued{{ID: "psa_acc", Since: friday}}}},
		store.PayScoreReviewQueue.Key:     {{Items: []store.Queued{{ID: "psa_app", Since: friday}}}},
	}}
	h := &handler{db: q, now: time.Now, out: &bytes.Buffer{}, newID: func(p string) string { return p + "_1" }}
	sweep := func(at time.Time) Result {
		res, err := h.handle(context.Background(), Event{ScheduledTime: at.Format(time.RFC3339)})
		require.NoError(t, err)
		return res
	}
	// Working days after Friday 18: Sunday 20 (a make-up working day), Monday 21, Tuesday 22.
	res := sweep(time.Date(2026, 9, 22, 2, 30, 0, 0, time.UTC)) // Tuesday 10:30
	assert.Zero(t, res.Overdue["payscore/acceptance"], "within its three working days")
	assert.Zero(t, res.Raised)
	res = sweep(time.Date(2026, 9, 23, 2, 30, 0, 0, time.UTC)) // Wednesday 10:30
	assert.Equal(t, 1, res.Overdue["payscore/acceptance"])
	assert.Zero(t, res.Overdue["payscore/application"], "a week is not over")
	assert.Equal(t, 1, res.Raised)
	alert := q.raised["review#PAYSCORE#acceptance#psa_acc#"+friday.Format(time.RFC3339Nano)]
	assert.Equal(t, "Review overdue: Pay Score go-live acceptance psa_acc", alert.Subject)
	assert.Equal(t, "payscore", alert.Entity, "the entity the reviewer opens")
	assert.Equal(t, "psa_acc", alert.EntityID)
	assert.Contains(t, alert.Body, "due 2026-09-22T16:00:00Z (3 working days)")

	res = sweep(time.Date(2026, 9, 25, 2, 30, 0, 0, time.UTC)) // the next Friday
	assert.Equal(t, 1, res.Overdue["payscore/acceptance"], "still overdue")
	assert.Equal(t, 1, res.Overdue["payscore/application"])
	assert.Equal(t, 1, res.Raised, "the acceptance was raised already; the application now")
	assert.Contains(t, q.raised["review#PAYSCORE#application#psa_app#"+friday.Format(time.RFC3339Nano)].Body, "(one week)")
	assert.Len(t, q.raised, 2)
}
