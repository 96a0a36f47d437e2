package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
)

// fakeBinding stands in for the binding store of issue 13 (the handler's collaborator; the
// fee store is the real one).
type fakeBinding map[string][]fee.Confirmation

func (f fakeBinding) ConfirmationsOf(_ context.Context, sn string) ([]fee.Confirmation, error) {
	return f[sn], nil
}

func (f fakeBinding) ConfirmationsOfEach(_ context.Context, sns []string) (map[string][]fee.Confirmation, error) {
	out := map[string][]fee.Confirmation{}
	for _, sn := range sns {
		if cs := f[sn]; len(cs) > 0 {
			out[sn] = cs
		}
	}
	return out, nil
}

func (f fakeBinding) ConfirmedTo(_ context.Context, provider string, at time.Time) (map[string][]fee.Confirmation, error) {
	out := map[string][]fee.Confirmation{}
	for sn, cs := range f {
		for _, c := range cs {
			if c.Provider == provider && !c.From.After(at) && (c.Until.IsZero() || c.Until.After(at)) {
				out[sn] = cs
			}
		}
	}
	return out, nil
}

const (
	snA1   = "00A000000000000001AAAAA"
	snA2   = "00A000000000000002AAAAA"
	snB1   = "00A000000000000003AAAAA"
	snGone = "00A000000000000004AAAAA"
)

// signUpRequest is a sign-up as the route receives it (events/fee samples).
func signUpRequest(t *testing.T, method string, org string, in any) httpapi.Request {
	t.Helper()
	sample := "fee/sign-up-devices.json"
	if method == "GET" {
		sample = "fee/list-fee-signups.json"
	}
	req := eventstest.Load(t, sample, as("deployer", org))
	req.QueryStringParameters, req.RawQueryString = nil, ""
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		req.Body = string(b)
	}
	return req
}

func TestSignUps(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.db.CreateFeePolicy(ctx, &fee.PolicyRecord{Policy: fee.DefaultPolicy("2026-01")}, nil))
	confirmed := now.Add(-40 * 24 * time.Hour)
	binding := fakeBinding{
		snA1:   {{Provider: provA, From: confirmed}},
		snA2:   {{Provider: provA, From: now.Add(-time.Hour)}},
		snB1:   {{Provider: provB, From: confirmed}},
		snGone: {{Provider: provA, From: confirmed, Until: now.Add(-24 * time.Hour)}},
	}
	e.h.signups.binding = binding
	call := func(method, org string, in any) result {
		resp, err := e.h.router().Handle(ctx, signUpRequest(t, method, org, in))
		require.NoError(t, err)
		var body map[string]any
		_ = json.Unmarshal([]byte(resp.Body), &body)
		return result{resp.StatusCode, body, resp.Body}
	}
	today := fee.DateOf(now)

	r := call("POST", "dep-a", SignUpRequest{SNs: []string{snA1, snB1, snGone, "bad"}, Date: today})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var out SignUpResponse
	require.NoError(t, json.Unmarshal([]byte(r.raw), &out))
	assert.Equal(t, 1, out.SignedUp)
	assert.Equal(t, 3, out.Refused)
	outcome := map[string]string{}
	for _, res := range out.Results {
		outcome[res.SN] = res.Outcome + " " + res.Code
	}
	assert.Equal(t, map[string]string{
		snA1:   "signed_up ",
		snB1:   "refused device_not_confirmed", // another provider's device: refused like an unknown one
		snGone: "refused device_not_confirmed", // no longer confirmed to dep-a
		"bad":  "refused invalid_sn",
	}, outcome)

	// The same request again changes nothing; "all" signs the rest of dep-a's confirmed devices.
	again := call("POST", "dep-a", SignUpRequest{SNs: []string{snA1}, Date: today})
	require.NoError(t, json.Unmarshal([]byte(again.raw), &out))
	assert.Equal(t, fee.SignUpExisted, out.Results[0].Outcome)
	assert.Equal(t, today, out.Results[0].Enrolment.Date)
	all := call("POST", "dep-a", SignUpRequest{All: true, Date: fee.DateOf(now.Add(48 * time.Hour))})
	require.NoError(t, json.Unmarshal([]byte(all.raw), &out))
	assert.Equal(t, 1, out.SignedUp)
	assert.Equal(t, 1, out.Existed)
	stored, err := e.db.FeeEnrolmentsOf(ctx, snB1)
	require.NoError(t, err)
	assert.Empty(t, stored, "dep-a signed up nothing of dep-b's")

	for name, in := range map[string]SignUpRequest{
		"back-dated": {SNs: []string{snA1}, Date: fee.DateOf(now.Add(-24 * time.Hour))},
		"too far":    {SNs: []string{snA1}, Date: "2027-06-01"},
		"both":       {SNs: []string{snA1}, All: true, Date: today},
		"neither":    {Date: today},
		"not a date": {SNs: []string{snA1}, Date: "24/11/2026"},
	} {
		assert.Equal(t, http.StatusBadRequest, call("POST", "dep-a", in).status, name)
	}
	vendor, err := e.h.router().Handle(ctx, func() httpapi.Request {
		r := signUpRequest(t, "POST", "dep-a", SignUpRequest{SNs: []string{snA1}, Date: today})
		as("vendor", "dep-a")(&r)
		return r
	}())
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, vendor.StatusCode)
	unapproved := call("POST", "dep-c", SignUpRequest{SNs: []string{snA1}, Date: today})
	assert.Equal(t, http.StatusNotFound, unapproved.status, "an organisation that is no approved provider signs nothing up")
	assert.Equal(t, "deployer_not_approved", unapproved.code())

	// The view: dep-a's confirmed devices, each earning or not, and why.
	view := call("GET", "dep-a", nil)
	require.Equal(t, http.StatusOK, view.status, view.raw)
	var v struct {
		PolicyVersion int            `json:"policyVersion"`
		Items         []fee.Standing `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(view.raw), &v))
	require.Len(t, v.Items, 2)
	assert.Equal(t, snA1, v.Items[0].SN)
	assert.True(t, v.Items[0].Earning, "signed up today, in its window (confirmed in October: November is its first month)")
	assert.Equal(t, fee.Month("2026-11"), v.Items[0].WindowFrom)
	assert.Equal(t, snA2, v.Items[1].SN)
	assert.False(t, v.Items[1].Earning)
	assert.Equal(t, fee.ReasonOutsideWindow, v.Items[1].Reason, "confirmed today: its window starts next month")
	assert.NotContains(t, view.raw, snB1)
	assert.Equal(t, fee.DateOf(now.Add(48*time.Hour)), v.Items[1].SignedUpFrom, "signed up by the request for all, from its date")
	unsigned := e.do(t, "list-fee-signups.json", as("deployer", "dep-a"))
	require.Equal(t, http.StatusOK, unsigned.status, unsigned.raw)
	assert.Empty(t, unsigned.body["items"], "?unsigned=true: every confirmed device of dep-a is signed up")
}
