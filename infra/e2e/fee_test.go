package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/rollup"
)

// feeMonthCap is the monthly cap of the scenario's policy (fen): low enough that the busiest
// devices reach it with small generated days.
const feeMonthCap = 1500

// feePolicy is the scenario's policy: the default scheme, with the window starting in the
// month of confirmation (so a device confirmed mid-December earns in December) and a monthly
// cap the busiest generated devices reach.
func feePolicy() fee.Policy {
	p := fee.DefaultPolicy("2026-11")
	p.Window.Start = fee.WindowFromConfirmation
	p.Caps.PerDeviceMonthFen = feeMonthCap
	p.Description = "e2e: 0.5 yuan x daily distinct valid payers; 15 yuan/month; 12 months from the month of confirmation"
	return p
}

// feeDay is one generated business day as the payment core drops it (one gzip NDJSON object,
// the platform's generator with its SNs replaced by the world's devices) and the fee units of
// each device that day, computed here from the raw records: distinct payers with a SUCCESS
// FACE payment of at least 200 fen.
type feeDay struct {
	object []byte
	units  map[string]int64
}

func generateFeeDay(t *testing.T, date string, seed uint64, sns []string) feeDay {
	t.Helper()
	var raw bytes.Buffer
	require.NoError(t, rollup.Generate(rollup.GenConfig{Date: date, Devices: len(sns), Rows: 2500, Objects: 1, Seed: seed},
		func(string) (io.WriteCloser, error) { return nopCloser{&raw}, nil }))
	zr, err := gzip.NewReader(&raw)
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	type record struct {
		DeviceSN  string `json:"device_sn"`
		Payer     string `json:"payer"`
		AmountFen int64  `json:"amount_fen"`
		Method    string `json:"method"`
		Status    string `json:"status"`
	}
	var generated []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(plain))
	for sc.Scan() {
		var r record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		if !seen[r.DeviceSN] {
			seen[r.DeviceSN] = true
			generated = append(generated, r.DeviceSN)
		}
	}
	slices.Sort(generated)
	// Each day maps the generated devices onto the world's from another offset, so a world
	// device is busy on some days and quiet on others.
	var pairs []string
	for i, g := range generated {
		pairs = append(pairs, `"`+g+`"`, `"`+sns[(i+int(seed)*37)%len(sns)]+`"`)
	}
	renamed := strings.NewReplacer(pairs...).Replace(string(plain))
	payers := map[string]map[string]bool{}
	sc = bufio.NewScanner(strings.NewReader(renamed))
	for sc.Scan() {
		var r record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		if r.Method == "FACE" && r.Status == "SUCCESS" && r.AmountFen >= 200 {
			if payers[r.DeviceSN] == nil {
				payers[r.DeviceSN] = map[string]bool{}
			}
			payers[r.DeviceSN][r.Payer] = true
		}
	}
	units := map[string]int64{}
	for sn, ps := range payers {
		units[sn] = int64(len(ps))
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, err = zw.Write([]byte(renamed))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return feeDay{object: out.Bytes(), units: units}
}

// feeLine is what the test expects of one device in one provider's December statement.
type feeLine struct {
	CountedUnits int64
	AmountFen    int64
}

// feeScenario is the month's facts as the test arranged them: who held each device on which
// December days, who signed it up from which day, and its units by day.
type feeScenario struct {
	p1, p2    string
	sns       []string
	index     map[string]int
	moved     string // P1's until Dec 10 12:00, then P2's
	midMonth  string // P1's from Dec 15 14:00
	units     map[int]map[string]int64
	daysKnown int // the days whose figures arrived
}

// owner is the provider holding sn when December day d ended.
func (s *feeScenario) owner(sn string, d int) string {
	switch {
	case sn == s.moved && d <= 9:
		return s.p1
	case sn == s.moved:
		return s.p2
	case sn == s.midMonth && d < 15:
		return ""
	case s.index[sn] < 500:
		return s.p1
	}
	return s.p2
}

