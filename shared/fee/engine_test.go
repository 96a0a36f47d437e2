package fee

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// at is an instant in the business time zone.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, BusinessZone)
	if err != nil {
		panic(err)
	}
	return t
}

// every gives n units on each day of month m from day `from` to day `to` (inclusive).
func every(m Month, from, to int, n int64) map[Date]int64 {
	out := map[Date]int64{}
	for i, d := range m.Days() {
		if i+1 >= from && i+1 <= to {
			out[d] = n
		}
	}
	return out
}

func statementOf(t *testing.T, ss []Statement, provider string) Statement {
	t.Helper()
	for _, s := range ss {
		if s.Provider == provider {
			return s
		}
	}
	require.Failf(t, "no statement", "provider %s has none", provider)
	return Statement{}
}

func lineOf(t *testing.T, s Statement, sn string) Line {
	t.Helper()
	for _, l := range s.Lines {
		if l.SN == sn {
			return l
		}
	}
	require.Failf(t, "no line", "%s has no line for %s", s.Provider, sn)
	return Line{}
}

// want is a hand-computed line: the figures that matter, the rest follows from them.
type want struct {
	counted, gross, monthCut, totalCut, amount, before, total int64
	reason                                                    string
	caps                                                      []string
}

func assertLine(t *testing.T, w want, l Line) {
	t.Helper()
	assert.Equal(t, w, want{l.CountedUnits, l.GrossFen, l.MonthlyCapCutFen, l.TotalCapCutFen, l.AmountFen,
		l.EarnedBeforeFen, l.EarnedTotalFen, l.Reason, l.CapEffects}, l.SN)
}

func policyV(p Policy, v int) Policy { p.Version = v; return p }

const oct Month = "2026-10"

