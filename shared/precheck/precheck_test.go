package precheck_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/precheck"
)

// cashier: desktop cashier standard (all five categories required), SDK only, Wi-Fi.
var cashier = &domain.Model{ID: "mdl_1", VendorOrg: "vendor-a", ModelSpec: domain.ModelSpec{Name: "K1",
	DeviceType: domain.DeviceDesktopSingleScreen, SoftwareModes: []domain.SoftwareMode{domain.ModeSDK},
	Connectivity: []domain.Connectivity{domain.ConnWiFi}}}

// kiosk: self-checkout standard (coating optional), both modes, 4G.
var kiosk = &domain.Model{ID: "mdl_2", VendorOrg: "vendor-a", ModelSpec: domain.ModelSpec{Name: "S1",
	DeviceType: domain.DeviceSelfServiceKiosk, SoftwareModes: []domain.SoftwareMode{domain.ModeSDK, domain.ModeAPP},
	Connectivity: []domain.Connectivity{domain.Conn4G}}}

func TestSlot(t *testing.T) {
	tests := []struct {
		model    *domain.Model
		kind     domain.SubmissionKind
		id       string
		want     string
		wantCode string
	}{
		{cashier, domain.SubmissionSoftware, "software.2.sdk", "software/2/sdk", ""},
		{cashier, domain.SubmissionSoftware, "software/1", "software/1", ""},
		{cashier, domain.SubmissionSoftware, "software.2.app", "", "slot_not_applicable"},
		{cashier, domain.SubmissionSoftware, "hardware.workbook", "", "slot_not_applicable"},
		{cashier, domain.SubmissionSoftware, "deck", "", "slot_not_applicable"},
		{cashier, domain.SubmissionSoftware, "software.9", "", "unknown_slot"},
		{cashier, domain.SubmissionHardware, "hardware.coating_reliability", "hardware/coating_reliability", ""},
		{cashier, domain.SubmissionCertificates, "certificate.srrc", "certificate/srrc", ""},
		{cashier, domain.SubmissionCertificates, "certificate.cta", "", "slot_not_applicable"},
		{kiosk, domain.SubmissionCertificates, "certificate.cta", "certificate/cta", ""},
		{kiosk, domain.SubmissionSoftware, "software.3.app", "software/3/app", ""},
	}
	for _, tt := range tests {
		t.Run(tt.model.Name+"/"+tt.id, func(t *testing.T) {
			s, err := precheck.Slot(tt.model, tt.kind, tt.id)
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, domain.CodeOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.ID())
		})
	}
}

func TestSlots(t *testing.T) {
	req, opt, err := precheck.Slots(kiosk, domain.SubmissionSoftware)
	require.NoError(t, err)
	assert.Equal(t, []string{"software/1", "software/2/sdk", "software/3/sdk", "software/4", "software/2/app", "software/3/app"}, precheck.RequiredIDs(req))
	assert.Empty(t, opt)
	req, opt, err = precheck.Slots(kiosk, domain.SubmissionHardware)
	require.NoError(t, err)
	assert.Equal(t, []string{"hardware/workbook", "hardware/climate_reliability", "hardware/mechanical_reliability",
		"hardware/basic_function", "hardware/performance"}, precheck.RequiredIDs(req))
	assert.Equal(t, []string{"hardware/coating_reliability"}, precheck.RequiredIDs(opt))
	req, err = precheck.Required(kiosk, domain.SubmissionCertificates)
	require.NoError(t, err)
	assert.Equal(t, []string{"certificate/3c", "certificate/cta"}, precheck.RequiredIDs(req))
}

func TestCheckComplete(t *testing.T) {
	v := &domain.SubmissionVersion{Kind: domain.SubmissionHardware, Artifacts: map[string]*domain.Artifact{}}
	for _, c := range domain.StandardDesktopCashier.Categories() {
		v.Artifacts["hardware/"+string(c)] = &domain.Artifact{Status: domain.ArtifactReceived}
	}
	require.NoError(t, precheck.CheckComplete(cashier, v))
	v.Artifacts["hardware/performance"].Status = domain.ArtifactRejected
	err := precheck.CheckComplete(cashier, v)
	assert.Equal(t, "missing_category", domain.CodeOf(err))
	assert.Contains(t, domain.MessageOf(err), "performance")
	assert.NoError(t, precheck.CheckComplete(cashier, &domain.SubmissionVersion{Kind: domain.SubmissionSoftware}))
}

func TestKeyRoundTrip(t *testing.T) {
	key := precheck.Key("vendor-a", "mdl_1", domain.SubmissionSoftware, 3, "software/2/sdk", "up_1")
	assert.Equal(t, "evidence/vendor-a/mdl_1/software/v3/software.2.sdk/up_1", key)
	got, ok := precheck.ParseKey(key)
	require.True(t, ok)
	assert.Equal(t, precheck.KeyParts{Org: "vendor-a", ModelID: "mdl_1", Kind: domain.SubmissionSoftware, Version: 3,
		SlotID: "software/2/sdk", UploadID: "up_1"}, got)
	for _, bad := range []string{
		"evidence/vendor-a/mdl_1/software/v3/software.2.sdk",
		"evidence/vendor-a/mdl_1/deck/v3/deck/up_1",
		"evidence/vendor-a/mdl_1/software/3/software.1/up_1",
		"evidence/vendor-a/mdl_1/software/v0/software.1/up_1",
		"evidence/vendor-a//software/v1/software.1/up_1",
		"applications/vendor-a/app_1/deck/up_1/x/y",
	} {
		_, ok := precheck.ParseKey(bad)
		assert.False(t, ok, bad)
	}
}

func TestScreenedAndResult(t *testing.T) {
	assert.True(t, precheck.Screened(evidence.SoftwareSlot(1, "")))
	assert.True(t, precheck.Screened(evidence.SoftwareSlot(2, domain.ModeSDK)))
	assert.False(t, precheck.Screened(evidence.SoftwareSlot(3, domain.ModeSDK)))
	assert.True(t, precheck.Screened(evidence.WorkbookSlot(domain.StandardMedical)))
	assert.False(t, precheck.Screened(evidence.CategorySlot(domain.StandardMedical, domain.CategoryPerformance)))
	r := precheck.Result(evidence.Prescreen{Findings: []evidence.Finding{{Code: "missing_sheet", Sheet: "性能", Message: "m"}}})
	assert.False(t, r.Acceptable())
	assert.Equal(t, "missing_sheet", r.Findings[0].Code)
	assert.NotNil(t, r.Flags)
}
