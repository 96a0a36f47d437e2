package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Stage is where a model is in the certification programme (DOMAIN.md sections 2–5). The
// certification pipeline's own record steps write it; every other capability reads it with
// one key lookup.
type Stage string

// Stages: registered → dvt → pvt → mp; restricted (while the pipeline's restriction set is
// not empty: a failed third-party inspection, an expired mandatory certificate, an overdue
// rectification order — see standing.go), expired (a track timed out; the vendor may
// restart), withdrawn (the vendor withdrew the model).
const (
	StageRegistered Stage = "registered"
	StageDVT        Stage = "dvt"
	StagePVT        Stage = "pvt"
	StageMP         Stage = "mp"
	StageRestricted Stage = "restricted"
	StageExpired    Stage = "expired"
	StageWithdrawn  Stage = "withdrawn"
)

// Track is one line of work of the pipeline; its name is also the callback step that waits on it.
type Track string

// The tracks: DVT's three (software and hardware pre-checks, national certification) and PVT.
const (
	TrackSoftware      Track = "software_precheck"
	TrackHardware      Track = "hardware_precheck"
	TrackCertification Track = "certification"
	TrackPVT           Track = "pvt"
)

// Tracks lists every track in display order.
func Tracks() []Track {
	return []Track{TrackSoftware, TrackHardware, TrackCertification, TrackPVT}
}

// Label is the track's name in sentences.
func (t Track) Label() string {
	switch t {
	case TrackSoftware:
		return "software pre-check"
	case TrackHardware:
		return "hardware pre-check"
	case TrackCertification:
		return "national certification"
	case TrackPVT:
		return "small-batch production (PVT)"
	}
	return string(t)
}

// TrackOf is the DVT track a submission kind completes.
func TrackOf(kind SubmissionKind) Track {
	switch kind {
	case SubmissionSoftware:
		return TrackSoftware
	case SubmissionHardware:
		return TrackHardware
	}
	return TrackCertification
}

// SubmissionOf is the submission kind behind a DVT track ("" for PVT).
func (t Track) SubmissionOf() SubmissionKind {
	switch t {
	case TrackSoftware:
		return SubmissionSoftware
	case TrackHardware:
		return SubmissionHardware
	case TrackCertification:
		return SubmissionCertificates
	}
	return ""
}

// The callback steps of PVT besides the track itself (which waits for the vendor's
// declaration or a reviewer's invitation).
const (
	StepInspectionShipment = "inspection_shipment"
	StepInspectionResult   = "inspection_result"
	StepLiftRestriction    = "lift_restriction"
)

// TrackStatus is where one track is.
type TrackStatus string

// Track statuses.
const (
	TrackWaiting    TrackStatus = "waiting"
	TrackApproved   TrackStatus = "approved"
	TrackExpired    TrackStatus = "expired"
	TrackNotStarted TrackStatus = "not_started"
)

// TrackState is one track's status since when.
type TrackState struct {
	Status     TrackStatus `json:"status"`
	Since      time.Time   `json:"since"`
	RemindedAt *time.Time  `json:"remindedAt,omitempty"` // the daily sweep's reminder, 14 days before it expires
}

// InspectionStatus is where a third-party inspection is.
type InspectionStatus string

// Inspection statuses.
const (
	InspectionNone    InspectionStatus = "none"
	InspectionInvited InspectionStatus = "invited"
	InspectionShipped InspectionStatus = "shipped"
	InspectionPassed  InspectionStatus = "passed"
	InspectionFailed  InspectionStatus = "failed"
	// InspectionResultOverdue is a record, not a status: the lab's result did not come by the
	// deadline (Inspection.ResultOverdue); the workflow goes on waiting for it.
	InspectionResultOverdue InspectionStatus = "result_overdue"
)

// Inspection limits (DOMAIN.md section 4: 10 to 16 devices go to the lab).
const (
	MinInspectionDevices = 10
	MaxInspectionDevices = 16
)

