package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// RestrictionReason is why a model may not take face payments now. The codes are stable: the
// devices' runtime check answers with them.
type RestrictionReason string

// The restriction reasons, in the order PaymentStanding reports them.
const (
	// RestrictionInspectionFailed: a third-party inspection failed (DOMAIN.md section 4), until
	// a reviewer lifts it after a passed re-inspection (the pipeline's own steps).
	RestrictionInspectionFailed RestrictionReason = "inspection_failed"
	// RestrictionCertificateExpired: a mandatory certificate (3C always, SRRC with Bluetooth or
	// Wi-Fi, CTA with 4G) expired, until a reviewer approves a renewed one.
	RestrictionCertificateExpired RestrictionReason = "certificate_expired"
	// RestrictionSpotCheckOverdue: a spot check's rectification order passed its deadline, until
	// a reviewer closes the order.
	RestrictionSpotCheckOverdue RestrictionReason = "spot_check_overdue"
)

func restrictionOrder() []RestrictionReason {
	return []RestrictionReason{RestrictionInspectionFailed, RestrictionCertificateExpired, RestrictionSpotCheckOverdue}
}

// Restriction is one reason in a model's restriction set. Ref tells two of the same reason
// apart: the certificate ("3c") or the rectification order's id ("" for an inspection).
type Restriction struct {
	Reason RestrictionReason `json:"reason"`
	Ref    string            `json:"ref,omitempty"`
	Since  time.Time         `json:"since"`
	Detail string            `json:"detail"`
}

// Payment standing reason codes besides the restriction reasons (PaymentStanding).
const (
	StandingNotCleared = "model_not_cleared" // no pipeline yet, or still in DVT: no production device may pay
	StandingExpired    = "model_expired"     // a track expired; the vendor may restart the model
	StandingWithdrawn  = "model_withdrawn"   // the vendor withdrew the model
)

// PaymentStanding answers whether the devices of this model may take face payments at now,
// and if not, why, as a stable reason code:
//
//	""                   ok: the model is in PVT or MP and nothing restricts it
//	model_withdrawn      the vendor withdrew the model
//	model_expired        a track of its pipeline expired (restart pending)
//	inspection_failed    a third-party inspection failed and the restriction is not lifted
//	certificate_expired  a mandatory certificate expired and no renewal is approved
//	spot_check_overdue   a rectification order passed its deadline and is not closed
//	model_not_cleared    the model has not reached PVT (registered or DVT)
//
// The time-bound reasons are computed from the deadlines the record holds, not only from the
// restrictions the daily sweep recorded: a certificate expiring on a day restricts from 00:00
// Asia/Shanghai that day, before the sweep runs. Vendor test devices are the devices
// capability's business (they may pay in DVT without a factory check until they expire).
func (p Pipeline) PaymentStanding(now time.Time) (ok bool, reason string) {
	p.settlePosition()
	switch p.Position {
	case StageWithdrawn:
		return false, StandingWithdrawn
	case StageExpired:
		return false, StandingExpired
	}
	for _, r := range restrictionOrder() {
		if p.restricted(r) || p.dueRestriction(r, now) {
			return false, string(r)
		}
	}
	if p.Position != StagePVT && p.Position != StageMP {
		return false, StandingNotCleared
	}
	return true, ""
}

// dueRestriction reports whether a time-bound restriction of reason holds at now.
func (p *Pipeline) dueRestriction(r RestrictionReason, now time.Time) bool {
	switch r {
	case RestrictionCertificateExpired:
		for _, c := range p.Certificates {
			if v, ok := p.Validity[c]; ok && !now.Before(v.ExpiresAt()) {
				return true
			}
		}
	case RestrictionSpotCheckOverdue:
		for _, due := range p.Rectifications {
			if !now.Before(due) {
				return true
			}
		}
	}
	return false
}

