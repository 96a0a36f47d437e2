package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

func TestOwnerHistoryHidesHeldDecisionsAndReviewers(t *testing.T) {
	a := ready(t)
	submitted, err := a.Submit(vendorA, t0)
	require.NoError(t, err)
	decided, err := a.Decide(reviewer, true, "", t0.Add(time.Hour))
	require.NoError(t, err)
	revised, err := a.Decide(reviewer, false, "No deployment plan.", t0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.True(t, decided.Held && revised.Held, "held decisions are marked for reviewers only")
	released, err := a.Release("", t0.Add(6*24*time.Hour))
	require.NoError(t, err)
	evidence := domain.Change{At: t0, By: "rita", ByReviewer: true, Action: "decided", To: "v1 rejected", Reason: "Blurred photo."}

	all := []domain.Change{submitted, decided, revised, released, evidence}
	got := domain.OwnerHistory(all)
	require.Len(t, got, 3)
	assert.Equal(t, []string{"submitted", "released", "decided"}, []string{got[0].Action, got[1].Action, got[2].Action})
	assert.Equal(t, "No deployment plan.", got[1].Reason, "the release says the outcome and why")
	assert.Equal(t, "reviewer", got[2].By, "a reviewer acted; the owner is not told who")
	assert.False(t, got[2].ByReviewer)
	for _, c := range got {
		assert.NotEqual(t, "rita", c.By)
	}
	assert.Equal(t, "rita", all[4].By, "the stored history is unchanged")
}

func TestModelForOwnerShowsNoInternals(t *testing.T) {
	released := t0
	m := &domain.Model{ID: "mdl_1", Status: domain.ModelApproved, ModelCode: "00",
		Pipeline: "arn:aws:states:us-east-1:000000000000:execution:pipeline:mdl_1",
		Decision: &domain.Decision{Approve: true, Reviewer: "rita"},
		Outcome:  &domain.Decision{Approve: true, Reviewer: "rita", ReleasedAt: &released}}
	o := m.ForOwner()
	assert.Empty(t, o.Pipeline)
	assert.Nil(t, o.Decision)
	assert.Empty(t, o.Outcome.Reviewer)
	assert.Equal(t, "rita", m.Outcome.Reviewer, "the model itself is unchanged")
	assert.NotEmpty(t, m.Pipeline)

	v := &domain.SubmissionVersion{Number: 1, Outcome: &domain.Decision{Approve: false, Reason: "Blurred.", Reviewer: "rita"}}
	assert.Equal(t, &domain.Decision{Approve: false, Reason: "Blurred."}, v.ForOwner().Outcome)
	assert.Nil(t, (*domain.SubmissionVersion)(nil).ForOwner())
}

func TestDeviceVendorApplicationNeedsServiceProviderAccountAtCreation(t *testing.T) {
	for _, acct := range []string{"", "merchant", "Service_Provider"} {
		c := vendorA
		c.AccountType = acct
		_, _, err := domain.NewApplication("app_x", c, domain.PartnerDeviceVendor, domain.ApplicationDraft{}, t0)
		assert.Equal(t, "wrong_account_type", domain.CodeOf(err), "account type %q", acct)
		assert.Equal(t, domain.Forbidden, domain.KindOf(err))
	}
	a, _, err := domain.NewApplication("app_y", vendorA, domain.PartnerDeviceVendor, domain.ApplicationDraft{}, t0)
	require.NoError(t, err)
	assert.Equal(t, domain.AccountServiceProvider, a.AccountType, "shown to reviewers")

	merchant := domain.Caller{Subject: "m", Org: "shop", Role: domain.RoleMerchant, AccountType: "merchant"}
	_, _, err = domain.NewApplication("app_z", merchant, domain.PartnerMerchant, domain.ApplicationDraft{}, t0)
	assert.NoError(t, err, "other partner types hold other accounts")
}

func TestNamesThatCannotGoInsideEvidenceFileNamesAreRefused(t *testing.T) {
	for _, name := range []string{"Acme [China] Ltd", "Acme]", "Acme/Devices", `Acme\Devices`, "Acme\tDevices", "Acme\nLtd", "Acme\x7f", "Ac\u0085me", "Acme\x00"} {
		_, _, err := domain.NewApplication("app_n", vendorA, domain.PartnerDeviceVendor,
			domain.ApplicationDraft{Company: &domain.Company{Name: name}}, t0)
		assert.Equal(t, "invalid_company_name", domain.CodeOf(err), "company %q", name)
		_, err = domain.ModelSpecInput{Name: "K1" + name, DeviceType: "handheld", OS: "android",
			SoftwareModes: []string{"sdk"}, CameraModel: "C1"}.Parse()
		assert.Equal(t, "invalid_model_name", domain.CodeOf(err), "model %q", name)
	}
	a := ready(t)
	_, err := a.Edit(vendorA, domain.ApplicationDraft{Company: &domain.Company{Name: "深圳示例科技有限公司 (Acme) & Co."}}, t0)
	assert.NoError(t, err, "brackets of other kinds, ampersands and CJK are fine")
	_, err = a.Edit(vendorA, domain.ApplicationDraft{Company: &domain.Company{Name: "Acme [CN]"}}, t0)
	assert.Equal(t, "invalid_company_name", domain.CodeOf(err), "an edit is checked like a create")
	assert.Equal(t, "k1 pro", domain.NameKey(" K1 Pro "))
	assert.Equal(t, domain.NameKey("K1"), domain.NameKey("k1"))
}
