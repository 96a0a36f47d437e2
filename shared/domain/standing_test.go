package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mpPipeline() *Pipeline {
	return &Pipeline{ModelID: "mdl_1", VendorOrg: "v", Run: 1, Stage: StageMP, Position: StageMP, TrackTimeoutDays: 180,
		Certificates: []Certificate{Cert3C, CertSRRC}, Tracks: map[Track]*TrackState{}}
}

func TestPaymentStanding(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name   string
		p      func() Pipeline
		at     time.Time
		reason string
	}{
		{"mp", func() Pipeline { return *mpPipeline() }, t0, ""},
		{"pvt", func() Pipeline { p := mpPipeline(); p.Position, p.Stage = StagePVT, StagePVT; return *p }, t0, ""},
		{"dvt", func() Pipeline { p := mpPipeline(); p.Position, p.Stage = StageDVT, StageDVT; return *p }, t0, StandingNotCleared},
		{"expired", func() Pipeline { p := mpPipeline(); p.Position, p.Stage = StageExpired, StageExpired; return *p }, t0, StandingExpired},
		{"withdrawn", func() Pipeline { p := mpPipeline(); p.Position, p.Stage = StageWithdrawn, StageWithdrawn; return *p }, t0, StandingWithdrawn},
		{"inspection failed", func() Pipeline {
			p := mpPipeline()
			p.Position, p.Restrictions = StagePVT, []Restriction{{Reason: RestrictionInspectionFailed, Since: t0}}
			return *p
		}, t0, "inspection_failed"},
		{"certificate expires on the day, before any sweep", func() Pipeline {
			p := mpPipeline()
			p.Validity = map[Certificate]CertificateValidity{CertSRRC: {Number: "S1", IssuedOn: "2021-12-01", ExpiresOn: "2026-12-01"}}
			return *p
		}, time.Date(2026, 12, 1, 0, 0, 1, 0, businessZone), "certificate_expired"},
		{"certificate valid the day before", func() Pipeline {
			p := mpPipeline()
			p.Validity = map[Certificate]CertificateValidity{CertSRRC: {Number: "S1", IssuedOn: "2021-12-01", ExpiresOn: "2026-12-01"}}
			return *p
		}, time.Date(2026, 11, 30, 23, 59, 0, 0, businessZone), ""},
		{"rectification overdue", func() Pipeline {
			p := mpPipeline()
			p.Rectifications = map[string]time.Time{"spc_1": t0.Add(day)}
			return *p
		}, t0.Add(day), "spot_check_overdue"},
		{"rectification before its deadline", func() Pipeline {
			p := mpPipeline()
			p.Rectifications = map[string]time.Time{"spc_1": t0.Add(day)}
			return *p
		}, t0, ""},
		{"legacy record restricted without a position", func() Pipeline {
			return Pipeline{Stage: StageRestricted, Restrictions: []Restriction{{Reason: RestrictionInspectionFailed}}}
		}, t0, "inspection_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason := tt.p().PaymentStanding(tt.at)
			assert.Equal(t, tt.reason, reason)
			assert.Equal(t, tt.reason == "", ok)
		})
	}
}

// Warnings 90, 30 and 7 days ahead, each once; restricted on the day; a renewal lifts it.
func TestSweepCertificates(t *testing.T) {
	p := mpPipeline()
	expires := "2027-06-01"
	assert.Empty(t, p.RecordCertificates(map[Certificate]CertificateValidity{Cert3C: {Number: "C-1", IssuedOn: "2022-06-01", ExpiresOn: "2028-09-01"},
		CertSRRC: {Number: "S-1", IssuedOn: "2022-06-01", ExpiresOn: expires}}, t0)[2:])
	exp := p.Validity[CertSRRC].ExpiresAt()
	var sent []string
	for at := exp.Add(-100 * 24 * time.Hour); at.Before(exp.Add(3 * 24 * time.Hour)); at = at.Add(24 * time.Hour) {
		sweepAt := at.Add(2*time.Hour + 30*time.Minute) // the schedule runs at 02:30 Asia/Shanghai
		if !p.NextDue().After(sweepAt) {
			_, notices := p.Sweep(sweepAt)
			for _, n := range notices {
				sent = append(sent, string(n.To)+": "+n.Subject)
			}
		}
		again, notices := p.Sweep(sweepAt)
		require.Empty(t, again, "a second sweep the same day does nothing")
		require.Empty(t, notices)
	}
	assert.Equal(t, []string{"vendor: SRRC certificate expires in 90 days", "vendor: SRRC certificate expires in 30 days",
		"vendor: SRRC certificate expires in 7 days", "vendor: SRRC certificate expired: model restricted", "reviewer: SRRC certificate expired"}, sent)
	assert.Equal(t, StageRestricted, p.Stage)
	assert.Equal(t, exp.Add(2*time.Hour+30*time.Minute), p.StageSince)
	ok, reason := p.PaymentStanding(exp.Add(3 * 24 * time.Hour))
	assert.Equal(t, []any{false, "certificate_expired"}, []any{ok, reason})

	ch := p.RecordCertificates(map[Certificate]CertificateValidity{CertSRRC: {Number: "S-2", IssuedOn: "2027-05-20", ExpiresOn: "2032-05-20"}}, exp.Add(4*24*time.Hour))
	assert.Equal(t, []string{"certificate_recorded", "restriction_lifted"}, actions(ch))
	assert.Equal(t, StageMP, p.Stage)
	ok, _ = p.PaymentStanding(exp.Add(5 * 24 * time.Hour))
	assert.True(t, ok)
}

