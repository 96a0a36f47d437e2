package domain

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Binding (DOMAIN.md section 6): a vendor fills in the deployment provider's number for each of
// its factory-checked devices; the provider confirms (or declines) it. Only a confirmed binding
// lets the provider see the device's transaction figures and sign it up for the service fee.
//
// A device has one Binding, whose state moves:
//
//	(none) ──assign──▶ assigned ──confirm──▶ confirmed
//	                      │  ▲                   │
//	               decline│  │assign/reassign    │reassign (to another provider) / unbind
//	                      ▼  │                   ▼
//	                   declined               assigned (to the new one) / unbound
//
// Because a device has exactly one binding, carrying one provider, it has at most one
// confirmed provider at any time; every change is written under the binding's version, so
// racing changes cannot both commit. Every change is one history entry (Change: From/To are
// provider numbers) kept on the binding, from which ConfirmationIntervals derives when a
// provider held the device.

// BindingState is where a device's binding stands.
type BindingState string

// Binding states. Only Assigned and Confirmed are visible to the provider.
const (
	BindingAssigned  BindingState = "assigned"  // filled in by the vendor, waiting for the provider
	BindingConfirmed BindingState = "confirmed" // the provider confirmed: it sees the figures
	BindingDeclined  BindingState = "declined"  // the provider declined: the vendor fills in another
	BindingUnbound   BindingState = "unbound"   // the vendor removed the provider
)

// Binding history actions (Change.Action).
const (
	ActionAssigned   = "assigned"
	ActionReassigned = "reassigned"
	ActionConfirmed  = "confirmed"
	ActionDeclined   = "declined"
	ActionUnbound    = "unbound"
)

// MaxBindingBatch is the most devices one bulk binding request carries (a CSV import carries
// up to MaxBindingImportRows and is processed asynchronously).
const MaxBindingBatch = 500

// MaxBindingImportRows is the most rows one uploaded binding CSV may have.
const MaxBindingImportRows = 100_000

// providerNumberPattern is a deployment provider's number *(our choice)*: "DP" and 8 digits,
// given once when its application is approved (like a vendor code, never reused).
var providerNumberPattern = regexp.MustCompile(`^DP[0-9]{8}$`)

// ProviderNumberAt is the provider number of allocation index i (0-based): DP00000001, …
func ProviderNumberAt(i int) (string, error) {
	if i < 0 || i >= 99_999_999 {
		return "", Errorf(Conflict, "codes_exhausted", "no provider number is left")
	}
	return fmt.Sprintf("DP%08d", i+1), nil
}

// ValidateProviderNumber returns an Invalid error ("invalid_provider_number") unless s has the
// form of a provider number.
func ValidateProviderNumber(s string) error {
	if !providerNumberPattern.MatchString(s) {
		return Errorf(Invalid, "invalid_provider_number", "provider %q is not a deployment provider number (DP and 8 digits)", s)
	}
	return nil
}

// Deployer is an approved deployment provider: its organisation and number.
type Deployer struct {
	Org           string    `json:"org"`
	Number        string    `json:"number"`
	Name          string    `json:"name"`
	ApplicationID string    `json:"applicationId"`
	ApprovedAt    time.Time `json:"approvedAt"`
}

// Binding is a device's deployment provider and where its confirmation stands.
type Binding struct {
	SN          string       `json:"sn"`
	VendorOrg   string       `json:"vendorOrg"`
	Provider    string       `json:"provider,omitempty"` // the provider's number ("" once unbound)
	State       BindingState `json:"state"`
	Since       time.Time    `json:"since"`                 // the last change
	ConfirmedAt *time.Time   `json:"confirmedAt,omitempty"` // while confirmed
	// History is every change, oldest first: kept on the binding itself, so a change and its
	// entry are one conditional write. Never shown to a provider (it names other providers).
	History []Change `json:"-"`
	Version int      `json:"-"`
}

// MaxBindingChanges bounds a device's binding history *(our choice)*: a device changes hands a
// few times in its life; a hundred changes means something is wrong, and the platform's staff
// look at it ("binding_history_full") rather than the item growing without end.
const MaxBindingChanges = 100

