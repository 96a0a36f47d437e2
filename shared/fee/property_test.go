package fee

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// genPolicy draws any valid policy.
func genPolicy(t *rapid.T) Policy {
	p := DefaultPolicy(Month(fmt.Sprintf("2026-%02d", rapid.IntRange(1, 10).Draw(t, "from"))))
	p.Version = rapid.IntRange(1, 9).Draw(t, "version")
	p.Amount = Amount{
		Basis:       rapid.SampledFrom([]string{BasisPerDay, BasisMonthSum}).Draw(t, "basis"),
		RateFen:     rapid.Int64Range(1, 500).Draw(t, "rate"),
		Coefficient: rapid.SampledFrom([]string{"1", "0.35", "0.333", "2.5", "0.000001", "999.999999"}).Draw(t, "coeff"),
		Rounding:    rapid.SampledFrom([]string{RoundHalfUp, RoundDown, RoundUp}).Draw(t, "rounding"),
	}
	month := rapid.Int64Range(1, 100000).Draw(t, "monthCap")
	p.Caps = Caps{PerDeviceMonthFen: month, PerDeviceTotalFen: month + rapid.Int64Range(0, 300000).Draw(t, "totalExtra")}
	p.Window = Window{Months: rapid.IntRange(1, 24).Draw(t, "window"),
		Start: rapid.SampledFrom([]string{WindowAfterConfirmation, WindowFromConfirmation}).Draw(t, "start")}
	return p
}

// genDevice draws a device with up to four consecutive confirmations among three providers,
// some signed up, some days of figures, some earnings before.
func genDevice(t *rapid.T, i int, m Month, total Fen) DeviceInput {
	d := DeviceInput{SN: fmt.Sprintf("SN%04d", i), Units: map[Date]int64{}}
	for _, day := range m.Days() {
		if rapid.Bool().Draw(t, "hasUnits") {
			d.Units[day] = rapid.Int64Range(0, 2000).Draw(t, "units")
		}
	}
	start := m.first().AddDate(0, -rapid.IntRange(-1, 30).Draw(t, "monthsBack"), 0)
	from := time.Date(start.Year(), start.Month(), rapid.IntRange(1, 28).Draw(t, "day"), rapid.IntRange(0, 23).Draw(t, "hour"), 0, 0, 0, BusinessZone)
	for range rapid.IntRange(0, 4).Draw(t, "confirmations") {
		c := Confirmation{Provider: rapid.SampledFrom([]string{"P1", "P2", "P3"}).Draw(t, "provider"), From: from}
		if rapid.Bool().Draw(t, "signed") {
			d.SignUps = append(d.SignUps, SignUp{Provider: c.Provider, Date: DateOf(from.Add(time.Duration(rapid.IntRange(0, 40*24).Draw(t, "signAfterH")) * time.Hour))})
		}
		if rapid.IntRange(0, 3).Draw(t, "open") == 0 {
			d.Confirmations = append(d.Confirmations, c)
			break
		}
		c.Until = from.Add(time.Duration(rapid.IntRange(1, 60*24).Draw(t, "lengthH")) * time.Hour)
		d.Confirmations = append(d.Confirmations, c)
		from = c.Until.Add(time.Duration(rapid.IntRange(0, 72).Draw(t, "gapH")) * time.Hour)
	}
	d.EarnedBeforeFen = rapid.Int64Range(0, total+1000).Draw(t, "before")
	return d
}

func genInput(t *rapid.T) Input {
	p := genPolicy(t)
	m := p.EffectiveFrom.AddMonths(rapid.IntRange(0, 3).Draw(t, "monthAfter"))
	in := Input{Policy: p, Month: m}
	for i := range rapid.IntRange(0, 12).Draw(t, "devices") {
		in.Devices = append(in.Devices, genDevice(t, i, m, p.Caps.PerDeviceTotalFen))
	}
	return in
}

// No device ever exceeds a cap: per month across providers, and in total with what it earned
// before; each line's amount is its gross less the caps' cuts, none negative; a day counts for
// one provider at most.
func TestPropertyCapsHold(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		ss, err := Compute(in)
		if err != nil {
			t.Fatal(err)
		}
		month := map[string]Fen{}
		counted := map[string]bool{}
		for _, s := range ss {
			for _, l := range s.Lines {
				if l.AmountFen < 0 || l.MonthlyCapCutFen < 0 || l.TotalCapCutFen < 0 || l.AmountFen != l.GrossFen-l.MonthlyCapCutFen-l.TotalCapCutFen {
					t.Fatalf("%s at %s: amount %d, gross %d, cuts %d/%d", l.SN, s.Provider, l.AmountFen, l.GrossFen, l.MonthlyCapCutFen, l.TotalCapCutFen)
				}
				month[l.SN] += l.AmountFen
				for _, d := range l.Days {
					if d.Status == DayCounted {
						if counted[l.SN+string(d.Date)] {
							t.Fatalf("%s %s counted twice", l.SN, d.Date)
						}
						counted[l.SN+string(d.Date)] = true
					}
				}
			}
		}
		for _, d := range in.Devices {
			if month[d.SN] > in.Policy.Caps.PerDeviceMonthFen {
				t.Fatalf("%s earned %d this month, cap %d", d.SN, month[d.SN], in.Policy.Caps.PerDeviceMonthFen)
			}
			if month[d.SN] > 0 && d.EarnedBeforeFen+month[d.SN] > in.Policy.Caps.PerDeviceTotalFen {
				t.Fatalf("%s earned %d+%d, total cap %d", d.SN, d.EarnedBeforeFen, month[d.SN], in.Policy.Caps.PerDeviceTotalFen)
			}
		}
	})
}

