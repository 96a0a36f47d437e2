// Package handler serves the daily (T+1) transaction figures the rollup writes. A reviewer
// reads any device's daily series. Deployment providers read their confirmed devices' figures
// through the bindings function (functions/bindings/handler/figures.go), which holds the
// binding their visibility depends on.
package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/store"
)

type figureStore interface {
	DeviceSeries(ctx context.Context, sn, from, to string) ([]rollup.Figures, error)
}

type handler struct {
	figures figureStore
	now     func() time.Time
}

// New builds the function from its environment (FIGURES_TABLE).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("FIGURES_TABLE")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	h := &handler{figures: store.NewFigures(store.NewClient(c), env["FIGURES_TABLE"]), now: d.Now}
	return h.router().Handle, nil
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"GET /admin/devices/{sn}/figures": h.deviceSeries,
	}
}

// Series is a device's daily figures over a range of days, oldest first; a day without
// transactions has no entry.
type Series struct {
	SN    string           `json:"sn"`
	From  string           `json:"from"`
	To    string           `json:"to"`
	Items []rollup.Figures `json:"items"`
	// OverLimitDays are the days with face payments above the 1000-yuan limit, flagged.
	OverLimitDays []string `json:"overLimitDays"`
	Note          string   `json:"note"`
}

// deviceSeries answers GET /admin/devices/{sn}/figures?from&to (default: the 30 days up to
// yesterday, Asia/Shanghai). Codes: forbidden_role, invalid_sn, invalid_date_range.
func (h *handler) deviceSeries(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	sn := req.PathParameters["sn"]
	if _, err := domain.ParseSerialNumber(sn); err != nil {
		return httpapi.Response{}, err
	}
	to := httpapi.Query(req, "to", rollup.Yesterday(h.now()))
	from := httpapi.Query(req, "from", "")
	if from == "" {
		if t, err := time.Parse(time.DateOnly, to); err == nil {
			from = t.AddDate(0, 0, -29).Format(time.DateOnly)
		}
	}
	items, err := h.figures.DeviceSeries(ctx, sn, from, to)
	if err != nil {
		return httpapi.Response{}, err
	}
	s := Series{SN: sn, From: from, To: to, Items: items, OverLimitDays: []string{},
		Note: "Updated T+1; guidance for daily operations, not the service fee's reconciliation basis."}
	if s.Items == nil {
		s.Items = []rollup.Figures{}
	}
	for _, f := range items {
		if f.OverLimitCount > 0 {
			s.OverLimitDays = append(s.OverLimitDays, f.Date)
		}
	}
	return httpapi.JSON(http.StatusOK, s), nil
}