// record makes ch the latest entry of next's history (b's history and ch).
func record(b, next *Binding, ch *Change) (*Binding, *Change, error) {
	if b != nil {
		if len(b.History) >= MaxBindingChanges {
			return nil, nil, Errorf(Conflict, "binding_history_full", "device %s changed binding %d times; ask the platform", b.SN, len(b.History))
		}
		// The history stays in time order: a change whose time was read before a racing change
		// committed (the retry of a lost race, or another instance's clock) is dated at that
		// change, never before it, or confirmation intervals would overlap.
		if last := b.Since; ch.At.Before(last) {
			ch.At, next.Since = last, last
			if next.ConfirmedAt != nil {
				next.ConfirmedAt = &last
			}
		}
		next.History = append(slices.Clone(b.History), *ch)
	} else {
		next.History = []Change{*ch}
	}
	return next, ch, nil
}

// Bindable returns nil when the vendor org may bind d: its own device that passed the factory
// check. Another vendor's device is "device_not_found" (SNs cannot be probed);
// "device_not_factory_checked" (Conflict) when it has not passed.
func Bindable(d *Device, org string) error {
	if d == nil || d.VendorOrg != org {
		return Errorf(NotFound, "device_not_found", "device does not exist")
	}
	if d.Status != DevicePassed {
		return Errorf(Conflict, "device_not_factory_checked", "device %s has not passed the factory check (status %s)", d.SN, d.Status)
	}
	return nil
}

// ErrDeviceAlreadyBound: the device has another provider (assigned or confirmed); changing it
// must be asked for explicitly (reassign).
var ErrDeviceAlreadyBound = &Error{Kind: Conflict, Code: "device_already_bound",
	Message: "the device has another deployment provider; reassign explicitly"}

// Assign fills in provider for the device of b (nil: never bound) on behalf of vendor org
// (the caller checked Bindable). It returns the new binding and its history entry, or
// (nil, nil) when the device already has that provider (a retry changes nothing). A device
// assigned to or confirmed by another provider is changed only when reassign is set
// (ErrDeviceAlreadyBound otherwise); a confirmed provider then loses the device at now.
func Assign(b *Binding, sn, org, provider string, reassign bool, by string, now time.Time) (*Binding, *Change, error) {
	if err := ValidateProviderNumber(provider); err != nil {
		return nil, nil, err
	}
	next := &Binding{SN: sn, VendorOrg: org, Provider: provider, State: BindingAssigned, Since: now}
	ch := &Change{At: now, By: by, Action: ActionAssigned, To: provider}
	if b == nil {
		return record(nil, next, ch)
	}
	next.Version = b.Version
	switch {
	case b.Provider == provider && (b.State == BindingAssigned || b.State == BindingConfirmed):
		return nil, nil, nil
	case b.State == BindingAssigned || b.State == BindingConfirmed:
		if !reassign {
			return nil, nil, ErrDeviceAlreadyBound.Withf("device %s has deployment provider %s (%s); send reassign to change it", sn, b.Provider, b.State)
		}
		ch.Action, ch.From, ch.Reason = ActionReassigned, b.Provider, string(b.State)
	}
	return record(b, next, ch)
}

// Unbind removes the device's provider on behalf of its vendor. Unbinding a device that has
// none changes nothing ((nil, nil, nil): a retry).
func Unbind(b *Binding, by string, now time.Time) (*Binding, *Change, error) {
	if b == nil || (b.State != BindingAssigned && b.State != BindingConfirmed) {
		return nil, nil, nil
	}
	next := &Binding{SN: b.SN, VendorOrg: b.VendorOrg, State: BindingUnbound, Since: now, Version: b.Version}
	return record(b, next, &Change{At: now, By: by, Action: ActionUnbound, From: b.Provider, Reason: string(b.State)})
}

// ErrBindingNotFound: the device is not assigned to the calling provider. The same answer for
// another provider's device and for an unknown SN, so a provider learns nothing it was not given.
var ErrBindingNotFound = &Error{Kind: NotFound, Code: "binding_not_found", Message: "no device with this SN is assigned to you"}