// settlePosition fills in Position for a record written before it existed.
func (p *Pipeline) settlePosition() {
	if p.Position != "" {
		return
	}
	p.Position = p.Stage
	if p.Stage == StageRestricted {
		p.Position = StagePVT // only the PVT inspection restricted then
	}
}

func (p *Pipeline) restricted(r RestrictionReason) bool {
	return slices.ContainsFunc(p.Restrictions, func(x Restriction) bool { return x.Reason == r })
}

func (p *Pipeline) restrictedBy(r RestrictionReason, ref string) bool {
	return slices.ContainsFunc(p.Restrictions, func(x Restriction) bool { return x.Reason == r && x.Ref == ref })
}

// addRestriction adds r to the set unless the same reason and ref is in it.
func (p *Pipeline) addRestriction(r Restriction, change func(action, from, to, reason string)) {
	if p.restrictedBy(r.Reason, r.Ref) {
		return
	}
	if len(p.Restrictions) > 0 {
		change("restriction_added", "", string(r.Reason), r.Detail)
	}
	p.Restrictions = append(p.Restrictions, r)
}

// removeRestriction takes reason (ref "" for any ref) out of the set; why is recorded.
func (p *Pipeline) removeRestriction(reason RestrictionReason, ref, why string, change func(action, from, to, reason string)) {
	before := len(p.Restrictions)
	p.Restrictions = slices.DeleteFunc(p.Restrictions, func(x Restriction) bool {
		return x.Reason == reason && (ref == "" || x.Ref == ref)
	})
	if len(p.Restrictions) == before {
		return
	}
	to := string(p.Position)
	if len(p.Restrictions) > 0 {
		to = string(StageRestricted)
	}
	change("restriction_lifted", string(reason), to, why)
}

// showStage derives the visible stage from the position and the restriction set.
func (p *Pipeline) showStage(now time.Time, change func(action, from, to, reason string)) {
	stage := p.Position
	if len(p.Restrictions) > 0 && stage != StageExpired && stage != StageWithdrawn {
		stage = StageRestricted
	}
	switch {
	case stage == StageRestricted:
		p.Reason = p.Restrictions[0].Detail
	case stage != StageExpired && stage != StageWithdrawn:
		p.Reason = ""
	}
	if stage == p.Stage {
		return
	}
	lifted := p.Stage == StageRestricted && len(p.Restrictions) == 0 // recorded as restriction_lifted
	if !lifted {
		change("stage_changed", string(p.Stage), string(stage), p.Reason)
	}
	p.Stage, p.StageSince = stage, now
}

// Notice is something the daily sweep tells a party: the vendor (its outbox, GET /messages)
// or the reviewers (GET /admin/alerts).
type Notice struct {
	To      Party
	Subject string
	Body    string
}

// Certificate warning lead times (days before expiry), largest first.
var certificateWarnings = []int{90, 30, 7}

// TrackReminderLead is how long before a DVT track expires its vendor is reminded.
const TrackReminderLead = 14 * 24 * time.Hour

// NextDue is the earliest moment the daily sweep has something to do for this pipeline (a
// certificate warning or expiry, a track reminder, a rectification deadline); zero when nothing
// is pending. The store indexes pipelines by it, so the sweep reads only those due.
func (p *Pipeline) NextDue() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	p.settlePosition()
	if p.Position == StageWithdrawn {
		return time.Time{}
	}
	for _, c := range p.Certificates {
		v, ok := p.Validity[c]
		if !ok {
			continue
		}
		for _, d := range certificateWarnings {
			if !slices.Contains(v.Warned, d) {
				consider(v.ExpiresAt().Add(-time.Duration(d) * 24 * time.Hour))
			}
		}
		if !p.restrictedBy(RestrictionCertificateExpired, string(c)) {
			consider(v.ExpiresAt())
		}
	}
	if p.Position != StageExpired {
		for _, t := range []Track{TrackSoftware, TrackHardware, TrackCertification} {
			if st := p.Tracks[t]; st != nil && st.Status == TrackWaiting && st.RemindedAt == nil && p.TrackTimeoutDays > 0 {
				consider(p.trackExpiry(st).Add(-TrackReminderLead))
			}
		}
	}
	for id, due := range p.Rectifications {
		if !p.restrictedBy(RestrictionSpotCheckOverdue, id) {
			consider(due)
		}
	}
	return next
}

