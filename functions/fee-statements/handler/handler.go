// Package handler is the monthly run of the technical service fee (DOMAIN.md "Technical
// service fee"): on the 1st of each month at 04:00 Asia/Shanghai — after the last day's T+1
// rollup, which starts at 02:00 and takes minutes — it computes one statement per provider
// for the months fee.MonthsDue names (last month, and the month before again so that late
// figures make a new version first), with fee.Runner over the bindings and the daily figures
// (store.FeeSource).
//
// Redelivery changes nothing: the months come from the schedule's time, not the clock, and a
// statement equal to the stored one is not written again. An operator re-runs months (after
// a day's figures were re-run) or some providers by naming them in the event.
//
// The rollup's state machine calls it after every day it rolls up (RolledUp): when that day's
// month already has statements (the day came late, or was rolled up again), the month and
// the stated months after it are recomputed at once, a new version where anything changed.
package handler

import (
	"context"
	"log/slog"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

// Event is the schedule's input; Months (YYYY-MM) and Providers (numbers) narrow an
// operator's run (none: the months due at the scheduled time, every provider). RolledUp is
// the rollup's: the day whose figures were just written.
type Event struct {
	ScheduledTime string      `json:"scheduledTime,omitempty"`
	Months        []fee.Month `json:"months,omitempty"`
	Providers     []string    `json:"providers,omitempty"`
	RolledUp      fee.Date    `json:"rolledUp,omitempty"`
}

// Result is what the run did, per provider and month.
type Result struct {
	Months   []fee.Month   `json:"months"`
	Outcomes []fee.Outcome `json:"outcomes"`
}

type runner interface {
	RunFor(ctx context.Context, now time.Time, providers []string, months ...fee.Month) ([]fee.Outcome, error)
	Restate(ctx context.Context, now time.Time, day fee.Date) ([]fee.Month, []fee.Outcome, error)
}

type handler struct {
	run runner
	now func() time.Time
}

// New builds the function from its environment (TABLE_NAME, FIGURES_TABLE, BUCKET_NAME).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, Event) (Result, error), error) {
	env, err := d.Require("TABLE_NAME", "FIGURES_TABLE", "BUCKET_NAME")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	client := store.NewClient(c)
	db := store.New(client, env["TABLE_NAME"])
	run := fee.Runner{Source: store.FeeSource{DB: db, Figures: store.NewFigures(client, env["FIGURES_TABLE"])},
		Store: db, Objects: blob.New(blob.NewClient(c), env["BUCKET_NAME"])}
	return (&handler{run: run, now: d.Now}).handle, nil
}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	if e.RolledUp != "" {
		return h.restate(ctx, e)
	}
	at, err := lambdafn.ScheduledTime(e.ScheduledTime, h.now())
	if err != nil {
		return Result{}, domain.Errorf(domain.Invalid, "invalid_scheduled_time", "%v", err)
	}
	months := e.Months
	if len(months) == 0 {
		months = fee.MonthsDue(at)
	}
	for _, m := range months {
		if err := m.Validate("months"); err != nil {
			return Result{}, err
		}
		if m >= fee.MonthOf(h.now()) {
			return Result{}, domain.Errorf(domain.Invalid, "month_not_over", "%s is not over: a statement is computed after its month", m)
		}
	}
	for _, p := range e.Providers {
		if err := domain.ValidateProviderNumber(p); err != nil {
			return Result{}, err
		}
	}
	var providers []string
	if len(e.Providers) > 0 {
		providers = e.Providers
	}
	out, err := h.run.RunFor(ctx, h.now(), providers, months...)
	if err != nil {
		return Result{}, err
	}
	if out == nil {
		out = []fee.Outcome{}
	}
	slog.InfoContext(ctx, "fee statements", "months", months, "statements", len(out), "newVersions", newVersions(out))
	return Result{Months: months, Outcomes: out}, nil
}

func (h *handler) restate(ctx context.Context, e Event) (Result, error) {
	if len(e.Months) > 0 || len(e.Providers) > 0 {
		return Result{}, domain.Errorf(domain.Invalid, "rolled_up_alone", "rolledUp restates every provider's stated months from that day's on; it takes no months or providers")
	}
	if err := e.RolledUp.Validate("rolledUp"); err != nil {
		return Result{}, err
	}
	months, out, err := h.run.Restate(ctx, h.now(), e.RolledUp)
	if err != nil {
		return Result{}, err
	}
	res := Result{Months: months, Outcomes: out}
	if res.Months == nil {
		res.Months = []fee.Month{}
	}
	if res.Outcomes == nil {
		res.Outcomes = []fee.Outcome{}
	}
	slog.InfoContext(ctx, "fee statements restated after a rollup", "day", e.RolledUp, "months", months, "newVersions", newVersions(out))
	return res, nil
}

// newVersions counts the outcomes that made a new statement version.
func newVersions(out []fee.Outcome) int {
	n := 0
	for _, o := range out {
		if o.New {
			n++
		}
	}
	return n
}