// Confirm records provider's confirmation. It returns (nil, nil) when provider confirmed it
// already (a retry), ErrBindingNotFound when the device is not assigned to provider.
func Confirm(b *Binding, provider, by string, now time.Time) (*Binding, *Change, error) {
	if !visibleTo(b, provider) {
		return nil, nil, ErrBindingNotFound.Withf("device is not assigned to you")
	}
	if b.State == BindingConfirmed {
		return nil, nil, nil
	}
	at := now
	next := &Binding{SN: b.SN, VendorOrg: b.VendorOrg, Provider: provider, State: BindingConfirmed, Since: now, ConfirmedAt: &at, Version: b.Version}
	return record(b, next, &Change{At: now, By: by, Action: ActionConfirmed, To: provider})
}

// Decline records that provider declines a device assigned to it. Declining again changes
// nothing; a confirmed device cannot be declined ("binding_confirmed": the vendor unbinds or
// reassigns it); a device not assigned to provider is ErrBindingNotFound.
func Decline(b *Binding, provider, by, reason string, now time.Time) (*Binding, *Change, error) {
	if b != nil && b.State == BindingDeclined && b.Provider == provider {
		return nil, nil, nil
	}
	if !visibleTo(b, provider) {
		return nil, nil, ErrBindingNotFound.Withf("device is not assigned to you")
	}
	if b.State == BindingConfirmed {
		return nil, nil, Errorf(Conflict, "binding_confirmed", "device %s is confirmed; only its vendor can unbind it", b.SN)
	}
	next := &Binding{SN: b.SN, VendorOrg: b.VendorOrg, Provider: provider, State: BindingDeclined, Since: now, Version: b.Version}
	return record(b, next, &Change{At: now, By: by, Action: ActionDeclined, From: provider, Reason: reason})
}

// visibleTo reports whether provider may see b: assigned to it, waiting or confirmed.
func visibleTo(b *Binding, provider string) bool {
	return b != nil && b.Provider == provider && (b.State == BindingAssigned || b.State == BindingConfirmed)
}

// VisibleTo reports whether the provider numbered provider may see the binding at all.
func (b *Binding) VisibleTo(provider string) bool { return visibleTo(b, provider) }

// FiguresVisibleTo reports whether provider may see the device's transaction figures: only
// once it confirmed the device.
func (b *Binding) FiguresVisibleTo(provider string) bool {
	return b != nil && b.Provider == provider && b.State == BindingConfirmed
}

// Interval is a span during which Provider held a device's confirmation: [From, To); To is nil
// while it still holds it.
type Interval struct {
	Provider string     `json:"provider"`
	From     time.Time  `json:"from"`
	To       *time.Time `json:"to,omitempty"`
}

// Covers reports whether the interval holds at t.
func (i Interval) Covers(t time.Time) bool {
	return !t.Before(i.From) && (i.To == nil || t.Before(*i.To))
}

// Overlaps reports whether the interval meets [from, to).
func (i Interval) Overlaps(from, to time.Time) bool {
	return i.From.Before(to) && (i.To == nil || i.To.After(from))
}

// ConfirmationIntervals derives a device's confirmation intervals from its binding history
// (any order): a confirmation opens one, a reassignment or unbinding of the confirmed provider
// closes it. This is what the service fee reads: "the confirmation intervals of device X".
func ConfirmationIntervals(history []Change) []Interval {
	h := slices.Clone(history)
	slices.SortStableFunc(h, func(a, b Change) int { return a.At.Compare(b.At) })
	var out []Interval
	open := -1
	for _, c := range h {
		switch c.Action {
		case ActionConfirmed:
			if open >= 0 { // cannot happen: a confirmed binding is closed before another confirmation
				at := c.At
				out[open].To = &at
			}
			out = append(out, Interval{Provider: c.To, From: c.At})
			open = len(out) - 1
		case ActionReassigned, ActionUnbound:
			if open >= 0 && out[open].Provider == c.From {
				at := c.At
				out[open].To = &at
				open = -1
			}
		}
	}
	return out
}

