package handler

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/fee"
)

// fakeRunner records what the handler asks of fee.Runner (tested on the engines in shared/fee
// and end to end in infra/e2e).
type fakeRunner struct {
	providers []string
	months    []fee.Month
	restated  fee.Date
}

func (f *fakeRunner) Restate(_ context.Context, _ time.Time, day fee.Date) ([]fee.Month, []fee.Outcome, error) {
	f.restated = day
	return []fee.Month{day.Month()}, []fee.Outcome{{Provider: "DP00000002", Month: day.Month(), Version: 2, New: true}}, nil
}

func (f *fakeRunner) RunFor(_ context.Context, _ time.Time, providers []string, months ...fee.Month) ([]fee.Outcome, error) {
	f.providers, f.months = providers, months
	return nil, nil
}

var now = time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC) // 10:30 on the 1st in Shanghai

func newTestHandler() (*handler, *fakeRunner) {
	r := &fakeRunner{}
	return &handler{run: r, now: func() time.Time { return now }}, r
}

// sample reads one of events/fee-statements/.
func sample(t *testing.T, name string) Event {
	t.Helper()
	raw, err := os.ReadFile("../../../events/fee-statements/" + name)
	require.NoError(t, err)
	var e Event
	require.NoError(t, json.Unmarshal(raw, &e))
	return e
}

func TestScheduleRunsTheMonthsDueAtItsTime(t *testing.T) {
	e := sample(t, "monthly-run.json")
	h, r := newTestHandler()
	out, err := h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, []fee.Month{"2026-09", "2026-10"}, out.Months, "the sample fires on November 1st")
	assert.Nil(t, r.providers, "every provider")
	assert.Equal(t, []fee.Outcome{}, out.Outcomes)

	// A redelivery days later computes the months of its scheduled time, not of the clock.
	h.now = func() time.Time { return now.Add(5 * 24 * time.Hour) }
	out, err = h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, []fee.Month{"2026-09", "2026-10"}, out.Months)
}

func TestOperatorRunsAreChecked(t *testing.T) {
	h, r := newTestHandler()
	_, err := h.handle(context.Background(), Event{Months: []fee.Month{"2026-11"}, Providers: []string{"DP00000002"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"DP00000002"}, r.providers)
	assert.Equal(t, []fee.Month{"2026-11"}, r.months)
	for name, e := range map[string]Event{
		"month not over": {Months: []fee.Month{"2026-12"}},
		"bad month":      {Months: []fee.Month{"2026-13"}},
		"bad provider":   {Providers: []string{"acme"}},
		"bad schedule":   {ScheduledTime: "yesterday"},
	} {
		r.months = nil
		_, err := h.handle(context.Background(), e)
		assert.Equal(t, domain.Invalid, domain.KindOf(err), name)
		assert.Nil(t, r.months, "%s: nothing ran", name)
	}
}

// The rollup's call after each day: the sample is what its state machine sends.
func TestRollupRestatesItsDay(t *testing.T) {
	e := sample(t, "rolled-up.json")
	h, r := newTestHandler()
	out, err := h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, fee.Date("2026-10-31"), r.restated)
	assert.Equal(t, []fee.Month{"2026-10"}, out.Months)
	assert.Nil(t, r.months, "not the schedule's months")
	require.Len(t, out.Outcomes, 1)

	for name, e := range map[string]Event{
		"with months":    {RolledUp: "2026-10-31", Months: []fee.Month{"2026-10"}},
		"with providers": {RolledUp: "2026-10-31", Providers: []string{"DP00000002"}},
		"bad day":        {RolledUp: "2026-10-32"},
	} {
		r.restated = ""
		_, err := h.handle(context.Background(), e)
		assert.Equal(t, domain.Invalid, domain.KindOf(err), name)
		assert.Empty(t, r.restated, "%s: nothing ran", name)
	}
}