// Default scheme: 0.5 yuan (50 fen) per distinct valid payer per device and day, rounded per
// day (no fraction arises at a rate of 50 and a coefficient of 1); 300 yuan a month, 1000 in
// total; the 12 months after the month of the first confirmation.
func TestComputeDefaultScheme(t *testing.T) {
	p := policyV(DefaultPolicy("2026-01"), 1)
	in := Input{Policy: p, Month: oct, Devices: []DeviceInput{
		{ // monthly cap: 25 payers every day → 25×50 = 1250 fen a day, 31 days = 38750; cap 30000.
			SN: "MONTHCAP", Units: every(oct, 1, 31, 25), EarnedBeforeFen: 20000,
			Confirmations: []Confirmation{{Provider: "A", From: at("2026-08-15 10:00")}},
			SignUps:       []SignUp{{Provider: "A", Date: "2026-08-20"}},
		},
		{ // moved A → B on Oct 16 (A's binding ended 10:00, B confirmed 15:00; B signed up Oct 17).
			// Oct 1–15 are A's: 15×4×50 = 3000. Oct 16 is B's (B held it when the day ended) but
			// not signed up; Oct 17–31 count for B: 15×4×50 = 3000.
			SN: "MOVED", Units: every(oct, 1, 31, 4),
			Confirmations: []Confirmation{
				{Provider: "A", From: at("2026-06-01 09:00"), Until: at("2026-10-16 10:00")},
				{Provider: "B", From: at("2026-10-16 15:00")},
			},
			SignUps: []SignUp{{Provider: "A", Date: "2026-06-01"}, {Provider: "B", Date: "2026-10-17"}},
		},
		{ // moved A → B with heavy days: the month cap is the device's, A's days use it first.
			// A: Oct 1–15, 15×30×50 = 22500; B: Oct 16–31, 16×30×50 = 24000, of which 7500 fit.
			SN: "MOVEDCAP", Units: every(oct, 1, 31, 30),
			Confirmations: []Confirmation{
				{Provider: "A", From: at("2026-01-05 09:00"), Until: at("2026-10-16 08:00")},
				{Provider: "B", From: at("2026-10-16 09:00")},
			},
			SignUps: []SignUp{{Provider: "A", Date: "2026-01-05"}, {Provider: "B", Date: "2026-10-16"}},
		},
		{ // confirmed mid-month: the window starts the month after, so October is outside it.
			SN: "MIDMONTH", Units: every(oct, 10, 31, 5),
			Confirmations: []Confirmation{{Provider: "A", From: at("2026-10-10 09:00")}},
			SignUps:       []SignUp{{Provider: "A", Date: "2026-10-10"}},
		},
		{ // confirmed 2025-08: window 2025-09 .. 2026-08; October 2026 is outside.
			SN: "OLD", Units: every(oct, 1, 31, 7),
			Confirmations: []Confirmation{{Provider: "A", From: at("2025-08-01 12:00")}},
			SignUps:       []SignUp{{Provider: "A", Date: "2025-08-01"}},
		},
		{ // never signed up.
			SN: "UNSIGNED", Units: every(oct, 1, 31, 9),
			Confirmations: []Confirmation{{Provider: "B", From: at("2026-09-01 12:00")}},
		},
		{ // signed up on Oct 21: Oct 21–31 count, 11×3×50 = 1650.
			SN: "LATESIGN", Units: every(oct, 1, 31, 3),
			Confirmations: []Confirmation{{Provider: "A", From: at("2026-09-01 12:00")}},
			SignUps:       []SignUp{{Provider: "A", Date: "2026-10-21"}},
		},
		{ // signed up, in window, no valid payments.
			SN: "QUIET", Confirmations: []Confirmation{{Provider: "B", From: at("2026-09-01 12:00")}},
			SignUps: []SignUp{{Provider: "B", Date: "2026-09-02"}},
		},
		{ // confirmed to nobody in October: no line anywhere.
			SN: "GONE", Units: every(oct, 1, 31, 3),
			Confirmations: []Confirmation{{Provider: "A", From: at("2026-01-01 12:00"), Until: at("2026-09-30 12:00")}},
			SignUps:       []SignUp{{Provider: "A", Date: "2026-01-01"}},
		},
	}}
	ss, err := Compute(in)
	require.NoError(t, err)
	require.Len(t, ss, 2)
	a, b := statementOf(t, ss, "A"), statementOf(t, ss, "B")

	assertLine(t, want{775, 38750, 8750, 0, 30000, 20000, 50000, "", []string{"monthly_cap"}}, lineOf(t, a, "MONTHCAP"))
	assertLine(t, want{60, 3000, 0, 0, 3000, 0, 3000, "", []string{}}, lineOf(t, a, "MOVED"))
	assertLine(t, want{60, 3000, 0, 0, 3000, 0, 6000, "", []string{}}, lineOf(t, b, "MOVED"))
	assertLine(t, want{450, 22500, 0, 0, 22500, 0, 22500, "", []string{}}, lineOf(t, a, "MOVEDCAP"))
	assertLine(t, want{480, 24000, 16500, 0, 7500, 0, 30000, "", []string{"monthly_cap"}}, lineOf(t, b, "MOVEDCAP"))
	assertLine(t, want{0, 0, 0, 0, 0, 0, 0, ReasonOutsideWindow, []string{}}, lineOf(t, a, "MIDMONTH"))
	assertLine(t, want{0, 0, 0, 0, 0, 0, 0, ReasonOutsideWindow, []string{}}, lineOf(t, a, "OLD"))
	assertLine(t, want{0, 0, 0, 0, 0, 0, 0, ReasonNotSignedUp, []string{}}, lineOf(t, b, "UNSIGNED"))
	assertLine(t, want{33, 1650, 0, 0, 1650, 0, 1650, "", []string{}}, lineOf(t, a, "LATESIGN"))
	assertLine(t, want{0, 0, 0, 0, 0, 0, 0, ReasonNoValidPayments, []string{}}, lineOf(t, b, "QUIET"))

	// Day by day for the moved device: A holds Oct 1–15, B Oct 16–31, B's Oct 16 unsigned.
	moved := lineOf(t, b, "MOVED")
	assert.Equal(t, Day{Date: "2026-10-15", Units: 0, Status: DayNotConfirmed}, moved.Days[14], "A's day: B sees no units")
	assert.Equal(t, Day{Date: "2026-10-16", Units: 4, Status: DayNotSignedUp}, moved.Days[15])
	assert.Equal(t, Day{Date: "2026-10-17", Units: 4, Status: DayCounted}, moved.Days[16])
	assert.Equal(t, DayCounted, lineOf(t, a, "MOVED").Days[14].Status)
	assert.Equal(t, DayNotConfirmed, lineOf(t, a, "MOVED").Days[15].Status)
	// Neither provider sees the other's figures: no units on its not_confirmed days, in
	// JSON (null) and CSV (an empty cell), while its own days show theirs.
	for _, s := range []Statement{a, b} {
		for _, d := range lineOf(t, s, "MOVED").Days {
			if d.Status == DayNotConfirmed {
				assert.Zero(t, d.Units, "%s %s", s.Provider, d.Date)
			}
		}
	}
	js, err := json.Marshal(moved.Days[14:16])
	require.NoError(t, err)
	assert.JSONEq(t, `[{"date":"2026-10-15","units":null,"status":"not_confirmed"},{"date":"2026-10-16","units":4,"status":"not_signed_up"}]`, string(js))
	cs, err := CSV(b)
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(cs)).ReadAll()
	require.NoError(t, err)
	for _, row := range rows {
		if row[4] == "MOVED" {
			assert.Equal(t, []string{"", "4", "4"}, row[5+14:5+17], "Oct 15 (A's) empty; Oct 16 and 17 B's own")
		}
	}
	assert.Len(t, moved.Days, 31)

	assert.Equal(t, []string{"LATESIGN", "MIDMONTH", "MONTHCAP", "MOVED", "MOVEDCAP", "OLD"}, sns(a))
	assert.Equal(t, []string{"MOVED", "MOVEDCAP", "QUIET", "UNSIGNED"}, sns(b))
	assert.Equal(t, int64(30000+3000+22500+1650), a.TotalFen)
	assert.Equal(t, int64(3000+7500), b.TotalFen)
	assert.Equal(t, 4, a.Earning)
	assert.Equal(t, 1, p.Version)
	assert.Equal(t, 1, a.PolicyVersion)
}

