// Package handler is the reconciliation sweep (ReconcileFunction): daily, and on demand for
// operators (`go run ./infra/ops reconcile`), it finds the work an event should have done and
// did not, and has it done by the same code path as the original event:
//
//   - Uploads whose object arrived but whose record is still pending after an hour (the S3
//     notification was lost, or failed past Lambda's retries): every presigned upload leaves a
//     ticket (store.UploadTicket) until process-upload settles it. The sweep reads the tickets
//     whose URL was issued over an hour ago, asks S3 whether the object exists, and invokes
//     ProcessUploadFunction asynchronously with the S3 event S3 would have sent. A ticket whose
//     URL expired an hour ago with no object behind it is dropped: nothing can arrive through it.
//   - A release that was due and did not run: for every review queue (store.ReviewQueues), the
//     decisions made before the last due release of the queue's own calendar (an hour's grace
//     past it) and still held. For each calendar with such decisions it invokes
//     ReleaseDecisionsFunction with that calendar and that release's scheduledTime, so exactly
//     what that release would have published is (the weekly Monday release for onboarding,
//     models and Pay Score applications; the Tuesday/Thursday one for Pay Score acceptance).
//
// It reports what it did: the result (JSON), a Reconciled metric per kind (EMF) and a log line.
// Redelivery and re-runs are harmless: process-upload settles an upload once (a second event
// finds it settled, or loses the save to the first and then finds it settled), the release
// publishes a decision once, and what a run fixed is no longer found by the next.
//
// It acts as of now, not as of a scheduled time: it reconciles the state it finds, so a
// replayed or late run does what a timely one would.
package handler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/invoke"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/metrics"
	"github.com/facepay/platform/shared/store"
)

const (
	// settleAfter is how long an upload may stay pending before the sweep re-drives it (its
	// notification normally settles it within seconds; Lambda's retries take three minutes).
	settleAfter = time.Hour
	// releaseGrace is how long after its due time a release is given to run before the sweep
	// takes a still-held decision for a missed release.
	releaseGrace = time.Hour
)

// Event is the schedule's input; an operator's run sends {}. ScheduledTime is only logged:
// the sweep acts as of now.
type Event struct {
	ScheduledTime string `json:"scheduledTime,omitempty"`
}

// Result is what a run found and fixed.
type Result struct {
	At       time.Time       `json:"at"`
	Uploads  UploadsResult   `json:"uploads"`
	Releases []ReleaseResult `json:"releases,omitempty"` // the missed releases it ran, one per calendar
	Requests Requests        `json:"requests"`
}

// UploadsResult is the upload part of a run.
type UploadsResult struct {
	Checked   int      `json:"checked"`   // tickets older than an hour, each looked up in S3
	Redriven  []string `json:"redriven"`  // object keys handed to process-upload again
	Abandoned int      `json:"abandoned"` // tickets dropped: URL expired, no object
}

// ReleaseResult is a missed release a run ran.
type ReleaseResult struct {
	Calendar string         `json:"calendar"` // domain.ReleaseCalendars
	DueAt    time.Time      `json:"dueAt"`    // the release's scheduled time
	Overdue  int            `json:"overdue"`  // held decisions it should have published
	Released map[string]int `json:"released"` // ReleaseDecisionsFunction's own result
}

// Requests counts the AWS requests a run made: what the sweep costs.
type Requests struct {
	Query      int `json:"dynamodbQuery"`      // ticket partitions and decided-queue pages
	BatchGet   int `json:"dynamodbBatchGet"`   // held decisions of the decided queues' pages
	DeleteItem int `json:"dynamodbDeleteItem"` // abandoned tickets
	HeadObject int `json:"s3HeadObject"`
	Invoke     int `json:"lambdaInvoke"`
}

type tickets interface {
	UploadTicketsIssuedBefore(ctx context.Context, now, cutoff time.Time, f func(store.UploadTicket) error) (store.UploadTicketScan, error)
	DeleteUploadTicket(ctx context.Context, key string, requestedAt time.Time) error
}

