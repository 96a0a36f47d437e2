package handler

import (
	"bytes"
	"context"
	"encoding/json"
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
	apps      map[domain.PartnerType][]store.Page[domain.Application]
	models    []store.Page[domain.Model]
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

func (f *fakeQueues) ApplicationQueue(_ context.Context, t domain.PartnerType, q store.QueueFilter) (store.Page[domain.Application], error) {
	f.seen = append(f.seen, q)
	pages := f.apps[t]
	if len(pages) == 0 {
		return store.Page[domain.Application]{}, nil
	}
	i := 0
	if q.Cursor != "" {
		i = int(q.Cursor[0] - '0')
	}
	return pages[i], nil
}

func (f *fakeQueues) ModelQueue(_ context.Context, q store.QueueFilter) (store.Page[domain.Model], error) {
	f.seen = append(f.seen, q)
	return f.models[0], nil
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

	q := &fakeQueues{
		apps: map[domain.PartnerType][]store.Page[domain.Application]{
			domain.PartnerDeviceVendor: {{Items: make([]domain.Application, 100), Next: "1"}, {Items: make([]domain.Application, 3)}},
		},
		models: []store.Page[domain.Model]{{Items: make([]domain.Model, 2)}},
		subs:   []store.Page[domain.SubmissionVersion]{{Items: make([]domain.SubmissionVersion, 4)}},
	}
	var out bytes.Buffer
	h := &handler{db: q, now: time.Now, out: &out, newID: func(p string) string { return p + "_1" }}
	res, err := h.handle(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, 103, res.Overdue["applications/device_vendor"])
	assert.Equal(t, 0, res.Overdue["applications/merchant"])
	assert.Equal(t, 2, res.Overdue["models"])
	assert.Equal(t, 4, res.Overdue["evidence"])

	at, _ := time.Parse(time.RFC3339, ev.ScheduledTime)
	for _, f := range q.seen {
		assert.Equal(t, store.QueuePending, f.State)
		assert.Equal(t, at.Add(-7*24*time.Hour), f.SubmittedUntil, "overdue means submitted more than a week before the run")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Len(t, lines, 6, "one EMF record per queue")
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
		models: []store.Page[domain.Model]{{Items: []domain.Model{{ID: "mdl_1", ModelSpec: domain.ModelSpec{Name: "K1"}, Round: 1, SubmittedAt: sub}}}},
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
