package handler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/store"
)

var testNow = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)

type fakeTokens struct {
	put []store.TaskToken
	err error
}

// loadEvent reads events/pipeline-task/<name> (shared/lambdafn/eventstest).
func loadEvent(t *testing.T, name string, mutators ...func(*Event)) Event {
	return eventstest.Load(t, "pipeline-task/"+name, mutators...)
}

func (f *fakeTokens) PutTaskToken(_ context.Context, t store.TaskToken) error {
	if f.err != nil {
		return f.err
	}
	f.put = append(f.put, t)
	return nil
}

func TestHandle(t *testing.T) {
	storeErr := errors.New("dynamodb: throttled")
	tests := []struct {
		name        string
		mutate      func(*Event)
		storeErr    error
		wantInvalid bool
		wantErr     error
	}{
		{name: "sample"},
		{name: "other step", mutate: func(e *Event) { e.Step = "certification_2" }},
		{name: "no step", mutate: func(e *Event) { e.Step = "" }, wantInvalid: true},
		{name: "step with a separator", mutate: func(e *Event) { e.Step = "a#b" }, wantInvalid: true},
		{name: "step in capitals", mutate: func(e *Event) { e.Step = "Prototype" }, wantInvalid: true},
		{name: "step too long", mutate: func(e *Event) { e.Step = "a" + strings.Repeat("b", 64) }, wantInvalid: true},
		{name: "no model", mutate: func(e *Event) { e.ModelID = "" }, wantInvalid: true},
		{name: "no token", mutate: func(e *Event) { e.TaskToken = "" }, wantInvalid: true},
		{name: "store failure", storeErr: storeErr, wantErr: storeErr},
		{name: "store conflict", storeErr: domain.Errorf(domain.Conflict, "conflict", "token changed"), wantErr: domain.Errorf(domain.Conflict, "conflict", "token changed")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens := &fakeTokens{err: tt.storeErr}
			h := &handler{tokens: tokens, now: func() time.Time { return testNow }}
			var mutators []func(*Event)
			if tt.mutate != nil {
				mutators = append(mutators, tt.mutate)
			}
			e := loadEvent(t, "prototype-evidence.json", mutators...)
			_, err := h.handle(context.Background(), e)
			switch {
			case tt.wantInvalid:
				var invalid *InvalidEvent
				require.ErrorAs(t, err, &invalid)
				assert.Empty(t, tokens.put, "nothing stored")
			case tt.wantErr != nil:
				assert.Equal(t, tt.wantErr, err)
			default:
				require.NoError(t, err)
				require.Len(t, tokens.put, 1)
				assert.Equal(t, store.TaskToken{ModelID: e.ModelID, Step: e.Step, Token: e.TaskToken, Since: testNow}, tokens.put[0])
			}
		})
	}
}

func TestSample(t *testing.T) {
	e := loadEvent(t, "prototype-evidence.json")
	assert.Equal(t, Event{Step: "prototype_evidence", ModelID: "mdl_0123456789abcdef", VendorOrg: "demo-vendor",
		TaskToken: "AQCEAAAAKgAAAAMAAAAAAAAAA..."}, e)
}

// InvalidEvent's type name is what an ASL Catch matches, so it is returned unwrapped.
func TestInvalidEventIsReturnedUnwrapped(t *testing.T) {
	h := &handler{tokens: &fakeTokens{}, now: func() time.Time { return testNow }}
	_, err := h.handle(context.Background(), Event{})
	_, ok := err.(*InvalidEvent)
	assert.True(t, ok, "%T", err)
	assert.Contains(t, err.Error(), "invalid pipeline task event")
}