type queues interface {
	QueuedIn(ctx context.Context, q store.ReviewQueue, f store.QueueFilter) (store.Page[store.Queued], error)
}

type objects interface {
	Head(ctx context.Context, key string) (versionID string, size int64, ok bool, err error)
}

type functions interface {
	Call(ctx context.Context, function string, event, out any) error
	Event(ctx context.Context, function string, event any) error
}

type handler struct {
	tickets       tickets
	queues        queues
	objects       objects
	functions     functions
	bucket        string
	region        string
	processUpload string // function name or ARN
	release       string
	now           func() time.Time
	metrics       io.Writer // EMF lines go to stdout, which Lambda ships to CloudWatch Logs
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, Event) (Result, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME", "PROCESS_UPLOAD_FUNCTION", "RELEASE_DECISIONS_FUNCTION")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	db := store.New(store.NewClient(c), env["TABLE_NAME"])
	h := &handler{tickets: db, queues: db, objects: blob.New(blob.NewClient(c), env["BUCKET_NAME"]), functions: invoke.NewClient(c),
		bucket: env["BUCKET_NAME"], region: c.Region, processUpload: env["PROCESS_UPLOAD_FUNCTION"], release: env["RELEASE_DECISIONS_FUNCTION"],
		now: d.Now, metrics: os.Stdout}
	return h.handle, nil
}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	res := Result{At: h.now().UTC(), Uploads: UploadsResult{Redriven: []string{}}}
	// Releases first: a release's own failure must not wait for the uploads.
	if err := h.missedRelease(ctx, &res); err != nil {
		return res, err
	}
	if err := h.uploads(ctx, &res); err != nil {
		return res, err
	}
	h.count(ctx, res)
	slog.InfoContext(ctx, "reconciliation", "scheduledTime", e.ScheduledTime, "at", res.At,
		"uploadsChecked", res.Uploads.Checked, "uploadsRedriven", len(res.Uploads.Redriven), "ticketsAbandoned", res.Uploads.Abandoned,
		"releasesRun", len(res.Releases), "decisionsReleased", res.released(), "requests", res.Requests)
	return res, nil
}

// uploads re-drives every upload whose ticket is over an hour old and whose object exists.
func (h *handler) uploads(ctx context.Context, res *Result) error {
	now := res.At
	scan, err := h.tickets.UploadTicketsIssuedBefore(ctx, now, now.Add(-settleAfter), func(t store.UploadTicket) error {
		res.Uploads.Checked++
		res.Requests.HeadObject++
		versionID, size, ok, err := h.objects.Head(ctx, t.Key)
		if err != nil {
			return err
		}
		if !ok {
			if t.IssuedAt.Add(blob.UploadTTL).After(now.Add(-settleAfter)) {
				return nil // its URL expired less than an hour ago: an upload may still be finishing
			}
			res.Requests.DeleteItem++
			res.Uploads.Abandoned++
			return h.tickets.DeleteUploadTicket(ctx, t.Key, t.RequestedAt)
		}
		res.Requests.Invoke++
		if err := h.functions.Event(ctx, h.processUpload, h.objectCreated(t.Key, versionID, size, now)); err != nil {
			return fmt.Errorf("re-drive %s: %w", t.Key, err)
		}
		slog.InfoContext(ctx, "upload re-driven", "key", t.Key, "requestedAt", t.RequestedAt, "versionId", versionID)
		res.Uploads.Redriven = append(res.Uploads.Redriven, t.Key)
		return nil
	})
	res.Requests.Query += scan.Queries
	return err
}

// objectCreated is the notification S3 sends for key: the key form-encoded segment by segment
// (process-upload decodes it as S3's), the version that exists now.
func (h *handler) objectCreated(key, versionID string, size int64, now time.Time) events.S3Event {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.QueryEscape(s)
	}
	return events.S3Event{Records: []events.S3EventRecord{{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: h.region, EventTime: now, EventName: "ObjectCreated:Put",
		PrincipalID: events.S3UserIdentity{PrincipalID: "reconciliation"},
		S3: events.S3Entity{SchemaVersion: "1.0", ConfigurationID: "reconciliation",
			Bucket: events.S3Bucket{Name: h.bucket, Arn: "arn:aws:s3:::" + h.bucket},
			Object: events.S3Object{Key: strings.Join(segs, "/"), Size: size, VersionID: versionID}},
	}}}
}

