// Package handler is the daily sweep: everything the platform raises on a date.
//
// Each review queue has its SLA (store.ReviewQueue.SLA): one week for partner applications,
// models and Pay Score applications (DOMAIN.md section 3's promise; Pay Score applications
// are processed weekly), three working days for Pay Score go-live acceptance ("1–3 working
// days"), one week for evidence submissions. Each day it walks every held-decision queue
// (store.ReviewQueues) and the evidence queue, counts the items still waiting for a decision
// past their SLA, writes the counts as CloudWatch metrics (Embedded Metric Format, Queue =
// the queue's name) so an alarm can page the review team, and raises each overdue review once
// to the reviewers (GET /admin/alerts; a raise-once claim per review round).
//
// Then it does what is due on each model's pipeline record (domain.Pipeline.Sweep): warns the
// vendor 90, 30 and 7 days before a certificate expires, restricts the model on the day a
// mandatory certificate expires, reminds the vendor 14 days before a DVT track expires, and
// restricts the model when a spot check's rectification order passes its deadline, raising it
// to the reviewers. Vendors read the notices in their outbox (GET /messages).
//
// Redelivery and re-runs are harmless: what was raised is recorded (the claim, the pipeline
// record) in the same transaction as the notice.
package handler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/metrics"
	"github.com/facepay/platform/shared/store"
)

// Event is the schedule's input.
type Event struct {
	ScheduledTime string `json:"scheduledTime"`
}

// Result is the count of overdue reviews per queue, how many were raised to the reviewers
// for the first time, and the models whose pipeline records the sweep changed.
type Result struct {
	Overdue map[string]int `json:"overdue"`
	Raised  int            `json:"raised"`
	Swept   []string       `json:"swept"`
}

type queues interface {
	QueuedIn(ctx context.Context, q store.ReviewQueue, f store.QueueFilter) (store.Page[store.Queued], error)
	SubmissionQueue(ctx context.Context, f store.QueueFilter) (store.Page[domain.SubmissionVersion], error)
	RaiseOnce(ctx context.Context, key string, alert domain.Message) error
	PipelinesDue(ctx context.Context, until time.Time) ([]string, error)
	Pipeline(ctx context.Context, id string) (*domain.Pipeline, error)
	SaveSwept(ctx context.Context, p *domain.Pipeline, changes []domain.Change, messages, alerts []domain.Message) error
}

