package fee

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/facepay/platform/shared/domain"
)

// Confirmation is one interval during which a device was confirmed to a provider: from the
// provider's confirmation until the binding ended (zero Until: still confirmed). The binding
// work (issue 13) is its source (ConfirmationSource).
type Confirmation struct {
	Provider string    `json:"provider"`
	From     time.Time `json:"from"`
	Until    time.Time `json:"until,omitzero"`
}

// owns reports whether the confirmation holds at the end of a day, given as the instant the day
// ends (Date.end). A day belongs to the provider the device was confirmed to when the day ended
// (Asia/Shanghai): the day of confirmation counts, the day a device moved away counts for the
// provider it moved to, never for two.
func (c Confirmation) owns(dayEnd time.Time) bool {
	return c.From.Before(dayEnd) && (c.Until.IsZero() || !c.Until.Before(dayEnd))
}

// SignUp is a provider's sign-up of a device for the fee, from Date on. It holds for the
// confirmation interval it was made in: a device that left the provider and came back needs a
// new sign-up.
type SignUp struct {
	Provider string `json:"provider"`
	Date     Date   `json:"date"`
}

// DeviceInput is what the engine knows of one device for the month.
type DeviceInput struct {
	SN string
	// Units are the daily fee units (fee_payers: distinct valid payers) by date; a date without
	// figures counts 0 (figures that arrive late make a new statement version).
	Units map[Date]int64
	// Confirmations are all of the device's confirmation intervals, to every provider, ever: the
	// window runs from the first.
	Confirmations []Confirmation
	SignUps       []SignUp
	// EarnedBeforeFen is what the device earned in the months before, from every provider.
	EarnedBeforeFen Fen
}

// Input is one month's computation.
type Input struct {
	Policy  Policy
	Month   Month
	Devices []DeviceInput
}

// Day statuses: whether a day of the month counts for the provider whose line it is in.
const (
	DayCounted       = "counted"
	DayNotConfirmed  = "not_confirmed"  // the device was not confirmed to this provider at the day's end
	DayNotSignedUp   = "not_signed_up"  // confirmed, but no sign-up of this provider covers the day
	DayOutsideWindow = "outside_window" // the month is outside the device's window
)

// Reasons a line earns nothing.
const (
	ReasonNotSignedUp       = "not_signed_up"
	ReasonOutsideWindow     = "outside_window"
	ReasonNoValidPayments   = "no_valid_payments"
	ReasonMonthlyCapReached = "monthly_cap_reached" // the month's cap was used up earlier in the month (by another provider's days)
	ReasonTotalCapReached   = "total_cap_reached"
)

// Day is one day of a line: the device's fee units that day and whether they count here. On a
// day the device was not confirmed to this provider its units are another provider's figures
// (or nobody's): the line has none (0 here, null in JSON, an empty cell in CSV), and the status
// says why. On days it was confirmed here but not signed up, or outside its window, the units
// are shown: they are this provider's own device's figures.
type Day struct {
	Date   Date   `json:"date"`
	Units  int64  `json:"units"`
	Status string `json:"status"`
}

// MarshalJSON writes units as null on a day the device was not confirmed to the provider.
func (d Day) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Date   Date   `json:"date"`
		Units  *int64 `json:"units"`
		Status string `json:"status"`
	}{d.Date, shownUnits(d.Units, d.Status), d.Status})
}

// shownUnits is what a statement shows of a day's units: none (nil) on a day the device was
// not confirmed to its provider.
func shownUnits(u int64, status string) *int64 {
	if status == DayNotConfirmed {
		return nil
	}
	return &u
}

// Line is one device in one provider's statement.
type Line struct {
	SN   string `json:"sn"`
	Days []Day  `json:"days"`
	// CountedUnits sums the units of the counted days.
	CountedUnits int64 `json:"countedUnits"`
	// GrossFen is the policy's amount for the counted days, rounded as it states, before caps.
	GrossFen Fen `json:"grossFen"`
	// MonthlyCapCutFen and TotalCapCutFen are what each cap took off GrossFen.
	MonthlyCapCutFen Fen `json:"monthlyCapCutFen"`
	TotalCapCutFen   Fen `json:"totalCapCutFen"`
	AmountFen        Fen `json:"amountFen"`
	// EarnedBeforeFen is what the device earned in earlier months, from every provider;
	// EarnedTotalFen adds this month's amounts up to and including this line (a device moved
	// mid-month has a line with each provider, the earlier provider's first).
	EarnedBeforeFen Fen `json:"earnedBeforeFen"`
	EarnedTotalFen  Fen `json:"earnedTotalFen"`
	// CapEffects names the caps that cut the amount: "monthly_cap", "total_cap".
	CapEffects []string `json:"capEffects"`
	// Reason says why the line earns nothing (empty when it earns).
	Reason string `json:"reason,omitempty"`
}

