package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

// Tuesday 1 December 2026, 10:30 in Shanghai: the last release was due Monday 30 November 09:00.
var (
	testNow    = time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC)
	lastMonday = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
)

type fakeTickets struct {
	tickets []store.UploadTicket
	deleted []string
}

func (f *fakeTickets) UploadTicketsIssuedBefore(_ context.Context, now, cutoff time.Time, fn func(store.UploadTicket) error) (store.UploadTicketScan, error) {
	for _, t := range f.tickets {
		if !t.IssuedAt.After(cutoff) {
			if err := fn(t); err != nil {
				return store.UploadTicketScan{Partitions: 4, Queries: 4}, err
			}
		}
	}
	return store.UploadTicketScan{Partitions: 4, Queries: 4}, nil
}

func (f *fakeTickets) DeleteUploadTicket(_ context.Context, key string, _ time.Time) error {
	f.deleted = append(f.deleted, key)
	return nil
}

// fakeQueues holds the decided part of each review queue, by queue key.
type fakeQueues map[string][]store.Queued

func (f *fakeQueues) QueuedIn(_ context.Context, q store.ReviewQueue, qf store.QueueFilter) (store.Page[store.Queued], error) {
	if qf.State != store.QueueDecided {
		return store.Page[store.Queued]{}, nil
	}
	return store.Page[store.Queued]{Items: (*f)[q.Key]}, nil
}

type fakeObjects map[string]string // key → version id

func (f fakeObjects) Head(_ context.Context, key string) (string, int64, bool, error) {
	v, ok := f[key]
	return v, 42, ok, nil
}

type call struct {
	function string
	event    string
}

type fakeFunctions struct {
	events, calls []call
	eventErr      error
	released      map[string]int
}

func (f *fakeFunctions) Event(_ context.Context, function string, event any) error {
	if f.eventErr != nil {
		return f.eventErr
	}
	b, _ := json.Marshal(event)
	f.events = append(f.events, call{function, string(b)})
	return nil
}

func (f *fakeFunctions) Call(_ context.Context, function string, event, out any) error {
	b, _ := json.Marshal(event)
	f.calls = append(f.calls, call{function, string(b)})
	r, _ := json.Marshal(f.released)
	return json.Unmarshal(r, out)
}

func newTestHandler(tk *fakeTickets, q *fakeQueues, objs fakeObjects, fns *fakeFunctions) (*handler, *bytes.Buffer) {
	var out bytes.Buffer
	return &handler{tickets: tk, queues: q, objects: objs, functions: fns, bucket: "facepay-artifacts", region: "ap-east-1",
		processUpload: "ProcessUploadFunction", release: "ReleaseDecisionsFunction", now: func() time.Time { return testNow }, metrics: &out}, &out
}

