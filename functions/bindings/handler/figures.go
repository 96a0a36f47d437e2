package handler

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/facepay/platform/shared/csvsafe"
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
	ProviderDayPage(ctx context.Context, provider, date, cursor string, limit int) (store.Page[rollup.Figures], error)
	DeviceWindows(ctx context.Context, sns []string, from, to string) (map[string][]rollup.Figures, error)
	ProviderTotalsRange(ctx context.Context, provider, from, to string) ([]store.ProviderTotals, error)
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
	FeePayers        int64 `json:"fee_payers"`
	FailedCount      int64 `json:"failed_count"`
	TimeoutCount     int64 `json:"timeout_count"`
	RefundedCount    int64 `json:"refunded_count"`
	OverLimitCount   int64 `json:"over_limit_count"`
}

func (t *totals) add(f rollup.Figures) {
	t.SuccessCount += f.SuccessCount
	t.SuccessAmountFen += f.SuccessAmountFen
	t.PayerDays += f.DistinctPayers
	t.FeePayers += f.FeePayers
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
	s := deviceSeries{SN: sn, From: from, To: to, Items: []rollup.Figures{}, OverLimitDays: []string{}, Note: figuresNote}
	for _, f := range callersDays(items, b.History, d.Number) {
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
	Next           string           `json:"next,omitempty"`
	Totals         totals           `json:"totals"`           // the day's, over all the caller's devices (stored by the rollup)
	OverLimitCount int64            `json:"overLimitDevices"` // devices with face payments over the limit that day
	Note           string           `json:"note"`
}

// providerFigures: GET /deployer/figures?date=YYYY-MM-DD[&limit&cursor][&format=csv] — the
// figures of the devices confirmed to the caller on date (default yesterday), a page of at most
// 100 (a large provider's day would not fit one response), with the day's totals over all its
// devices; as CSV with format=csv (the export; the next page's cursor in X-Next-Cursor).
// Requests: 1–8 Query on the provider's day index and 1 Query of its stored totals.
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
	limit, err := httpapi.Limit(req, 100)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.figures.ProviderDayPage(ctx, d.Number, date, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	if format == "csv" {
		return figuresCSV(page.Items, page.Next)
	}
	days, err := h.figures.ProviderTotalsRange(ctx, d.Number, date, date)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := providerDay{Provider: d.Number, Date: date, Items: page.Items, Next: page.Next, Note: figuresNote}
	for _, t := range days {
		out.Totals = totals{Devices: int(t.Devices), SuccessCount: t.SuccessCount, SuccessAmountFen: t.SuccessAmountFen,
			PayerDays: t.PayerDays, FeePayers: t.FeePayers, FailedCount: t.FailedCount, TimeoutCount: t.TimeoutCount,
			RefundedCount: t.RefundedCount, OverLimitCount: t.OverLimitCount}
		out.OverLimitCount = t.OverLimitDevices
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

func figuresCSV(figs []rollup.Figures, next string) (httpapi.Response, error) {
	var buf bytes.Buffer
	w := csvsafe.NewWriter(&buf)
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
		Headers: map[string]string{"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="figures.csv"`,
			"X-Next-Cursor": next}}, nil
}

// callersDays keeps the days of figs on which provider held the device's confirmation when
// the day closed (history: the device's binding history): never a day before it confirmed the
// device, nor one after it lost it, nor one of another provider's.
func callersDays(figs []rollup.Figures, history []domain.Change, provider string) []rollup.Figures {
	intervals := domain.ConfirmationIntervals(history)
	out := make([]rollup.Figures, 0, len(figs))
	for _, f := range figs {
		if end, ok := dayEnd(f.Date); ok && domain.ProviderAt(intervals, end) == provider {
			out = append(out, f)
		}
	}
	return out
}

// windowDays is the length of the listing's window: the last 30 days up to yesterday.
const windowDays = 30

// deviceRow is one confirmed device in the listing: yesterday's figures and the last 30 days'.
type deviceRow struct {
	SN          string     `json:"sn"`
	ConfirmedAt *time.Time `json:"confirmedAt,omitempty"`
	// Yesterday is null when the device had no transactions that day (or was not the caller's).
	Yesterday *rollup.Figures `json:"yesterday"`
	// Last30Days sums the days of the window the caller held the device (days: how many had figures).
	Last30Days    totals   `json:"last30Days"`
	OverLimit     bool     `json:"overLimit"` // a face payment above 1000 yuan in the window
	OverLimitDays []string `json:"overLimitDays"`
}

type devicesPage struct {
	Provider string      `json:"provider"`
	Date     string      `json:"date"` // yesterday
	From     string      `json:"from"` // the window's first day
	Items    []deviceRow `json:"items"`
	Next     string      `json:"next,omitempty"`
	Note     string      `json:"note"`
}

// providerDeviceFigures: GET /deployer/device-figures?limit&cursor[&format=csv] — the devices
// confirmed to the caller, a page of at most 100, each with yesterday's figures and the sums of
// the last 30 days (only the days it held the device); format=csv exports the same page, the
// next page's cursor in the X-Next-Cursor header. Requests: the binding listing (1–16 Query on
// gsi1) and one figures Query per device (DeviceWindows), yesterday being the window's last day.
func (h *handler) providerDevicesFigures(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	d, err := h.provider(ctx, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	format := httpapi.Query(req, "format", "json")
	if format != "json" && format != "csv" {
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "invalid_format", "format %q is not json or csv", format)
	}
	limit, err := httpapi.Limit(req, 100)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.ProviderBindings(ctx, d.Number, domain.BindingConfirmed, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	to := rollup.Yesterday(h.now())
	t, _ := time.Parse(time.DateOnly, to)
	from := t.AddDate(0, 0, 1-windowDays).Format(time.DateOnly)
	sns := make([]string, len(page.Items))
	for i, b := range page.Items {
		sns[i] = b.SN
	}
	windows, err := h.figures.DeviceWindows(ctx, sns, from, to)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := devicesPage{Provider: d.Number, Date: to, From: from, Items: make([]deviceRow, 0, len(page.Items)), Next: page.Next, Note: figuresNote}
	for _, b := range page.Items {
		row := deviceRow{SN: b.SN, ConfirmedAt: b.ConfirmedAt, OverLimitDays: []string{}}
		for _, f := range callersDays(windows[b.SN], b.History, d.Number) {
			row.Last30Days.add(f)
			row.Last30Days.Days++
			if f.OverLimitCount > 0 {
				row.OverLimit = true
				row.OverLimitDays = append(row.OverLimitDays, f.Date)
			}
			if f.Date == to {
				row.Yesterday = &f
			}
		}
		out.Items = append(out.Items, row)
	}
	if format == "csv" {
		return devicesCSV(out)
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// devicesCSVHeader is the listing export's first line: yesterday's figures, then the window's.
var devicesCSVHeader = append(append([]string{"device_sn", "date"}, figureColumns...),
	"window_from", "window_to", "days_30", "success_count_30", "success_amount_fen_30", "payer_days_30", "fee_payers_30",
	"failed_count_30", "timeout_count_30", "refunded_count_30", "over_limit_count_30", "over_limit_flag_30")

var figureColumns = append([]string{"success_count", "success_amount_fen", "distinct_payers", "fee_payers",
	"failed_count", "timeout_count", "refunded_count", "over_limit_count", "over_limit_flag"}, methodColumns()...)

func devicesCSV(p devicesPage) (httpapi.Response, error) {
	var buf bytes.Buffer
	w := csvsafe.NewWriter(&buf)
	_ = w.Write(devicesCSVHeader)
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	flag := func(over bool) string {
		if over {
			return "over_limit"
		}
		return ""
	}
	for _, r := range p.Items {
		row := []string{r.SN, p.Date}
		if f := r.Yesterday; f != nil {
			row = append(row, i64(f.SuccessCount), i64(f.SuccessAmountFen), i64(f.DistinctPayers), i64(f.FeePayers),
				i64(f.FailedCount), i64(f.TimeoutCount), i64(f.RefundedCount), i64(f.OverLimitCount), flag(f.OverLimitCount > 0))
			for _, m := range rollup.Methods {
				row = append(row, i64(f.ByMethod[m]))
			}
		} else { // no transactions yesterday: zeros, so the columns stay numeric
			for range figureColumns {
				row = append(row, "0")
			}
			row[len(row)-len(rollup.Methods)-1] = ""
		}
		t := r.Last30Days
		row = append(row, p.From, p.Date, strconv.Itoa(t.Days), i64(t.SuccessCount), i64(t.SuccessAmountFen), i64(t.PayerDays), i64(t.FeePayers),
			i64(t.FailedCount), i64(t.TimeoutCount), i64(t.RefundedCount), i64(t.OverLimitCount), flag(r.OverLimit))
		_ = w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{StatusCode: http.StatusOK, Body: buf.String(), Headers: map[string]string{
		"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="device-figures-` + p.Date + `.csv"`,
		"X-Next-Cursor": p.Next}}, nil
}

type totalsRange struct {
	Provider string                 `json:"provider"`
	From     string                 `json:"from"`
	To       string                 `json:"to"`
	Days     []store.ProviderTotals `json:"days"`
	Note     string                 `json:"note"`
}

// providerTotals: GET /deployer/totals?from&to — the caller's totals per day (default the 30
// days up to yesterday), summed by the rollup over the devices confirmed to it when each day
// closed; a day without figures is absent. One Query.
func (h *handler) providerTotals(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	d, err := h.provider(ctx, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	to := httpapi.Query(req, "to", rollup.Yesterday(h.now()))
	from := httpapi.Query(req, "from", "")
	if from == "" {
		if t, err := time.Parse(time.DateOnly, to); err == nil {
			from = t.AddDate(0, 0, 1-windowDays).Format(time.DateOnly)
		}
	}
	days, err := h.figures.ProviderTotalsRange(ctx, d.Number, from, to)
	if err != nil {
		return httpapi.Response{}, err
	}
	if days == nil {
		days = []store.ProviderTotals{}
	}
	return httpapi.JSON(http.StatusOK, totalsRange{Provider: d.Number, From: from, To: to, Days: days,
		Note: figuresNote + " payer_days sums the devices' daily distinct payers (a payer at two devices counts twice); fee_payers sums the devices' fee payers."}), nil
}