// Statement is one provider's statement for a month.
type Statement struct {
	Provider      string    `json:"provider"`
	Month         Month     `json:"month"`
	PolicyVersion int       `json:"policyVersion"`
	Policy        Policy    `json:"policy"`
	Lines         []Line    `json:"lines"`
	TotalFen      Fen       `json:"totalFen"`
	Devices       int       `json:"devices"`
	Earning       int       `json:"earningDevices"`
	Version       int       `json:"version"`             // 1, 2, ...: set by Versioned
	Fingerprint   string    `json:"fingerprint"`         // of the content above, set by Versioned
	ComputedAt    time.Time `json:"computedAt,omitzero"` // when this version was first computed
	Previous      *Previous `json:"previous,omitempty"`  // the version this one replaces
	Changes       []Change  `json:"changes,omitempty"`   // what changed since Previous
}

// Bounds on the inputs: units beyond them are not a device's day but a broken source.
const maxUnitsPerDay = 1_000_000

// Compute returns the month's statements, one per provider with at least one device confirmed
// to it on at least one day of the month, ordered by provider; lines are ordered by SN. It is a
// pure function of in: the same input gives the same statements. It returns Invalid for a
// policy that does not validate, a policy not in force for the month, or bad input.
func Compute(in Input) ([]Statement, error) {
	if err := in.Policy.Validate(); err != nil {
		return nil, err
	}
	if err := in.Month.Validate("month"); err != nil {
		return nil, err
	}
	if !in.Policy.AppliesTo(in.Month) {
		return nil, domain.Errorf(domain.Invalid, "fee_policy_not_in_force", "policy version %d does not apply to %s", in.Policy.Version, in.Month)
	}
	days := in.Month.Days()
	ends := make([]time.Time, len(days))
	for i, d := range days {
		ends[i] = d.end()
	}
	rate, _ := parseCoefficient(in.Policy.Amount.Coefficient) // validated above
	byProvider := map[string]*Statement{}
	seen := map[string]bool{}
	for _, dev := range in.Devices {
		if dev.SN == "" || seen[dev.SN] {
			return nil, domain.Errorf(domain.Invalid, "invalid_fee_input", "device %q is missing or repeated", dev.SN)
		}
		seen[dev.SN] = true
		if dev.EarnedBeforeFen < 0 {
			return nil, domain.Errorf(domain.Invalid, "invalid_fee_input", "device %s: earned before is negative", dev.SN)
		}
		for d, u := range dev.Units {
			if u < 0 || u > maxUnitsPerDay || d.Month() != in.Month {
				return nil, domain.Errorf(domain.Invalid, "invalid_fee_input", "device %s: %d units on %s", dev.SN, u, d)
			}
		}
		for _, l := range deviceLines(in.Policy, rate, in.Month, days, ends, dev) {
			s := byProvider[l.provider]
			if s == nil {
				s = &Statement{Provider: l.provider, Month: in.Month, PolicyVersion: in.Policy.Version, Policy: in.Policy, Lines: []Line{}}
				byProvider[l.provider] = s
			}
			s.Lines = append(s.Lines, l.Line)
		}
	}
	out := make([]Statement, 0, len(byProvider))
	for _, s := range byProvider {
		slices.SortFunc(s.Lines, func(a, b Line) int { return cmp.Compare(a.SN, b.SN) })
		for _, l := range s.Lines {
			s.TotalFen += l.AmountFen
			if l.AmountFen > 0 {
				s.Earning++
			}
		}
		s.Devices = len(s.Lines)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Statement) int { return cmp.Compare(a.Provider, b.Provider) })
	return out, nil
}

type providerLine struct {
	provider string
	first    Date // the provider's first day of the month: caps are used in this order
	Line
}

