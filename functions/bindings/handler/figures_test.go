package handler

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/binding"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/store"
)

// dayFigures is the figures table of one device with figures every day: its series and windows
// answer from it, whatever the provider (the handler must do the filtering).
type dayFigures struct {
	days    []rollup.Figures
	windows [][]string // the SNs of each DeviceWindows call
}

func (f *dayFigures) DeviceSeries(_ context.Context, s, from, to string) ([]rollup.Figures, error) {
	var out []rollup.Figures
	for _, d := range f.days {
		if d.DeviceSN == s && d.Date >= from && d.Date <= to {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *dayFigures) ProviderDayPage(context.Context, string, string, string, int) (store.Page[rollup.Figures], error) {
	return store.Page[rollup.Figures]{Items: []rollup.Figures{}}, nil
}

func (f *dayFigures) DeviceWindows(ctx context.Context, sns []string, from, to string) (map[string][]rollup.Figures, error) {
	f.windows = append(f.windows, sns)
	out := map[string][]rollup.Figures{}
	for _, s := range sns {
		if figs, _ := f.DeviceSeries(ctx, s, from, to); len(figs) > 0 {
			out[s] = figs
		}
	}
	return out, nil
}

func (f *dayFigures) ProviderTotalsRange(_ context.Context, provider, from, to string) ([]store.ProviderTotals, error) {
	return []store.ProviderTotals{store.NewTotals(provider, to)}, nil
}

// listingStore lists sn's binding for the provider it is confirmed to.
type listingStore struct{ fakeStore }

func (l *listingStore) ProviderBindings(_ context.Context, provider string, state domain.BindingState, _ string, _ int) (store.Page[domain.Binding], error) {
	p := store.Page[domain.Binding]{Items: []domain.Binding{}}
	if b := l.binding; b != nil && b.Provider == provider && (state == "" || state == b.State) {
		p.Items = append(p.Items, *b)
	}
	return p, nil
}

func shanghaiAt(date string, hour int) time.Time {
	d, _ := time.ParseInLocation(time.DateOnly, date, time.FixedZone("CST", 8*3600))
	return d.Add(time.Duration(hour) * time.Hour).UTC()
}

// handedOver is sn's binding after it changed hands: `another` confirmed it on 11-10, the
// vendor reassigned it to `mine` at noon on 11-20, and `mine` confirmed it at 09:00 on 11-21.
func handedOver() *domain.Binding {
	c1, re, c2 := shanghaiAt("2026-11-10", 9), shanghaiAt("2026-11-20", 12), shanghaiAt("2026-11-21", 9)
	return &domain.Binding{SN: sn, VendorOrg: "demo-vendor", Provider: mine, State: domain.BindingConfirmed, Since: c2, ConfirmedAt: &c2,
		History: []domain.Change{
			{At: c1.Add(-time.Hour), Action: domain.ActionAssigned, To: another},
			{At: c1, Action: domain.ActionConfirmed, To: another},
			{At: re, Action: domain.ActionReassigned, From: another, To: mine},
			{At: c2, Action: domain.ActionConfirmed, To: mine},
		}, Version: 5}
}

// figuresEveryDay has the device's figures on every day from 11-01 to 12-01 (yesterday), a
// face payment over the limit on 11-15 (another's time) and on 11-25 (mine).
func figuresEveryDay() *dayFigures {
	f := &dayFigures{}
	for d := shanghaiAt("2026-11-01", 0); !d.After(shanghaiAt("2026-12-01", 0)); d = d.AddDate(0, 0, 1) {
		date := d.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		fg := rollup.Figures{DeviceSN: sn, Date: date, SuccessCount: 10, SuccessAmountFen: 1000, DistinctPayers: 4, FeePayers: 2,
			ByMethod: map[string]int64{"FACE": 10, "QUICK_PAY": 0, "QR_CODE": 0, "JSAPI": 0, "IN_APP": 0, "H5": 0}}
		if date == "2026-11-15" || date == "2026-11-25" {
			fg.OverLimitCount = 1
		}
		f.days = append(f.days, fg)
	}
	return f
}

func call(t *testing.T, h *handler, sample string, mutate ...func(*httpapi.Request)) httpapi.Response {
	t.Helper()
	resp, err := h.router().Handle(context.Background(), eventstest.Load[httpapi.Request](t, "bindings/"+sample, mutate...))
	require.NoError(t, err)
	return resp
}

func newFiguresHandler(b *domain.Binding, f *dayFigures) *handler {
	db := &listingStore{fakeStore{binding: b}}
	now := func() time.Time { return testNow }
	return &handler{db: db, figures: f, binder: &binding.Binder{DB: db, Now: now}, now: now}
}

// A provider sees a device's days only from the day it confirmed it: never a day before, nor
// a day the device was another provider's, in the series and in the listing alike.
func TestFigures_OnlyTheCallersDays(t *testing.T) {
	f := figuresEveryDay()
	h := newFiguresHandler(handedOver(), f)

	resp := call(t, h, "get-deployer-device-figures.json", eventstest.WithQuery("from", "2026-11-01"), eventstest.WithQuery("to", "2026-12-01"))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var series deviceSeries
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &series))
	require.Len(t, series.Items, 11, "11-21 to 12-01: the days that closed with the device confirmed to the caller")
	assert.Equal(t, "2026-11-21", series.Items[0].Date)
	assert.Equal(t, []string{"2026-11-25"}, series.OverLimitDays, "11-15 was another provider's day")

	resp = call(t, h, "list-deployer-device-figures.json")
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var page devicesPage
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &page))
	assert.Equal(t, "2026-12-01", page.Date)
	assert.Equal(t, "2026-11-02", page.From, "the 30 days up to yesterday")
	require.Len(t, page.Items, 1)
	row := page.Items[0]
	assert.Equal(t, 11, row.Last30Days.Days)
	assert.EqualValues(t, 110, row.Last30Days.SuccessCount)
	assert.EqualValues(t, 22, row.Last30Days.FeePayers)
	assert.True(t, row.OverLimit)
	assert.Equal(t, []string{"2026-11-25"}, row.OverLimitDays)
	require.NotNil(t, row.Yesterday)
	assert.Equal(t, "2026-12-01", row.Yesterday.Date)
	assert.Equal(t, [][]string{{sn}}, f.windows, "one window read for the page")

	// The same page as CSV: a header and the device, its 30 days' columns.
	resp = call(t, h, "list-deployer-device-figures.json", eventstest.WithQuery("format", "csv"))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	rows, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	col := map[string]string{}
	for i, name := range rows[0] {
		col[name] = rows[1][i]
	}
	assert.Equal(t, "11", col["days_30"])
	assert.Equal(t, "over_limit", col["over_limit_flag_30"])
	assert.Equal(t, "10", col["success_count"])
}