func TestUploads(t *testing.T) {
	key := "evidence/org_1/mdl_1/certificates/v1/certificate.3c/up_1"
	spaced := "applications/org 1/app_1/deck/up_2" // keys reach process-upload form-encoded
	tk := &fakeTickets{tickets: []store.UploadTicket{
		{Key: key, RequestedAt: testNow.Add(-3 * time.Hour), IssuedAt: testNow.Add(-3 * time.Hour)},
		{Key: spaced, RequestedAt: testNow.Add(-26 * time.Hour), IssuedAt: testNow.Add(-2 * time.Hour)},
		{Key: "applications/o/app_2/deck/never-uploaded", RequestedAt: testNow.Add(-2 * time.Hour), IssuedAt: testNow.Add(-2 * time.Hour)},
		{Key: "applications/o/app_3/deck/url-just-expired", RequestedAt: testNow.Add(-70 * time.Minute), IssuedAt: testNow.Add(-70 * time.Minute)},
		{Key: "applications/o/app_4/deck/too-recent", RequestedAt: testNow.Add(-10 * time.Minute), IssuedAt: testNow.Add(-10 * time.Minute)},
	}}
	objs := fakeObjects{key: "v7", spaced: "v1", "applications/o/app_4/deck/too-recent": "v1"}
	fns := &fakeFunctions{}
	h, metricsOut := newTestHandler(tk, &fakeQueues{}, objs, fns)

	res, err := h.handle(context.Background(), Event{})
	require.NoError(t, err)
	assert.Equal(t, 4, res.Uploads.Checked, "tickets issued over an hour ago")
	assert.Equal(t, []string{key, spaced}, res.Uploads.Redriven)
	assert.Equal(t, 1, res.Uploads.Abandoned)
	assert.Equal(t, []string{"applications/o/app_2/deck/never-uploaded"}, tk.deleted,
		"a URL that expired 45 minutes ago may still be finishing an upload: kept")
	assert.Empty(t, res.Releases)
	assert.Equal(t, Requests{Query: 4 + len(store.ReviewQueues()), HeadObject: 4, DeleteItem: 1, Invoke: 2}, res.Requests)

	require.Len(t, fns.events, 2)
	assert.Equal(t, "ProcessUploadFunction", fns.events[0].function)
	var e events.S3Event
	require.NoError(t, json.Unmarshal([]byte(fns.events[1].event), &e))
	require.Len(t, e.Records, 1)
	r := e.Records[0]
	assert.Equal(t, "ObjectCreated:Put", r.EventName, "what S3 sends (no s3: prefix)")
	assert.Equal(t, "aws:s3", r.EventSource)
	assert.Equal(t, "facepay-artifacts", r.S3.Bucket.Name)
	assert.Equal(t, "v1", r.S3.Object.VersionID)
	assert.Equal(t, "applications/org+1/app_1/deck/up_2", r.S3.Object.Key)
	decoded, err := url.QueryUnescape(r.S3.Object.Key)
	require.NoError(t, err)
	assert.Equal(t, spaced, decoded)

	assert.Contains(t, metricsOut.String(), `"Reconciled":2`)
	assert.Contains(t, metricsOut.String(), `"What":"upload"`)
}

func TestUploads_AFailedInvokeFailsTheRun(t *testing.T) {
	tk := &fakeTickets{tickets: []store.UploadTicket{{Key: "k", RequestedAt: testNow.Add(-3 * time.Hour), IssuedAt: testNow.Add(-3 * time.Hour)}}}
	h, _ := newTestHandler(tk, &fakeQueues{}, fakeObjects{"k": "v1"}, &fakeFunctions{eventErr: errors.New("throttled")})
	_, err := h.handle(context.Background(), Event{})
	require.Error(t, err, "Lambda retries the run; the ticket is still there for it")
	assert.Empty(t, tk.deleted)
}