// deviceLines computes one device's lines, one per provider it was confirmed to during the
// month. Both caps are the device's, across providers: the providers' amounts use them up in
// the order of their first day in the month.
func deviceLines(p Policy, rate ratio, m Month, days []Date, ends []time.Time, dev DeviceInput) []providerLine {
	inWindow := windowHolds(p.Window, m, dev.Confirmations)
	fromDates := confirmationDates(dev.Confirmations)
	owner := make([]string, len(days)) // the provider each day belongs to, "" for none
	var lines []*providerLine
	index := map[string]*providerLine{}
	for i, d := range days {
		for _, c := range dev.Confirmations {
			if c.owns(ends[i]) {
				owner[i] = c.Provider
				break
			}
		}
		if owner[i] != "" && index[owner[i]] == nil {
			l := &providerLine{provider: owner[i], first: d, Line: Line{SN: dev.SN, CapEffects: []string{}}}
			index[owner[i]] = l
			lines = append(lines, l)
		}
	}
	monthLeft := p.Caps.PerDeviceMonthFen
	totalLeft := max(p.Caps.PerDeviceTotalFen-dev.EarnedBeforeFen, 0)
	earned := dev.EarnedBeforeFen
	out := make([]providerLine, 0, len(lines))
	for _, l := range lines {
		var anySigned bool
		l.Days = make([]Day, len(days))
		for i, d := range days {
			day := Day{Date: d, Units: dev.Units[d], Status: DayCounted}
			switch {
			case owner[i] != l.provider:
				day.Status, day.Units = DayNotConfirmed, 0 // another provider's (or nobody's) figures: never shown here
			case !inWindow:
				day.Status = DayOutsideWindow
			case !signedUp(l.provider, d, ends[i], dev, fromDates):
				day.Status = DayNotSignedUp
			default:
				anySigned = true
				l.CountedUnits += day.Units
				if p.Amount.Basis == BasisPerDay {
					l.GrossFen += p.Amount.apply(rate, day.Units)
				}
			}
			l.Days[i] = day
		}
		if p.Amount.Basis == BasisMonthSum {
			l.GrossFen = p.Amount.apply(rate, l.CountedUnits)
		}
		afterMonth := min(l.GrossFen, monthLeft)
		l.MonthlyCapCutFen = l.GrossFen - afterMonth
		l.AmountFen = min(afterMonth, totalLeft)
		l.TotalCapCutFen = afterMonth - l.AmountFen
		monthLeft -= afterMonth
		totalLeft -= l.AmountFen
		earned += l.AmountFen
		l.EarnedBeforeFen, l.EarnedTotalFen = dev.EarnedBeforeFen, earned
		if l.MonthlyCapCutFen > 0 {
			l.CapEffects = append(l.CapEffects, "monthly_cap")
		}
		if l.TotalCapCutFen > 0 {
			l.CapEffects = append(l.CapEffects, "total_cap")
		}
		if l.AmountFen == 0 {
			switch {
			case !inWindow:
				l.Reason = ReasonOutsideWindow
			case !anySigned:
				l.Reason = ReasonNotSignedUp
			case l.GrossFen == 0:
				l.Reason = ReasonNoValidPayments
			case l.TotalCapCutFen > 0 || dev.EarnedBeforeFen >= p.Caps.PerDeviceTotalFen:
				l.Reason = ReasonTotalCapReached
			default:
				l.Reason = ReasonMonthlyCapReached
			}
		}
		out = append(out, *l)
	}
	return out
}

func confirmationDates(cs []Confirmation) []Date {
	out := make([]Date, len(cs))
	for i, c := range cs {
		out[i] = DateOf(c.From)
	}
	return out
}

// windowHolds reports whether month m is inside the device's window, which runs from its first
// confirmation to any provider.
func windowHolds(w Window, m Month, cs []Confirmation) bool {
	if len(cs) == 0 {
		return false
	}
	start := firstMonth(w, cs)
	return start <= m && m <= start.AddMonths(w.Months-1)
}

// firstMonth is the first month of the window of a device with confirmations cs (at least one).
func firstMonth(w Window, cs []Confirmation) Month {
	if len(cs) == 0 {
		return ""
	}
	first := cs[0].From
	for _, c := range cs[1:] {
		if c.From.Before(first) {
			first = c.From
		}
	}
	start := MonthOf(first)
	if w.Start == WindowAfterConfirmation {
		start = start.AddMonths(1)
	}
	return start
}

// signedUp reports whether a sign-up of provider covers day d: one made on or before d, within
// the confirmation interval to that provider that d belongs to.
// fromDates are DateOf each confirmation's From, computed once per device.
func signedUp(provider string, d Date, dayEnd time.Time, dev DeviceInput, fromDates []Date) bool {
	for i, c := range dev.Confirmations {
		if c.Provider != provider || !c.owns(dayEnd) {
			continue
		}
		from := fromDates[i]
		for _, s := range dev.SignUps {
			if s.Provider == provider && s.Date <= d && s.Date >= from {
				return true
			}
		}
	}
	return false
}
