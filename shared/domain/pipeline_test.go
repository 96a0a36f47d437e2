package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)

func TestInspectionInputs(t *testing.T) {
	tests := []struct {
		name, code string
		err        error
	}{
		{"valid invitation", "", func() error { _, err := NewInspectionInvitation("CTTL", 12, t0.Add(time.Hour), t0); return err }()},
		{"9 devices", "invalid_device_count", func() error { _, err := NewInspectionInvitation("CTTL", 9, t0.Add(time.Hour), t0); return err }()},
		{"17 devices", "invalid_device_count", func() error { _, err := NewInspectionInvitation("CTTL", 17, t0.Add(time.Hour), t0); return err }()},
		{"no lab", "invalid_lab", func() error { _, err := NewInspectionInvitation(" ", 12, t0.Add(time.Hour), t0); return err }()},
		{"past deadline", "invalid_deadline", func() error { _, err := NewInspectionInvitation("CTTL", 12, t0, t0); return err }()},
		{"shipment", "", func() error { _, err := NewShipment("SF", "SF1", t0); return err }()},
		{"no tracking number", "invalid_tracking_number", func() error { _, err := NewShipment("SF", "", t0); return err }()},
		{"pass", "", func() error { _, err := NewInspectionResult("pass", "R-1", "", t0); return err }()},
		{"fail without feedback", "reason_required", func() error { _, err := NewInspectionResult("fail", "R-1", "", t0); return err }()},
		{"unknown result", "invalid_result", func() error { _, err := NewInspectionResult("maybe", "R-1", "", t0); return err }()},
		{"no report", "invalid_report", func() error { _, err := NewInspectionResult("pass", "", "", t0); return err }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code == "" {
				assert.NoError(t, tt.err)
				return
			}
			assert.Equal(t, tt.code, CodeOf(tt.err))
			assert.Equal(t, Invalid, KindOf(tt.err))
		})
	}
}

// The PVT records as the workflow writes them: a failed inspection restricts, a passed
// re-inspection keeps the restriction until it is lifted; every record applied twice changes
// nothing the second time.
func TestPipelineApply(t *testing.T) {
	p := &Pipeline{ModelID: "mdl_1", VendorOrg: "v", Stage: StageRegistered}
	at := t0
	apply := func(r PipelineRecord) []Change {
		at = at.Add(time.Hour)
		ch := p.Apply(r, at)
		assert.Empty(t, p.Apply(r, at.Add(time.Minute)), "a retried record changes nothing: %+v", r)
		return ch
	}
	apply(PipelineRecord{Run: 1, Stage: StageDVT, TrackTimeoutDays: 180, Certificates: []Certificate{Cert3C}})
	assert.Equal(t, StageDVT, p.Stage)
	assert.Equal(t, TrackWaiting, p.Tracks[TrackCertification].Status)
	apply(PipelineRecord{Run: 1, Track: TrackSoftware, Status: TrackApproved})
	apply(PipelineRecord{Run: 1, Track: TrackHardware, Status: TrackApproved})
	apply(PipelineRecord{Run: 1, Stage: StagePVT, Track: TrackPVT, Status: TrackWaiting})
	inv := PipelineEvent{Action: ActionInviteInspection, Lab: "CTTL", Devices: 12, Deadline: t0.Add(30 * 24 * time.Hour), At: at}
	apply(PipelineRecord{Run: 1, Inspection: InspectionInvited, Detail: &inv})
	apply(PipelineRecord{Run: 1, Inspection: InspectionShipped, Detail: &PipelineEvent{Carrier: "SF", TrackingNumber: "1", At: at}})
	ch := apply(PipelineRecord{Run: 1, Stage: StageRestricted, Inspection: InspectionFailed, Detail: &PipelineEvent{Report: "R", Reason: "blurry", At: at}})
	assert.Equal(t, StageRestricted, p.Stage)
	assert.Equal(t, "the third-party inspection failed: blurry", p.Reason)
	assert.Equal(t, []string{"inspection_failed", "stage_changed"}, actions(ch))

	inv2 := PipelineEvent{Action: ActionInviteInspection, Lab: "CTTL", Devices: 10, Deadline: t0.Add(60 * 24 * time.Hour), At: at.Add(time.Hour)}
	apply(PipelineRecord{Run: 1, Inspection: InspectionInvited, Detail: &inv2})
	assert.Equal(t, 2, p.Inspection.Round)
	apply(PipelineRecord{Run: 1, Inspection: InspectionShipped, Detail: &PipelineEvent{Carrier: "SF", TrackingNumber: "2", At: at}})
	apply(PipelineRecord{Run: 1, Inspection: InspectionPassed, Detail: &PipelineEvent{Passed: true, Report: "R2", At: at}})
	assert.Equal(t, StageRestricted, p.Stage, "a passed re-inspection does not lift the restriction by itself")
	ch = apply(PipelineRecord{Run: 1, Stage: StagePVT, Detail: &PipelineEvent{Reason: "fixed", At: at}})
	assert.Equal(t, []string{"restriction_lifted"}, actions(ch))
	assert.Equal(t, StagePVT, p.Stage)
	assert.Empty(t, p.Reason)

	// A record of an earlier run is stale; a new run starts over from DVT.
	assert.Empty(t, p.Apply(PipelineRecord{Run: 0, Stage: StageMP}, at))
	apply(PipelineRecord{Run: 2, Stage: StageDVT})
	assert.Equal(t, 2, p.Run)
	assert.Nil(t, p.Inspection)
}

