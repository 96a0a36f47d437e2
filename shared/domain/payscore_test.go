package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fridgeDetails() PayScoreDetails {
	return PayScoreDetails{
		Company: "Cold Box Retail Ltd", BusinessSummary: "Smart fridges in office buildings", MerchantID: "1900012345",
		MerchantType: MerchantEnterprise, Software: Software{Supplier: "FridgeOS Co"}, OperatingModel: "self_run",
		CurrentDailyTransactions: 1200, ExpectedDailyTransactions: 5000, AverageTicketFen: 1850,
		TicketDistribution: []TicketBand{{0, 10, 40}, {10, 50, 55}, {50, 99, 5}},
		Channels:           []string{"mini_program"}, DeploymentSites: []DeploymentSite{{Site: "Shanghai Pudong offices", Devices: 120}},
		CommunicationGroup: "ColdBox x Pay Score", MonthlyOrders: 36000,
	}
}

var merchant = Caller{Subject: "mia", Org: "coldbox", Role: RoleMerchant}

func received(p *PayScoreApplication, slots ...string) {
	for _, s := range slots {
		p.Attachments[s] = &Attachment{Slot: s, Status: AttachmentReceived}
	}
}

func TestPayScoreEligibilityHasItsOwnCodes(t *testing.T) {
	now := time.Date(2026, 9, 4, 2, 0, 0, 0, time.UTC)
	for code, mutate := range map[string]func(*PayScoreDetails){
		"ineligible_individual_business": func(d *PayScoreDetails) { d.MerchantType = MerchantIndividualBusiness },
		"ineligible_micro_merchant":      func(d *PayScoreDetails) { d.MerchantType = MerchantMicro },
		"ineligible_service_provider":    func(d *PayScoreDetails) { d.MerchantType = MerchantServiceProvider },
		"complaint_rate_too_high":        func(d *PayScoreDetails) { d.MonthlyComplaints = 4 }, // 4 / 36000 = 0.011%
		"entity_has_violations":          func(d *PayScoreDetails) { d.Violations = true },
		"missing_charging_rules":         nil,
		"charging_rules_not_applicable": func(d *PayScoreDetails) {
			d.ChargingRules = &ChargingRules{PerHourFen: 100, DailyCapFen: 1000, TotalCapFen: 9900}
		},
		"invalid_ticket_distribution": func(d *PayScoreDetails) { d.TicketDistribution[0].Percent = 10 },
		"invalid_merchant_id":         func(d *PayScoreDetails) { d.MerchantID = "M-1" },
	} {
		d, s := fridgeDetails(), ScenarioSmartFridge
		if mutate == nil {
			s = ScenarioPowerBank // a rental scenario without charging rules
		} else {
			mutate(&d)
		}
		_, _, err := NewPayScoreApplication("psa_1", merchant, s, d, now)
		assert.Equal(t, code, CodeOf(err), code)
	}
	d := fridgeDetails()
	d.MonthlyComplaints = 3 // 0.0083%: under the limit
	_, _, err := NewPayScoreApplication("psa_1", merchant, ScenarioSmartFridge, d, now)
	assert.NoError(t, err)
	_, _, err = NewPayScoreApplication("psa_1", Caller{Subject: "v", Org: "o", Role: RoleVendor}, ScenarioSmartFridge, fridgeDetails(), now)
	assert.Equal(t, "forbidden_role", CodeOf(err))
}