// Inspection is one third-party inspection (a re-inspection is a new one; Round counts them).
type Inspection struct {
	Round          int              `json:"round"`
	Status         InspectionStatus `json:"status"`
	Lab            string           `json:"lab"`
	Devices        int              `json:"devices"`
	Deadline       time.Time        `json:"deadline"`
	InvitedAt      time.Time        `json:"invitedAt"`
	Carrier        string           `json:"carrier,omitempty"`
	TrackingNumber string           `json:"trackingNumber,omitempty"`
	ShippedDevices int              `json:"shippedDevices,omitempty"`
	ShippedAt      *time.Time       `json:"shippedAt,omitempty"`
	Passed         *bool            `json:"passed,omitempty"`
	Report         string           `json:"report,omitempty"`
	Feedback       string           `json:"feedback,omitempty"`
	DecidedAt      *time.Time       `json:"decidedAt,omitempty"`
	// ResultOverdue: the devices were shipped but the lab's result did not come by the deadline
	// (the lab's delay, not the vendor's: nothing is restricted for it).
	ResultOverdue bool `json:"resultOverdue,omitempty"`
}

// PipelineEvent is what an API call completes a pipeline callback with: the workflow reads the
// fields its Choice states need (action, passed) and its record steps store the rest.
type PipelineEvent struct {
	Action         string    `json:"action,omitempty"` // on the pvt step: invite_inspection | declare_done
	Lab            string    `json:"lab,omitempty"`
	Devices        int       `json:"devices,omitempty"`
	Deadline       time.Time `json:"deadline,omitzero"`
	Carrier        string    `json:"carrier,omitempty"`
	TrackingNumber string    `json:"trackingNumber,omitempty"`
	Passed         bool      `json:"passed"`
	Report         string    `json:"report,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	At             time.Time `json:"at"`
}

// PipelineEvent actions on the pvt step.
const (
	ActionInviteInspection = "invite_inspection"
	ActionDeclarePVTDone   = "declare_done"
)

// NewInspectionInvitation validates a reviewer's invitation. Error codes (Invalid):
// invalid_lab, invalid_device_count, invalid_deadline.
func NewInspectionInvitation(lab string, devices int, deadline, now time.Time) (PipelineEvent, error) {
	lab = strings.TrimSpace(lab)
	switch {
	case lab == "" || len(lab) > 200:
		return PipelineEvent{}, Errorf(Invalid, "invalid_lab", "lab must be 1 to 200 characters")
	case devices < MinInspectionDevices || devices > MaxInspectionDevices:
		return PipelineEvent{}, Errorf(Invalid, "invalid_device_count", "an inspection takes %d to %d devices", MinInspectionDevices, MaxInspectionDevices)
	case !deadline.After(now):
		return PipelineEvent{}, Errorf(Invalid, "invalid_deadline", "the deadline must be in the future")
	}
	return PipelineEvent{Action: ActionInviteInspection, Lab: lab, Devices: devices, Deadline: deadline.UTC(), At: now}, nil
}

// NewShipment validates a vendor's shipment record. Error codes (Invalid): invalid_carrier,
// invalid_tracking_number.
func NewShipment(carrier, tracking string, now time.Time) (PipelineEvent, error) {
	carrier, tracking = strings.TrimSpace(carrier), strings.TrimSpace(tracking)
	switch {
	case carrier == "" || len(carrier) > 100:
		return PipelineEvent{}, Errorf(Invalid, "invalid_carrier", "carrier must be 1 to 100 characters")
	case tracking == "" || len(tracking) > 100:
		return PipelineEvent{}, Errorf(Invalid, "invalid_tracking_number", "trackingNumber must be 1 to 100 characters")
	}
	return PipelineEvent{Carrier: carrier, TrackingNumber: tracking, At: now}, nil
}

// NewInspectionResult validates the lab's result as a reviewer records it. result is "pass" or
// "fail"; a failure needs feedback. Error codes (Invalid): invalid_result, invalid_report,
// reason_required.
func NewInspectionResult(result, report, feedback string, now time.Time) (PipelineEvent, error) {
	report, feedback = strings.TrimSpace(report), strings.TrimSpace(feedback)
	if result != "pass" && result != "fail" {
		return PipelineEvent{}, Errorf(Invalid, "invalid_result", `result must be "pass" or "fail"`)
	}
	if report == "" || len(report) > 500 {
		return PipelineEvent{}, Errorf(Invalid, "invalid_report", "report must reference the lab's report (1 to 500 characters)")
	}
	if result == "fail" && feedback == "" {
		return PipelineEvent{}, Errorf(Invalid, "reason_required", "a failed inspection needs feedback for the vendor")
	}
	if len(feedback) > 2000 {
		return PipelineEvent{}, Errorf(Invalid, "reason_too_long", "feedback must be at most 2000 characters")
	}
	return PipelineEvent{Passed: result == "pass", Report: report, Reason: feedback, At: now}, nil
}

// DefaultTrackTimeoutDays is how long a track waits for its vendor before it expires.
const DefaultTrackTimeoutDays = 180

// ReviewDue is how long a submitted version may wait for its review.
const ReviewDue = 7 * 24 * time.Hour

// PipelineSettings are the timers an execution runs with (from its input, so a deployment
// can change them without touching the ASL).
type PipelineSettings struct {
	TrackTimeoutDays    int `json:"trackTimeoutDays"`
	TrackTimeoutSeconds int `json:"trackTimeoutSeconds"`
}

// PipelineInput is what a model's certification pipeline starts with.
type PipelineInput struct {
	ModelID       string           `json:"modelId"`
	VendorOrg     string           `json:"vendorOrg"`
	VendorCode    string           `json:"vendorCode"`
	ModelCode     string           `json:"modelCode"`
	Run           int              `json:"run"`
	DeviceType    DeviceType       `json:"deviceType"`
	SoftwareModes []SoftwareMode   `json:"softwareModes"`
	Connectivity  []Connectivity   `json:"connectivity"`
	Certificates  []Certificate    `json:"certificates"`
	Settings      PipelineSettings `json:"settings"`
}

// NewPipelineInput is run number run of m's pipeline, with tracks expiring after trackDays.
func NewPipelineInput(m *Model, run, trackDays int) PipelineInput {
	return PipelineInput{ModelID: m.ID, VendorOrg: m.VendorOrg, VendorCode: m.VendorCode, ModelCode: m.ModelCode, Run: run,
		DeviceType: m.DeviceType, SoftwareModes: m.SoftwareModes, Connectivity: m.Connectivity,
		Certificates: RequiredCertificates(m.Connectivity),
		Settings:     PipelineSettings{TrackTimeoutDays: trackDays, TrackTimeoutSeconds: trackDays * 86400}}
}

// ExecutionName names run number run of model id's pipeline: unique per run, so an expired
// model can be restarted, and the same for a repeated start of the same run.
func ExecutionName(modelID string, run int) string { return fmt.Sprintf("%s-run%d", modelID, run) }

// Pipeline is a model's certification state as the workflow recorded it.
type Pipeline struct {
	ModelID          string                `json:"modelId"`
	VendorOrg        string                `json:"vendorOrg"`
	Run              int                   `json:"run"`
	Stage            Stage                 `json:"stage"`
	StageSince       time.Time             `json:"stageSince"`
	Reason           string                `json:"reason,omitempty"`
	Certificates     []Certificate         `json:"certificates"`
	TrackTimeoutDays int                   `json:"trackTimeoutDays"`
	Tracks           map[Track]*TrackState `json:"tracks"`
	Inspection       *Inspection           `json:"inspection,omitempty"`
	PVTDeclaredAt    *time.Time            `json:"pvtDeclaredAt,omitempty"`
	// Position is where the pipeline is (dvt, pvt, mp, expired, withdrawn) whatever the
	// restrictions: Stage shows restricted while Restrictions is not empty, and Position again
	// once the last restriction is lifted.
	Position Stage `json:"position,omitempty"`
	// Restrictions is the set of reasons the model may not take face payments now (standing.go).
	Restrictions []Restriction `json:"restrictions,omitempty"`
	// Validity holds each approved certificate's number and dates, as the reviewer confirmed them.
	Validity map[Certificate]CertificateValidity `json:"certificateValidity,omitempty"`
	// Rectifications are the open spot-check rectification orders: order id → deadline.
	Rectifications map[string]time.Time `json:"rectifications,omitempty"`
	UpdatedAt      time.Time            `json:"updatedAt"`
	Version        int                  `json:"-"`
}

// PipelineRecord is what one of the workflow's record steps writes.
type PipelineRecord struct {
	Run              int              `json:"run"`
	Stage            Stage            `json:"stage,omitempty"`
	Track            Track            `json:"track,omitempty"`
	Status           TrackStatus      `json:"status,omitempty"`
	Inspection       InspectionStatus `json:"inspection,omitempty"`
	PVTDeclared      bool             `json:"pvtDeclared,omitempty"`
	Detail           *PipelineEvent   `json:"detail,omitempty"`
	Certificates     []Certificate    `json:"certificates,omitempty"`
	TrackTimeoutDays int              `json:"trackTimeoutDays,omitempty"`
	// Submitted tells an expiring DVT track whether the vendor ever submitted its evidence
	// (the reason differs); the pipeline-task function fills it in from the submissions.
	Submitted bool `json:"-"`
}

// Apply records r on the pipeline at now and returns the history entries it makes (none when
// r was recorded before: the record steps are retried, and each retry must change nothing).
// A record of an earlier run is stale and ignored. A new run (a restart) starts from DVT.
func (p *Pipeline) Apply(r PipelineRecord, now time.Time) []Change {
	if r.Run < p.Run || p.Position == StageWithdrawn {
		return nil // stale, or the vendor withdrew the model (its execution is stopped)
	}
	var out []Change
	change := func(action, from, to, reason string) {
		out = append(out, Change{At: now, By: "certification-pipeline", Action: action, From: from, To: to, Reason: reason})
	}
	if r.Run > p.Run {
		change("pipeline_run_started", "", fmt.Sprintf("run %d", r.Run), "")
		// What outlives a run: certificates, rectification orders and the restrictions other
		// than the old run's inspection.
		keep := slices.DeleteFunc(slices.Clone(p.Restrictions), func(x Restriction) bool { return x.Reason == RestrictionInspectionFailed })
		*p = Pipeline{ModelID: p.ModelID, VendorOrg: p.VendorOrg, Run: r.Run, Stage: p.Stage, StageSince: p.StageSince, Reason: p.Reason,
			Position: p.Position, Restrictions: keep, Validity: p.Validity, Rectifications: p.Rectifications, Version: p.Version}
	}
	if p.Tracks == nil {
		p.Tracks = map[Track]*TrackState{}
	}
	if len(r.Certificates) > 0 {
		p.Certificates = r.Certificates
	}
	if r.TrackTimeoutDays > 0 {
		p.TrackTimeoutDays = r.TrackTimeoutDays
	}
	setTrack := func(t Track, s TrackStatus) {
		if cur := p.Tracks[t]; cur != nil && cur.Status == s {
			return
		}
		p.Tracks[t] = &TrackState{Status: s, Since: now}
		change("track_"+string(s), "", string(t), "")
	}
	if r.Stage == StageDVT && p.Stage != StageDVT {
		for _, t := range []Track{TrackSoftware, TrackHardware, TrackCertification} {
			setTrack(t, TrackWaiting)
		}
	}
	if r.Track != "" && r.Status != "" {
		setTrack(r.Track, r.Status)
	}
	p.settlePosition()
	target, reason := r.Stage, ""
	if target == StageRestricted {
		target = "" // a restriction is a reason in the set, not a position
	}
	if r.Status == TrackExpired {
		target, reason = StageExpired, ExpiryReason(r.Track, p.TrackTimeoutDays, r.Submitted)
	}
	if r.Inspection != "" && r.Detail != nil {
		p.applyInspection(r.Inspection, *r.Detail, change)
		if r.Inspection == InspectionFailed && p.Inspection != nil && p.Inspection.Status == InspectionFailed {
			p.addRestriction(Restriction{Reason: RestrictionInspectionFailed, Since: now,
				Detail: "the third-party inspection failed: " + r.Detail.Reason}, change)
		}
	}
	if r.PVTDeclared && p.PVTDeclaredAt == nil {
		at := now
		p.PVTDeclaredAt = &at
		change("pvt_declared_done", "", "", "")
	}
	if r.Stage == StagePVT && r.Detail != nil && p.restricted(RestrictionInspectionFailed) {
		p.removeRestriction(RestrictionInspectionFailed, "", r.Detail.Reason, change) // why the reviewer lifted it
	}
	if target != "" {
		p.Position = target
		if target == StageExpired {
			p.Reason = reason
		}
	}
	p.showStage(now, change)
	if len(out) > 0 {
		p.UpdatedAt = now
	}
	return out
}

func (p *Pipeline) applyInspection(s InspectionStatus, d PipelineEvent, change func(action, from, to, reason string)) {
	in := p.Inspection
	switch s {
	case InspectionInvited:
		if in != nil && in.Status == InspectionInvited && in.InvitedAt.Equal(d.At) {
			return
		}
		round := 1
		if in != nil {
			round = in.Round + 1
		}
		p.Inspection = &Inspection{Round: round, Status: s, Lab: d.Lab, Devices: d.Devices, Deadline: d.Deadline, InvitedAt: d.At}
		change("inspection_invited", "", d.Lab, "")
	case InspectionShipped:
		if in == nil || in.Status != InspectionInvited {
			return
		}
		at := d.At
		in.Status, in.Carrier, in.TrackingNumber, in.ShippedDevices, in.ShippedAt = s, d.Carrier, d.TrackingNumber, in.Devices, &at
		change("inspection_shipped", "", d.Carrier+" "+d.TrackingNumber, "")
	case InspectionResultOverdue:
		if in == nil || in.Status != InspectionShipped || in.ResultOverdue {
			return
		}
		in.ResultOverdue = true
		change("inspection_result_overdue", "", in.Lab, "the lab's result did not come by "+in.Deadline.UTC().Format(time.RFC3339))
	case InspectionFailed:
		// From invited too: no shipment by the deadline fails the inspection (ShipmentOverdue).
		if in == nil || (in.Status != InspectionShipped && in.Status != InspectionInvited) {
			return
		}
		at, passed := d.At, false
		in.Status, in.Passed, in.Report, in.Feedback, in.DecidedAt = InspectionFailed, &passed, d.Report, d.Reason, &at
		change("inspection_failed", "", string(InspectionFailed), d.Reason)
	case InspectionPassed:
		if in == nil || in.Status != InspectionShipped {
			return
		}
		at, passed := d.At, s == InspectionPassed
		in.Status, in.Passed, in.Report, in.Feedback, in.DecidedAt = s, &passed, d.Report, d.Reason, &at
		change("inspection_"+string(s), string(InspectionShipped), string(s), d.Reason)
	}
}

// ExpiryReason says why a track expired, e.g. "no hardware pre-check submitted within 180 days".
func ExpiryReason(t Track, days int, submitted bool) string {
	switch {
	case t == TrackPVT:
		return fmt.Sprintf("small-batch production (PVT) not completed within %d days", days)
	case t == TrackCertification && !submitted:
		return fmt.Sprintf("no national certificates submitted within %d days", days)
	case !submitted:
		return fmt.Sprintf("no %s submitted within %d days", t.Label(), days)
	}
	return fmt.Sprintf("%s not approved within %d days", t.Label(), days)
}

// CanRestart reports whether the vendor may start a new run. It returns Conflict
// ("not_expired") unless the pipeline expired.
func (p *Pipeline) CanRestart() error {
	if p.Stage != StageExpired {
		return Errorf(Conflict, "not_expired", "model %s is in stage %s; only an expired model can be restarted", p.ModelID, p.Stage)
	}
	return nil
}

// Party is who the platform waits for.
type Party string

// The parties of a wait.
const (
	PartyVendor   Party = "vendor"
	PartyReviewer Party = "reviewer"
	PartyLab      Party = "lab"
)

// Wait is one thing the platform waits for: what, from whom, since when, due when.
type Wait struct {
	Track Track      `json:"track"`
	What  string     `json:"what"`
	From  Party      `json:"from"`
	Since time.Time  `json:"since"`
	Due   *time.Time `json:"due,omitempty"`
}

// DecisionView is a decision as its owner sees it: never who made it.
type DecisionView struct {
	Approve   bool      `json:"approve"`
	Feedback  string    `json:"feedback,omitempty"`
	DecidedAt time.Time `json:"decidedAt"`
}

// TimelineTrack is one track of the timeline.
type TimelineTrack struct {
	Track        Track         `json:"track"`
	Status       TrackStatus   `json:"status"`
	Since        *time.Time    `json:"since,omitempty"`
	Version      int           `json:"version,omitempty"`      // the submission's current version
	Submission   VersionStatus `json:"submission,omitempty"`   // and its status
	LastDecision *DecisionView `json:"lastDecision,omitempty"` // the latest decided version's
	Certificates []Certificate `json:"certificates,omitempty"` // certification: which the model needs
	Waiting      *Wait         `json:"waiting,omitempty"`
}

// Timeline is a model's certification progress: the stage, every track, what the platform
// waits for and from whom. It holds no execution ARN, reviewer or key.
type Timeline struct {
	ModelID    string          `json:"modelId"`
	Stage      Stage           `json:"stage"`
	StageSince *time.Time      `json:"stageSince,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Run        int             `json:"run"`
	Tracks     []TimelineTrack `json:"tracks"`
	Inspection *Inspection     `json:"inspection,omitempty"`
	Waiting    []Wait          `json:"waiting"`
	// Restrictions: why the model may not take face payments (empty when nothing restricts it).
	Restrictions []Restriction `json:"restrictions"`
	// CertificateValidity: each approved certificate's number and dates.
	CertificateValidity map[Certificate]CertificateValidity `json:"certificateValidity,omitempty"`
	// Rectifications: the open spot-check rectification orders and their deadlines.
	Rectifications map[string]time.Time `json:"rectifications,omitempty"`
	// Payments: whether the model's devices may take face payments now, and if not why
	// (Pipeline.PaymentStanding's reason code); the handler fills it in at the time of reading.
	Payments *PaymentsView `json:"payments,omitempty"`
}

