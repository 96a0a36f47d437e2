package fee

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/facepay/platform/shared/csvsafe"
)

// Previous names the version a statement version replaces.
type Previous struct {
	Version     int    `json:"version"`
	TotalFen    Fen    `json:"totalFen"`
	Fingerprint string `json:"fingerprint"`
}

// Change kinds.
const (
	ChangeAdded   = "added"   // the device has a line now and had none
	ChangeRemoved = "removed" // the device had a line and has none now
	ChangeChanged = "changed"
)

// Change is what changed in one device's line between two versions of a statement.
type Change struct {
	SN              string      `json:"sn"`
	Kind            string      `json:"kind"`
	Days            []DayChange `json:"days,omitempty"`
	AmountBeforeFen Fen         `json:"amountBeforeFen"`
	AmountAfterFen  Fen         `json:"amountAfterFen"`
	ReasonBefore    string      `json:"reasonBefore,omitempty"`
	ReasonAfter     string      `json:"reasonAfter,omitempty"`
}

// DayChange is one day whose units or status changed (a day of figures that arrived late, a
// confirmation or sign-up that changed the day's status).
type DayChange struct {
	Date         Date   `json:"date"`
	UnitsBefore  int64  `json:"unitsBefore"`
	UnitsAfter   int64  `json:"unitsAfter"`
	StatusBefore string `json:"statusBefore"`
	StatusAfter  string `json:"statusAfter"`
}

// content is what a statement's fingerprint covers: everything computed, nothing about the
// version that holds it.
type content struct {
	Provider      string `json:"provider"`
	Month         Month  `json:"month"`
	PolicyVersion int    `json:"policyVersion"`
	Policy        Policy `json:"policy"`
	Lines         []Line `json:"lines"`
	TotalFen      Fen    `json:"totalFen"`
}

// FingerprintOf returns the SHA-256 of s's computed content (provider, month, policy, lines,
// total), hex encoded: two computations with the same result have the same fingerprint.
func FingerprintOf(s Statement) string {
	b, err := json.Marshal(content{s.Provider, s.Month, s.PolicyVersion, s.Policy, s.Lines, s.TotalFen})
	if err != nil {
		panic(fmt.Sprintf("fee: marshal statement: %v", err)) // plain structs: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Versioned returns the statement to keep for a fresh computation: prev itself when the
// computation gives the same content (recomputing changes nothing), else the next version,
// carrying what changed since prev. prev is nil for a provider's first statement of the month.
// The boolean reports whether a new version was made.
func Versioned(prev *Statement, computed Statement, now time.Time) (Statement, bool) {
	fp := FingerprintOf(computed)
	if prev != nil && prev.Fingerprint == fp {
		return *prev, false
	}
	computed.Fingerprint, computed.ComputedAt, computed.Version = fp, now.UTC(), 1
	computed.Previous, computed.Changes = nil, nil
	if prev != nil {
		computed.Version = prev.Version + 1
		computed.Previous = &Previous{Version: prev.Version, TotalFen: prev.TotalFen, Fingerprint: prev.Fingerprint}
		computed.Changes = Diff(prev.Lines, computed.Lines)
	}
	return computed, true
}

// Diff returns the changes from lines before to lines after, by SN. Both are ordered by SN.
func Diff(before, after []Line) []Change {
	old := make(map[string]Line, len(before))
	for _, l := range before {
		old[l.SN] = l
	}
	var out []Change
	for _, a := range after {
		b, ok := old[a.SN]
		delete(old, a.SN)
		if !ok {
			out = append(out, Change{SN: a.SN, Kind: ChangeAdded, AmountAfterFen: a.AmountFen, ReasonAfter: a.Reason})
			continue
		}
		days := dayChanges(b.Days, a.Days)
		if len(days) == 0 && b.AmountFen == a.AmountFen && b.Reason == a.Reason && lineEqual(a, b) {
			continue
		}
		out = append(out, Change{SN: a.SN, Kind: ChangeChanged, Days: days, AmountBeforeFen: b.AmountFen,
			AmountAfterFen: a.AmountFen, ReasonBefore: b.Reason, ReasonAfter: a.Reason})
	}
	for _, b := range before {
		if _, ok := old[b.SN]; ok {
			out = append(out, Change{SN: b.SN, Kind: ChangeRemoved, AmountBeforeFen: b.AmountFen, ReasonBefore: b.Reason})
		}
	}
	slices.SortFunc(out, func(x, y Change) int { return strings.Compare(x.SN, y.SN) })
	return out
}

// MarshalJSON writes the units of a side whose status is not_confirmed as null (see Day).
func (c DayChange) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Date         Date   `json:"date"`
		UnitsBefore  *int64 `json:"unitsBefore"`
		UnitsAfter   *int64 `json:"unitsAfter"`
		StatusBefore string `json:"statusBefore"`
		StatusAfter  string `json:"statusAfter"`
	}{c.Date, shownUnits(c.UnitsBefore, c.StatusBefore), shownUnits(c.UnitsAfter, c.StatusAfter), c.StatusBefore, c.StatusAfter})
}