func TestPayScoreSubmitNeedsEveryAttachmentAndDefersWithoutPhone(t *testing.T) {
	friday := time.Date(2026, 9, 4, 2, 0, 0, 0, time.UTC) // Friday 10:00 in Shanghai
	all := []string{SlotInteractionFlow, SlotDevicePanorama, SlotBusinessLicence, SlotPurchaseAgreement}
	for i, slot := range all {
		p, _, err := NewPayScoreApplication("psa_1", merchant, ScenarioSmartFridge, fridgeDetails(), friday)
		require.NoError(t, err)
		received(p, append(append([]string{}, all[:i]...), all[i+1:]...)...)
		_, err = p.Submit(merchant, friday)
		want, _ := PayScoreSlotOf(slot)
		assert.Equal(t, want.MissingCode, CodeOf(err), slot)
		assert.Equal(t, PayScoreDraft, p.Status)
	}
	d := fridgeDetails()
	d.MonthlyComplaints = 1
	p, _, err := NewPayScoreApplication("psa_1", merchant, ScenarioSmartFridge, d, friday)
	require.NoError(t, err)
	received(p, all...)
	_, err = p.Submit(merchant, friday)
	assert.Equal(t, "missing_complaint_resolution", CodeOf(err), "a merchant with complaints shows them resolved")
	received(p, SlotComplaintResolution)

	ch, err := p.Submit(merchant, friday)
	require.NoError(t, err)
	assert.Equal(t, PayScoreDeferred, p.Status)
	assert.Equal(t, time.Date(2026, 9, 7, 1, 0, 0, 0, time.UTC), *p.DeferredUntil, "next week's review: Monday 09:00")
	assert.Contains(t, ch.Reason, "deferred to next week's review (2026-09-07 09:00 Asia/Shanghai)")
	_, err = p.Decide(Caller{Subject: "rita", Role: RoleReviewer}, true, "", friday)
	assert.Equal(t, "review_deferred", CodeOf(err))

	ch, err = p.VerifyPhone(merchant, "400-820-1234", friday.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, Phone{Number: "400-820-1234", VerifiedAt: friday.Add(24 * time.Hour), VerifiedBy: "mia"}, *p.Phone, "who and when")
	assert.Equal(t, Change{At: friday.Add(24 * time.Hour), By: "mia", Action: "phone_verified", To: "400-820-1234"}, ch, "in the history")
	ch, err = p.VerifyPhone(merchant, "400-820-1234", friday.Add(25*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, Change{}, ch, "a retried verification records nothing")
	assert.Equal(t, friday.Add(24*time.Hour), p.Phone.VerifiedAt)
	_, err = p.VerifyPhone(merchant, "call me", friday)
	assert.Equal(t, "invalid_phone", CodeOf(err))
	assert.Equal(t, Change{}, p.StartReview(friday.Add(48*time.Hour)), "not before the week's review")
	ch = p.StartReview(*p.DeferredUntil)
	assert.Equal(t, "review_started", ch.Action)
	assert.Equal(t, PayScoreUnderReview, p.Status)
	_, err = p.VerifyPhone(merchant, "400-820-9999", friday.Add(96*time.Hour))
	assert.Equal(t, "phone_not_changeable", CodeOf(err), "the verified phone stays once under review")
}

// Without a verified phone a deferred application is deferred again each week, and no service
// ID is configured for an application without one.
func TestPayScoreWithoutPhoneNoReviewNoServiceID(t *testing.T) {
	friday := time.Date(2026, 9, 4, 2, 0, 0, 0, time.UTC)
	p, _, err := NewPayScoreApplication("psa_1", merchant, ScenarioSmartFridge, fridgeDetails(), friday)
	require.NoError(t, err)
	received(p, SlotInteractionFlow, SlotDevicePanorama, SlotBusinessLicence, SlotPurchaseAgreement)
	_, err = p.Submit(merchant, friday)
	require.NoError(t, err)
	first := *p.DeferredUntil
	ch := p.StartReview(first)
	assert.Equal(t, "deferred", ch.Action, "still no phone: next week again")
	assert.Equal(t, first.Add(7*24*time.Hour), *p.DeferredUntil)
	assert.Equal(t, PayScoreDeferred, p.Status)

	q := &PayScoreApplication{ID: "psa_2", Status: PayScoreConfiguring, ServiceID: &ServiceID{ID: "svc"}}
	assert.Equal(t, Change{}, q.ServiceReady(friday), "no service ID without a verified phone")
	assert.Equal(t, PayScoreConfiguring, q.Status)
}

func TestPayScoreApprovalConfiguresTheServiceIDInWorkingDays(t *testing.T) {
	rita := Caller{Subject: "rita", Role: RoleReviewer}
	monday := time.Date(2026, 9, 14, 1, 0, 0, 0, time.UTC)
	p := &PayScoreApplication{ID: "psa_1", Scenario: ScenarioSmartFridge, Status: PayScoreUnderReview, Attachments: map[string]*Attachment{},
		Phone: &Phone{Number: "400-820-1234"}}
	_, err := p.Decide(rita, true, "", monday.Add(-time.Hour))
	assert.Equal(t, "licence_scope_mismatch", CodeOf(err), "no scope recorded")
	require.NoError(t, p.RecordLicenceScopes([]string{ScopeSharingRental}))
	_, err = p.Decide(rita, true, "", monday.Add(-time.Hour))
	assert.Equal(t, "licence_scope_mismatch", CodeOf(err), "rental does not cover a fridge")
	require.NoError(t, p.RecordLicenceScopes([]string{ScopeFoodSales}))
	_, err = p.Decide(rita, true, "", monday.Add(-time.Hour))
	require.NoError(t, err)

	_, err = p.Release("svc_1", monday)
	require.NoError(t, err)
	assert.Equal(t, PayScoreConfiguring, p.Status)
	// From Monday 2026-09-14: Sep 15–18 (4), Sep 20 a make-up Sunday (5), Sep 21–24 (9),
	// Sep 25–27 Mid-Autumn and the weekend, Sep 28 (10).
	assert.Equal(t, time.Date(2026, 9, 21, 16, 0, 0, 0, time.UTC), p.ServiceID.Earliest, "7th working day (Sep 22), 00:00 Shanghai")
	assert.Equal(t, time.Date(2026, 9, 28, 10, 0, 0, 0, time.UTC), p.ServiceID.Due, "10th working day, 18:00 Shanghai")
	assert.False(t, p.ServiceID.Expediting)
	out, done := p.StepOutput(StepReview)
	assert.True(t, done)
	assert.Equal(t, map[string]any{"approve": true, "serviceIdDue": "2026-09-28T10:00:00Z"}, out)

	_, err = p.SignAgreement(merchant, monday)
	assert.Equal(t, "service_not_ready", CodeOf(err))
	p.ServiceReady(p.ServiceID.Due)
	_, err = p.SignAgreement(merchant, p.ServiceID.Due)
	require.NoError(t, err)
	assert.Equal(t, PayScoreDeveloping, p.Status)
}

func TestPayScoreAcceptanceAndMisuse(t *testing.T) {
	rita := Caller{Subject: "rita", Role: RoleReviewer}
	now := time.Date(2026, 10, 9, 2, 0, 0, 0, time.UTC)
	p := &PayScoreApplication{ID: "psa_1", Scenario: ScenarioSmartFridge, Status: PayScoreDeveloping, Attachments: map[string]*Attachment{}}
	received(p, SlotScreenRecording, SlotOnsiteVideo, SlotOrderCompleted, SlotEmergencySwitch)
	_, err := p.SubmitAcceptance(merchant, now)
	assert.Equal(t, "missing_cancelled_order_screenshot", CodeOf(err))
	received(p, SlotOrderCancelled)
	_, err = p.SubmitAcceptance(merchant, now)
	require.NoError(t, err)
	assert.Equal(t, CalendarPayScoreAcceptance, p.Calendar())
	_, err = p.Decide(rita, true, "", now)
	require.NoError(t, err)
	_, err = p.Release("", now.Add(96*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, PayScoreLive, p.Status)
	assert.Equal(t, ScenarioSmartFridge, p.LiveScenario)

	_, err = p.ReportMisuse(rita, ScenarioSmartFridge, "seen on a fridge", now)
	assert.Equal(t, "same_scenario", CodeOf(err))
	ch, err := p.ReportMisuse(rita, ScenarioPowerBank, "Pay Score entry on power-bank cabinets at Hongqiao station", now)
	require.NoError(t, err)
	assert.Equal(t, PayScoreRevoked, p.Status)
	assert.Equal(t, "revoked", ch.Action)
	ch, err = p.ReportMisuse(rita, ScenarioPowerBank, "Pay Score entry on power-bank cabinets at Hongqiao station", now)
	require.NoError(t, err)
	assert.Equal(t, Change{}, ch, "a retried report records nothing")
}

func TestWorkingDaysData(t *testing.T) {
	for _, tt := range []struct {
		date string
		want bool
	}{{"2026-10-01", false}, {"2026-10-10", true}, {"2026-09-20", true}, {"2026-09-19", false}, {"2026-09-18", true}, {"2027-01-01", false}} {
		d, _ := time.ParseInLocation(time.DateOnly, tt.date, businessZone)
		got, err := WorkingDays.IsWorkingDay(d)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.date)
	}
	_, err := WorkingDays.IsWorkingDay(time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC))
	assert.Equal(t, "working_days_unknown", CodeOf(err))
	_, err = LoadWorkCalendar([]byte(`{"years":[{"year":2026,"holidays":[],"workdays":["2026-09-21"]}]}`))
	assert.Error(t, err, "a make-up working day must be a weekend day")
	_, err = LoadWorkCalendar([]byte(`{"years":[{"year":2026,"holidays":["2027-01-01"],"workdays":[]}]}`))
	assert.Error(t, err, "a date of another year")
}

// Each acceptance material missing is refused with its own code.
func TestPayScoreAcceptanceEachMissingMaterialHasItsOwnCode(t *testing.T) {
	now := time.Date(2026, 10, 9, 2, 0, 0, 0, time.UTC)
	var slots []PayScoreSlot
	for _, s := range PayScoreSlots {
		if s.Acceptance {
			slots = append(slots, s)
		}
	}
	codes := map[string]bool{}
	for i, missing := range slots {
		p := &PayScoreApplication{ID: "psa_1", Scenario: ScenarioSmartFridge, Status: PayScoreDeveloping, Attachments: map[string]*Attachment{}}
		for j, s := range slots {
			if j != i {
				received(p, s.Name)
			}
		}
		_, err := p.SubmitAcceptance(merchant, now)
		assert.Equal(t, missing.MissingCode, CodeOf(err), missing.Name)
		assert.Equal(t, PayScoreDeveloping, p.Status)
		codes[missing.MissingCode] = true
	}
	assert.Len(t, codes, len(slots), "one code per material")
	assert.True(t, codes["missing_cancelled_order_screenshot"])
}