// PaymentsView is a model's payment standing at a moment.
type PaymentsView struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty"`
}

// BuildTimeline derives the timeline of model m from its pipeline record (nil before the
// pipeline started) and its submissions.
func BuildTimeline(m *Model, p *Pipeline, subs map[SubmissionKind]*Submission) Timeline {
	tl := Timeline{ModelID: m.ID, Stage: StageRegistered, Tracks: []TimelineTrack{}, Waiting: []Wait{}, Restrictions: []Restriction{}}
	if p == nil {
		for _, t := range Tracks() {
			tl.Tracks = append(tl.Tracks, TimelineTrack{Track: t, Status: TrackNotStarted})
		}
		return tl
	}
	since := p.StageSince
	tl.Stage, tl.StageSince, tl.Reason, tl.Run, tl.Inspection = p.Stage, &since, p.Reason, p.Run, p.Inspection
	tl.CertificateValidity, tl.Rectifications = p.Validity, p.Rectifications
	tl.Restrictions = append(tl.Restrictions, p.Restrictions...)
	due := func(from time.Time) *time.Time {
		d := from.Add(time.Duration(p.TrackTimeoutDays) * 24 * time.Hour)
		return &d
	}
	for _, t := range Tracks() {
		tt := TimelineTrack{Track: t, Status: TrackNotStarted}
		st := p.Tracks[t]
		if st != nil {
			s := st.Since
			tt.Status, tt.Since = st.Status, &s
		}
		if t == TrackCertification {
			tt.Certificates = p.Certificates
		}
		if kind := t.SubmissionOf(); kind != "" {
			if sub := subs[kind]; sub != nil {
				if cur := sub.Current(); cur != nil {
					tt.Version, tt.Submission = cur.Number, cur.Status
				}
				for _, v := range slices.Backward(sub.Versions) {
					if v.Outcome != nil {
						tt.LastDecision = &DecisionView{Approve: v.Outcome.Approve, Feedback: v.Outcome.Reason, DecidedAt: v.Outcome.DecidedAt}
						break
					}
				}
			}
		}
		if st != nil && st.Status == TrackWaiting && p.Stage != StageExpired && p.Stage != StageWithdrawn {
			tt.Waiting = p.waitOn(t, st, subs[t.SubmissionOf()], due)
		}
		if tt.Waiting != nil {
			tl.Waiting = append(tl.Waiting, *tt.Waiting)
		}
		tl.Tracks = append(tl.Tracks, tt)
	}
	return tl
}

