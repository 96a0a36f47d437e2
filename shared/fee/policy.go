// Package fee is the technical service fee (DOMAIN.md "Technical service fee"): policies as
// versioned data, and the monthly statement engine, a pure function from a month's inputs (daily
// fee units per device, confirmation intervals, sign-ups, what each device earned before) to one
// statement per provider. It imports no AWS package; shared/store keeps policies, statements and
// sign-ups, and the monthly run (Run) reads its inputs through small interfaces.
//
// Money is integer fen everywhere (1 yuan = 100 fen). The only fractional number is a policy's
// coefficient, held as an exact decimal; every multiplication by it is rounded once, as the
// policy states, to an integer fen.
package fee

import (
	"math/bits"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/facepay/platform/shared/domain"
)

// Payment methods and statuses of the daily transaction records (DOMAIN.md "Payments").
var (
	PaymentMethods  = []string{"FACE", "QUICK_PAY", "QR_CODE", "JSAPI", "IN_APP", "H5"}
	PaymentStatuses = []string{"SUCCESS", "FAILED", "TIMEOUT", "REFUNDED"}
)

// The daily unit: the only one the programme describes.
const UnitDistinctValidPayers = "distinct_valid_payers"

// Amount bases: how a month's amount is built from the daily units.
const (
	// BasisPerDay: each day's amount is units × rate × coefficient, rounded; the month's amount
	// is the sum of the rounded days (the default scheme: 0.5 yuan per payer per day).
	BasisPerDay = "per_day"
	// BasisMonthSum: the month's units are summed first; the month's amount is
	// sum × rate × coefficient, rounded once (the comparable scheme: sum × 2 yuan × 0.35).
	BasisMonthSum = "month_sum"
)

// Rounding modes, applied where the basis says, to a whole fen. Amounts are never negative.
const (
	RoundHalfUp = "half_up" // x.5 fen and above up, below down
	RoundDown   = "down"    // any fraction of a fen dropped
	RoundUp     = "up"      // any fraction of a fen makes a whole fen
)

// Window starts: which month is the window's first.
const (
	// WindowAfterConfirmation: the months after the month of the device's first confirmation
	// (DOMAIN.md, the default: "the 12 calendar months after the month the deployer confirmed it").
	WindowAfterConfirmation = "month_after_confirmation"
	// WindowFromConfirmation: the month of the first confirmation is the window's first month.
	WindowFromConfirmation = "confirmation_month"
)

// Policy is one version of the fee policy. The versions form one series: the version in force
// for a month is the highest whose effective months include it (InForce). A statement names the
// version it used, and a version a statement used is never edited (shared/store enforces it).
type Policy struct {
	Version        int          `json:"version"` // assigned by the store: 1, 2, ...
	Scheme         string       `json:"scheme"`  // a label, e.g. "default", "comparable"
	Description    string       `json:"description,omitempty" maxLength:"500"`
	EffectiveFrom  Month        `json:"effectiveFrom"`            // first statement month it applies to
	EffectiveUntil Month        `json:"effectiveUntil,omitempty"` // last one (inclusive); empty: open-ended
	ValidPayment   ValidPayment `json:"validPayment"`
	DailyUnit      string       `json:"dailyUnit"`
	Amount         Amount       `json:"amount"`
	Caps           Caps         `json:"caps"`
	Window         Window       `json:"window"`
}

// ValidPayment is what counts as a valid payment: one transaction with one of Methods, one of
// Statuses and at least MinAmountFen. The default is the programme's "successful, unrefunded,
// offline face payment of at least 2 yuan": FACE, SUCCESS (a refunded payment's status is
// REFUNDED), 200 fen; face payments at a device are offline by nature, so no field says so.
type ValidPayment struct {
	Methods      []string `json:"methods" maxItems:"6"`
	Statuses     []string `json:"statuses" maxItems:"4"`
	MinAmountFen int64    `json:"minAmountFen"`
}

// Accepts reports whether one transaction is a valid payment under v: the rule the daily
// rollup applies when it counts a device's distinct valid payers (fee_payers).
func (v ValidPayment) Accepts(method, status string, amountFen int64) bool {
	return slices.Contains(v.Methods, method) && slices.Contains(v.Statuses, status) && amountFen >= v.MinAmountFen
}

