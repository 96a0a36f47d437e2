package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// One version of an entity is saved once, however many requests race to save it: every
// write states the version it read, and the entity and its history entry are one
// transaction. This is what "exactly one history entry per change" rests on (issue 10 point
// 4); an engine that checks conditions and applies writes without isolation (moto_server
// when requests reach it concurrently) breaks it, so it runs against the engine as tests use it.
func TestSaveApplication_ConcurrentSavesOfOneVersionCommitOnce(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	for round := range 5 {
		id := fmt.Sprintf("app_race_%d", round)
		require.NoError(t, db.CreateApplication(ctx, draftApp(id, "org-a", domain.PartnerMerchant, t0), change(t0, "created")))
		const n = 20
		errs := make([]error, n)
		var wg, read sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			read.Add(1)
			go func() {
				defer wg.Done()
				a, err := db.Application(ctx, id)
				read.Done()
				if err != nil {
					errs[i] = err
					return
				}
				<-start
				a.Company.Name = fmt.Sprintf("writer %d", i)
				errs[i] = db.SaveApplication(ctx, a, change(t0, "edited"))
			}()
		}
		read.Wait() // every writer holds version 1
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				assert.ErrorIs(t, err, domain.ErrConflict, "a loser loses the race, nothing else")
			}
		}
		assert.Equal(t, 1, won, "round %d: one save of version 1 commits", round)
		hist, err := db.ApplicationHistory(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, []string{"created", "edited"}, actions(hist), "round %d: one entry per change", round)
		a, err := db.Application(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, 2, a.Version, "round %d", round)
	}
}