type handler struct {
	db    queues
	now   func() time.Time
	out   io.Writer // EMF lines go to stdout, which Lambda ships to CloudWatch Logs
	newID func(prefix string) string
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, Event) (Result, error), error) {
	env, err := d.Require("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	table := env["TABLE_NAME"]
	h := &handler{db: store.New(store.NewClient(c), table), now: d.Now, out: os.Stdout, newID: ids.New}
	return h.handle, nil
}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	at, err := lambdafn.ScheduledTime(e.ScheduledTime, h.now())
	if err != nil {
		return Result{}, err
	}
	res := Result{Overdue: map[string]int{}, Swept: []string{}}
	// raise tells the reviewers about one overdue review, once per review round.
	raise := func(key, entity, entityID, what string, submitted, due time.Time, sla domain.ReviewSLA) error {
		err := h.db.RaiseOnce(ctx, key, domain.Message{ID: h.newID("alr"), Org: "reviewers", At: at, Entity: entity, EntityID: entityID,
			Subject: "Review overdue: " + what,
			Body:    fmt.Sprintf("Submitted %s, due %s (%s); still waiting for a decision.", submitted.UTC().Format(time.RFC3339), due.UTC().Format(time.RFC3339), sla)})
		switch {
		case errors.Is(err, domain.ErrAlreadyRaised):
			return nil
		case err != nil:
			return err
		}
		res.Raised++
		return nil
	}
	// Every held-decision queue, each against its own SLA. The raise-once key is the queue,
	// the entity and when it entered the queue: a resubmission (a new round) is a new review.
	for _, q := range store.ReviewQueues() {
		f := store.QueueFilter{State: store.QueuePending, SubmittedUntil: q.SLA.QueuedBefore(at), Limit: 100}
		n, err := count(func(cursor string) (int, string, error) {
			f.Cursor = cursor
			p, err := h.db.QueuedIn(ctx, q, f)
			overdue := 0
			for _, it := range p.Items {
				if err != nil {
					break
				}
				due, derr := q.SLA.Due(it.Since)
				if derr != nil {
					// No working-day data for the year: said loudly, the other reviews still swept.
					slog.ErrorContext(ctx, "review due date unknown", "queue", q.Name, "id", it.ID, "err", derr)
					continue
				}
				if due.After(at) {
					continue
				}
				overdue++
				err = raise(fmt.Sprintf("review#%s#%s#%s", q.Key, it.ID, it.Since.UTC().Format(time.RFC3339Nano)), q.Kind, it.ID,
					q.Title+" "+it.ID, it.Since, due, q.SLA)
			}
			return overdue, p.Next, err
		})
		if err != nil {
			return res, err
		}
		res.Overdue[q.Name] = n
	}
	// Evidence submissions are reviewed without a held decision (released at once), within a week.
	f := store.QueueFilter{State: store.QueuePending, SubmittedUntil: domain.Week.QueuedBefore(at), Limit: 100}
	n, err := count(func(cursor string) (int, string, error) {
		f.Cursor = cursor
		p, err := h.db.SubmissionQueue(ctx, f)
		for _, v := range p.Items {
			if err == nil && v.SubmittedAt != nil {
				due, _ := domain.Week.Due(*v.SubmittedAt)
				err = raise(fmt.Sprintf("review#SUB#%s#%s#v%d", v.ModelID, v.Kind, v.Number), "model", v.ModelID,
					fmt.Sprintf("%s submission of model %s, version %d", v.Kind, v.ModelID, v.Number), *v.SubmittedAt, due, domain.Week)
			}
		}
		return len(p.Items), p.Next, err
	})
	if err != nil {
		return res, err
	}
	res.Overdue["evidence"] = n
	for q, n := range res.Overdue {
		if err := metrics.Count(h.out, at, "OverdueReviews", n, map[string]string{"Queue": q}); err != nil {
			return res, err
		}
		if n > 0 {
			slog.WarnContext(ctx, "reviews overdue", "queue", q, "count", n)
		}
	}
	if err := h.sweepPipelines(ctx, at, &res); err != nil {
		return res, err
	}
	return res, nil
}

// sweepPipelines does what is due on every pipeline record the index lists as due by at.
func (h *handler) sweepPipelines(ctx context.Context, at time.Time, res *Result) error {
	due, err := h.db.PipelinesDue(ctx, at)
	if err != nil {
		return err
	}
	for _, id := range due {
		// A record step of the workflow may write the record meanwhile: reload and redo.
		err := store.Retry(ctx, store.RetryAttempts, func() error {
			p, err := h.db.Pipeline(ctx, id)
			if err != nil {
				return err
			}
			changes, notices := p.Sweep(at)
			if len(changes) == 0 && len(notices) == 0 {
				return nil
			}
			var messages, alerts []domain.Message
			for _, n := range notices {
				m := domain.Message{ID: h.newID("msg"), Org: p.VendorOrg, At: at, Subject: n.Subject, Body: n.Body, Entity: "model", EntityID: p.ModelID}
				if n.To == domain.PartyReviewer {
					m.ID, m.Org = h.newID("alr"), "reviewers"
					alerts = append(alerts, m)
					continue
				}
				messages = append(messages, m)
			}
			if err := h.db.SaveSwept(ctx, p, changes, messages, alerts); err != nil {
				return err
			}
			res.Swept = append(res.Swept, id)
			return nil
		})
		if err != nil {
			return fmt.Errorf("sweep the pipeline of model %s: %w", id, err)
		}
	}
	return nil
}

func count(page func(cursor string) (int, string, error)) (int, error) {
	total, cursor := 0, ""
	for {
		n, next, err := page(cursor)
		if err != nil {
			return 0, err
		}
		total += n
		if next == "" {
			return total, nil
		}
		cursor = next
	}
}