func (p *Pipeline) waitOn(t Track, st *TrackState, sub *Submission, due func(time.Time) *time.Time) *Wait {
	if t == TrackPVT {
		return p.pvtWait(st, due)
	}
	w := &Wait{Track: t, What: t.Label() + " submission", From: PartyVendor, Since: st.Since, Due: due(st.Since)}
	var cur *SubmissionVersion
	if sub != nil {
		cur = sub.Current()
	}
	switch {
	case cur == nil:
	case cur.Status == VersionSubmitted && cur.SubmittedAt != nil:
		d := cur.SubmittedAt.Add(ReviewDue)
		return &Wait{Track: t, What: fmt.Sprintf("review of %s version %d", t.Label(), cur.Number), From: PartyReviewer, Since: *cur.SubmittedAt, Due: &d}
	case cur.Status == VersionRejected && cur.Outcome != nil:
		w.What, w.Since = t.Label()+" resubmission", cur.Outcome.DecidedAt
	case cur.Status == VersionOpen && cur.Number > 1:
		w.What = t.Label() + " resubmission"
		if prev := sub.Versions[len(sub.Versions)-2]; prev.Outcome != nil {
			w.Since = prev.Outcome.DecidedAt
		}
	case cur.Status == VersionApproved && cur.Outcome != nil:
		// Approved; the workflow's record step follows at once.
		return nil
	}
	return w
}