// missedRelease runs, per release calendar, its last due release if a decision it should have
// published is still held in one of the calendar's review queues.
func (h *handler) missedRelease(ctx context.Context, res *Result) error {
	missed := map[string]*ReleaseResult{}
	var calendars []string // in the order of store.ReviewQueues: the weekly release first
	for _, q := range store.ReviewQueues() {
		cal, err := domain.ReleaseCalendarOf(q.Calendar)
		if err != nil {
			return fmt.Errorf("queue %s: %w", q.Key, err)
		}
		rel := missed[q.Calendar]
		if rel == nil {
			rel = &ReleaseResult{Calendar: q.Calendar, DueAt: cal.LastDue(res.At.Add(-releaseGrace)), Released: map[string]int{}}
			missed[q.Calendar] = rel
			calendars = append(calendars, q.Calendar)
		}
		due := rel.DueAt
		if err := eachPage(res, func(cursor string) (store.Page[store.Queued], error) {
			return h.queues.QueuedIn(ctx, q, store.QueueFilter{State: store.QueueDecided, Cursor: cursor, Limit: 100})
		}, func(it store.Queued) bool {
			// As the release reads its cutoff: scheduled times have whole seconds.
			return it.Decision != nil && !it.Decision.DecidedAt.Truncate(time.Second).After(due)
		}, &rel.Overdue); err != nil {
			return err
		}
	}
	var errs []error
	for _, name := range calendars {
		rel := missed[name]
		if rel.Overdue == 0 {
			continue
		}
		slog.WarnContext(ctx, "a due release did not publish every decision; running it", "calendar", name, "dueAt", rel.DueAt, "overdue", rel.Overdue)
		res.Requests.Invoke++
		// Synchronously: the run reports what the release published, and a release that fails
		// fails this run (after the other calendars' releases ran), which Lambda retries and
		// finally sends to the failure queue.
		event := map[string]string{"calendar": name, "scheduledTime": rel.DueAt.Format(time.RFC3339)}
		if err := h.functions.Call(ctx, h.release, event, &rel.Released); err != nil {
			errs = append(errs, fmt.Errorf("run the %s release due at %s: %w", name, rel.DueAt.Format(time.RFC3339), err))
			continue
		}
		res.Releases = append(res.Releases, *rel)
	}
	return errors.Join(errs...)
}

// released is how many decisions the missed releases published (pipelines started not counted).
func (r Result) released() int {
	n := 0
	for _, rel := range r.Releases {
		for what, c := range rel.Released {
			if what != "pipelinesStarted" {
				n += c
			}
		}
	}
	return n
}

// eachPage counts the items of every page that match.
func eachPage[T any](res *Result, page func(cursor string) (store.Page[T], error), match func(T) bool, n *int) error {
	cursor := ""
	for {
		p, err := page(cursor)
		res.Requests.Query++
		if err != nil {
			return err
		}
		if len(p.Items) > 0 {
			res.Requests.BatchGet++ // the page's held decisions
		}
		for _, it := range p.Items {
			if match(it) {
				*n++
			}
		}
		if p.Next == "" {
			return nil
		}
		cursor = p.Next
	}
}

// count publishes what a run fixed: Reconciled with dimension What ("upload": uploads
// re-driven; "release": decisions a missed release published). A failed write is logged, not
// returned: the work is done.
func (h *handler) count(ctx context.Context, res Result) {
	for what, n := range map[string]int{"upload": len(res.Uploads.Redriven), "release": res.released()} {
		if err := metrics.Count(h.metrics, res.At, "Reconciled", n, map[string]string{"What": what}); err != nil {
			slog.WarnContext(ctx, "reconciliation metric not written", "err", err)
		}
	}
}