func (p *Pipeline) trackExpiry(st *TrackState) time.Time {
	return st.Since.Add(time.Duration(p.TrackTimeoutDays) * 24 * time.Hour)
}

// Sweep does what is due at now: it warns the vendor 90, 30 and 7 days before a certificate
// expires (each once; a certificate approved with less time left gets only the nearest
// warning), restricts the model on the day a mandatory certificate expires, reminds the vendor
// 14 days before a DVT track expires, and restricts the model when a rectification order
// passes its deadline, raising it to the reviewers. What it did is recorded on the pipeline,
// so a second sweep (a redelivered schedule, a re-run) finds nothing to do.
func (p *Pipeline) Sweep(now time.Time) ([]Change, []Notice) {
	var changes []Change
	var notices []Notice
	change := func(action, from, to, reason string) {
		changes = append(changes, Change{At: now, By: "daily-sweep", Action: action, From: from, To: to, Reason: reason})
	}
	tell := func(to Party, subject, body string) {
		notices = append(notices, Notice{To: to, Subject: subject, Body: body})
	}
	p.settlePosition()
	if p.Position == StageWithdrawn {
		return nil, nil
	}
	for _, c := range p.Certificates {
		v, ok := p.Validity[c]
		if !ok {
			continue
		}
		expires := v.ExpiresAt()
		if !now.Before(expires) {
			if !p.restrictedBy(RestrictionCertificateExpired, string(c)) {
				detail := fmt.Sprintf("the %s certificate %s expired on %s", c.Label(), v.Number, v.ExpiresOn)
				p.addRestriction(Restriction{Reason: RestrictionCertificateExpired, Ref: string(c), Since: expires, Detail: detail}, change)
				v.Warned = slices.Clone(certificateWarnings)
				p.Validity[c] = v
				tell(PartyVendor, c.Label()+" certificate expired: model restricted",
					detail+"; the model's devices may not take face payments until a renewed certificate is approved.")
				tell(PartyReviewer, c.Label()+" certificate expired", fmt.Sprintf("Model %s is restricted: %s.", p.ModelID, detail))
			}
			continue
		}
		due := -1
		for _, d := range certificateWarnings {
			if !now.Before(expires.Add(-time.Duration(d)*24*time.Hour)) && !slices.Contains(v.Warned, d) {
				due = d
			}
		}
		if due < 0 {
			continue
		}
		for _, d := range certificateWarnings {
			if d >= due && !slices.Contains(v.Warned, d) {
				v.Warned = append(v.Warned, d)
			}
		}
		p.Validity[c] = v
		days := int(expires.Sub(now).Hours()/24) + 1
		change("certificate_expiry_warned", "", fmt.Sprintf("%s %d days", c.Label(), due), "")
		tell(PartyVendor, fmt.Sprintf("%s certificate expires in %d days", c.Label(), due),
			fmt.Sprintf("The %s certificate %s of model %s expires on %s (%d days left). Upload the renewed certificate to the certificates submission; without it the model is restricted on that day.",
				c.Label(), v.Number, p.ModelID, v.ExpiresOn, days))
	}
	if p.Position != StageExpired {
		for _, t := range []Track{TrackSoftware, TrackHardware, TrackCertification} {
			st := p.Tracks[t]
			if st == nil || st.Status != TrackWaiting || st.RemindedAt != nil || p.TrackTimeoutDays == 0 {
				continue
			}
			expires := p.trackExpiry(st)
			if now.Before(expires.Add(-TrackReminderLead)) {
				continue
			}
			at := now
			st.RemindedAt = &at
			change("track_expiry_reminded", "", string(t), "")
			tell(PartyVendor, fmt.Sprintf("The %s of model %s expires on %s", t.Label(), p.ModelID, expires.In(businessZone).Format(time.DateOnly)),
				fmt.Sprintf("Without an approved %s by %s the model's pipeline expires (%s) and has to be restarted.",
					t.Label(), expires.UTC().Format(time.RFC3339), ExpiryReason(t, p.TrackTimeoutDays, false)))
		}
	}
	ids := make([]string, 0, len(p.Rectifications))
	for id := range p.Rectifications {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		due := p.Rectifications[id]
		if now.Before(due) || p.restrictedBy(RestrictionSpotCheckOverdue, id) {
			continue
		}
		detail := fmt.Sprintf("rectification order %s was not closed by its deadline %s", id, due.UTC().Format(time.RFC3339))
		p.addRestriction(Restriction{Reason: RestrictionSpotCheckOverdue, Ref: id, Since: due, Detail: detail}, change)
		tell(PartyVendor, "Rectification order overdue: model restricted",
			detail+"; the model's devices may not take face payments until a reviewer closes the order.")
		tell(PartyReviewer, "Rectification order overdue", fmt.Sprintf("Model %s: %s.", p.ModelID, detail))
	}
	p.showStage(now, change)
	if len(changes) > 0 {
		p.UpdatedAt = now
	}
	return changes, notices
}