func actions(ch []Change) []string {
	var out []string
	for _, c := range ch {
		out = append(out, c.Action)
	}
	return out
}

func TestExpiryReason(t *testing.T) {
	assert.Equal(t, "no hardware pre-check submitted within 180 days", ExpiryReason(TrackHardware, 180, false))
	assert.Equal(t, "software pre-check not approved within 90 days", ExpiryReason(TrackSoftware, 90, true))
	assert.Equal(t, "no national certificates submitted within 180 days", ExpiryReason(TrackCertification, 180, false))
	assert.Equal(t, "small-batch production (PVT) not completed within 180 days", ExpiryReason(TrackPVT, 180, false))
	p := &Pipeline{ModelID: "m", Stage: StageDVT}
	assert.Equal(t, "not_expired", CodeOf(p.CanRestart()))
	p.Stage = StageExpired
	assert.NoError(t, p.CanRestart())
}

// The timeline says who the platform waits for: the vendor for a submission (due when the
// track expires), a reviewer for a submitted version (due a week after submission).
func TestBuildTimeline(t *testing.T) {
	m := &Model{ID: "mdl_1", VendorOrg: "v"}
	tl := BuildTimeline(m, nil, nil)
	assert.Equal(t, StageRegistered, tl.Stage)
	assert.Len(t, tl.Tracks, 4)
	assert.Empty(t, tl.Waiting)

	p := &Pipeline{ModelID: "mdl_1", Run: 1, Stage: StageDVT, StageSince: t0, TrackTimeoutDays: 180, Certificates: []Certificate{Cert3C},
		Tracks: map[Track]*TrackState{TrackSoftware: {Status: TrackWaiting, Since: t0}, TrackHardware: {Status: TrackWaiting, Since: t0}, TrackCertification: {Status: TrackApproved, Since: t0}}}
	submitted := t0.Add(48 * time.Hour)
	subs := map[SubmissionKind]*Submission{
		SubmissionSoftware: {Versions: []*SubmissionVersion{{Number: 1, Status: VersionSubmitted, SubmittedAt: &submitted}}},
		SubmissionHardware: {Versions: []*SubmissionVersion{{Number: 1, Status: VersionRejected, SubmittedAt: &submitted,
			Outcome: &Decision{Approve: false, Reason: "blurry", Reviewer: "rita", DecidedAt: submitted.Add(time.Hour)}}}},
	}
	tl = BuildTimeline(m, p, subs)
	require.Len(t, tl.Waiting, 2)
	assert.Equal(t, Wait{Track: TrackSoftware, What: "review of software pre-check version 1", From: PartyReviewer, Since: submitted, Due: ptr(submitted.Add(7 * 24 * time.Hour))}, tl.Waiting[0])
	assert.Equal(t, Wait{Track: TrackHardware, What: "hardware pre-check resubmission", From: PartyVendor, Since: submitted.Add(time.Hour), Due: ptr(t0.Add(180 * 24 * time.Hour))}, tl.Waiting[1])
	assert.Equal(t, &DecisionView{Approve: false, Feedback: "blurry", DecidedAt: submitted.Add(time.Hour)}, tl.Tracks[1].LastDecision)
	assert.Equal(t, TrackNotStarted, tl.Tracks[3].Status)

	p.Stage = StageExpired
	assert.Empty(t, BuildTimeline(m, p, subs).Waiting, "an expired model waits for nothing")
}

func ptr[T any](v T) *T { return &v }
