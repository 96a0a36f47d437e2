package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

var (
	t0       = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	vendorA  = domain.Caller{Subject: "alice", Org: "vendor-a", Role: domain.RoleVendor, AccountType: domain.AccountServiceProvider}
	reviewer = domain.Caller{Subject: "rita", Role: domain.RoleReviewer}
	yes      = true
)

// ready returns a device-vendor application that satisfies every submission rule.
func ready(t *testing.T) *domain.Application {
	t.Helper()
	a, _, err := domain.NewApplication("app_1", vendorA, domain.PartnerDeviceVendor, domain.ApplicationDraft{
		Company: &domain.Company{Name: "Vendor A"}, AgreementAccepted: &yes, Survey: map[string]string{"q": "a"},
	}, t0)
	require.NoError(t, err)
	_, err = a.RequestAttachment(vendorA, domain.Attachment{Slot: "deck", UploadID: "up_1", FileName: "deck.pdf"}, t0)
	require.NoError(t, err)
	_, err = a.ReceiveAttachment("deck", "up_1", "v1", 10, "", t0)
	require.NoError(t, err)
	return a
}

func TestSubmitRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *domain.Application, c *domain.Caller)
		code   string
	}{
		{"ready", func(*domain.Application, *domain.Caller) {}, ""},
		{"not a service provider account", func(_ *domain.Application, c *domain.Caller) { c.AccountType = "merchant" }, "wrong_account_type"},
		{"agreement not accepted", func(a *domain.Application, _ *domain.Caller) { a.AgreementAccepted = false }, "agreement_not_accepted"},
		{"no deck", func(a *domain.Application, _ *domain.Caller) { delete(a.Attachments, "deck") }, "missing_deck"},
		{"deck rejected", func(a *domain.Application, _ *domain.Caller) {
			a.Attachments["deck"].Status = domain.AttachmentRejected
		}, "missing_deck"},
		{"deck still uploading", func(a *domain.Application, _ *domain.Caller) { a.Attachments["deck"].Status = domain.AttachmentPending }, "attachment_pending"},
		{"no survey", func(a *domain.Application, _ *domain.Caller) { a.Survey = nil }, "missing_survey"},
		{"no company name", func(a *domain.Application, _ *domain.Caller) { a.Company.Name = "" }, "missing_company"},
		{"already submitted", func(a *domain.Application, _ *domain.Caller) { a.Status = domain.AppSubmitted }, "not_editable"},
		{"withdrawn", func(a *domain.Application, _ *domain.Caller) { a.Status = domain.AppWithdrawn }, "not_editable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, c := ready(t), vendorA
			tt.mutate(a, &c)
			_, err := a.Submit(c, t0)
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, domain.AppSubmitted, a.Status)
				assert.Equal(t, 1, a.Round)
				return
			}
			assert.Equal(t, tt.code, domain.CodeOf(err))
		})
	}
}

func TestOnlyDeviceVendorsNeedDeckAndServiceProviderAccount(t *testing.T) {
	merchant := domain.Caller{Subject: "m", Org: "shop", Role: domain.RoleMerchant, AccountType: "merchant"}
	a, _, err := domain.NewApplication("app_2", merchant, domain.PartnerMerchant, domain.ApplicationDraft{Company: &domain.Company{Name: "Shop"}}, t0)
	require.NoError(t, err)
	_, err = a.Submit(merchant, t0)
	assert.NoError(t, err)
}

func TestApplyingAsAnotherPartnerTypeIsForbidden(t *testing.T) {
	_, _, err := domain.NewApplication("app_3", vendorA, domain.PartnerMerchant, domain.ApplicationDraft{}, t0)
	assert.Equal(t, "wrong_role", domain.CodeOf(err))
	assert.Equal(t, domain.Forbidden, domain.KindOf(err))
}