// CertificateValidity is an approved certificate's number and validity, as the reviewer
// confirmed it. Dates are calendar dates (YYYY-MM-DD); the certificate is valid up to the day
// before ExpiresOn and expired from 00:00 Asia/Shanghai on ExpiresOn (our choice: "expires on"
// is the first day without it).
type CertificateValidity struct {
	Number    string `json:"number"`
	IssuedOn  string `json:"issuedOn"`
	ExpiresOn string `json:"expiresOn"`
	Warned    []int  `json:"warned,omitempty"` // the warnings sent (days before expiry)
}

// ExpiresAt is the moment the certificate expires (00:00 Asia/Shanghai on ExpiresOn).
func (v CertificateValidity) ExpiresAt() time.Time {
	t, err := time.ParseInLocation(time.DateOnly, v.ExpiresOn, businessZone)
	if err != nil {
		return time.Time{} // never stored: NewCertificateDetails checks the date
	}
	return t
}

// CertificateDetails is what a certificate upload declares and a reviewer confirms or corrects.
type CertificateDetails struct {
	Number    string `json:"number" maxLength:"64"`
	IssuedOn  string `json:"issuedOn" maxLength:"10"`
	ExpiresOn string `json:"expiresOn" maxLength:"10"`
	Confirmed bool   `json:"confirmed,omitempty"` // set when a reviewer approved the version
}

// Check validates the details. Error code (Invalid): invalid_certificate_details.
func (d CertificateDetails) Check() error {
	bad := func(format string, args ...any) error {
		return Errorf(Invalid, "invalid_certificate_details", format, args...)
	}
	n := strings.TrimSpace(d.Number)
	if n == "" || len(n) > 64 || n != d.Number {
		return bad("the certificate number must be 1 to 64 characters without surrounding spaces")
	}
	issued, err := time.Parse(time.DateOnly, d.IssuedOn)
	if err != nil {
		return bad("issuedOn must be a date (YYYY-MM-DD)")
	}
	expires, err := time.Parse(time.DateOnly, d.ExpiresOn)
	if err != nil {
		return bad("expiresOn must be a date (YYYY-MM-DD)")
	}
	if !expires.After(issued) {
		return bad("expiresOn must be after issuedOn")
	}
	return nil
}

// Validity is the validity the details give.
func (d CertificateDetails) Validity() CertificateValidity {
	return CertificateValidity{Number: d.Number, IssuedOn: d.IssuedOn, ExpiresOn: d.ExpiresOn}
}

