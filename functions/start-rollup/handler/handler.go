// Package handler starts the daily transaction rollup (statemachines/rollup.asl.json) for the
// business day before the schedule's time (Asia/Shanghai, T+1), or for the day an operator
// names to re-run it. It only computes the day and starts the execution: the state machine
// does the work.
//
// Redelivery of one firing starts nothing new: the execution's name is the day and the
// scheduled time, and Step Functions starts a name once. A second firing (another scheduled
// time, or a manual re-run) starts another execution of the same day, which writes the same
// figures: the rollup replaces the day's figures exactly.
package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/workflow"
)

// Event is the schedule's input; Date (YYYY-MM-DD) names the day for a manual re-run.
type Event struct {
	ScheduledTime string `json:"scheduledTime,omitempty"`
	Date          string `json:"date,omitempty"`
}

// Result says which run the event started.
type Result struct {
	Date           string `json:"date"`
	Execution      string `json:"execution"`
	AlreadyStarted bool   `json:"alreadyStarted,omitempty"`
}

// Input is the state machine's input.
type Input struct {
	Date string `json:"date"`
}

type starter interface {
	Start(ctx context.Context, name string, input any) (string, error)
}

type handler struct {
	rollups starter
	now     func() time.Time
}

// New builds the function from its environment (STATE_MACHINE_ARN: the rollup's).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, Event) (Result, error), error) {
	env, err := d.Require("STATE_MACHINE_ARN")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	return (&handler{rollups: workflow.New(workflow.NewClient(c), env["STATE_MACHINE_ARN"]), now: d.Now}).handle, nil
}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	at, err := lambdafn.ScheduledTime(e.ScheduledTime, h.now())
	if err != nil {
		return Result{}, err
	}
	date := e.Date
	if date == "" {
		date = rollup.Yesterday(at)
	} else if _, _, err := rollup.ParseDate(date); err != nil {
		return Result{}, err
	}
	name := fmt.Sprintf("daily-%s-%s", date, at.UTC().Format("20060102T150405Z"))
	res := Result{Date: date, Execution: name}
	if _, err := h.rollups.Start(ctx, name, Input{Date: date}); err != nil {
		if !errors.As(err, new(*sfntypes.ExecutionAlreadyExists)) {
			return Result{}, err
		}
		res.AlreadyStarted = true // this firing was delivered before and its run has ended
	}
	slog.InfoContext(ctx, "rollup started", "date", date, "execution", name, "alreadyStarted", res.AlreadyStarted)
	return res, nil
}
