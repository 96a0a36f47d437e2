package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/facepay/platform/shared/domain"
)

// RetryAttempts is what a request retries: enough for a burst of identical concurrent
// requests, where every loser's second attempt finds the work done; few enough that a hot
// item fails fast.
const RetryAttempts = 8

// Retry runs f until it returns anything but a lost race (domain.ErrConflict), at most
// attempts times, waiting a growing, jittered while between attempts. f must re-read
// what it changes on every attempt: a request that lost to an identical one then finds the
// work done and answers as the winner did. Retry stops at once when ctx ends (returning the
// last error joined with ctx's). This is the one retry loop of the code base.
func Retry(ctx context.Context, attempts int, f func() error) error {
	for attempt := 1; ; attempt++ {
		err := f()
		if !errors.Is(err, domain.ErrConflict) || attempt >= attempts {
			return err
		}
		wait := time.Duration(attempt) * 10 * time.Millisecond
		wait = min(wait, 250*time.Millisecond)
		wait += rand.N(wait) // jitter: racers that collided once should not collide again
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}
