package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

func TestRetry_RepeatsOnlyLostRaces(t *testing.T) {
	lost := domain.ErrConflict.Withf("application x changed meanwhile")
	tests := []struct {
		name      string
		errs      []error // what f returns on each call
		wantCalls int
		wantErr   error
	}{
		{"success at once", []error{nil}, 1, nil},
		{"a lost race, then success", []error{lost, lost, nil}, 3, nil},
		{"another conflict is final", []error{domain.Errorf(domain.Conflict, "not_editable", "submitted")}, 1, nil},
		{"an internal error is final", []error{errors.New("boom")}, 1, nil},
		{"gives up after the attempts", []error{lost, lost, lost, lost}, 3, domain.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := store.Retry(context.Background(), 3, func() error {
				calls++
				return tt.errs[min(calls, len(tt.errs))-1]
			})
			assert.Equal(t, tt.wantCalls, calls)
			want := tt.wantErr
			if want == nil {
				want = tt.errs[calls-1]
			}
			if want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, want)
			}
		})
	}
}

func TestRetry_StopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := store.Retry(ctx, 1000, func() error {
		calls++
		cancel()
		return domain.ErrConflict.Withf("lost")
	})
	assert.Equal(t, 1, calls, "no attempt after the context ended")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, domain.ErrConflict)
}

func TestDeclaredErrorsMatchByCode(t *testing.T) {
	assert.ErrorIs(t, domain.Errorf(domain.Conflict, "conflict", "x"), domain.ErrConflict)
	assert.NotErrorIs(t, domain.Errorf(domain.Conflict, "not_editable", "x"), domain.ErrConflict)
	assert.ErrorIs(t, domain.ErrNotWaiting.Withf("gone"), domain.ErrNotWaiting)
}