func TestDecisionsAreHeldRevisableAndReleasedOnce(t *testing.T) {
	a := ready(t)
	_, err := a.Decide(reviewer, true, "", t0)
	assert.Equal(t, "not_under_review", domain.CodeOf(err), "a draft cannot be decided")

	_, err = a.Submit(vendorA, t0)
	require.NoError(t, err)
	ch, err := a.Decide(reviewer, true, "", t0)
	require.NoError(t, err)
	assert.Equal(t, "decided", ch.Action)
	assert.Equal(t, domain.AppSubmitted, a.Status, "a held decision does not change what the applicant sees")
	assert.Nil(t, a.Outcome)

	_, err = a.Decide(reviewer, false, " ", t0)
	assert.Equal(t, "reason_required", domain.CodeOf(err))
	ch, err = a.Decide(reviewer, false, "No deployment plan.", t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "decision_revised", ch.Action)

	release := t0.Add(6 * 24 * time.Hour)
	_, err = a.Release("", release)
	require.NoError(t, err)
	assert.Equal(t, domain.AppRejected, a.Status)
	require.NotNil(t, a.Outcome)
	assert.Equal(t, "No deployment plan.", a.Outcome.Reason)
	assert.Equal(t, release, *a.Outcome.ReleasedAt)
	require.NotNil(t, a.Decision, "kept as read, so the store retires that very item")
	assert.Equal(t, *a.Decision.ForOwner(), domain.Decision{Approve: false, Reason: "No deployment plan.", DecidedAt: t0.Add(time.Hour)})
	assert.Equal(t, "rita", a.Outcome.Reviewer, "reviewers still see who decided")
	assert.Empty(t, a.ForOwner().Outcome.Reviewer, "the applicant never does")
	assert.Empty(t, a.VendorCode, "a rejection carries no code")

	_, err = a.Decide(reviewer, true, "", release)
	assert.Equal(t, "already_released", domain.CodeOf(err))
	_, err = a.Release("00", release)
	assert.Equal(t, "nothing_to_release", domain.CodeOf(err))

	// Rejected → edited → resubmitted → approved with a code.
	_, err = a.Edit(vendorA, domain.ApplicationDraft{Survey: map[string]string{"plan": "attached"}}, release)
	require.NoError(t, err)
	_, err = a.Submit(vendorA, release)
	require.NoError(t, err)
	assert.Equal(t, 2, a.Round)
	assert.Nil(t, a.Outcome, "the previous outcome no longer applies")
	_, err = a.Decide(reviewer, true, "", release)
	require.NoError(t, err)
	_, err = a.Release("7Z", release.Add(7*24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, domain.AppApproved, a.Status)
	assert.Equal(t, "7Z", a.VendorCode)
}

func TestReceiveAttachmentIgnoresStaleAndRepeatedNotifications(t *testing.T) {
	a := ready(t)
	_, err := a.ReceiveAttachment("deck", "up_1", "v1", 10, "", t0)
	assert.ErrorIs(t, err, domain.ErrStaleUpload, "the same notification twice")
	_, err = a.RequestAttachment(vendorA, domain.Attachment{Slot: "deck", UploadID: "up_2", FileName: "deck2.pdf"}, t0)
	require.NoError(t, err)
	_, err = a.ReceiveAttachment("deck", "up_1", "v1", 10, "", t0)
	assert.ErrorIs(t, err, domain.ErrStaleUpload, "a superseded upload")
	ch, err := a.ReceiveAttachment("deck", "up_2", "v2", 10, "the file named deck2.pdf is not a PDF", t0)
	require.NoError(t, err)
	assert.Equal(t, "attachment_rejected", ch.Action)
	assert.Equal(t, domain.AttachmentRejected, a.Attachments["deck"].Status)
}

func TestRequestAttachmentChecksSlotAndState(t *testing.T) {
	a := ready(t)
	_, err := a.RequestAttachment(vendorA, domain.Attachment{Slot: "store_photo"}, t0)
	assert.Equal(t, "unknown_slot", domain.CodeOf(err), "merchants' slot on a vendor application")
	_, err = a.Submit(vendorA, t0)
	require.NoError(t, err)
	_, err = a.RequestAttachment(vendorA, domain.Attachment{Slot: "deck"}, t0)
	assert.Equal(t, "not_editable", domain.CodeOf(err))
}

func TestWithdraw(t *testing.T) {
	a := ready(t)
	_, err := a.Submit(vendorA, t0)
	require.NoError(t, err)
	_, err = a.Decide(reviewer, true, "", t0)
	require.NoError(t, err)
	_, err = a.Withdraw(vendorA, "later", t0)
	require.NoError(t, err)
	_, err = a.Release("", t0)
	assert.Equal(t, "nothing_to_release", domain.CodeOf(err), "a withdrawn application has nothing to release")
	_, err = a.Withdraw(vendorA, "", t0)
	assert.Equal(t, "not_withdrawable", domain.CodeOf(err))
}

func TestCodes(t *testing.T) {
	first, err := domain.CodeAt(0)
	require.NoError(t, err)
	assert.Equal(t, "00", first)
	c, _ := domain.CodeAt(36)
	assert.Equal(t, "10", c)
	last, err := domain.CodeAt(domain.MaxCodes - 1)
	require.NoError(t, err)
	assert.Equal(t, "ZZ", last)
	_, err = domain.CodeAt(domain.MaxCodes)
	assert.Equal(t, "codes_exhausted", domain.CodeOf(err))

	seen := map[string]bool{}
	for n := 0; n < domain.MaxCodes; n++ {
		c, err := domain.CodeAt(n)
		require.NoError(t, err)
		require.True(t, domain.ValidCode(c), c)
		require.False(t, seen[c], "code %s twice", c)
		seen[c] = true
	}
	for _, bad := range []string{"", "0", "000", "a0", "0-"} {
		assert.False(t, domain.ValidCode(bad), bad)
	}
}

func TestParseVerdictNeverDefaultsToReject(t *testing.T) {
	for _, s := range []string{"", "Approve", "no", "rejected"} {
		_, err := domain.ParseVerdict(s)
		assert.Equal(t, "invalid_decision", domain.CodeOf(err), s)
	}
}

func TestModelSpecParse(t *testing.T) {
	ok := domain.ModelSpecInput{Name: "K1", DeviceType: "handheld", OS: "android", SoftwareModes: []string{"sdk", "sdk", "app"},
		Connectivity: []string{"wifi"}, CameraModel: "C1"}
	spec, err := ok.Parse()
	require.NoError(t, err)
	assert.Len(t, spec.SoftwareModes, 2, "duplicates collapse")

	tests := []struct {
		name   string
		mutate func(*domain.ModelSpecInput)
		code   string
	}{
		{"no name", func(in *domain.ModelSpecInput) { in.Name = " " }, "invalid_model_name"},
		{"brackets in name break file names", func(in *domain.ModelSpecInput) { in.Name = "K[1]" }, "invalid_model_name"},
		{"device type", func(in *domain.ModelSpecInput) { in.DeviceType = "toaster" }, "unknown_device_type"},
		{"os", func(in *domain.ModelSpecInput) { in.OS = "ios" }, "unknown_os"},
		{"no mode", func(in *domain.ModelSpecInput) { in.SoftwareModes = nil }, "missing_software_mode"},
		{"mode", func(in *domain.ModelSpecInput) { in.SoftwareModes = []string{"web"} }, "unknown_software_mode"},
		{"connectivity", func(in *domain.ModelSpecInput) { in.Connectivity = []string{"5g"} }, "unknown_connectivity"},
		{"camera", func(in *domain.ModelSpecInput) { in.CameraModel = "" }, "missing_camera_model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.mutate(&in)
			_, err := in.Parse()
			assert.Equal(t, tt.code, domain.CodeOf(err))
		})
	}
}