// Amount is how a month's amount is computed from the daily units: see BasisPerDay and
// BasisMonthSum. Coefficient is an exact decimal ("0.35", "1"); Rounding says how the product is
// brought to a whole fen, once per day (per_day) or once per month (month_sum), before caps.
type Amount struct {
	Basis       string `json:"basis"`
	RateFen     int64  `json:"rateFen"`
	Coefficient string `json:"coefficient"`
	Rounding    string `json:"rounding"`
}

// Caps bound what one device earns, across all providers: per calendar month and in total.
type Caps struct {
	PerDeviceMonthFen int64 `json:"perDeviceMonthFen"`
	PerDeviceTotalFen int64 `json:"perDeviceTotalFen"`
}

// Window is how long a device earns: Months calendar months, the first as Start says, counted
// from the device's first confirmation to any provider (a device moved between providers does
// not start a new window, as it does not get a new total cap).
type Window struct {
	Months int    `json:"months"`
	Start  string `json:"start"`
}

// Bounds that keep every figure far from overflow and every policy sensible.
const (
	maxRateFen     = 1_000_000     // 10,000 yuan per unit
	maxCapFen      = 1_000_000_000 // 10 million yuan
	maxMinAmount   = 100_000_000
	maxWindow      = 120
	maxCoeffDigits = 6
)

var coefficientPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,2})(\.[0-9]{1,6})?$`)
var schemePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

func invalid(format string, args ...any) error {
	return domain.Errorf(domain.Invalid, "invalid_fee_policy", format, args...)
}

// Validate checks p as a policy version (Version excepted, which the store assigns). It
// returns Invalid ("invalid_fee_policy") naming the first problem.
func (p Policy) Validate() error {
	if !schemePattern.MatchString(p.Scheme) {
		return invalid("scheme must be 1 to 40 characters of a-z, 0-9, '_' and '-', starting with a letter or digit")
	}
	if err := p.EffectiveFrom.Validate("effectiveFrom"); err != nil {
		return err
	}
	if p.EffectiveUntil != "" {
		if err := p.EffectiveUntil.Validate("effectiveUntil"); err != nil {
			return err
		}
		if p.EffectiveUntil < p.EffectiveFrom {
			return invalid("effectiveUntil %s is before effectiveFrom %s", p.EffectiveUntil, p.EffectiveFrom)
		}
	}
	v := p.ValidPayment
	if len(v.Methods) == 0 || len(v.Statuses) == 0 {
		return invalid("validPayment needs at least one method and one status")
	}
	for _, m := range v.Methods {
		if !slices.Contains(PaymentMethods, m) {
			return invalid("validPayment: unknown method %q (one of %s)", m, strings.Join(PaymentMethods, ", "))
		}
	}
	for _, s := range v.Statuses {
		if !slices.Contains(PaymentStatuses, s) {
			return invalid("validPayment: unknown status %q (one of %s)", s, strings.Join(PaymentStatuses, ", "))
		}
	}
	if v.MinAmountFen < 0 || v.MinAmountFen > maxMinAmount {
		return invalid("validPayment.minAmountFen must be between 0 and %d", maxMinAmount)
	}
	if p.DailyUnit != UnitDistinctValidPayers {
		return invalid("dailyUnit must be %q", UnitDistinctValidPayers)
	}
	a := p.Amount
	if a.Basis != BasisPerDay && a.Basis != BasisMonthSum {
		return invalid("amount.basis must be %q or %q", BasisPerDay, BasisMonthSum)
	}
	if a.RateFen <= 0 || a.RateFen > maxRateFen {
		return invalid("amount.rateFen must be between 1 and %d", maxRateFen)
	}
	if _, err := parseCoefficient(a.Coefficient); err != nil {
		return err
	}
	if a.Rounding != RoundHalfUp && a.Rounding != RoundDown && a.Rounding != RoundUp {
		return invalid("amount.rounding must be %q, %q or %q", RoundHalfUp, RoundDown, RoundUp)
	}
	c := p.Caps
	if c.PerDeviceMonthFen <= 0 || c.PerDeviceMonthFen > maxCapFen || c.PerDeviceTotalFen <= 0 || c.PerDeviceTotalFen > maxCapFen {
		return invalid("caps.perDeviceMonthFen and caps.perDeviceTotalFen must be between 1 and %d", maxCapFen)
	}
	if c.PerDeviceMonthFen > c.PerDeviceTotalFen {
		return invalid("caps.perDeviceMonthFen (%d) is above caps.perDeviceTotalFen (%d)", c.PerDeviceMonthFen, c.PerDeviceTotalFen)
	}
	if p.Window.Months < 1 || p.Window.Months > maxWindow {
		return invalid("window.months must be between 1 and %d", maxWindow)
	}
	if p.Window.Start != WindowAfterConfirmation && p.Window.Start != WindowFromConfirmation {
		return invalid("window.start must be %q or %q", WindowAfterConfirmation, WindowFromConfirmation)
	}
	return nil
}

// AppliesTo reports whether p's effective months include m.
func (p Policy) AppliesTo(m Month) bool {
	return p.EffectiveFrom <= m && (p.EffectiveUntil == "" || m <= p.EffectiveUntil)
}

// InForce returns the version in force for month m: the highest version whose effective months
// include m. It returns NotFound ("no_fee_policy") when none does.
func InForce(versions []Policy, m Month) (Policy, error) {
	var best *Policy
	for i := range versions {
		if versions[i].AppliesTo(m) && (best == nil || versions[i].Version > best.Version) {
			best = &versions[i]
		}
	}
	if best == nil {
		return Policy{}, domain.Errorf(domain.NotFound, "no_fee_policy", "no fee policy version is in force for %s", m)
	}
	return *best, nil
}

// ratio is a coefficient as an exact fraction num/den, den a power of ten.
type ratio struct{ num, den int64 }

func parseCoefficient(s string) (ratio, error) {
	if !coefficientPattern.MatchString(s) {
		return ratio{}, invalid("amount.coefficient must be a decimal such as \"1\" or \"0.35\" (below 1000, at most %d decimals), not %q", maxCoeffDigits, s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	r := ratio{den: 1}
	for _, c := range whole + frac {
		r.num = r.num*10 + int64(c-'0')
	}
	for range frac {
		r.den *= 10
	}
	if r.num == 0 {
		return ratio{}, invalid("amount.coefficient must be above 0")
	}
	return r, nil
}

// apply returns units × rate × coefficient (r, parsed from a.Coefficient) rounded to a whole
// fen as a.Rounding says. The product is exact in 128 bits: units are at most 31 × 10^6 a
// month, the rate at most 10^6 fen and the coefficient's numerator below 1000 × its
// denominator, so the quotient fits in 64 bits and the division never overflows.
func (a Amount) apply(r ratio, units int64) Fen {
	hi, lo := bits.Mul64(uint64(units)*uint64(a.RateFen), uint64(r.num))
	q, rem := bits.Div64(hi, lo, uint64(r.den))
	switch a.Rounding {
	case RoundHalfUp:
		if 2*rem >= uint64(r.den) {
			q++
		}
	case RoundUp:
		if rem > 0 {
			q++
		}
	}
	return Fen(q)
}

// Fen is an amount of money in fen (1 yuan = 100 fen).
type Fen = int64

// Month is a calendar month, "YYYY-MM".
type Month string

// Validate returns Invalid ("invalid_month") unless m is a month "YYYY-MM" from 2000 on.
func (m Month) Validate(field string) error {
	t, err := time.Parse("2006-01", string(m))
	if err != nil || t.Format("2006-01") != string(m) || t.Year() < 2000 {
		return domain.Errorf(domain.Invalid, "invalid_month", "%s must be a month as YYYY-MM, not %q", field, m)
	}
	return nil
}

func (m Month) first() time.Time {
	t, _ := time.Parse("2006-01", string(m))
	return t
}

// AddMonths returns the month n months after m (n may be negative).
func (m Month) AddMonths(n int) Month {
	return Month(m.first().AddDate(0, n, 0).Format("2006-01"))
}

// Days returns the month's dates, "YYYY-MM-DD", in order.
func (m Month) Days() []Date {
	var out []Date
	for d := m.first(); d.Format("2006-01") == string(m); d = d.AddDate(0, 0, 1) {
		out = append(out, Date(d.Format(time.DateOnly)))
	}
	return out
}

// Date is a calendar day in the business time zone (Asia/Shanghai), "YYYY-MM-DD".
type Date string

// Validate returns Invalid ("invalid_date") unless d is a date "YYYY-MM-DD".
func (d Date) Validate(field string) error {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil || t.Format(time.DateOnly) != string(d) || t.Year() < 2000 {
		return domain.Errorf(domain.Invalid, "invalid_date", "%s must be a date as YYYY-MM-DD, not %q", field, d)
	}
	return nil
}

// Month returns the month d is in.
func (d Date) Month() Month { return Month(string(d)[:7]) }

// end is the instant d ends in the business time zone (00:00 of the next day there).
func (d Date) end() time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, string(d), BusinessZone)
	return t.AddDate(0, 0, 1)
}

// DateOf returns the business day that instant t falls on.
func DateOf(t time.Time) Date { return Date(t.In(BusinessZone).Format(time.DateOnly)) }

// MonthOf returns the business month that instant t falls on.
func MonthOf(t time.Time) Month { return Month(t.In(BusinessZone).Format("2006-01")) }

// BusinessZone is where the programme's days and months are.
var BusinessZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600) // no DST since 1991: the same offset
	}
	return loc
}()

// DefaultPolicy is the default scheme of DOMAIN.md: 0.5 yuan per distinct valid payer per
// device and day, caps of 300 yuan a month and 1000 in total, the 12 calendar months after the
// month of confirmation.
func DefaultPolicy(from Month) Policy {
	return Policy{
		Scheme: "default", EffectiveFrom: from,
		Description:  "0.5 yuan x daily distinct valid payers; 300 yuan/month, 1000 yuan in total; 12 months after the month of confirmation",
		ValidPayment: ValidPayment{Methods: []string{"FACE"}, Statuses: []string{"SUCCESS"}, MinAmountFen: 200},
		DailyUnit:    UnitDistinctValidPayers,
		Amount:       Amount{Basis: BasisPerDay, RateFen: 50, Coefficient: "1", Rounding: RoundHalfUp},
		Caps:         Caps{PerDeviceMonthFen: 30000, PerDeviceTotalFen: 100000},
		Window:       Window{Months: 12, Start: WindowAfterConfirmation},
	}
}

// ComparablePolicy is the comparable scheme of DOMAIN.md: (daily distinct payers summed over the
// month) × 2 yuan × 0.35, rounded half-up to the fen once per month before caps; 800 yuan a
// month, 1600 in total, for 5 months. Which month is the first is not published: ours counts the
// month of confirmation as the first (WindowFromConfirmation).
func ComparablePolicy(from Month) Policy {
	return Policy{
		Scheme: "comparable", EffectiveFrom: from,
		Description:  "(daily distinct valid payers summed over the month) x 2 yuan x 0.35; 800 yuan/month, 1600 yuan in total; 5 months from the month of confirmation",
		ValidPayment: ValidPayment{Methods: []string{"FACE"}, Statuses: []string{"SUCCESS"}, MinAmountFen: 200},
		DailyUnit:    UnitDistinctValidPayers,
		Amount:       Amount{Basis: BasisMonthSum, RateFen: 200, Coefficient: "0.35", Rounding: RoundHalfUp},
		Caps:         Caps{PerDeviceMonthFen: 80000, PerDeviceTotalFen: 160000},
		Window:       Window{Months: 5, Start: WindowFromConfirmation},
	}
}

// CheckNewPolicy validates p as a version a reviewer creates or edits at now: besides
// Validate, it may not take effect before the current month (Invalid "fee_policy_retroactive"):
// statements are computed after their month ends, so a version effective from the current
// month on never changes a stated month.
func CheckNewPolicy(p Policy, now time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if cur := MonthOf(now); p.EffectiveFrom < cur {
		return domain.Errorf(domain.Invalid, "fee_policy_retroactive", "effectiveFrom %s is before the current month %s: a policy never applies to past months", p.EffectiveFrom, cur)
	}
	return nil
}