// ProviderAt is the provider whose confirmation interval covers t, "" for none.
func ProviderAt(intervals []Interval, t time.Time) string {
	for _, i := range intervals {
		if i.Covers(t) {
			return i.Provider
		}
	}
	return ""
}

// BindingOutcome is one device's result in a bulk binding request or import.
type BindingOutcome struct {
	SN       string       `json:"sn"`
	Result   string       `json:"result"` // "changed", "unchanged" or "error"
	State    BindingState `json:"state,omitempty"`
	Provider string       `json:"provider,omitempty"`
	Code     string       `json:"code,omitempty"`
	Message  string       `json:"message,omitempty"`
	Err      error        `json:"-"` // the error behind Code, for single-device routes
}

// Outcome results.
const (
	OutcomeChanged   = "changed"
	OutcomeUnchanged = "unchanged"
	OutcomeError     = "error"
)

// OutcomeOf is the outcome for sn of a binding change: err (a caller-safe code and message),
// else changed or unchanged with the binding as it now stands.
func OutcomeOf(sn string, b *Binding, changed bool, err error) BindingOutcome {
	if err != nil {
		return BindingOutcome{SN: sn, Result: OutcomeError, Code: CodeOf(err), Message: MessageOf(err), Err: err}
	}
	o := BindingOutcome{SN: sn, Result: OutcomeUnchanged}
	if changed {
		o.Result = OutcomeChanged
	}
	if b != nil {
		o.State, o.Provider = b.State, b.Provider
	}
	return o
}

// ImportStatus is where a vendor's binding CSV import stands.
type ImportStatus string

// Import statuses.
const (
	ImportWaiting    ImportStatus = "waiting_upload"
	ImportProcessing ImportStatus = "processing"
	ImportDone       ImportStatus = "done"   // every row has a result (some rows may be errors)
	ImportFailed     ImportStatus = "failed" // the file as a whole was refused (Error says why); no row was applied
)

// MaxBindingImportBytes bounds an import file: 100,000 rows of "SN,provider,reassign" fit in
// well under 5 MiB.
const MaxBindingImportBytes = 8 << 20

// BindingImport is a vendor's uploaded CSV of assignments ("sn,provider[,reassign]" per row,
// an optional header), applied asynchronously; its per-row results are a CSV of their own.
type BindingImport struct {
	ID         string       `json:"id"`
	VendorOrg  string       `json:"vendorOrg"`
	By         string       `json:"by"`
	Status     ImportStatus `json:"status"`
	Size       int64        `json:"size"`
	SHA256     string       `json:"sha256"`
	Rows       int          `json:"rows"`
	Changed    int          `json:"changed"`
	Unchanged  int          `json:"unchanged"`
	Errors     int          `json:"errors"`
	Error      string       `json:"error,omitempty"` // why a failed import was refused (a code)
	Message    string       `json:"message,omitempty"`
	CreatedAt  time.Time    `json:"createdAt"`
	FinishedAt *time.Time   `json:"finishedAt,omitempty"`
	Version    int          `json:"-"`
}

// NewBindingImport starts an import of size bytes with checksum sha256 by vendor c. It returns
// Invalid ("import_too_large") above MaxBindingImportBytes and for an empty file.
func NewBindingImport(id string, c Caller, size int64, sha256 string, now time.Time) (*BindingImport, error) {
	if err := c.Require(RoleVendor); err != nil {
		return nil, err
	}
	if size <= 0 || size > MaxBindingImportBytes {
		return nil, Errorf(Invalid, "import_too_large", "an import file has 1 to %d bytes", MaxBindingImportBytes)
	}
	return &BindingImport{ID: id, VendorOrg: c.Org, By: c.Subject, Status: ImportWaiting, Size: size, SHA256: sha256, CreatedAt: now}, nil
}

// Count adds outcomes to the import's totals.
func (im *BindingImport) Count(outs []BindingOutcome) {
	for _, o := range outs {
		im.Rows++
		switch o.Result {
		case OutcomeChanged:
			im.Changed++
		case OutcomeUnchanged:
			im.Unchanged++
		default:
			im.Errors++
		}
	}
}