// A certificate approved with 20 days left gets only the 7-day warning after the 30-day one.
func TestSweepLateCertificate(t *testing.T) {
	p := mpPipeline()
	p.RecordCertificates(map[Certificate]CertificateValidity{Cert3C: {Number: "C-1", IssuedOn: "2022-01-01", ExpiresOn: "2026-12-20"}}, t0)
	_, n := p.Sweep(t0)
	require.Len(t, n, 1)
	assert.Equal(t, "3C certificate expires in 30 days", n[0].Subject)
	_, n = p.Sweep(t0.Add(24 * time.Hour))
	assert.Empty(t, n)
}

func TestSweepTrackReminderAndRectification(t *testing.T) {
	p := &Pipeline{ModelID: "mdl_1", Run: 1, Stage: StageDVT, Position: StageDVT, TrackTimeoutDays: 180,
		Tracks: map[Track]*TrackState{TrackHardware: {Status: TrackWaiting, Since: t0}, TrackSoftware: {Status: TrackApproved, Since: t0}}}
	assert.Equal(t, t0.Add(166*24*time.Hour), p.NextDue())
	_, n := p.Sweep(t0.Add(165 * 24 * time.Hour))
	assert.Empty(t, n)
	_, n = p.Sweep(t0.Add(166 * 24 * time.Hour))
	require.Len(t, n, 1)
	assert.Contains(t, n[0].Body, "no hardware pre-check submitted within 180 days")
	_, n = p.Sweep(t0.Add(167 * 24 * time.Hour))
	assert.Empty(t, n, "reminded once")
	assert.True(t, p.NextDue().IsZero())

	p = mpPipeline()
	p.OpenRectification("spc_1", t0.Add(24*time.Hour), t0)
	assert.Equal(t, t0.Add(24*time.Hour), p.NextDue())
	ch, n := p.Sweep(t0.Add(25 * time.Hour))
	assert.Equal(t, []string{"stage_changed"}, actions(ch))
	assert.Len(t, n, 2, "the vendor and the reviewers")
	assert.Equal(t, StageRestricted, p.Stage)
	_, n = p.Sweep(t0.Add(49 * time.Hour))
	assert.Empty(t, n, "raised once")
	ch = p.CloseRectification("spc_1", "fixed", t0.Add(50*time.Hour))
	assert.Equal(t, []string{"restriction_lifted"}, actions(ch))
	assert.Equal(t, StageMP, p.Stage)
	assert.Empty(t, p.Restrictions)
}

// Two reasons at once: lifting one keeps the model restricted.
func TestRestrictionSet(t *testing.T) {
	p := mpPipeline()
	p.OpenRectification("spc_1", t0, t0)
	p.RecordCertificates(map[Certificate]CertificateValidity{Cert3C: {Number: "C-1", IssuedOn: "2020-01-01", ExpiresOn: "2026-12-01"}}, t0)
	p.Sweep(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	require.Len(t, p.Restrictions, 2)
	p.CloseRectification("spc_1", "fixed", t0)
	assert.Equal(t, StageRestricted, p.Stage)
	assert.Contains(t, p.Reason, "3C certificate C-1 expired")
	ok, reason := p.PaymentStanding(t0)
	assert.False(t, ok)
	assert.Equal(t, "certificate_expired", reason)
}

func TestWithdraw(t *testing.T) {
	p := &Pipeline{ModelID: "m", Stage: StageDVT, Position: StageDVT}
	ch, err := p.Withdraw("no longer built", t0)
	require.NoError(t, err)
	assert.Equal(t, []string{"stage_changed"}, actions(ch))
	assert.Equal(t, StageWithdrawn, p.Stage)
	_, err = p.Withdraw("again", t0)
	assert.Equal(t, "already_withdrawn", CodeOf(err))
	_, err = mpPipeline().Withdraw("x", t0)
	assert.Equal(t, "model_in_production", CodeOf(err))
}

func TestCertificateDetails(t *testing.T) {
	assert.NoError(t, CertificateDetails{Number: "2021011606000001", IssuedOn: "2021-06-01", ExpiresOn: "2026-06-01"}.Check())
	for _, d := range []CertificateDetails{{Number: "", IssuedOn: "2021-06-01", ExpiresOn: "2026-06-01"},
		{Number: "N", IssuedOn: "2021/06/01", ExpiresOn: "2026-06-01"}, {Number: "N", IssuedOn: "2021-06-01", ExpiresOn: "2021-06-01"}} {
		assert.Equal(t, "invalid_certificate_details", CodeOf(d.Check()), "%+v", d)
	}
}
