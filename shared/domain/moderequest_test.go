package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModeChangeRequest(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	both := &Model{ID: "mdl_1", VendorOrg: "acme", ModelSpec: ModelSpec{Name: "K1", SoftwareModes: []SoftwareMode{ModeSDK, ModeAPP}}}
	sdkOnly := &Model{ID: "mdl_2", VendorOrg: "acme", ModelSpec: ModelSpec{Name: "K2", SoftwareModes: []SoftwareMode{ModeSDK}}}
	vendor := Caller{Subject: "alice", Org: "acme", Role: RoleVendor}
	reviewer := Caller{Subject: "rita", Role: RoleReviewer}
	passed := func() *Device {
		at := now.Add(-time.Hour)
		return &Device{SN: "0AA1B0000000001X7Q2M9ZK", VendorOrg: "acme", ModelID: "mdl_1", Status: DevicePassed, SoftwareMode: ModeSDK, CameraSN: "CAM1", FirstPassedAt: &at}
	}
	code := func(err error) string { return CodeOf(err) }

	_, err := RequestModeChange(passed(), both, ModeAPP, "r", "mreq_1", Caller{Subject: "eve", Org: "rival", Role: RoleVendor}, now)
	assert.Equal(t, "device_not_found", code(err), "another vendor's device")
	unlocked := passed()
	unlocked.FirstPassedAt = nil
	_, err = RequestModeChange(unlocked, both, ModeAPP, "r", "mreq_1", vendor, now)
	assert.Equal(t, "software_mode_not_locked", code(err))
	_, err = RequestModeChange(passed(), both, ModeSDK, "r", "mreq_1", vendor, now)
	assert.Equal(t, "same_software_mode", code(err))
	_, err = RequestModeChange(passed(), sdkOnly, ModeAPP, "r", "mreq_1", vendor, now)
	assert.Equal(t, "unsupported_software_mode", code(err))
	_, err = RequestModeChange(passed(), both, ModeAPP, "  ", "mreq_1", vendor, now)
	assert.Equal(t, "reason_required", code(err))

	d := passed()
	r, err := RequestModeChange(d, both, ModeAPP, " turnkey app ", "mreq_1", vendor, now)
	require.NoError(t, err)
	assert.Equal(t, "mreq_1", d.PendingModeRequest)
	assert.True(t, r.Retry(ModeAPP, "turnkey app"), "the same request again is a retry")
	assert.False(t, r.Retry(ModeAPP, "another reason"))
	_, err = RequestModeChange(d, both, ModeAPP, "another reason", "mreq_2", vendor, now)
	assert.Equal(t, "mode_change_pending", code(err))

	_, err = r.Decide(vendor, true, "", d, both, now)
	assert.Equal(t, "forbidden_role", code(err), "a vendor cannot decide")
	_, err = r.Decide(reviewer, false, "", d, both, now)
	assert.Equal(t, "reason_required", code(err), "a rejection says why")
	ch, err := r.Decide(reviewer, true, "", d, both, now.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, ModeAPP, d.SoftwareMode)
	assert.Empty(t, d.PendingModeRequest)
	assert.Equal(t, Change{At: now.Add(time.Hour), By: "rita", ByReviewer: true, Action: ActionSoftwareModeChanged, From: "sdk", To: "app",
		Reason: "request mreq_1: turnkey app"}, *ch)
	assert.True(t, r.Same(true, ""), "the same decision again is a retry")
	_, err = r.Decide(reviewer, false, "no", d, both, now)
	assert.Equal(t, "already_decided", code(err))
	o := r.ForOwner()
	assert.Empty(t, o.Decision.Reviewer)
	assert.Equal(t, "reviewer", o.History[1].By)

	// The next factory check with the new mode is accepted, with the old one refused.
	rep := FactoryReport{SN: d.SN, CameraSN: "CAM1", ModelID: "mdl_1", SoftwareMode: ModeAPP, AppVersion: "1", Result: CheckPass, Station: "l", CheckedAt: now}
	_, out, _, err := Check(d, rep, both, StageMP, now.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, CheckPass, out.Result)
	rep.SoftwareMode = ModeSDK
	_, _, _, err = Check(d, rep, both, StageMP, now.Add(2*time.Hour))
	assert.Equal(t, "software_mode_locked", code(err))

	// A rejection leaves the mode and clears the mark.
	d2 := passed()
	r2, err := RequestModeChange(d2, both, ModeAPP, "r", "mreq_3", vendor, now)
	require.NoError(t, err)
	ch, err = r2.Decide(reviewer, false, "the merchant contract says SDK", d2, both, now)
	require.NoError(t, err)
	assert.Nil(t, ch)
	assert.Equal(t, ModeSDK, d2.SoftwareMode)
	assert.Empty(t, d2.PendingModeRequest)
	assert.Equal(t, ModeRequestRejected, r2.Status)
}
