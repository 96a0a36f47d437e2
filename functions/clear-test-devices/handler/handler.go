// Package handler is the daily clearing of vendor test devices (DOMAIN.md section 3): a test
// device may run face payment for debugging only until its expected pre-check completion
// date; each day this clears every device whose date has come. Redelivery is harmless: a
// cleared device is no longer due.
package handler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

// Event is the schedule's input.
type Event struct {
	ScheduledTime string `json:"scheduledTime"`
}

// Result says how many devices the run cleared.
type Result struct {
	Cleared int `json:"cleared"`
}

type deviceStore interface {
	TestDevicesDue(ctx context.Context, until time.Time) ([]domain.TestDevice, error)
	TestDevice(ctx context.Context, sn string) (*domain.TestDevice, error)
	SaveTestDevice(ctx context.Context, d *domain.TestDevice, changes ...domain.Change) error
}

type handler struct {
	db  deviceStore
	now func() time.Time
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
	h := &handler{db: store.New(store.NewClient(c), env["TABLE_NAME"]), now: d.Now}
	return h.handle, nil
}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	at, err := lambdafn.ScheduledTime(e.ScheduledTime, h.now())
	if err != nil {
		return Result{}, err
	}
	due, err := h.db.TestDevicesDue(ctx, at)
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, d := range due {
		cleared, err := h.clear(ctx, d.SN, at)
		if err != nil {
			return res, err
		}
		if cleared {
			res.Cleared++
		}
	}
	slog.InfoContext(ctx, "test devices cleared", "at", at, "cleared", res.Cleared)
	return res, nil
}

// clear clears one device; a concurrent change (the vendor clearing it early) is read again.
func (h *handler) clear(ctx context.Context, sn string, at time.Time) (bool, error) {
	for range 3 {
		d, err := h.db.TestDevice(ctx, sn)
		if err != nil {
			return false, err
		}
		if d.Status != domain.TestDeviceActive || d.ClearAt.After(at) {
			return false, nil
		}
		ch, _ := d.Clear("test-device-schedule", domain.ClearedOnDate, at)
		err = h.db.SaveTestDevice(ctx, d, ch)
		if domain.KindOf(err) != domain.Conflict {
			return err == nil, err
		}
	}
	return false, fmt.Errorf("test device %s kept changing", sn)
}
