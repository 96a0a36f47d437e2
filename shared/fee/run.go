package fee

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/facepay/platform/shared/domain"
)

// Source is where a provider's month comes from: the bindings (which device was confirmed to
// it, when) and the daily figures (fee_payers per device and day, the rollup's). The run asks
// per provider, so its cost grows with each provider's devices, never with a scan of all.
type Source interface {
	// Providers returns every deployment provider whose statements the run computes.
	Providers(ctx context.Context) ([]string, error)
	// ProviderMonth returns every device confirmed to provider at the end of at least one day
	// of m (and those confirmed to it now), each with all of its confirmation intervals, to
	// every provider, ever (the window runs from the first), and its fee units on the days of m
	// it belonged to some provider, counted as v says: a device moved during the month carries
	// the other provider's days too, because the caps are the device's and are used in day
	// order across providers. A source that counts under other criteria than v returns an
	// Invalid error rather than other figures.
	ProviderMonth(ctx context.Context, provider string, m Month, v ValidPayment) (map[string]DeviceMonth, error)
}

// DeviceMonth is what a Source knows of one device for a month.
type DeviceMonth struct {
	Confirmations []Confirmation
	Units         map[Date]int64
}

// PolicyRecord is a stored policy version: Revision changes with every edit; UsedAt is when a
// statement first used it (from then on it is never edited).
type PolicyRecord struct {
	Policy    Policy     `json:"policy"`
	Revision  int        `json:"revision"`
	UsedAt    *time.Time `json:"usedAt,omitempty"`
	CreatedBy string     `json:"createdBy,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
}

// Header is what a stored statement version says about itself; the lines are in its files.
type Header struct {
	Provider       string    `json:"provider"`
	Month          Month     `json:"month"`
	Version        int       `json:"version"`
	PolicyVersion  int       `json:"policyVersion"`
	Scheme         string    `json:"scheme"`
	TotalFen       Fen       `json:"totalFen"`
	Devices        int       `json:"devices"`
	Earning        int       `json:"earningDevices"`
	Fingerprint    string    `json:"fingerprint"`
	ComputedAt     time.Time `json:"computedAt"`
	Previous       *Previous `json:"previous,omitempty"`
	ChangedDevices int       `json:"changedDevices"`
}

// HeaderOf returns s's header.
func HeaderOf(s Statement) Header {
	return Header{Provider: s.Provider, Month: s.Month, Version: s.Version, PolicyVersion: s.PolicyVersion,
		Scheme: s.Policy.Scheme, TotalFen: s.TotalFen, Devices: s.Devices, Earning: s.Earning,
		Fingerprint: s.Fingerprint, ComputedAt: s.ComputedAt, Previous: s.Previous, ChangedDevices: len(s.Changes)}
}

// StatementRecord is a stored statement version: its header and where its JSON and CSV files
// are (object keys and the object versions written).
type StatementRecord struct {
	Header
	JSONKey     string `json:"jsonKey"`
	JSONVersion string `json:"jsonVersion,omitempty"`
	CSVKey      string `json:"csvKey"`
	CSVVersion  string `json:"csvVersion,omitempty"`
}

// FileKey is where a statement version's file of the given extension is kept: owner, month and
// version in the key; the fingerprint too, so two runs racing for one version never write the
// same object with different content.
func FileKey(h Header, ext string) string {
	return fmt.Sprintf("fee-statements/%s/%s/v%04d-%s.%s", h.Provider, h.Month, h.Version, h.Fingerprint[:16], ext)
}

// Store is what the monthly run keeps and reads (shared/store implements it).
type Store interface {
	FeePolicies(ctx context.Context) ([]PolicyRecord, error)
	// LatestFeeStatement returns provider's latest statement version for m (NotFound when none).
	LatestFeeStatement(ctx context.Context, provider string, m Month) (StatementRecord, error)
	// FeeStatementsOfMonth returns the latest version of every provider's statement for m.
	FeeStatementsOfMonth(ctx context.Context, m Month) ([]StatementRecord, error)
	// FeeMonthStated reports whether any provider has a statement for m.
	FeeMonthStated(ctx context.Context, m Month) (bool, error)
	// SaveFeeStatement stores a new statement version and marks its policy version used, if the
	// policy still has policyRevision (Conflict otherwise, and when the version exists).
	SaveFeeStatement(ctx context.Context, r StatementRecord, policyRevision int) error
	// RecordFeeEarnings keeps what each device of s earns from s's provider in s's month, and
	// forgets devices s no longer lists.
	RecordFeeEarnings(ctx context.Context, s Statement) error
	// FeeEarnedBefore returns what each of sns earned in the months before m, from every
	// provider (the total cap is the device's): read by key, a batch of devices per request.
	FeeEarnedBefore(ctx context.Context, m Month, sns []string) (map[string]Fen, error)
	// FeeSignUps returns every sign-up provider made and every sign-up of each of others (the
	// devices that had another provider during the month), by SN: per provider, not per device.
	FeeSignUps(ctx context.Context, provider string, others []string) (map[string][]Enrolment, error)
}

// Objects keeps statement files (the artifacts bucket).
type Objects interface {
	PutObject(ctx context.Context, key, contentType string, body []byte) (versionID string, err error)
	ReadObject(ctx context.Context, key, versionID string) ([]byte, error)
}

// Runner computes months' statements from its sources and keeps them.
type Runner struct {
	Source  Source
	Store   Store
	Objects Objects
}

// Outcome is what a run did for one provider's statement.
type Outcome struct {
	Provider string `json:"provider"`
	Month    Month  `json:"month"`
	Version  int    `json:"version"`
	New      bool   `json:"new"` // false: the stored version already said the same
	TotalFen Fen    `json:"totalFen"`
}

// MonthsDue returns what the schedule computes when it runs at `at`: the month before (its
// first statements), and the month before that again, so that figures which arrived late for
// it make a new version before the next month's earned totals are built on it. Oldest first:
// each month's earned-before reads the one before.
func MonthsDue(at time.Time) []Month {
	last := MonthOf(at).AddMonths(-1)
	return []Month{last.AddMonths(-1), last}
}

// Run computes and keeps the statements of months, oldest first, for every provider. Running
// again changes nothing unless an input changed; then each changed statement gets a new
// version naming what changed. A month that has statements is recomputed with the policy
// version they used, so a later policy never rewrites a stated month.
func (r Runner) Run(ctx context.Context, now time.Time, months ...Month) ([]Outcome, error) {
	return r.RunFor(ctx, now, nil, months...)
}

// RunFor is Run for the named providers only (nil: every provider), so that a run too large
// for one invocation can be split by provider.
func (r Runner) RunFor(ctx context.Context, now time.Time, providers []string, months ...Month) ([]Outcome, error) {
	months = slices.Clone(months)
	slices.Sort(months)
	if providers == nil {
		all, err := r.Source.Providers(ctx)
		if err != nil {
			return nil, fmt.Errorf("providers: %w", err)
		}
		providers = all
	}
	providers = slices.Clone(providers)
	slices.Sort(providers)
	providers = slices.Compact(providers)
	var out []Outcome
	for _, m := range slices.Compact(months) {
		pol, err := r.policyFor(ctx, m)
		if domain.KindOf(err) == domain.NotFound {
			slog.InfoContext(ctx, "no fee policy in force: no statements", "month", m)
			continue
		}
		if err != nil {
			return out, fmt.Errorf("fee statements of %s: %w", m, err)
		}
		for _, p := range providers {
			o, err := r.provider(ctx, now, pol, p, m)
			if err != nil {
				return out, fmt.Errorf("fee statement of %s for %s: %w", m, p, err)
			}
			if o != nil {
				out = append(out, *o)
			}
		}
	}
	return out, nil
}

// Restate recomputes the stated months from day's through the last one over at now, oldest
// first, after day's figures changed (a day rolled up late, or again): day's month changes,
// and each month after it counts that month's earnings toward the device's total cap. Months
// without statements are left to the monthly run (a month's last day is rolled up at 02:00 on
// the 1st, its first statements made at 04:00). It returns the months it recomputed.
func (r Runner) Restate(ctx context.Context, now time.Time, day Date) ([]Month, []Outcome, error) {
	if err := day.Validate("rolledUp"); err != nil {
		return nil, nil, err
	}
	var months []Month
	for m := day.Month(); m < MonthOf(now); m = m.AddMonths(1) {
		stated, err := r.Store.FeeMonthStated(ctx, m)
		if err != nil {
			return nil, nil, fmt.Errorf("statements of %s: %w", m, err)
		}
		if stated {
			months = append(months, m)
		}
	}
	if len(months) == 0 {
		return nil, nil, nil
	}
	out, err := r.RunFor(ctx, now, nil, months...)
	return months, out, err
}

// provider computes and keeps provider's statement of m (nil: no device of its on any day).
// The computation covers every provider of its devices (a moved device's lines depend on each
// other through the caps); only provider's statement is kept: the other providers' are
// computed, whole, in their own turn, and agree on the shared devices' lines because Compute
// is a function of each device's input.
func (r Runner) provider(ctx context.Context, now time.Time, pol PolicyRecord, provider string, m Month) (*Outcome, error) {
	// How long each read took is logged: the run's time is its reads, per provider.
	began := time.Now()
	var took []any
	step := func(name string) {
		took = append(took, name, time.Since(began).Milliseconds())
		began = time.Now()
	}
	defer func() {
		slog.InfoContext(ctx, "fee statement run (ms per step)", append([]any{"provider", provider, "month", m}, took...)...)
	}()
	devices, err := r.Source.ProviderMonth(ctx, provider, m, pol.Policy.ValidPayment)
	if err != nil {
		return nil, fmt.Errorf("devices and figures: %w", err)
	}
	sns := make([]string, 0, len(devices))
	for sn := range devices {
		sns = append(sns, sn)
	}
	slices.Sort(sns)
	step("source")
	earned, err := r.Store.FeeEarnedBefore(ctx, m, sns)
	if err != nil {
		return nil, err
	}
	step("earnedBefore")
	enrolled, err := r.Store.FeeSignUps(ctx, provider, othersInMonth(devices, provider, m))
	if err != nil {
		return nil, err
	}
	step("signUps")
	in := Input{Policy: pol.Policy, Month: m, Devices: make([]DeviceInput, 0, len(sns))}
	for _, sn := range sns {
		d := DeviceInput{SN: sn, Units: devices[sn].Units, Confirmations: devices[sn].Confirmations, EarnedBeforeFen: earned[sn]}
		for _, e := range enrolled[sn] {
			d.SignUps = append(d.SignUps, e.SignUp())
		}
		in.Devices = append(in.Devices, d)
	}
	computed, err := Compute(in)
	if err != nil {
		return nil, err
	}
	step("compute")
	for _, s := range computed {
		if s.Provider == provider {
			o, err := r.keep(ctx, s, pol.Revision, now)
			step("keep")
			return &o, err
		}
	}
	return nil, nil
}

// policyFor returns the policy version month m is computed with: the one its statements used,
// else the one in force.
func (r Runner) policyFor(ctx context.Context, m Month) (PolicyRecord, error) {
	all, err := r.Store.FeePolicies(ctx)
	if err != nil {
		return PolicyRecord{}, err
	}
	stated, err := r.Store.FeeStatementsOfMonth(ctx, m)
	if err != nil {
		return PolicyRecord{}, err
	}
	want := 0
	if len(stated) > 0 {
		want = stated[0].PolicyVersion
	} else {
		versions := make([]Policy, len(all))
		for i, p := range all {
			versions[i] = p.Policy
		}
		p, err := InForce(versions, m)
		if err != nil {
			return PolicyRecord{}, err
		}
		want = p.Version
	}
	for _, p := range all {
		if p.Policy.Version == want {
			return p, nil
		}
	}
	return PolicyRecord{}, fmt.Errorf("policy version %d of %s's statements is missing", want, m)
}

// keep stores s as the provider's next statement version unless the latest says the same, and
// records the earnings of whichever is kept (again after a crash: it is idempotent).
func (r Runner) keep(ctx context.Context, s Statement, policyRevision int, now time.Time) (Outcome, error) {
	var prev *Statement
	rec, err := r.Store.LatestFeeStatement(ctx, s.Provider, s.Month)
	switch {
	case domain.KindOf(err) == domain.NotFound:
	case err != nil:
		return Outcome{}, err
	default:
		b, err := r.Objects.ReadObject(ctx, rec.JSONKey, rec.JSONVersion)
		if err != nil {
			return Outcome{}, fmt.Errorf("read statement %s: %w", rec.JSONKey, err)
		}
		prev = new(Statement)
		if err := json.Unmarshal(b, prev); err != nil {
			return Outcome{}, fmt.Errorf("decode statement %s: %w", rec.JSONKey, err)
		}
	}
	kept, made := Versioned(prev, s, now)
	if made {
		if err := r.save(ctx, kept, policyRevision); err != nil {
			return Outcome{}, err
		}
	}
	if err := r.Store.RecordFeeEarnings(ctx, kept); err != nil {
		return Outcome{}, err
	}
	return Outcome{Provider: kept.Provider, Month: kept.Month, Version: kept.Version, New: made, TotalFen: kept.TotalFen}, nil
}

// save writes the files first and the header last: a header always points at files that exist.
func (r Runner) save(ctx context.Context, s Statement, policyRevision int) error {
	js, err := JSON(s)
	if err != nil {
		return err
	}
	cs, err := CSV(s)
	if err != nil {
		return err
	}
	rec := StatementRecord{Header: HeaderOf(s)}
	rec.JSONKey, rec.CSVKey = FileKey(rec.Header, "json"), FileKey(rec.Header, "csv")
	if rec.JSONVersion, err = r.Objects.PutObject(ctx, rec.JSONKey, "application/json", js); err != nil {
		return err
	}
	if rec.CSVVersion, err = r.Objects.PutObject(ctx, rec.CSVKey, "text/csv; charset=utf-8", cs); err != nil {
		return err
	}
	return r.Store.SaveFeeStatement(ctx, rec, policyRevision)
}

// othersInMonth returns the devices that were confirmed to another provider than provider at
// some time during m: their sign-ups to that provider decide their other days, which share the
// caps in day order.
func othersInMonth(devices map[string]DeviceMonth, provider string, m Month) []string {
	// a day's margin either side for the business zone: reading one device too many is harmless
	start, end := m.first().AddDate(0, 0, -1), m.AddMonths(1).first().AddDate(0, 0, 1)
	var out []string
	for sn, d := range devices {
		for _, c := range d.Confirmations {
			if c.Provider != provider && c.From.Before(end) && (c.Until.IsZero() || c.Until.After(start)) {
				out = append(out, sn)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}