func TestModelLifecycle(t *testing.T) {
	spec, err := domain.ModelSpecInput{Name: "K1", DeviceType: "handheld", OS: "linux", SoftwareModes: []string{"app"}, CameraModel: "C1"}.Parse()
	require.NoError(t, err)
	m, ch := domain.RegisterModel("mdl_1", vendorA, domain.Vendor{Org: "vendor-a", Code: "00"}, spec, t0)
	assert.Equal(t, "registered", ch.Action)
	assert.Equal(t, domain.ModelUnderReview, m.Status)
	_, err = m.Resubmit(vendorA, spec, t0)
	assert.Equal(t, "not_editable", domain.CodeOf(err))
	_, err = m.Decide(reviewer, false, "Camera not certified.", t0)
	require.NoError(t, err)
	_, err = m.Release("", t0)
	require.NoError(t, err)
	assert.Equal(t, domain.ModelRejected, m.Status)
	assert.Empty(t, m.ModelCode)
	_, err = m.Resubmit(vendorA, spec, t0)
	require.NoError(t, err)
	assert.Equal(t, 2, m.Round)
	_, err = m.Decide(reviewer, true, "", t0)
	require.NoError(t, err)
	_, err = m.Release("01", t0)
	require.NoError(t, err)
	assert.Equal(t, domain.ModelApproved, m.Status)
	assert.Equal(t, "01", m.ModelCode)
	_, err = m.Decide(reviewer, false, "late", t0)
	assert.Equal(t, "already_released", domain.CodeOf(err))
}

func TestEditThatChangesNothingRecordsNothing(t *testing.T) {
	a := ready(t)
	ch, err := a.Edit(vendorA, domain.ApplicationDraft{Survey: map[string]string{"q": "a"}, AgreementAccepted: &yes}, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Empty(t, ch.Action, "the same values again")
	assert.Equal(t, t0, a.UpdatedAt)
	ch, err = a.Edit(vendorA, domain.ApplicationDraft{Survey: map[string]string{"q": "b"}}, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "edited", ch.Action)
}

func TestDecisionSame(t *testing.T) {
	var none *domain.Decision
	assert.False(t, none.Same(true, ""), "no decision is never the same")
	d := &domain.Decision{Approve: false, Reason: "Deck incomplete."}
	assert.True(t, d.Same(false, "  Deck incomplete. "), "compared as stored: trimmed")
	assert.False(t, d.Same(true, "Deck incomplete."))
	assert.False(t, d.Same(false, "Deck incomplete"))
}