func TestMissedRelease(t *testing.T) {
	decided := func(id string, at time.Time) store.Queued {
		return store.Queued{ID: id, Decision: &domain.Decision{Approve: true, DecidedAt: at}}
	}
	dv := store.ApplicationReviewQueue(domain.PartnerDeviceVendor).Key
	merchant := store.ApplicationReviewQueue(domain.PartnerMerchant).Key
	deployer := store.ApplicationReviewQueue(domain.PartnerDeployer).Key
	models, payScore, acceptance := store.ModelReviewQueue.Key, store.PayScoreReviewQueue.Key, store.PayScoreAcceptanceQueue.Key
	tuesdayRelease := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // Tuesday 1 December 09:00 Shanghai
	type run struct {
		calendar string
		due      time.Time
		overdue  int
	}
	tests := []struct {
		name string
		now  time.Time
		q    fakeQueues
		want []run // none: no release run
	}{
		{"a decision made before the last release, still held", testNow, fakeQueues{
			dv:       {decided("app_1", lastMonday.Add(-24*time.Hour))},
			merchant: {decided("app_2", lastMonday.Add(time.Hour))},
			models:   {decided("mdl_1", lastMonday.Add(-time.Minute))}},
			[]run{{domain.CalendarWeekly, lastMonday, 2}}},
		{"decided within the release's second", testNow, fakeQueues{deployer: {decided("app_1", lastMonday.Add(500*time.Millisecond))}},
			[]run{{domain.CalendarWeekly, lastMonday, 1}}},
		{"only decisions for the next release", testNow, fakeQueues{dv: {decided("app_1", lastMonday.Add(time.Hour))}}, nil},
		{"within the release's grace hour: not yet missed", lastMonday.Add(30 * time.Minute), fakeQueues{models: {decided("mdl_1", lastMonday.Add(-time.Hour))}}, nil},
		{"nothing held", testNow, fakeQueues{}, nil},
		// Pay Score: the application review is on the weekly calendar; the acceptance on its own.
		{"a Pay Score application review held past Monday", testNow, fakeQueues{payScore: {decided("psa_1", lastMonday.Add(-time.Hour))}},
			[]run{{domain.CalendarWeekly, lastMonday, 1}}},
		{"an acceptance held past Tuesday's release", testNow, fakeQueues{acceptance: {decided("psa_1", lastMonday.Add(6*time.Hour))}},
			[]run{{domain.CalendarPayScoreAcceptance, tuesdayRelease, 1}}},
		{"an acceptance decided after Tuesday's release waits for Thursday", testNow, fakeQueues{acceptance: {decided("psa_1", tuesdayRelease.Add(time.Minute))}}, nil},
		{"both calendars missed", testNow, fakeQueues{
			models:     {decided("mdl_1", lastMonday.Add(-time.Hour))},
			acceptance: {decided("psa_1", lastMonday.Add(-time.Hour)), decided("psa_2", lastMonday.Add(2*time.Hour))}},
			[]run{{domain.CalendarWeekly, lastMonday, 1}, {domain.CalendarPayScoreAcceptance, tuesdayRelease, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fns := &fakeFunctions{released: map[string]int{"applications": 1, "models": 1, "pipelinesStarted": 1}}
			h, metricsOut := newTestHandler(&fakeTickets{}, &tt.q, fakeObjects{}, fns)
			h.now = func() time.Time { return tt.now }
			res, err := h.handle(context.Background(), Event{})
			require.NoError(t, err)
			if len(tt.want) == 0 {
				assert.Empty(t, res.Releases)
				assert.Empty(t, fns.calls)
				return
			}
			require.Len(t, fns.calls, len(tt.want))
			require.Len(t, res.Releases, len(tt.want))
			for i, w := range tt.want {
				assert.Equal(t, "ReleaseDecisionsFunction", fns.calls[i].function)
				assert.JSONEq(t, `{"calendar":"`+w.calendar+`","scheduledTime":"`+w.due.Format(time.RFC3339)+`"}`, fns.calls[i].event,
					"the missed release's calendar and own time")
				assert.Equal(t, w.calendar, res.Releases[i].Calendar)
				assert.Equal(t, w.due, res.Releases[i].DueAt)
				assert.Equal(t, w.overdue, res.Releases[i].Overdue)
				assert.Equal(t, 1, res.Releases[i].Released["pipelinesStarted"])
			}
			assert.Contains(t, metricsOut.String(), fmt.Sprintf(`"Reconciled":%d`, 2*len(tt.want)), "decisions released")
			assert.Contains(t, metricsOut.String(), `"What":"release"`)
		})
	}
}

// A release that fails fails the run, after the other calendar's release ran.
func TestMissedRelease_AFailedReleaseFailsTheRunAfterTheOthers(t *testing.T) {
	q := fakeQueues{
		store.ModelReviewQueue.Key:        {{ID: "mdl_1", Decision: &domain.Decision{DecidedAt: lastMonday.Add(-time.Hour)}}},
		store.PayScoreAcceptanceQueue.Key: {{ID: "psa_1", Decision: &domain.Decision{DecidedAt: lastMonday.Add(-time.Hour)}}},
	}
	fns := &failingFunctions{fakeFunctions: fakeFunctions{released: map[string]int{"models": 1}}, fail: domain.CalendarWeekly}
	h, _ := newTestHandler(&fakeTickets{}, &q, fakeObjects{}, &fakeFunctions{})
	h.functions = fns
	res, err := h.handle(context.Background(), Event{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "run the weekly release")
	require.Len(t, fns.calls, 2, "the acceptance release still ran")
	require.Len(t, res.Releases, 1)
	assert.Equal(t, domain.CalendarPayScoreAcceptance, res.Releases[0].Calendar)
}

type failingFunctions struct {
	fakeFunctions
	fail string // the calendar whose release fails
}

func (f *failingFunctions) Call(ctx context.Context, function string, event, out any) error {
	err := f.fakeFunctions.Call(ctx, function, event, out)
	if event.(map[string]string)["calendar"] == f.fail {
		return errors.New("release failed")
	}
	return err
}

// The samples in events/reconcile decode into Event.
func TestSamples(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join("..", "..", "..", "events", "reconcile", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, s := range samples {
		raw, err := os.ReadFile(s)
		require.NoError(t, err)
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		var e Event
		require.NoError(t, dec.Decode(&e), s)
	}
}