func (p *Pipeline) pvtWait(st *TrackState, due func(time.Time) *time.Time) *Wait {
	in := p.Inspection
	switch {
	case in != nil && in.Status == InspectionInvited:
		d := in.Deadline
		return &Wait{Track: TrackPVT, What: fmt.Sprintf("shipment of %d devices to %s", in.Devices, in.Lab), From: PartyVendor, Since: in.InvitedAt, Due: &d}
	case in != nil && in.Status == InspectionShipped:
		d := in.Deadline
		return &Wait{Track: TrackPVT, What: "third-party inspection result from " + in.Lab, From: PartyLab, Since: *in.ShippedAt, Due: &d}
	case in != nil && in.Status == InspectionFailed:
		return &Wait{Track: TrackPVT, What: "re-inspection invitation", From: PartyReviewer, Since: *in.DecidedAt}
	case p.Stage == StageRestricted && in != nil && in.Status == InspectionPassed:
		return &Wait{Track: TrackPVT, What: "lifting of the restriction", From: PartyReviewer, Since: *in.DecidedAt}
	}
	since := st.Since
	if in != nil && in.DecidedAt != nil && in.DecidedAt.After(since) {
		since = *in.DecidedAt
	}
	return &Wait{Track: TrackPVT, What: "PVT declared done (cameras bought, factory checks running)", From: PartyVendor, Since: since, Due: due(st.Since)}
}
