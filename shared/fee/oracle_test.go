package fee

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// oracle is an independent, deliberately plain computation of the two schemes of DOMAIN.md for
// a device confirmed to at most two providers in the month (one move), written from the rules
// rather than from the engine: it works in float-free integer arithmetic with the schemes'
// constants spelt out.
func oracle(scheme string, m Month, d DeviceInput) map[string]Fen {
	type share struct {
		provider string
		units    int64
		gross    Fen
	}
	// The window, from the first confirmation.
	first := d.Confirmations[0].From
	for _, c := range d.Confirmations {
		if c.From.Before(first) {
			first = c.From
		}
	}
	fy, fm, _ := first.In(BusinessZone).Date()
	my, mm := m.first().Year(), int(m.first().Month())
	since := (my-fy)*12 + mm - int(fm) // months since the month of the first confirmation
	inWindow := since >= 1 && since <= 12
	if scheme == "comparable" {
		inWindow = since >= 0 && since <= 4
	}
	var shares []*share
	byProvider := map[string]*share{}
	for _, day := range m.Days() {
		dayEnd, _ := time.ParseInLocation(time.DateOnly, string(day), BusinessZone)
		dayEnd = dayEnd.Add(24*time.Hour - time.Nanosecond)
		owner, from := "", time.Time{}
		for _, c := range d.Confirmations {
			if !c.From.After(dayEnd) && (c.Until.IsZero() || c.Until.After(dayEnd)) {
				owner, from = c.Provider, c.From
			}
		}
		if owner == "" {
			continue
		}
		if byProvider[owner] == nil {
			byProvider[owner] = &share{provider: owner}
			shares = append(shares, byProvider[owner])
		}
		signed := false
		for _, s := range d.SignUps {
			if s.Provider == owner && s.Date <= day && s.Date >= DateOf(from) {
				signed = true
			}
		}
		if !inWindow || !signed {
			continue
		}
		byProvider[owner].units += d.Units[day]
		if scheme == "default" {
			byProvider[owner].gross += d.Units[day] * 50 // 0.5 yuan
		}
	}
	out := map[string]Fen{}
	monthCap, totalLeft := Fen(30000), Fen(100000)-d.EarnedBeforeFen
	if scheme == "comparable" {
		monthCap, totalLeft = 80000, 160000-d.EarnedBeforeFen
	}
	for _, s := range shares {
		if scheme == "comparable" {
			s.gross = (s.units*200*35 + 50) / 100 // × 2 yuan × 0.35, half up
		}
		amount := min(s.gross, monthCap, max(totalLeft, 0))
		monthCap -= min(s.gross, monthCap)
		totalLeft -= amount
		out[s.provider] = amount
	}
	return out
}

// 1,000 devices over a 30-day month, both schemes: every line's amount equals the independent
// computation's, and each statement's total is the sum of them.
func TestEngineAgreesWithAnIndependentComputation(t *testing.T) {
	const month Month = "2026-11"
	rng := rand.New(rand.NewPCG(14, 2026))
	var devices []DeviceInput
	for i := range 1000 {
		d := DeviceInput{SN: fmt.Sprintf("00A%020d", i), Units: map[Date]int64{}}
		for _, day := range month.Days() {
			if rng.IntN(10) > 0 {
				d.Units[day] = int64(rng.IntN(40))
			}
		}
		confirmed := time.Date(2026, time.Month(6+rng.IntN(6)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, BusinessZone)
		if rng.IntN(20) == 0 {
			confirmed = time.Date(2025, 9, 1, 0, 0, 0, 0, BusinessZone) // long ago: outside both windows
		}
		p1, p2 := "dep-a", "dep-b"
		if rng.IntN(2) == 0 {
			p1, p2 = p2, p1
		}
		c := Confirmation{Provider: p1, From: confirmed}
		d.Confirmations = []Confirmation{c}
		if rng.IntN(4) == 0 { // moved during the month
			c.Until = time.Date(2026, 11, 1+rng.IntN(29), rng.IntN(24), 0, 0, 0, BusinessZone)
			if c.Until.Before(c.From) {
				c.Until = c.From.Add(time.Hour)
			}
			d.Confirmations = []Confirmation{c, {Provider: p2, From: c.Until.Add(time.Duration(rng.IntN(30)) * time.Hour)}}
			if rng.IntN(3) > 0 {
				d.SignUps = append(d.SignUps, SignUp{Provider: p2, Date: DateOf(d.Confirmations[1].From.AddDate(0, 0, rng.IntN(5)))})
			}
		}
		if rng.IntN(6) > 0 {
			d.SignUps = append(d.SignUps, SignUp{Provider: p1, Date: DateOf(confirmed.AddDate(0, 0, rng.IntN(60)))})
		}
		d.EarnedBeforeFen = int64(rng.IntN(170000))
		devices = append(devices, d)
	}
	for _, p := range []Policy{DefaultPolicy("2026-01"), ComparablePolicy("2026-01")} {
		ss, err := Compute(Input{Policy: p, Month: month, Devices: devices})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Fen{}
		for _, s := range ss {
			var sum Fen
			for _, l := range s.Lines {
				got[s.Provider+"/"+l.SN] = l.AmountFen
				sum += l.AmountFen
			}
			if sum != s.TotalFen {
				t.Fatalf("%s %s: total %d, lines %d", p.Scheme, s.Provider, s.TotalFen, sum)
			}
		}
		earning, lines := 0, 0
		for _, d := range devices {
			for provider, want := range oracle(p.Scheme, month, d) {
				lines++
				if got[provider+"/"+d.SN] != want {
					t.Fatalf("%s %s at %s: engine %d, independent %d", p.Scheme, d.SN, provider, got[provider+"/"+d.SN], want)
				}
				if want > 0 {
					earning++
				}
			}
		}
		if lines != len(got) {
			t.Fatalf("%s: engine has %d lines, the independent computation %d", p.Scheme, len(got), lines)
		}
		if earning < 300 {
			t.Fatalf("%s: only %d lines earn; the generated month is too thin to test anything", p.Scheme, earning)
		}
	}
}

// BenchmarkCompute: a month of 1,000 devices (30 days of figures each), default scheme.
func BenchmarkCompute(b *testing.B) {
	const month Month = "2026-11"
	var devices []DeviceInput
	for i := range 1000 {
		d := DeviceInput{SN: fmt.Sprintf("00A%020d", i), Units: map[Date]int64{},
			Confirmations: []Confirmation{{Provider: fmt.Sprintf("dep-%d", i%10), From: time.Date(2026, 6, 1, 0, 0, 0, 0, BusinessZone)}},
			SignUps:       []SignUp{{Provider: fmt.Sprintf("dep-%d", i%10), Date: "2026-06-01"}}}
		for j, day := range month.Days() {
			d.Units[day] = int64((i + j) % 37)
		}
		devices = append(devices, d)
	}
	for _, p := range []Policy{DefaultPolicy("2026-01"), ComparablePolicy("2026-01")} {
		b.Run(p.Scheme, func(b *testing.B) {
			for b.Loop() {
				if _, err := Compute(Input{Policy: p, Month: month, Devices: devices}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
