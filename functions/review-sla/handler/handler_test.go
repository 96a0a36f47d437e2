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
	apps   map[domain.PartnerType][]store.Page[domain.Application]
	models []store.Page[domain.Model]
	subs   []store.Page[domain.SubmissionVersion]
	seen   []store.QueueFilter
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
	h := &handler{db: q, now: time.Now, out: &out}
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
	h := &handler{db: &fakeQueues{}, now: time.Now, out: &bytes.Buffer{}}
	_, err := h.handle(context.Background(), Event{ScheduledTime: "yesterday"})
	assert.Error(t, err)
}