// signedFrom is the first December day provider p's sign-up of sn covers (0: none).
func (s *feeScenario) signedFrom(p, sn string) int {
	i := s.index[sn]
	switch {
	case p == s.p1 && sn == s.midMonth:
		return 16
	case p == s.p1 && i < 500:
		return 1 // signed up (all) on November 30
	case p == s.p2 && sn == s.moved:
		return 10
	case p == s.p2 && i >= 500 && i < 800:
		return 1
	case p == s.p2 && i >= 800 && i < 900:
		return 5 // signed up on November 30, dated December 5
	}
	return 0
}

// expect computes each provider's December lines by hand: 50 fen per counted unit, the
// monthly cap shared in day order (the moved device's P1 days come first), no total cap
// reached in one month.
func (s *feeScenario) expect() map[string]map[string]feeLine {
	out := map[string]map[string]feeLine{s.p1: {}, s.p2: {}}
	for _, sn := range s.sns {
		capLeft := int64(feeMonthCap)
		for _, p := range []string{s.p1, s.p2} { // P1's days come first for the moved device
			owns, units := false, int64(0)
			for d := 1; d <= 31; d++ {
				if s.owner(sn, d) != p {
					continue
				}
				owns = true
				if from := s.signedFrom(p, sn); from > 0 && d >= from && d <= s.daysKnown {
					units += s.units[d][sn]
				}
			}
			if !owns {
				continue
			}
			amount := min(50*units, capLeft)
			capLeft -= amount
			out[p][sn] = feeLine{CountedUnits: units, AmountFen: amount}
		}
	}
	return out
}