// The provider that lost the device sees neither it nor its figures — not even the days it
// held it, through the device's routes — and its listing no longer has it; a provider that
// never held it sees nothing either.
func TestFigures_DeniedAfterLosingTheDevice(t *testing.T) {
	for _, org := range []string{"other-deployer", "third-deployer"} {
		f := figuresEveryDay()
		h := newFiguresHandler(handedOver(), f)
		number := map[string]string{"other-deployer": another, "third-deployer": "DP00000003"}[org]
		h.db = &orgStore{listingStore: listingStore{fakeStore{binding: handedOver()}}, org: org, number: number}
		resp := call(t, h, "get-deployer-device-figures.json", eventstest.WithClaim("org", org))
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, resp.Body)
		assert.Contains(t, resp.Body, `"code":"binding_not_found"`)

		resp = call(t, h, "list-deployer-device-figures.json", eventstest.WithClaim("org", org))
		require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
		var page devicesPage
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &page))
		assert.Empty(t, page.Items)
		assert.Equal(t, number, page.Provider)
	}
}

// orgStore answers org as an approved provider numbered number.
type orgStore struct {
	listingStore
	org, number string
}

func (o *orgStore) Deployer(_ context.Context, org string) (domain.Deployer, error) {
	if org == o.org {
		return domain.Deployer{Org: org, Number: o.number}, nil
	}
	return domain.Deployer{}, domain.Errorf(domain.NotFound, "deployer_not_approved", "none")
}

// Bad listing and totals requests.
func TestFigures_BadRequests(t *testing.T) {
	h := newFiguresHandler(handedOver(), figuresEveryDay())
	for name, tc := range map[string]struct {
		sample string
		mutate []func(*httpapi.Request)
		status int
		code   string
	}{
		"a vendor's listing": {"list-deployer-device-figures.json", []func(*httpapi.Request){eventstest.WithClaim("role", "vendor")}, http.StatusForbidden, "forbidden_role"},
		"a limit above 100":  {"list-deployer-device-figures.json", []func(*httpapi.Request){eventstest.WithQuery("limit", "101")}, http.StatusBadRequest, "invalid_limit"},
		"an unknown format":  {"list-deployer-device-figures.json", []func(*httpapi.Request){eventstest.WithQuery("format", "xlsx")}, http.StatusBadRequest, "invalid_format"},
		"an unapproved org":  {"get-deployer-totals.json", []func(*httpapi.Request){eventstest.WithClaim("org", "nobody")}, http.StatusNotFound, "deployer_not_approved"},
		"a vendor's totals":  {"get-deployer-totals.json", []func(*httpapi.Request){eventstest.WithClaim("role", "vendor")}, http.StatusForbidden, "forbidden_role"},
	} {
		t.Run(name, func(t *testing.T) {
			resp := call(t, h, tc.sample, tc.mutate...)
			assert.Equal(t, tc.status, resp.StatusCode, resp.Body)
			assert.Contains(t, resp.Body, `"code":"`+tc.code+`"`)
		})
	}
	resp := call(t, h, "get-deployer-totals.json")
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var tr totalsRange
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &tr))
	assert.Equal(t, mine, tr.Provider)
	assert.Equal(t, mine, tr.Days[0].Provider, "the caller's own totals are read")
}
