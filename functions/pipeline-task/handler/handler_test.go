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
	put      []store.TaskToken
	err      error
	pipeline *domain.Pipeline
	saved    [][]domain.Change
	conflict int // SavePipeline answers Conflict this many times first
	sub      *domain.Submission
	pvtPass  bool
}

func (f *fakeTokens) HasPVTPass(context.Context, string) (bool, error) { return f.pvtPass, nil }

func (f *fakeTokens) Pipeline(_ context.Context, id string) (*domain.Pipeline, error) {
	if f.pipeline == nil {
		return nil, domain.Errorf(domain.NotFound, "pipeline_not_started", "no pipeline")
	}
	p := *f.pipeline
	return &p, nil
}

func (f *fakeTokens) SavePipeline(_ context.Context, p *domain.Pipeline, changes ...domain.Change) error {
	if f.conflict > 0 {
		f.conflict--
		return domain.Errorf(domain.Conflict, "conflict", "changed")
	}
	cp := *p
	f.pipeline, f.saved = &cp, append(f.saved, changes)
	return nil
}

func (f *fakeTokens) Submission(_ context.Context, modelID, org string, kind domain.SubmissionKind) (*domain.Submission, error) {
	if f.sub == nil {
		return &domain.Submission{ModelID: modelID, VendorOrg: org, Kind: kind}, nil
	}
	return f.sub, nil
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
			h := &handler{db: tokens, now: func() time.Time { return testNow }}
			var mutators []func(*Event)
			if tt.mutate != nil {
				mutators = append(mutators, tt.mutate)
			}
			e := loadEvent(t, "software-precheck.json", mutators...)
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
				assert.Equal(t, store.TaskToken{ModelID: e.ModelID, Step: e.Step, Token: e.TaskToken, Since: testNow, Run: 1}, tokens.put[0])
			}
		})
	}
}

func TestSample(t *testing.T) {
	e := loadEvent(t, "software-precheck.json")
	assert.Equal(t, Event{Step: "software_precheck", ModelID: "mdl_0123456789abcdef", VendorOrg: "demo-vendor", Run: 1,
		TaskToken: "AQCEAAAAKgAAAAMAAAAAAAAAA..."}, e)
}

// InvalidEvent's type name is what an ASL Catch matches, so it is returned unwrapped.
func TestInvalidEventIsReturnedUnwrapped(t *testing.T) {
	h := &handler{db: &fakeTokens{}, now: func() time.Time { return testNow }}
	_, err := h.handle(context.Background(), Event{})
	_, ok := err.(*InvalidEvent)
	assert.True(t, ok, "%T", err)
	assert.Contains(t, err.Error(), "invalid pipeline task event")
}

// A record step writes the stage with its history; a retried step (or one that lost a race
// with a parallel branch and is reapplied) records nothing twice.
func TestRecord(t *testing.T) {
	f := &fakeTokens{conflict: 1}
	h := &handler{db: f, now: func() time.Time { return testNow }}
	e := loadEvent(t, "record-stage.json")
	res, err := h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, Result{Approved: map[domain.Track]bool{domain.TrackSoftware: false, domain.TrackHardware: false, domain.TrackCertification: false}}, res,
		"entering DVT answers which tracks are approved already")
	require.NotNil(t, f.pipeline)
	assert.Equal(t, domain.StageDVT, f.pipeline.Stage)
	assert.Equal(t, []domain.Certificate{"3c", "srrc", "cta"}, f.pipeline.Certificates)
	for _, tr := range []domain.Track{domain.TrackSoftware, domain.TrackHardware, domain.TrackCertification} {
		assert.Equal(t, domain.TrackWaiting, f.pipeline.Tracks[tr].Status, tr)
	}
	require.Len(t, f.saved, 1)
	assert.Contains(t, f.saved[0], domain.Change{At: testNow, By: "certification-pipeline", Action: "stage_changed", From: "registered", To: "dvt"})

	_, err = h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Len(t, f.saved, 1, "a retried record step changes nothing")

	// An expiring track says why: never submitted, or submitted but not approved.
	expire := loadEvent(t, "record-stage.json", func(e *Event) {
		e.Stage, e.Track, e.Status, e.Certificates = "", domain.TrackHardware, domain.TrackExpired, nil
	})
	_, err = h.handle(context.Background(), expire)
	require.NoError(t, err)
	assert.Equal(t, domain.StageExpired, f.pipeline.Stage)
	assert.Equal(t, "no hardware pre-check submitted within 180 days", f.pipeline.Reason)

	sub := time.Now()
	f.sub = &domain.Submission{Versions: []*domain.SubmissionVersion{{Number: 1, SubmittedAt: &sub}}}
	f.pipeline.Stage = domain.StageDVT
	f.pipeline.Tracks[domain.TrackSoftware].Status = domain.TrackWaiting
	_, err = h.handle(context.Background(), loadEvent(t, "record-stage.json", func(e *Event) {
		e.Stage, e.Track, e.Status = "", domain.TrackSoftware, domain.TrackExpired
	}))
	require.NoError(t, err)
	assert.Equal(t, "software pre-check not approved within 180 days", f.pipeline.Reason)

	// A record of an earlier run (a stale retry after a restart) is ignored.
	f.pipeline.Run = 2
	n := len(f.saved)
	_, err = h.handle(context.Background(), e)
	require.NoError(t, err)
	assert.Len(t, f.saved, n)
}
