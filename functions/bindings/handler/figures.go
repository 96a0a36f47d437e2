package handler

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/store"
)

// The deployer's view of its devices' daily transaction figures (issue 13): updated T+1,
// guidance for daily operations, not the service fee's reconciliation basis. A provider sees a
// device's figures only for the days it held the device's confirmation at the day's close —
// the same rule the rollup uses to index a day's figures for a provider — so it never sees a
// day of a device that was then another provider's, or not yet confirmed.

// figureStore reads the rollup's figures.
type figureStore interface {
	DeviceSeries(ctx context.Context, sn, from, to string) ([]rollup.Figures, error)
	ProviderDay(ctx context.Context, provider, date string) ([]rollup.Figures, error)
}

var _ figureStore = (*store.Figures)(nil)

// figuresNote is said with every figure answer.
const figuresNote = "Updated T+1; guidance for daily operations, not the service fee's reconciliation basis. Face payments above 1000 yuan (100000 fen) in one transaction are over the risk limit: see overLimitDays and over_limit_count."

// totals are additive figures summed over days or devices (distinct payers are not additive:
// the sum of daily distinct payers is "payer-days").
type totals struct {
	Devices          int   `json:"devices,omitempty"`
	Days             int   `json:"days,omitempty"`
	SuccessCount     int64 `json:"success_count"`
	SuccessAmountFen int64 `json:"success_amount_fen"`
	PayerDays        int64 `json:"payer_days"`
	FailedCount      int64 `json:"failed_count"`
	TimeoutCount     int64 `json:"timeout_count"`
	RefundedCount    int64 `json:"refunded_count"`
	OverLimitCount   int64 `json:"over_limit_count"`
}

func (t *totals) add(f rollup.Figures) {
	t.SuccessCount += f.SuccessCount
	t.SuccessAmountFen += f.SuccessAmountFen
	t.PayerDays += f.DistinctPayers
	t.FailedCount += f.FailedCount
	t.TimeoutCount += f.TimeoutCount
	t.RefundedCount += f.RefundedCount
	t.OverLimitCount += f.OverLimitCount
}

type deviceSeries struct {
	SN            string           `json:"sn"`
	From          string           `json:"from"`
	To            string           `json:"to"`
	Items         []rollup.Figures `json:"items"`
	Totals        totals           `json:"totals"`
	OverLimitDays []string         `json:"overLimitDays"`
	Note          string           `json:"note"`
}

// dayEnd is the last instant of date (YYYY-MM-DD, Asia/Shanghai).
func dayEnd(date string) (time.Time, bool) {
	start, _, err := rollup.ParseDate(date)
	if err != nil {
		return time.Time{}, false
	}
	return store.DayEnd(time.Unix(start, 0)), true
}

// providerDeviceFigures: GET /deployer/devices/{sn}/figures?from&to — a confirmed device's daily
// series (default the 30 days up to yesterday), only the days the caller held its confirmation.
// A device not assigned to the caller is binding_not_found; assigned but not confirmed is
// binding_not_confirmed (403).
func (h *handler) providerDeviceFigures(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	d, err := h.provider(ctx, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	sn := req.PathParameters["sn"]
	if _, err := domain.ParseSerialNumber(sn); err != nil {
		return httpapi.Response{}, domain.ErrBindingNotFound.Withf("no device with this SN is assigned to you")
	}
	b, err := h.db.Binding(ctx, sn)
	if err != nil && domain.KindOf(err) != domain.NotFound {
		return httpapi.Response{}, err
	}
	if !b.VisibleTo(d.Number) {
		return httpapi.Response{}, domain.ErrBindingNotFound.Withf("no device with this SN is assigned to you")
	}
	if !b.FiguresVisibleTo(d.Number) {
		return httpapi.Response{}, domain.Errorf(domain.Forbidden, "binding_not_confirmed", "confirm device %s to see its transaction figures", sn)
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
	intervals := domain.ConfirmationIntervals(b.History)
	s := deviceSeries{SN: sn, From: from, To: to, Items: []rollup.Figures{}, OverLimitDays: []string{}, Note: figuresNote}
	for _, f := range items {
		end, ok := dayEnd(f.Date)
		if !ok || domain.ProviderAt(intervals, end) != d.Number {
			continue // a day the device was not confirmed to the caller
		}
		s.Items = append(s.Items, f)
		s.Totals.add(f)
		s.Totals.Days++
		if f.OverLimitCount > 0 {
			s.OverLimitDays = append(s.OverLimitDays, f.Date)
		}
	}
	return httpapi.JSON(http.StatusOK, s), nil
}

type providerDay struct {
	Provider       string           `json:"provider"`
	Date           string           `json:"date"`
	Items          []rollup.Figures `json:"items"`
	Totals         totals           `json:"totals"`
	OverLimitCount int              `json:"overLimitDevices"` // devices with face payments over the limit that day
	Note           string           `json:"note"`
}

// providerFigures: GET /deployer/figures?date=YYYY-MM-DD[&format=csv] — the figures of every
// device confirmed to the caller on date (default yesterday), by SN, with the day's totals; as
// CSV with format=csv (the export).
func (h *handler) providerFigures(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	d, err := h.provider(ctx, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	date := httpapi.Query(req, "date", rollup.Yesterday(h.now()))
	if _, _, err := rollup.ParseDate(date); err != nil {
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "invalid_date", "date %q is not YYYY-MM-DD", date)
	}
	format := httpapi.Query(req, "format", "json")
	if format != "json" && format != "csv" {
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "invalid_format", "format %q is not json or csv", format)
	}
	figs, err := h.figures.ProviderDay(ctx, d.Number, date)
	if err != nil {
		return httpapi.Response{}, err
	}
	if format == "csv" {
		return figuresCSV(figs)
	}
	out := providerDay{Provider: d.Number, Date: date, Items: []rollup.Figures{}, Note: figuresNote}
	for _, f := range figs {
		out.Items = append(out.Items, f)
		out.Totals.add(f)
		out.Totals.Devices++
		if f.OverLimitCount > 0 {
			out.OverLimitCount++
		}
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// figuresCSVHeader is the export's first line.
var figuresCSVHeader = append([]string{"device_sn", "date", "success_count", "success_amount_fen", "distinct_payers", "fee_payers",
	"failed_count", "timeout_count", "refunded_count", "over_limit_count", "over_limit_flag"}, methodColumns()...)

func methodColumns() []string {
	out := make([]string, len(rollup.Methods))
	for i, m := range rollup.Methods {
		out[i] = "success_" + m
	}
	return out
}

func figuresCSV(figs []rollup.Figures) (httpapi.Response, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(figuresCSVHeader)
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, f := range figs {
		flag := ""
		if f.OverLimitCount > 0 {
			flag = "over_limit"
		}
		row := []string{f.DeviceSN, f.Date, i64(f.SuccessCount), i64(f.SuccessAmountFen), i64(f.DistinctPayers), i64(f.FeePayers),
			i64(f.FailedCount), i64(f.TimeoutCount), i64(f.RefundedCount), i64(f.OverLimitCount), flag}
		for _, m := range rollup.Methods {
			row = append(row, i64(f.ByMethod[m]))
		}
		_ = w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusOK, Body: buf.String(),
		Headers: map[string]string{"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="figures.csv"`}}, nil
}
