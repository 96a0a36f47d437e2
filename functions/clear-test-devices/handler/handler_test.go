package handler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
)

type fakeDevices struct {
	devices  map[string]*domain.TestDevice
	conflict int // SaveTestDevice answers Conflict this many times first
	saved    int
}

func (f *fakeDevices) TestDevicesDue(_ context.Context, until time.Time) ([]domain.TestDevice, error) {
	var out []domain.TestDevice
	for _, d := range f.devices {
		if d.Status == domain.TestDeviceActive && !d.ClearAt.After(until) {
			out = append(out, *d)
		}
	}
	return out, nil
}

func (f *fakeDevices) TestDevice(_ context.Context, sn string) (*domain.TestDevice, error) {
	d := *f.devices[sn]
	return &d, nil
}

func (f *fakeDevices) SaveTestDevice(_ context.Context, d *domain.TestDevice, _ ...domain.Change) error {
	if f.conflict > 0 {
		f.conflict--
		return domain.Errorf(domain.Conflict, "conflict", "changed")
	}
	cp := *d
	f.devices[d.SN], f.saved = &cp, f.saved+1
	return nil
}

// The daily run clears what is due at its scheduled time, reloads after a lost race, and a
// redelivered event clears nothing twice.
func TestDailyClearing(t *testing.T) {
	e := eventstest.Load[Event](t, "clear-test-devices/daily-clearing.json")
	at, err := time.Parse(time.RFC3339, e.ScheduledTime)
	require.NoError(t, err)
	f := &fakeDevices{conflict: 1, devices: map[string]*domain.TestDevice{
		"due":    {SN: "due", Status: domain.TestDeviceActive, ClearAt: at},
		"later":  {SN: "later", Status: domain.TestDeviceActive, ClearAt: at.Add(time.Hour)},
		"closed": {SN: "closed", Status: domain.TestDeviceCleared, ClearAt: at.Add(-time.Hour)},
	}}
	h := &handler{db: f, now: func() time.Time { return at.Add(time.Minute) }}
	res, err := h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, Result{Cleared: 1}, res)
	assert.Equal(t, domain.TestDeviceCleared, f.devices["due"].Status)
	assert.Equal(t, domain.ClearedOnDate, f.devices["due"].ClearedReason)
	assert.Equal(t, domain.TestDeviceActive, f.devices["later"].Status)

	res, err = h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, Result{Cleared: 0}, res, "a redelivered event clears nothing twice")
	assert.Equal(t, 1, f.saved)

	_, err = h.handle(context.Background(), Event{ScheduledTime: "yesterday"})
	assert.Error(t, err)
}