// The total cap, 1000 yuan, across two months: 80000 earned before September; September's
// 10 payers a day (30×10×50 = 15000) fit; October's 31×10×50 = 15500 meet the 5000 left.
// November earns nothing: the cap is reached.
func TestComputeTotalCapAcrossMonths(t *testing.T) {
	p := policyV(DefaultPolicy("2026-01"), 1)
	dev := func(m Month, before int64) DeviceInput {
		return DeviceInput{SN: "TOTAL", Units: every(m, 1, 31, 10), EarnedBeforeFen: before,
			Confirmations: []Confirmation{{Provider: "A", From: at("2025-12-10 10:00")}},
			SignUps:       []SignUp{{Provider: "A", Date: "2025-12-10"}}}
	}
	sep, err := Compute(Input{Policy: p, Month: "2026-09", Devices: []DeviceInput{dev("2026-09", 80000)}})
	require.NoError(t, err)
	l := lineOf(t, statementOf(t, sep, "A"), "TOTAL")
	assertLine(t, want{300, 15000, 0, 0, 15000, 80000, 95000, "", []string{}}, l)

	octS, err := Compute(Input{Policy: p, Month: oct, Devices: []DeviceInput{dev(oct, l.EarnedTotalFen)}})
	require.NoError(t, err)
	l = lineOf(t, statementOf(t, octS, "A"), "TOTAL")
	assertLine(t, want{310, 15500, 0, 10500, 5000, 95000, 100000, "", []string{"total_cap"}}, l)

	nov, err := Compute(Input{Policy: p, Month: "2026-11", Devices: []DeviceInput{dev("2026-11", l.EarnedTotalFen)}})
	require.NoError(t, err)
	l = lineOf(t, statementOf(t, nov, "A"), "TOTAL")
	assertLine(t, want{300, 15000, 0, 15000, 0, 100000, 100000, ReasonTotalCapReached, []string{"total_cap"}}, l)
}