// RecordCertificates stores the validity of the certificates of an approved certificates
// version (the first approval or a renewal) and lifts a certificate_expired restriction of each
// certificate now valid at now. It returns the history entries (none when nothing changed: a
// repeated approval).
func (p *Pipeline) RecordCertificates(valid map[Certificate]CertificateValidity, now time.Time) []Change {
	var changes []Change
	change := func(action, from, to, reason string) {
		changes = append(changes, Change{At: now, By: "reviewer", Action: action, From: from, To: to, Reason: reason})
	}
	p.settlePosition()
	if p.Validity == nil {
		p.Validity = map[Certificate]CertificateValidity{}
	}
	for _, c := range sortedCertificates(valid) {
		v := valid[c]
		cur, ok := p.Validity[c]
		if ok && cur.Number == v.Number && cur.IssuedOn == v.IssuedOn && cur.ExpiresOn == v.ExpiresOn {
			continue
		}
		p.Validity[c] = v
		change("certificate_recorded", "", c.Label()+" "+v.Number, "valid until "+v.ExpiresOn)
		if now.Before(v.ExpiresAt()) {
			p.removeRestriction(RestrictionCertificateExpired, string(c), "renewed certificate "+v.Number+" approved", change)
		}
	}
	p.showStage(now, change)
	if len(changes) > 0 {
		p.UpdatedAt = now
	}
	return changes
}

func sortedCertificates(m map[Certificate]CertificateValidity) []Certificate {
	out := make([]Certificate, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// OpenRectification records an open rectification order with its deadline.
func (p *Pipeline) OpenRectification(id string, deadline time.Time, now time.Time) []Change {
	if _, ok := p.Rectifications[id]; ok {
		return nil
	}
	if p.Rectifications == nil {
		p.Rectifications = map[string]time.Time{}
	}
	p.Rectifications[id] = deadline
	p.UpdatedAt = now
	return []Change{{At: now, By: "reviewer", Action: "rectification_ordered", To: id, Reason: "deadline " + deadline.UTC().Format(time.RFC3339)}}
}

// CloseRectification removes a closed order and lifts its restriction, if it was overdue; a
// second close changes nothing.
func (p *Pipeline) CloseRectification(id, why string, now time.Time) []Change {
	var changes []Change
	change := func(action, from, to, reason string) {
		changes = append(changes, Change{At: now, By: "reviewer", Action: action, From: from, To: to, Reason: reason})
	}
	p.settlePosition()
	if _, ok := p.Rectifications[id]; !ok {
		return nil
	}
	delete(p.Rectifications, id) // the spot check's own entry records the closing
	p.removeRestriction(RestrictionSpotCheckOverdue, id, why, change)
	p.showStage(now, change)
	p.UpdatedAt = now
	return changes
}

// Withdraw records that the vendor withdrew the model: its pipeline is stopped for good.
// Conflict ("already_withdrawn") when it was withdrawn before; ("model_in_production") once in MP
// (our choice: a model in mass production has devices in the field; it leaves the market
// through restrictions, not by withdrawal).
func (p *Pipeline) Withdraw(reason string, now time.Time) ([]Change, error) {
	p.settlePosition()
	switch p.Position {
	case StageWithdrawn:
		return nil, ErrAlreadyWithdrawn.Withf("model %s was withdrawn", p.ModelID)
	case StageMP:
		return nil, Errorf(Conflict, "model_in_production", "model %s is in mass production and cannot be withdrawn", p.ModelID)
	}
	var changes []Change
	change := func(action, from, to, why string) {
		changes = append(changes, Change{At: now, By: "vendor", Action: action, From: from, To: to, Reason: why})
	}
	p.Position, p.Reason = StageWithdrawn, reason
	p.showStage(now, change)
	p.UpdatedAt = now
	return changes, nil
}