func dayChanges(before, after []Day) []DayChange {
	var out []DayChange
	for i := range min(len(before), len(after)) {
		b, a := before[i], after[i]
		if b != a {
			out = append(out, DayChange{Date: a.Date, UnitsBefore: b.Units, UnitsAfter: a.Units, StatusBefore: b.Status, StatusAfter: a.Status})
		}
	}
	return out
}

// lineEqual compares the figures of two lines of the same device (earned-before may change when
// an earlier month was recomputed, with no day changing).
func lineEqual(a, b Line) bool {
	return a.CountedUnits == b.CountedUnits && a.GrossFen == b.GrossFen && a.MonthlyCapCutFen == b.MonthlyCapCutFen &&
		a.TotalCapCutFen == b.TotalCapCutFen && a.EarnedBeforeFen == b.EarnedBeforeFen && a.EarnedTotalFen == b.EarnedTotalFen &&
		slices.Equal(a.CapEffects, b.CapEffects)
}

// JSON renders s as its JSON document.
func JSON(s Statement) ([]byte, error) {
	return json.MarshalIndent(s, "", " ")
}

// CSV renders s as a table, one row per device then a total row. Columns: the statement's
// provider, month, version and policy version; the SN; the units of each day of the month
// (column named by the date; empty on a day the device was not confirmed to the provider); how
// many days had each status; the counted units, gross amount, what each cap cut, the amount
// (fen, and yuan to the fen), earned before and in total; the cap effects and the reason when
// the device earns nothing.
func CSV(s Statement) ([]byte, error) {
	var buf bytes.Buffer
	w := csvsafe.NewWriter(&buf)
	days := s.Month.Days()
	head := []string{"provider", "month", "statement_version", "policy_version", "sn"}
	for _, d := range days {
		head = append(head, string(d))
	}
	head = append(head, "days_counted", "days_not_confirmed", "days_not_signed_up", "days_outside_window",
		"counted_units", "gross_fen", "monthly_cap_cut_fen", "total_cap_cut_fen", "amount_fen", "amount_yuan",
		"earned_before_fen", "earned_total_fen", "cap_effects", "reason")
	rows := [][]string{head}
	base := []string{s.Provider, string(s.Month), strconv.Itoa(s.Version), strconv.Itoa(s.PolicyVersion)}
	for _, l := range s.Lines {
		row := append(slices.Clone(base), l.SN)
		count := map[string]int{}
		for _, d := range l.Days {
			if d.Status == DayNotConfirmed { // another provider's day: no units here (see Day)
				row = append(row, "")
			} else {
				row = append(row, strconv.FormatInt(d.Units, 10))
			}
			count[d.Status]++
		}
		row = append(row, strconv.Itoa(count[DayCounted]), strconv.Itoa(count[DayNotConfirmed]),
			strconv.Itoa(count[DayNotSignedUp]), strconv.Itoa(count[DayOutsideWindow]),
			strconv.FormatInt(l.CountedUnits, 10), fen(l.GrossFen), fen(l.MonthlyCapCutFen), fen(l.TotalCapCutFen),
			fen(l.AmountFen), Yuan(l.AmountFen), fen(l.EarnedBeforeFen), fen(l.EarnedTotalFen),
			strings.Join(l.CapEffects, ";"), l.Reason)
		rows = append(rows, row)
	}
	total := append(slices.Clone(base), "TOTAL")
	for range days {
		total = append(total, "")
	}
	total = append(total, "", "", "", "", "", "", "", "", fen(s.TotalFen), Yuan(s.TotalFen), "", "", "", "")
	rows = append(rows, total)
	if err := w.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("render statement csv: %w", err)
	}
	return buf.Bytes(), nil
}

func fen(f Fen) string { return strconv.FormatInt(f, 10) }

// Yuan formats an amount in fen as yuan with two decimals, exactly ("1234.05").
func Yuan(f Fen) string {
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	return fmt.Sprintf("%s%d.%02d", sign, f/100, f%100)
}
