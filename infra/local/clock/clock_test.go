package clock

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var t0 = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func TestAdvanceFiresDueTimersInOrder(t *testing.T) {
	c := New(t0)
	var got []string
	c.AfterFunc(2*time.Hour, func() { got = append(got, "b@"+c.Now().Format("15")) })
	c.AfterFunc(1*time.Hour, func() { got = append(got, "a@"+c.Now().Format("15")) })
	c.AfterFunc(2*time.Hour, func() { got = append(got, "c@"+c.Now().Format("15")) })
	late := c.AfterFunc(5*time.Hour, func() { got = append(got, "late") })

	c.Advance(3 * time.Hour)
	assert.Equal(t, []string{"a@01", "b@02", "c@02"}, got)
	assert.Equal(t, t0.Add(3*time.Hour), c.Now())
	assert.True(t, late.Stop())
	c.Advance(10 * time.Hour)
	assert.Len(t, got, 3)
}

// A timer whose effect runs on another goroutine and schedules a further timer inside the
// same advance window must see that timer fire too, in order.
func TestAdvanceWaitsForBusyWorkBeforeNextTimer(t *testing.T) {
	c := New(t0)
	var mu sync.Mutex
	var got []time.Duration
	var step func(n int)
	step = func(n int) {
		done := c.Busy()
		go func() {
			defer done()
			mu.Lock()
			got = append(got, c.Now().Sub(t0))
			mu.Unlock()
			if n > 0 {
				c.AfterFunc(24*time.Hour, func() { step(n - 1) })
			}
		}()
	}
	c.AfterFunc(24*time.Hour, func() { step(3) })
	c.Advance(7 * 24 * time.Hour)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []time.Duration{24 * time.Hour, 48 * time.Hour, 72 * time.Hour, 96 * time.Hour}, got)
}

func TestStopAfterFireReportsFalse(t *testing.T) {
	c := New(t0)
	tm := c.AfterFunc(time.Second, func() {})
	c.Advance(time.Minute)
	assert.False(t, tm.Stop())
	assert.Equal(t, 0, c.Pending())
}
