// Package clock is the local cloud's virtual clock. Wait states, task timeouts and
// EventBridge schedules all run on it, so a test (or the local admin endpoint) can
// advance twelve weeks in milliseconds and see everything that was due happen in order.
//
// Determinism comes from one contract: work started by a timer callback that may itself
// schedule timers (a Step Functions execution moving on, a Lambda invoked by a schedule)
// holds a Busy mark until it blocks or ends. Advance fires the next due timer only when
// nothing is busy, so effects of earlier timers are settled before later timers fire.
package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is a virtual clock. The zero value is not usable; call New.
type Clock struct {
	advancing sync.Mutex // serialises advancers so two never interleave timer firing
	mu        sync.Mutex
	idle      *sync.Cond
	now       time.Time
	timers    timerHeap
	seq       uint64
	busy      int

	// follow: when true, virtual time also moves with the wall clock (make run);
	// when false it moves only through Advance/AdvanceTo/Set (tests).
	follow    bool
	wallStart time.Time
	offset    time.Duration // virtual = wallNow + offset (follow mode)
	stopOnce  sync.Once
	stop      chan struct{}
}

// New returns a frozen clock at start: time moves only when advanced.
func New(start time.Time) *Clock {
	c := &Clock{now: start.UTC()}
	c.idle = sync.NewCond(&c.mu)
	return c
}

// NewFollowing returns a clock that starts at the wall clock's now and moves with it,
// and can still be advanced (jumping ahead). Due timers fire from a background ticker
// until Close.
func NewFollowing(tick time.Duration) *Clock {
	c := New(time.Now())
	c.follow = true
	c.offset = 0
	c.stop = make(chan struct{})
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.AdvanceTo(c.Now())
			}
		}
	}()
	return c
}

// Close stops a following clock's ticker. It is a no-op on a frozen clock.
func (c *Clock) Close() {
	c.stopOnce.Do(func() {
		if c.stop != nil {
			close(c.stop)
		}
	})
}

// Now returns the current virtual time (UTC).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.follow {
		if w := time.Now().Add(c.offset).UTC(); w.After(c.now) {
			c.now = w
		}
	}
	return c.now
}

// Timer is a scheduled callback; Stop cancels it if it has not fired yet.
type Timer struct {
	c     *Clock
	entry *timer
}

// Stop cancels the timer. It reports whether the call stopped it (false: already fired or stopped).
func (t *Timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.entry.index < 0 {
		return false
	}
	heap.Remove(&t.c.timers, t.entry.index)
	return true
}

// At schedules f to run when virtual time reaches at. Timers due at the same instant fire
// in the order they were scheduled. f runs on the goroutine that advances the clock; work it
// hands to other goroutines must be marked with Busy before f returns.
func (c *Clock) At(at time.Time, f func()) *Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	e := &timer{at: at, seq: c.seq, f: f}
	heap.Push(&c.timers, e)
	return &Timer{c: c, entry: e}
}

// AfterFunc schedules f to run d after the current virtual time.
func (c *Clock) AfterFunc(d time.Duration, f func()) *Timer {
	return c.At(c.Now().Add(d), f)
}

// Busy marks work in flight that may schedule timers; call the returned func when that work
// blocks or ends. Calling it more than once is harmless.
func (c *Clock) Busy() (done func()) {
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			c.busy--
			if c.busy == 0 {
				c.idle.Broadcast()
			}
			c.mu.Unlock()
		})
	}
}

// Settle blocks until no work is marked busy.
func (c *Clock) Settle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.busy > 0 {
		c.idle.Wait()
	}
}

// Advance moves virtual time forward by d, firing every timer due on the way in order.
func (c *Clock) Advance(d time.Duration) {
	c.AdvanceTo(c.Now().Add(d))
}

// AdvanceTo moves virtual time forward to target (never backwards), firing every timer due
// at or before target, one at a time, each after the effects of the previous one have settled.
// It returns with the clock at target and all work settled.
func (c *Clock) AdvanceTo(target time.Time) {
	c.advancing.Lock()
	defer c.advancing.Unlock()
	for {
		c.mu.Lock()
		for c.busy > 0 {
			c.idle.Wait()
		}
		if len(c.timers) == 0 || c.timers[0].at.After(target) {
			if target.After(c.nowLocked()) {
				if c.follow {
					c.offset += target.Sub(c.now)
				}
				c.now = target.UTC()
			}
			c.mu.Unlock()
			return
		}
		e := heap.Pop(&c.timers).(*timer)
		if e.at.After(c.nowLocked()) {
			if c.follow {
				c.offset += e.at.Sub(c.now)
			}
			c.now = e.at.UTC()
		}
		c.mu.Unlock()
		e.f()
	}
}

// Pending returns how many timers are scheduled.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

type timer struct {
	at    time.Time
	seq   uint64
	f     func()
	index int
}

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	e := x.(*timer)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*h = old[:len(old)-1]
	return e
}