// A statement's total is the sum of its lines; its counts are its lines'.
func TestPropertyTotalIsSumOfLines(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ss, err := Compute(genInput(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			var sum Fen
			earning := 0
			for _, l := range s.Lines {
				sum += l.AmountFen
				if l.AmountFen > 0 {
					earning++
				}
			}
			if sum != s.TotalFen || s.Devices != len(s.Lines) || s.Earning != earning {
				t.Fatalf("%s: total %d, lines sum %d; devices %d of %d lines", s.Provider, s.TotalFen, sum, s.Devices, len(s.Lines))
			}
		}
	})
}

// Recomputation is identical, whatever the order the devices come in, and keeps the stored
// version; a changed day makes the next version, whose changes name that day.
func TestPropertyRecomputationIsIdentical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		first, err := Compute(in)
		if err != nil {
			t.Fatal(err)
		}
		shuffled := in
		shuffled.Devices = append([]DeviceInput(nil), in.Devices...)
		rand.Shuffle(len(shuffled.Devices), func(i, j int) { shuffled.Devices[i], shuffled.Devices[j] = shuffled.Devices[j], shuffled.Devices[i] })
		again, err := Compute(shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatal("recomputation differs")
		}
		now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for i := range first {
			v1, made := Versioned(nil, first[i], now)
			if !made || v1.Version != 1 {
				t.Fatal("the first computation is version 1")
			}
			same, made := Versioned(&v1, again[i], now.Add(time.Hour))
			if made || !reflect.DeepEqual(same, v1) {
				t.Fatal("recomputing made a new version")
			}
		}
	})
}

// Versioning by hand: a late day of figures makes version 2, which names the day and the
// amounts before and after; JSON and CSV render it.
func TestLateDayMakesANewVersionWithItsChanges(t *testing.T) {
	p := policyV(DefaultPolicy("2026-01"), 1)
	dev := DeviceInput{SN: "LATE", Units: every(oct, 1, 30, 2),
		Confirmations: []Confirmation{{Provider: "A", From: at("2026-08-15 10:00")}},
		SignUps:       []SignUp{{Provider: "A", Date: "2026-08-20"}}}
	first, err := Compute(Input{Policy: p, Month: oct, Devices: []DeviceInput{dev}})
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := Versioned(nil, first[0], time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC))
	dev.Units = every(oct, 1, 31, 2)
	dev.Units["2026-10-31"] = 6
	second, err := Compute(Input{Policy: p, Month: oct, Devices: []DeviceInput{dev}})
	if err != nil {
		t.Fatal(err)
	}
	v2, made := Versioned(&v1, second[0], time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC))
	want := []Change{{SN: "LATE", Kind: ChangeChanged, AmountBeforeFen: 3000, AmountAfterFen: 3300,
		Days: []DayChange{{Date: "2026-10-31", UnitsBefore: 0, UnitsAfter: 6, StatusBefore: DayCounted, StatusAfter: DayCounted}}}}
	if !made || v2.Version != 2 || !reflect.DeepEqual(v2.Changes, want) ||
		*v2.Previous != (Previous{Version: 1, TotalFen: 3000, Fingerprint: v1.Fingerprint}) {
		t.Fatalf("version 2: %+v", v2)
	}
	if v2.ComputedAt.Equal(v1.ComputedAt) || v2.Fingerprint == v1.Fingerprint {
		t.Fatal("version 2 is a new computation")
	}
	b, err := CSV(v2)
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := "provider,month,statement_version,policy_version,sn," + join(oct.Days()) +
		",days_counted,days_not_confirmed,days_not_signed_up,days_outside_window,counted_units,gross_fen,monthly_cap_cut_fen,total_cap_cut_fen,amount_fen,amount_yuan,earned_before_fen,earned_total_fen,cap_effects,reason\n" +
		"A,2026-10,2,1,LATE," + repeat("2,", 30) + "6,31,0,0,0,66,3300,0,0,3300,33.00,0,3300,,\n" +
		"A,2026-10,2,1,TOTAL," + repeat(",", 31) + ",,,,,,,,3300,33.00,,,,\n"
	if string(b) != wantCSV {
		t.Fatalf("csv:\n%s\nwant:\n%s", b, wantCSV)
	}
}

func join(ds []Date) string {
	s := ""
	for i, d := range ds {
		if i > 0 {
			s += ","
		}
		s += string(d)
	}
	return s
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}