// Comparable scheme: (distinct valid payers summed over the month) × 200 fen × 0.35, rounded
// half-up once per month, before caps (800 yuan a month, 1600 in total); 5 months counting the
// month of confirmation.
func TestComputeComparableScheme(t *testing.T) {
	p := policyV(ComparablePolicy("2026-01"), 2)
	in := Input{Policy: p, Month: oct, Devices: []DeviceInput{
		{ // 40 a day: 1240 × 70 = 86800; cap 80000.
			SN: "MONTHCAP", Units: every(oct, 1, 31, 40),
			Confirmations: []Confirmation{{Provider: "A", From: at("2026-08-15 10:00")}},
			SignUps:       []SignUp{{Provider: "A", Date: "2026-08-15"}},
		},
		{ // A: Oct 1–15, 60 units → 4200; B (signed up Oct 17): Oct 17–31, 60 units → 4200.
			SN: "MOVED", Units: every(oct, 1, 31, 4),
			Confirmations: []Confirmation{
				{Provider: "A", From: at("2026-09-01 09:00"), Until: at("2026-10-16 10:00")},
				{Provider: "B", From: at("2026-10-16 15:00")},
			},
			SignUps: []SignUp{{Provider: "A", Date: "2026-09-01"}, {Provider: "B", Date: "2026-10-17"}},
		},
		{ // confirmed Oct 10: October is the window's first month; Oct 10–31 = 22 days × 5 = 110 → 7700.
			SN: "MIDMONTH", Units: every(oct, 1, 31, 5),
			Confirmations: []Confirmation{{Provider: "A", From: at("2026-10-10 09:00")}},
			SignUps:       []SignUp{{Provider: "A", Date: "2026-10-10"}},
		},
		{ // confirmed 2026-05: window May..September; October is outside.
			SN: "OLD", Units: every(oct, 1, 31, 7),
			Confirmations: []Confirmation{{Provider: "B", From: at("2026-05-20 12:00")}},
			SignUps:       []SignUp{{Provider: "B", Date: "2026-05-21"}},
		},
		{ // 150000 earned before: 20 a day = 620 × 70 = 43400 gross, 10000 left.
			SN: "TOTAL", Units: every(oct, 1, 31, 20), EarnedBeforeFen: 150000,
			Confirmations: []Confirmation{{Provider: "B", From: at("2026-07-01 12:00")}},
			SignUps:       []SignUp{{Provider: "B", Date: "2026-07-01"}},
		},
	}}
	ss, err := Compute(in)
	require.NoError(t, err)
	a, b := statementOf(t, ss, "A"), statementOf(t, ss, "B")
	assertLine(t, want{1240, 86800, 6800, 0, 80000, 0, 80000, "", []string{"monthly_cap"}}, lineOf(t, a, "MONTHCAP"))
	assertLine(t, want{60, 4200, 0, 0, 4200, 0, 4200, "", []string{}}, lineOf(t, a, "MOVED"))
	assertLine(t, want{60, 4200, 0, 0, 4200, 0, 8400, "", []string{}}, lineOf(t, b, "MOVED"))
	assertLine(t, want{110, 7700, 0, 0, 7700, 0, 7700, "", []string{}}, lineOf(t, a, "MIDMONTH"))
	assertLine(t, want{0, 0, 0, 0, 0, 0, 0, ReasonOutsideWindow, []string{}}, lineOf(t, b, "OLD"))
	assertLine(t, want{620, 43400, 0, 33400, 10000, 150000, 160000, "", []string{"total_cap"}}, lineOf(t, b, "TOTAL"))
	assert.Equal(t, DayNotConfirmed, lineOf(t, a, "MIDMONTH").Days[8].Status, "Oct 9: not yet confirmed")
	assert.Equal(t, DayCounted, lineOf(t, a, "MIDMONTH").Days[9].Status, "Oct 10: the day of confirmation counts")
	assert.Equal(t, int64(80000+4200+7700), a.TotalFen)
	assert.Equal(t, int64(4200+10000), b.TotalFen)
	assert.Equal(t, 2, a.PolicyVersion)
}

