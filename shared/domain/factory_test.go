package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	m := &Model{ID: "mdl_1", VendorOrg: "acme", VendorCode: "0A", ModelCode: "1B",
		ModelSpec: ModelSpec{Name: "K1", OS: OSAndroid, SoftwareModes: []SoftwareMode{ModeSDK, ModeAPP}}}
	rep := func(camera, mode, result string, at time.Time, errs ...string) FactoryReport {
		r, err := NewFactoryReport("0AA1B0000012345X7Q2M9ZK", camera, m.ID, mode, "00-1a-2b-3c-4d-5e", "", "", "490154203237518", "2.3.1", result, errs, "line-1", at.Format(time.RFC3339), false, now)
		require.NoError(t, err)
		return r
	}
	for stage, want := range map[Stage]string{StageDVT: ErrModelNotAccepted, StageRegistered: ErrModelNotAccepted, StageRestricted: ErrModelRestricted, StageExpired: ErrModelExpired} {
		d, out, _, err := Check(nil, rep("CAM1", "sdk", "pass", now), m, stage, now)
		require.NoError(t, err)
		assert.Equal(t, CheckFail, out.Result, stage)
		assert.Equal(t, []string{want}, out.Errors, stage)
		assert.Nil(t, d.FirstPassedAt)
	}
	d, out, _, err := Check(nil, rep("", "sdk", "pass", now), m, StagePVT, now)
	require.NoError(t, err)
	assert.Equal(t, []string{ErrCameraSNEmpty}, out.Errors)

	d, out, _, err = Check(nil, rep("CAM1", "sdk", "pass", now.Add(-2*time.Hour)), m, StagePVT, now)
	require.NoError(t, err)
	assert.Equal(t, CheckPass, out.Result)
	assert.True(t, out.Created)
	assert.True(t, d.Backfilled, "checked two hours before it arrived")
	assert.Equal(t, StagePVT, d.PassedIn)
	assert.Equal(t, "00:1A:2B:3C:4D:5E", d.WiredMAC)
	d.Version = 1

	next, out, _, err := Check(d, rep("CAM1", "sdk", "pass", now.Add(-2*time.Hour)), m, StagePVT, now)
	require.NoError(t, err)
	assert.Nil(t, next, "the same report changes nothing")
	assert.Equal(t, []string{WarnSameReport}, out.Warnings)

	next, out, _, err = Check(d, rep("CAM1", "sdk", "pass", now), m, StageMP, now)
	require.NoError(t, err)
	assert.Equal(t, []string{WarnAlreadyChecked}, out.Warnings)
	assert.Equal(t, 2, next.Checks)
	assert.Equal(t, StagePVT, next.PassedIn, "the stage of the first pass stays")

	_, _, _, err = Check(d, rep("CAM1", "app", "pass", now), m, StageMP, now)
	assert.Equal(t, "software_mode_locked", CodeOf(err))

	next, _, changes, err := Check(d, rep("CAM2", "sdk", "pass", now), m, StageMP, now)
	assert.Equal(t, "camera_sn_conflict", CodeOf(err))
	require.NotNil(t, next)
	assert.Equal(t, "CAM2", next.Conflict.CameraSN)
	assert.Equal(t, "camera_sn_conflict", changes[0].Action)

	ch, err := d.Reregister("alice", "RMA-1", now)
	require.NoError(t, err)
	assert.Equal(t, "sn_reregistered", ch.Action)
	assert.Equal(t, "CAM1", ch.From, "the old camera SN stays in history")
	next, out, _, err = Check(d, rep("CAM9", "sdk", "pass", now), m, StageMP, now)
	require.NoError(t, err, "after re-registration a new camera SN is no conflict")
	assert.Equal(t, CheckPass, out.Result)
	assert.Equal(t, 2, next.Registration)

	_, err = NewFactoryReport("0AA1B0000012345X7Q2M9ZK", "C", m.ID, "sdk", "", "", "", "490154203237519", "1", "pass", nil, "l", now.Format(time.RFC3339), false, now)
	assert.Equal(t, "invalid_imei", CodeOf(err), "the IMEI's check digit")
	_, err = NewFactoryReport("0AA1B0000012345X7Q2M9ZK", "C", m.ID, "sdk", "", "", "", "", "1", "pass", nil, "l", now.Add(time.Hour).Format(time.RFC3339), false, now)
	assert.Equal(t, "invalid_checked_at", CodeOf(err))
	_, err = NewFactoryReport("0AA1B0000012345X7Q2M9ZK", "C", m.ID, "sdk", "", "", "", "", "1", "fail", nil, "l", now.Format(time.RFC3339), false, now)
	assert.Equal(t, "invalid_check_error", CodeOf(err), "a failed check says what failed")
}
