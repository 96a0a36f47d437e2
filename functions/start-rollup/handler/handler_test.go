package handler

import (
	"context"
	"errors"
	"testing"
	"time"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/lambdafn/eventstest"
)

type fakeStarter struct {
	name  string
	input any
	err   error
}

func (f *fakeStarter) Start(_ context.Context, name string, input any) (string, error) {
	f.name, f.input = name, input
	return "arn:" + name, f.err
}

func TestStartRollup(t *testing.T) {
	now := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		event    Event
		startErr error
		want     Result
		wantErr  bool
	}{
		{"the schedule at 02:00 Shanghai rolls up the day before",
			eventstest.Load[Event](t, "start-rollup/daily-rollup.json"), nil,
			Result{Date: "2026-11-27", Execution: "daily-2026-11-27-20261127T180000Z"}, false},
		{"a named day, to re-run it", Event{Date: "2026-11-20"}, nil,
			Result{Date: "2026-11-20", Execution: "daily-2026-11-20-20261128T010000Z"}, false},
		{"a redelivered firing whose run has ended", Event{ScheduledTime: "2026-11-27T18:00:00Z"}, &sfntypes.ExecutionAlreadyExists{},
			Result{Date: "2026-11-27", Execution: "daily-2026-11-27-20261127T180000Z", AlreadyStarted: true}, false},
		{"a malformed day", Event{Date: "2026-11-31"}, nil, Result{}, true},
		{"Step Functions failing", Event{}, errors.New("throttled"), Result{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeStarter{err: tt.startErr}
			got, err := (&handler{rollups: f, now: func() time.Time { return now }}).handle(context.Background(), tt.event)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want.Execution, f.name)
			assert.Equal(t, Input{Date: tt.want.Date}, f.input)
		})
	}
}