// Rounding is where the basis says: per day, each day's product is rounded; per month, the
// month's. 0.35 × 50 fen = 17.5 fen per unit.
func TestRoundingFollowsBasisAndMode(t *testing.T) {
	for _, tt := range []struct {
		basis, rounding string
		want            int64
	}{
		{BasisPerDay, RoundHalfUp, 3 * 18}, // 17.5 → 18, three days
		{BasisPerDay, RoundDown, 3 * 17},
		{BasisPerDay, RoundUp, 3 * 18},
		{BasisMonthSum, RoundHalfUp, 53}, // 52.5 → 53
		{BasisMonthSum, RoundDown, 52},
		{BasisMonthSum, RoundUp, 53},
	} {
		p := DefaultPolicy("2026-01")
		p.Amount = Amount{Basis: tt.basis, RateFen: 50, Coefficient: "0.35", Rounding: tt.rounding}
		ss, err := Compute(Input{Policy: p, Month: oct, Devices: []DeviceInput{{
			SN: "R", Units: every(oct, 1, 3, 1),
			Confirmations: []Confirmation{{Provider: "A", From: at("2026-01-01 00:00")}},
			SignUps:       []SignUp{{Provider: "A", Date: "2026-01-01"}},
		}}})
		require.NoError(t, err)
		assert.Equal(t, tt.want, ss[0].Lines[0].GrossFen, "%s %s", tt.basis, tt.rounding)
	}
	apply := func(a Amount, units int64) Fen {
		r, err := parseCoefficient(a.Coefficient)
		require.NoError(t, err)
		return a.apply(r, units)
	}
	assert.Equal(t, Fen(466), apply(Amount{Basis: BasisMonthSum, RateFen: 200, Coefficient: "0.333", Rounding: RoundHalfUp}, 7)) // 466.2
	assert.Equal(t, Fen(467), apply(Amount{Basis: BasisMonthSum, RateFen: 200, Coefficient: "0.333", Rounding: RoundUp}, 7))
	assert.Equal(t, Fen(0), apply(Amount{Basis: BasisMonthSum, RateFen: 200, Coefficient: "0.35", Rounding: RoundHalfUp}, 0))
	// The largest product the bounds allow: 31 × 10^6 units × 10^6 fen × 999.999999, exact.
	assert.Equal(t, Fen(31_000_000*1_000_000*999+31_000_000*1_000_000*999_999/1_000_000),
		apply(Amount{Basis: BasisMonthSum, RateFen: 1_000_000, Coefficient: "999.999999", Rounding: RoundDown}, 31_000_000))
}

// A sign-up holds for the confirmation it was made in: back with A after B, the old sign-up
// does not count.
func TestSignUpHoldsForItsConfirmation(t *testing.T) {
	p := DefaultPolicy("2026-01")
	ss, err := Compute(Input{Policy: p, Month: oct, Devices: []DeviceInput{{
		SN: "BACK", Units: every(oct, 1, 31, 2),
		Confirmations: []Confirmation{
			{Provider: "A", From: at("2026-03-01 09:00"), Until: at("2026-09-01 09:00")},
			{Provider: "B", From: at("2026-09-01 10:00"), Until: at("2026-09-30 10:00")},
			{Provider: "A", From: at("2026-09-30 11:00")},
		},
		SignUps: []SignUp{{Provider: "A", Date: "2026-03-01"}},
	}}})
	require.NoError(t, err)
	require.Len(t, ss, 1)
	assert.Equal(t, ReasonNotSignedUp, ss[0].Lines[0].Reason)
}

func TestComputeRefusesBadInput(t *testing.T) {
	p := DefaultPolicy("2026-01")
	conf := []Confirmation{{Provider: "A", From: at("2026-01-01 00:00")}}
	for name, in := range map[string]Input{
		"month before the policy": {Policy: p, Month: "2025-12"},
		"bad month":               {Policy: p, Month: "2026-13"},
		"repeated device":         {Policy: p, Month: oct, Devices: []DeviceInput{{SN: "X", Confirmations: conf}, {SN: "X"}}},
		"units of another month":  {Policy: p, Month: oct, Devices: []DeviceInput{{SN: "X", Units: map[Date]int64{"2026-11-01": 1}}}},
		"negative units":          {Policy: p, Month: oct, Devices: []DeviceInput{{SN: "X", Units: map[Date]int64{"2026-10-01": -1}}}},
		"invalid policy":          {Policy: Policy{}, Month: oct},
	} {
		_, err := Compute(in)
		assert.Error(t, err, name)
	}
}

func sns(s Statement) []string {
	var out []string
	for _, l := range s.Lines {
		out = append(out, l.SN)
	}
	return out
}
