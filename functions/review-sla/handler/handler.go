// Package handler is the daily review-SLA sweep. Reviews are promised within one week
// (DOMAIN.md section 3); each day it counts, per review queue (applications by partner type,
// models, evidence submissions), the items still waiting for a decision after that week and writes them as CloudWatch metrics (Embedded Metric Format),
// so an alarm can page the review team. It only reads, so redelivery is harmless.
package handler

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/metrics"
	"github.com/facepay/platform/shared/store"
)

// ReviewSLA is how long a review may take.
const ReviewSLA = 7 * 24 * time.Hour

// Event is the schedule's input.
type Event struct {
	ScheduledTime string `json:"scheduledTime"`
}

// Result is the count of overdue reviews per queue.
type Result struct {
	Overdue map[string]int `json:"overdue"`
}

type queues interface {
	ApplicationQueue(ctx context.Context, t domain.PartnerType, f store.QueueFilter) (store.Page[domain.Application], error)
	ModelQueue(ctx context.Context, f store.QueueFilter) (store.Page[domain.Model], error)
	SubmissionQueue(ctx context.Context, f store.QueueFilter) (store.Page[domain.SubmissionVersion], error)
}

type handler struct {
	db  queues
	now func() time.Time
	out io.Writer // EMF lines go to stdout, which Lambda ships to CloudWatch Logs
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
	h := &handler{db: store.New(store.NewClient(c), table), now: d.Now, out: os.Stdout}
	return h.handle, nil
}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	at, err := lambdafn.ScheduledTime(e.ScheduledTime, h.now())
	if err != nil {
		return Result{}, err
	}
	f := store.QueueFilter{State: store.QueuePending, SubmittedUntil: at.Add(-ReviewSLA), Limit: 100}
	res := Result{Overdue: map[string]int{}}
	for _, t := range domain.PartnerTypes {
		n, err := count(func(cursor string) (int, string, error) {
			f.Cursor = cursor
			p, err := h.db.ApplicationQueue(ctx, t, f)
			return len(p.Items), p.Next, err
		})
		if err != nil {
			return res, err
		}
		res.Overdue["applications/"+string(t)] = n
	}
	n, err := count(func(cursor string) (int, string, error) {
		f.Cursor = cursor
		p, err := h.db.ModelQueue(ctx, f)
		return len(p.Items), p.Next, err
	})
	if err != nil {
		return res, err
	}
	res.Overdue["models"] = n
	n, err = count(func(cursor string) (int, string, error) {
		f.Cursor = cursor
		p, err := h.db.SubmissionQueue(ctx, f)
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
	return res, nil
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