// statementOf reads provider cl's statement for month (the latest version or ?version=n)
// through the API and its JSON file through the link, and the CSV file's rows.
func statementOf(t *testing.T, cl *cloudtest.Client, month string, version int) (fee.Statement, [][]string) {
	t.Helper()
	path := "/fee/statements/" + month
	if version > 0 {
		path += fmt.Sprintf("?version=%d", version)
	}
	r := cl.Do("GET", path, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	files := r.Body["files"].(map[string]any)
	var s fee.Statement
	require.NoError(t, json.Unmarshal([]byte(download(t, files["json"])), &s))
	rows, err := csv.NewReader(strings.NewReader(download(t, files["csv"]))).ReadAll()
	require.NoError(t, err)
	return s, rows
}

func linesOf(s fee.Statement) map[string]feeLine {
	out := map[string]feeLine{}
	for _, l := range s.Lines {
		out[l.SN] = feeLine{CountedUnits: l.CountedUnits, AmountFen: l.AmountFen}
	}
	return out
}

func total(lines map[string]feeLine) int64 {
	var n int64
	for _, l := range lines {
		n += l.AmountFen
	}
	return n
}

// The acceptance, end to end on the virtual clock: 1,000 devices bound to two
// providers (one moved between them on December 10, one confirmed on December 15, some never
// signed up, some signed up from a later day); 30 generated days dropped and rolled up by the
// platform's own daily schedule; on January 1 the monthly schedule states December, and both
// providers' statements equal the computation above from the raw records. Each provider reads
// only its own (JSON and CSV). December 31 arrives late: its rollup makes version 2, listing
// what changed; the schedule delivered again changes nothing. About 2.5 minutes on 2
// cores: 20 s of setup, 30 s of rollups, five monthly runs of ~15 s (moto answers an index query
// page in well under a second since infra/local/engines/motopatch.py; before, 20+ s per
// provider-month went to moto sorting the whole table and walking its response model).
func TestFee_MonthlyStatementsFromTheDailyRollup(t *testing.T) {
	began := time.Now()
	// Monday, November 30, 10:00: one rollup (of the 30th, at 02:00 on December 1) before December.
	w := newBindingWorldAt(t, 1000, time.Date(2026, 11, 30, 10, 0, 0, 0, shanghai))
	c := w.c
	t.Logf("world of 1,000 devices and two providers in %s", time.Since(began).Round(time.Second))
	ctx := context.Background()
	rev := cloudtest.As(t, c, reviewer)
	v := cloudtest.As(t, c, w.vendor)
	p1, p2 := cloudtest.As(t, c, w.deployers[0]), cloudtest.As(t, c, w.deployers[1])
	s := &feeScenario{p1: w.numbers[0], p2: w.numbers[1], sns: w.sns, index: map[string]int{}, moved: w.sns[0], midMonth: w.sns[499],
		units: map[int]map[string]int64{}}
	for i, sn := range w.sns {
		s.index[sn] = i
	}

	// The policy (a reviewer; a retry with the same key creates nothing).
	pol := feePolicy()
	r := rev.Do("POST", "/admin/fee/policies", pol, "Idempotency-Key", "fee-e2e-policy")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	assert.Equal(t, http.StatusOK, rev.Do("POST", "/admin/fee/policies", pol, "Idempotency-Key", "fee-e2e-policy").Status)
	assert.Equal(t, "forbidden_role", p1.Do("POST", "/admin/fee/policies", pol).Code())
	assert.Equal(t, "fee_policy_retroactive", rev.Do("POST", "/admin/fee/policies", fee.DefaultPolicy("2026-10")).Code())

	// Binding on November 30: P1 gets devices 0–499 and confirms all but the mid-month one;
	// P2 gets 500–999 and confirms all.
	var items []any
	for i, sn := range w.sns {
		items = append(items, map[string]any{"sn": sn, "provider": w.numbers[i/500]})
	}
	assert.Equal(t, 1000, bulk(t, v, "/bindings", items)["changed"])
	assert.Equal(t, 499, bulk(t, p1, "/deployer/devices/confirm", anys(w.sns[:499]))["changed"])
	assert.Equal(t, 500, bulk(t, p2, "/deployer/devices/confirm", anys(w.sns[500:]))["changed"])

	// Sign-ups. P1 all of its confirmed devices from today; P2 300 from today, 100 from
	// December 5, 100 never.
	today := fee.DateOf(c.Clock.Now())
	signUp := func(cl *cloudtest.Client, body map[string]any) map[string]any {
		t.Helper()
		r := cl.Do("POST", "/fee/signups", body)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		return r.Body
	}
	assert.Equal(t, 499.0, signUp(p1, map[string]any{"all": true, "date": today})["signedUp"])
	assert.Equal(t, 300.0, signUp(p2, map[string]any{"sns": w.sns[500:800], "date": today})["signedUp"])
	assert.Equal(t, 100.0, signUp(p2, map[string]any{"sns": w.sns[800:900], "date": "2026-12-05"})["signedUp"])
	again := signUp(p2, map[string]any{"sns": w.sns[500:800], "date": today})
	assert.Equal(t, []any{0.0, 300.0}, []any{again["signedUp"], again["alreadySignedUp"]}, "the same request again changes nothing")

	// Denials: another provider's device, a device assigned but not confirmed, an unknown
	// one are refused per device (the same code: nothing to probe); roles; an organisation
	// that is no provider.
	denied := signUp(p1, map[string]any{"sns": []string{w.sns[600], s.midMonth, w.failed}, "date": today})
	assert.Equal(t, 3.0, denied["refused"])
	for _, res := range denied["results"].([]any) {
		assert.Equal(t, "device_not_confirmed", res.(map[string]any)["code"])
	}
	assert.Equal(t, "forbidden_role", v.Do("POST", "/fee/signups", map[string]any{"all": true, "date": today}).Code())
	assert.Equal(t, "forbidden_role", rev.Do("GET", "/fee/signups", nil).Code())
	assert.Equal(t, "deployer_not_approved", cloudtest.As(t, c, providerN(9)).Do("GET", "/fee/signups", nil).Code())
	assert.Equal(t, "sign_up_date_past", p1.Do("POST", "/fee/signups", map[string]any{"all": true, "date": "2026-11-01"}).Code())

	// P2's view of its unsigned devices: the 100 never signed up, and the 100 from December 5
	// (not earning yet: not signed up today).
	view := p2.Do("GET", "/fee/signups?unsigned=true", nil)
	require.Equal(t, http.StatusOK, view.Status, string(view.Raw))
	unsigned := view.Body["items"].([]any)
	require.Len(t, unsigned, 100)
	for _, it := range unsigned {
		st := it.(map[string]any)
		assert.GreaterOrEqual(t, s.index[st["sn"].(string)], 900)
		assert.Equal(t, false, st["earning"])
		assert.Equal(t, "not_signed_up", st["reason"])
	}
	all := p2.Do("GET", "/fee/signups", nil).Body["items"].([]any)
	require.Len(t, all, 500)
	later := all[s.index[w.sns[850]]-500].(map[string]any)
	assert.Equal(t, []any{w.sns[850], "2026-12-05", false, "not_signed_up"}, []any{later["sn"], later["signedUpFrom"], later["earning"], later["reason"]})

	// December: each day's transactions are dropped during the day; at 02:00 the next day the
	// schedule rolls it up. December 31 is late: it is not dropped before its rollup.
	bucket := bucketName(t, c, "TransactionsBucket")
	drop := func(date string, obj []byte) {
		_, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(rollup.DayPrefix(date) + rollup.ObjectName(0)), Body: bytes.NewReader(obj)})
		require.NoError(t, err)
	}
	t.Logf("binding and sign-ups done at %s", time.Since(began).Round(time.Second))
	rollups := 0
	started := time.Now()
	for d := 1; d <= 31; d++ {
		date := fmt.Sprintf("2026-12-%02d", d)
		day := generateFeeDay(t, date, uint64(d), w.sns)
		s.units[d] = day.units
		if d < 31 {
			drop(date, day.object)
		}
		switch d {
		case 10: // at noon the vendor moves device 0 to P2, which confirms it and signs it up
			c.Clock.AdvanceTo(time.Date(2026, 12, 10, 12, 0, 0, 0, shanghai))
			r := v.Do("PUT", "/devices/"+s.moved+"/binding", map[string]any{"provider": s.p2, "reassign": true})
			require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
			assert.Equal(t, 1, bulk(t, p2, "/deployer/devices/confirm", anys([]string{s.moved}))["changed"])
			assert.Equal(t, 1.0, signUp(p2, map[string]any{"sns": []string{s.moved}, "date": "2026-12-10"})["signedUp"])
			assert.Equal(t, "device_not_confirmed", signUp(p1, map[string]any{"sns": []string{s.moved}, "date": "2026-12-10"})["results"].([]any)[0].(map[string]any)["code"],
				"P1 no longer holds it")
		case 15: // P1 confirms device 499 in the afternoon, and signs it up the next day
			c.Clock.AdvanceTo(time.Date(2026, 12, 15, 14, 0, 0, 0, shanghai))
			assert.Equal(t, 1, bulk(t, p1, "/deployer/devices/confirm", anys([]string{s.midMonth}))["changed"])
		case 16:
			c.Clock.AdvanceTo(time.Date(2026, 12, 16, 9, 0, 0, 0, shanghai))
			assert.Equal(t, 1.0, signUp(p1, map[string]any{"sns": []string{s.midMonth}, "date": "2026-12-16"})["signedUp"])
		}
		if d == 31 {
			break // its rollup runs on January 1, with nothing dropped yet
		}
		c.Clock.AdvanceTo(time.Date(2026, 12, d+1, 2, 0, 30, 0, shanghai))
		rollups = d + 1 // November 30's and each December day's so far
		waitRollups(t, c, rollups)
	}
	t.Logf("31 daily rollups in %s", time.Since(started).Round(time.Second))

	// January 1: the last day's rollup at 02:00 (no transactions yet), the statements at 04:00.
	c.Clock.AdvanceTo(time.Date(2027, 1, 1, 2, 0, 30, 0, shanghai))
	rollups++
	waitRollups(t, c, rollups)
	c.Clock.AdvanceTo(time.Date(2027, 1, 1, 4, 0, 30, 0, shanghai))
	cloudtest.Eventually(t, "December's statements", func() bool {
		return p2.Do("GET", "/fee/statements/2026-12", nil).Status == http.StatusOK
	})
	c.WaitNotifications()

	s.daysKnown = 30
	want := s.expect()
	capped := 0
	for _, l := range want[s.p1] {
		if l.AmountFen == feeMonthCap {
			capped++
		}
	}
	require.Greater(t, capped, 0, "some devices reach the monthly cap")
	for k, cl := range []*cloudtest.Client{p1, p2} {
		number, other := w.numbers[k], w.numbers[1-k]
		st, rows := statementOf(t, cl, "2026-12", 0)
		assert.Equal(t, number, st.Provider)
		assert.Equal(t, 1, st.Version)
		assert.Equal(t, want[number], linesOf(st), "provider %s's December lines equal the hand computation", number)
		assert.Equal(t, total(want[number]), st.TotalFen)
		require.Len(t, rows, 1+len(want[number])+1, "header, one row per device, the total")
		for _, row := range rows[1:] {
			assert.Equal(t, number, row[0], "every CSV row is its own")
		}
		raw, _ := json.Marshal(st)
		assert.NotContains(t, string(raw), `"provider":"`+other+`"`)
		assert.NotContains(t, string(raw), "\""+other+"\"", "a provider's statement never names the other")
	}
	// The moved device: P1's line counts December 1–9, P2's from the 10th, with the cap used
	// in that order; the mid-month device's days before its confirmation are not P1's.
	st1, _ := statementOf(t, p1, "2026-12", 0)
	for _, l := range st1.Lines {
		switch l.SN {
		case s.moved:
			assert.Equal(t, fee.DayCounted, l.Days[0].Status)
			assert.Equal(t, fee.DayNotConfirmed, l.Days[9].Status)
		case s.midMonth:
			assert.Equal(t, fee.DayNotConfirmed, l.Days[13].Status)
			assert.Equal(t, fee.DayNotSignedUp, l.Days[14].Status, "confirmed on the 15th, signed up from the 16th")
			assert.Equal(t, fee.DayCounted, l.Days[15].Status)
		}
	}
	st2, rows2 := statementOf(t, p2, "2026-12", 0)
	// Neither provider sees the other's figures of the moved device: on its not_confirmed days
	// a line has no units (null in JSON, an empty CSV cell); P1 had real units on December 1–9.
	_, rows1 := statementOf(t, p1, "2026-12", 0)
	for k, st := range []fee.Statement{st1, st2} {
		rows := [][][]string{rows1, rows2}[k]
		for _, l := range st.Lines {
			if l.SN != s.moved {
				continue
			}
			var row []string
			for _, r := range rows {
				if r[4] == s.moved {
					row = r
				}
			}
			require.NotNil(t, row)
			notConfirmed := 0
			for i, d := range l.Days {
				if d.Status == fee.DayNotConfirmed {
					notConfirmed++
					assert.Zero(t, d.Units, "%s sees no units on %s", st.Provider, d.Date)
					assert.Empty(t, row[5+i], "%s's CSV has no units on %s", st.Provider, d.Date)
				}
			}
			assert.Greater(t, notConfirmed, 0)
		}
	}
	reasons := map[string]int{}
	for _, l := range st2.Lines {
		if s.index[l.SN] >= 900 {
			reasons[l.Reason]++
		}
	}
	assert.Equal(t, map[string]int{fee.ReasonNotSignedUp: 100}, reasons)

	// Another provider's statement: not through the provider's routes; reviewers read all.
	assert.Equal(t, "forbidden_role", p1.Do("GET", "/admin/fee/statements/"+s.p2+"/2026-12", nil).Code())
	month := rev.Do("GET", "/admin/fee/statements?month=2026-12", nil)
	require.Equal(t, http.StatusOK, month.Status)
	assert.Len(t, month.Body["items"], 2)
	assert.Equal(t, float64(total(want[s.p2])), rev.Do("GET", "/admin/fee/statements/"+s.p2+"/2026-12", nil).Body["totalFen"])
	list := p1.Do("GET", "/fee/statements", nil)
	require.Equal(t, http.StatusOK, list.Status)
	assert.NotContains(t, string(list.Raw), s.p2)
	changed := pol
	changed.EffectiveFrom = "2027-01"
	assert.Equal(t, "fee_policy_in_use", rev.Do("PUT", "/admin/fee/policies/1", changed).Code(), "a version a statement used is never edited")

	// December 31 arrives late: dropped and rolled up again by an operator. The rollup's last
	// step sees December stated and recomputes it at once: a new version for each provider
	// whose lines changed, naming the changes.
	drop("2026-12-31", generateFeeDay(t, "2026-12-31", 31, w.sns).object)
	out, err := c.Invoke(ctx, functionName(t, c, "StartRollupFunction"), []byte(`{"date":"2026-12-31"}`))
	require.NoError(t, err, string(out))
	rollups++
	execs := waitRollups(t, c, rollups)
	latest := slices.MaxFunc(execs, func(a, b sfntypes.ExecutionListItem) int { return a.StartDate.Compare(*b.StartDate) })
	assert.JSONEq(t, `["2026-12"]`, executionOutput(t, c, latest)["restatedMonths"], "the late day's rollup restated December")
	s.daysKnown = 31
	want = s.expect()
	for k, cl := range []*cloudtest.Client{p1, p2} {
		number := w.numbers[k]
		st, _ := statementOf(t, cl, "2026-12", 0)
		require.Equal(t, 2, st.Version, "the late day changed %s's statement", number)
		assert.Equal(t, want[number], linesOf(st))
		assert.Equal(t, total(want[number]), st.TotalFen)
		require.NotNil(t, st.Previous)
		assert.Equal(t, 1, st.Previous.Version)
		require.NotEmpty(t, st.Changes)
		for _, ch := range st.Changes {
			for _, dc := range ch.Days {
				assert.Equal(t, fee.Date("2026-12-31"), dc.Date, "only December 31 changed")
			}
		}
		v1, _ := statementOf(t, cl, "2026-12", 1)
		assert.Equal(t, 1, v1.Version, "version 1 stays readable")
	}

	// The schedule delivered again (and a recomputation) changes nothing.
	require.NoError(t, c.FireSchedule(ctx, "MonthlyFeeStatements"))
	c.WaitNotifications()
	out, err = c.Invoke(ctx, functionName(t, c, "FeeStatementsFunction"), []byte(`{"scheduledTime":"2026-12-31T20:00:00Z"}`))
	require.NoError(t, err, string(out))
	var res struct{ Outcomes []fee.Outcome }
	require.NoError(t, json.Unmarshal(out, &res))
	require.NotEmpty(t, res.Outcomes)
	for _, o := range res.Outcomes {
		assert.False(t, o.New, "%s %s: recomputed identically", o.Provider, o.Month)
	}
	for _, cl := range []*cloudtest.Client{p1, p2} {
		st, _ := statementOf(t, cl, "2026-12", 0)
		assert.Equal(t, 2, st.Version)
	}
}

func download(t *testing.T, link any) string {
	t.Helper()
	resp, err := http.Get(link.(map[string]any)["url"].(string))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return strings.TrimSpace(string(body))
}
