package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/evidence/evidencetest"
)

var (
	merchantID = cloud.Identity{Subject: "mia", Org: "coldbox", Role: "merchant"}
	// Friday 4 September 2026, 10:00 in Shanghai.
	payScoreFriday = time.Date(2026, 9, 4, 10, 0, 0, 0, shanghai)
	minimalPNG     = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	minimalMP4     = evidencetest.MP4(30*time.Second, 0)
)

func fridgeApplication() map[string]any {
	return map[string]any{
		"scenario": "smart_fridge", "company": "Cold Box Retail Ltd", "businessSummary": "Smart fridges selling drinks and snacks in office buildings",
		"merchantId": "1900012345", "merchantType": "enterprise", "software": map[string]any{"selfBuilt": false, "supplier": "FridgeOS Co"},
		"operatingModel": "self_run", "currentDailyTransactions": 1200, "expectedDailyTransactions": 5000, "averageTicketFen": 1850,
		"ticketDistribution": []map[string]any{{"fromYuan": 0, "toYuan": 10, "percent": 40}, {"fromYuan": 10, "toYuan": 50, "percent": 55}, {"fromYuan": 50, "toYuan": 99, "percent": 5}},
		"channels":           []string{"mini_program"}, "deploymentSites": []map[string]any{{"site": "Shanghai Pudong offices", "devices": 120}},
		"communicationGroup": "ColdBox x Pay Score", "faceCapability": false, "monthlyOrders": 36000, "monthlyComplaints": 0, "violations": false,
	}
}

// payScoreFiles are the file each slot gets in these tests.
var payScoreFiles = map[string]struct {
	name, contentType string
	data              []byte
}{
	"interaction_flow":   {"interaction-flow.pdf", "application/pdf", minimalPDF},
	"device_panorama":    {"panorama.png", "image/png", minimalPNG},
	"business_licence":   {"licence.pdf", "application/pdf", minimalPDF},
	"purchase_agreement": {"purchase-agreement.pdf", "application/pdf", minimalPDF},
	"screen_recording":   {"screen.mp4", "video/mp4", minimalMP4},
	"onsite_video":       {"onsite.mp4", "video/mp4", minimalMP4},
	"order_completed":    {"completed.png", "image/png", minimalPNG},
	"order_cancelled":    {"cancelled.png", "image/png", minimalPNG},
	"emergency_switch":   {"switch.png", "image/png", minimalPNG},
}

// uploadPayScore asks for a slot's upload, PUTs the file and waits until process-upload has
// received it.
func uploadPayScore(t *testing.T, m *cloudtest.Client, id, slot string) {
	t.Helper()
	f := payScoreFiles[slot]
	r := m.Do("PUT", "/payscore/applications/"+id+"/attachments/"+slot, map[string]any{
		"fileName": f.name, "contentType": f.contentType, "size": len(f.data), "sha256": cloudtest.SHA256(f.data)})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), f.data)
	require.Equal(t, http.StatusOK, status, body)
	cloudtest.Eventually(t, slot+" received", func() bool {
		att, _ := m.Do("GET", "/payscore/applications/"+id, nil).Body["attachments"].(map[string]any)[slot].(map[string]any)
		return att["status"] == "received"
	})
}

func payScoreStatus(m *cloudtest.Client, id string) string {
	s, _ := m.Do("GET", "/payscore/applications/"+id, nil).Body["status"].(string)
	return s
}

// The acceptance scenario of issue 15, on the virtual clock.
func TestPayScore_SmartFridgeFromApplicationToRevocation(t *testing.T) {
	c := cloudtest.Start(t, payScoreFriday)
	m := cloudtest.As(t, c, merchantID)
	rev := cloudtest.As(t, c, reviewer)
	other := cloudtest.As(t, c, cloud.Identity{Subject: "oz", Org: "other-merchant", Role: "merchant"})

	r := m.Do("POST", "/payscore/applications", fridgeApplication(), "Idempotency-Key", "coldbox-fridge")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	id := r.Body["id"].(string)
	assert.Equal(t, http.StatusNotFound, other.Do("GET", "/payscore/applications/"+id, nil).Status, "another merchant cannot see it")
	for _, slot := range []string{"interaction_flow", "device_panorama", "business_licence", "purchase_agreement"} {
		uploadPayScore(t, m, id, slot)
	}

	// Friday, without a verified phone: deferred to next week's review, and it says so.
	r = m.Do("POST", "/payscore/applications/"+id+"/submit", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "deferred", r.Body["status"])
	nextMonday := time.Date(2026, 9, 7, 9, 0, 0, 0, shanghai)
	assert.Equal(t, nextMonday.UTC().Format(time.RFC3339), r.Body["deferredUntil"])
	tl := m.Do("GET", "/payscore/applications/"+id+"/timeline", nil)
	require.Equal(t, http.StatusOK, tl.Status, string(tl.Raw))
	assert.Contains(t, tl.Body["explanation"], "customer-service phone is not verified: the application is deferred to next week's review (2026-09-07 09:00 Asia/Shanghai)")
	assert.Equal(t, "review_deferred", rev.Do("POST", "/admin/payscore/applications/"+id+"/decision", map[string]any{"decision": "approve", "licenceScopes": []string{"food_sales"}}).Code())

	// Saturday: the merchant verifies the phone; the review still waits for next week.
	c.Clock.AdvanceTo(time.Date(2026, 9, 5, 10, 0, 0, 0, shanghai))
	r = m.Do("POST", "/payscore/applications/"+id+"/phone-verification", map[string]any{"phone": "400-820-1234"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, map[string]any{"number": "400-820-1234", "verifiedBy": "mia",
		"verifiedAt": time.Date(2026, 9, 5, 10, 0, 0, 0, shanghai).UTC().Format(time.RFC3339)}, r.Body["customerServicePhone"], "who verified, when")
	assert.Equal(t, "deferred", payScoreStatus(m, id))

	// Monday 09:00: the workflow's timer starts the review.
	c.Clock.AdvanceTo(nextMonday)
	cloudtest.Eventually(t, "under review", func() bool { return payScoreStatus(m, id) == "under_review" })

	// The reviewer records the licence's scope: rental does not cover a fridge; food sales does.
	c.Clock.AdvanceTo(nextMonday.Add(time.Hour))
	assert.Equal(t, "licence_scope_mismatch", rev.Do("POST", "/admin/payscore/applications/"+id+"/decision",
		map[string]any{"decision": "approve", "licenceScopes": []string{"sharing_rental"}}).Code())
	r = rev.Do("POST", "/admin/payscore/applications/"+id+"/decision", map[string]any{"decision": "approve", "licenceScopes": []string{"food_sales"}})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "under_review", payScoreStatus(m, id), "held until the next Monday release")

	// Monday 14 September 09:00: released. The service ID is due in 10 working days: Sep 15-18,
	// Sunday Sep 20 (a make-up working day), Sep 21-24, then the weekend and Mid-Autumn
	// (Sep 25-27) are skipped: due Monday Sep 28, 18:00 Shanghai.
	release := time.Date(2026, 9, 14, 9, 0, 0, 0, shanghai)
	c.Clock.AdvanceTo(release)
	cloudtest.Eventually(t, "approved", func() bool { return payScoreStatus(m, id) == "configuring" })
	app := m.Do("GET", "/payscore/applications/"+id, nil).Body
	svc := app["serviceId"].(map[string]any)
	assert.Equal(t, time.Date(2026, 9, 28, 18, 0, 0, 0, shanghai).UTC().Format(time.RFC3339), svc["due"])
	assert.Equal(t, time.Date(2026, 9, 22, 0, 0, 0, 0, shanghai).UTC().Format(time.RFC3339), svc["earliest"])
	assert.Equal(t, false, svc["expediting"])
	assert.Nil(t, app["licenceScopes"], "the merchant does not read the reviewer's notes")
	assert.Equal(t, "service_not_ready", m.Do("POST", "/payscore/applications/"+id+"/agreement", nil).Code(), "no agreement before the service ID")

	// No expediting: still configuring the minute before the due date, whatever the merchant does.
	c.Clock.AdvanceTo(time.Date(2026, 9, 28, 17, 59, 0, 0, shanghai))
	assert.Equal(t, "configuring", payScoreStatus(m, id), "no expediting")
	assert.Equal(t, "service_not_ready", m.Do("POST", "/payscore/applications/"+id+"/agreement", nil).Code())
	// The service ID's due date: the workflow's timer records it configured; the merchant signs.
	signedAt := time.Date(2026, 9, 28, 18, 0, 0, 0, shanghai)
	c.Clock.AdvanceTo(signedAt)
	cloudtest.Eventually(t, "service ready", func() bool { return payScoreStatus(m, id) == "service_ready" })
	r = m.Do("POST", "/payscore/applications/"+id+"/agreement", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "developing", r.Body["status"])
	assert.Equal(t, map[string]any{"agreement": "微信支付分服务协议", "by": "mia", "at": signedAt.UTC().Format(time.RFC3339)}, r.Body["signature"], "the signing recorded: what, who, when")
	assert.Equal(t, http.StatusOK, m.Do("POST", "/payscore/applications/"+id+"/agreement", nil).Status, "signing again changes nothing")

	// Friday 9 October: acceptance materials; without the cancelled-order screenshot, refused.
	accFriday := time.Date(2026, 10, 9, 10, 0, 0, 0, shanghai)
	c.Clock.AdvanceTo(accFriday)
	for _, slot := range []string{"screen_recording", "onsite_video", "order_completed", "emergency_switch"} {
		uploadPayScore(t, m, id, slot)
	}
	assert.Equal(t, "missing_cancelled_order_screenshot", m.Do("POST", "/payscore/applications/"+id+"/acceptance", nil).Code())
	uploadPayScore(t, m, id, "order_cancelled")
	r = m.Do("POST", "/payscore/applications/"+id+"/acceptance", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "acceptance_review", r.Body["status"])
	r = rev.Do("POST", "/admin/payscore/applications/"+id+"/decision", map[string]any{"decision": "approve"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))

	// Not on the Monday release, not before Tuesday 09:00; on the Tuesday release.
	tuesdayRelease := time.Date(2026, 10, 13, 9, 0, 0, 0, shanghai)
	c.Clock.AdvanceTo(tuesdayRelease.Add(-time.Minute))
	assert.Equal(t, "acceptance_review", payScoreStatus(m, id), "accepted only on the following Tuesday")
	c.Clock.AdvanceTo(tuesdayRelease)
	cloudtest.Eventually(t, "live", func() bool { return payScoreStatus(m, id) == "live" })
	app = m.Do("GET", "/payscore/applications/"+id, nil).Body
	assert.Equal(t, "smart_fridge", app["liveScenario"])
	assert.Equal(t, tuesdayRelease.UTC().Format(time.RFC3339), app["liveSince"])

	// Misuse: seen on power banks. Merchants cannot report; a reviewer's report revokes it.
	misuse := map[string]any{"scenario": "power_bank", "report": "Pay Score entry on power-bank cabinets at Hongqiao station"}
	assert.Equal(t, http.StatusForbidden, m.Do("POST", "/admin/payscore/applications/"+id+"/misuse", misuse).Status)
	r = rev.Do("POST", "/admin/payscore/applications/"+id+"/misuse", misuse)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "revoked", r.Body["status"])
	tl = m.Do("GET", "/payscore/applications/"+id+"/timeline", nil)
	assert.Equal(t, "revoked", tl.Body["status"])
	assert.Equal(t, "power_bank", tl.Body["revocation"].(map[string]any)["reportedScenario"])
	steps := map[string]bool{}
	for _, ms := range tl.Body["milestones"].([]any) {
		ms := ms.(map[string]any)
		steps[ms["step"].(string)] = ms["at"] != nil
	}
	for _, s := range []string{"submitted", "deferred", "review_started", "approved", "service_id_configured", "agreement_signed", "acceptance_submitted", "live", "revoked"} {
		assert.True(t, steps[s], "milestone %s reached", s)
	}
	hist := rev.Do("GET", "/admin/payscore/applications/"+id, nil).Body["history"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	assert.Equal(t, "revoked", last["action"])
	assert.Equal(t, "rita", last["by"], "the reporting reviewer")
	assert.Contains(t, last["reason"], "used for power_bank, approved for smart_fridge")
	actions := map[string]int{}
	for _, h := range hist {
		actions[h.(map[string]any)["action"].(string)]++
	}
	assert.Equal(t, 1, actions["phone_verified"], "the verification is in the history")
	assert.Equal(t, 1, actions["agreement_signed"], "signed once")
	assert.Equal(t, 1, actions["revoked"])
	assert.Equal(t, "revoked", rev.Do("POST", "/admin/payscore/applications/"+id+"/misuse", misuse).Body["status"], "a repeated report answers the same")
	assert.Equal(t, "not_live", rev.Do("POST", "/admin/payscore/applications/"+id+"/misuse",
		map[string]any{"scenario": "charging_pile", "report": "another report"}).Code(), "a revoked service is not live")

	msgs := m.Do("GET", "/messages", nil)
	require.Equal(t, http.StatusOK, msgs.Status, string(msgs.Raw))
	var subjects []string
	for _, it := range msgs.Body["items"].([]any) {
		subjects = append(subjects, it.(map[string]any)["subject"].(string))
	}
	assert.ElementsMatch(t, []string{"Pay Score application approved", "Pay Score go-live acceptance approved"}, subjects)
}

// Refusals with their own codes: each missing attachment, each ineligible merchant.
func TestPayScore_Refusals(t *testing.T) {
	c := cloudtest.Start(t, payScoreFriday)
	m := cloudtest.As(t, c, merchantID)
	for code, change := range map[string]func(map[string]any){
		"ineligible_individual_business": func(a map[string]any) { a["merchantType"] = "individual_business" },
		"ineligible_micro_merchant":      func(a map[string]any) { a["merchantType"] = "micro_merchant" },
		"ineligible_service_provider":    func(a map[string]any) { a["merchantType"] = "service_provider" },
		"complaint_rate_too_high":        func(a map[string]any) { a["monthlyComplaints"] = 4 },
		"entity_has_violations":          func(a map[string]any) { a["violations"] = true },
		"missing_charging_rules":         func(a map[string]any) { a["scenario"] = "power_bank" },
	} {
		a := fridgeApplication()
		change(a)
		assert.Equal(t, code, m.Do("POST", "/payscore/applications", a).Code(), code)
	}
	assert.Equal(t, http.StatusForbidden, cloudtest.As(t, c, vendor(1)).Do("POST", "/payscore/applications", fridgeApplication()).Status, "merchants only")

	r := m.Do("POST", "/payscore/applications", fridgeApplication())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	id := r.Body["id"].(string)
	for _, slot := range []string{"interaction_flow", "device_panorama", "business_licence", "purchase_agreement"} {
		assert.Equal(t, "missing_"+slot, m.Do("POST", "/payscore/applications/"+id+"/submit", nil).Code())
		uploadPayScore(t, m, id, slot)
	}
	assert.Equal(t, "not_editable", m.Do("PUT", "/payscore/applications/"+id+"/attachments/screen_recording", map[string]any{
		"fileName": "screen.mp4", "contentType": "video/mp4", "size": len(minimalMP4), "sha256": cloudtest.SHA256(minimalMP4)}).Code(),
		"acceptance materials come after the agreement")

	// A renamed file is refused on arrival, as for evidence.
	r = m.Do("PUT", "/payscore/applications/"+id+"/attachments/device_panorama", map[string]any{
		"fileName": "panorama.png", "contentType": "image/png", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF)})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), minimalPDF)
	require.Equal(t, http.StatusOK, status, body)
	cloudtest.Eventually(t, "renamed file rejected", func() bool {
		att, _ := m.Do("GET", "/payscore/applications/"+id, nil).Body["attachments"].(map[string]any)["device_panorama"].(map[string]any)
		return att["status"] == "rejected"
	})
	assert.Equal(t, "missing_device_panorama", m.Do("POST", "/payscore/applications/"+id+"/submit", nil).Code())
}

// payScoreDeveloping takes a smart-fridge application from a draft (created payScoreFriday,
// phone verified before submitting) through the Monday 7 September release and the service
// ID's due date (Sunday 20 September, a make-up working day) to the signed agreement.
func payScoreDeveloping(t *testing.T, c *cloud.Cloud, m, rev *cloudtest.Client) string {
	t.Helper()
	r := m.Do("POST", "/payscore/applications", fridgeApplication())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	id := r.Body["id"].(string)
	for _, slot := range []string{"interaction_flow", "device_panorama", "business_licence", "purchase_agreement"} {
		uploadPayScore(t, m, id, slot)
	}
	require.Equal(t, http.StatusOK, m.Do("POST", "/payscore/applications/"+id+"/phone-verification", map[string]any{"phone": "400-820-1234"}).Status)
	r = m.Do("POST", "/payscore/applications/"+id+"/submit", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	require.Equal(t, "under_review", r.Body["status"], "a verified phone: reviewed at once")
	r = rev.Do("POST", "/admin/payscore/applications/"+id+"/decision", map[string]any{"decision": "approve", "licenceScopes": []string{"vending_machine_sales"}})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	c.Clock.AdvanceTo(time.Date(2026, 9, 7, 9, 0, 0, 0, shanghai))
	cloudtest.Eventually(t, "approved", func() bool { return payScoreStatus(m, id) == "configuring" })
	due := time.Date(2026, 9, 20, 18, 0, 0, 0, shanghai)
	require.Equal(t, due.UTC().Format(time.RFC3339), m.Do("GET", "/payscore/applications/"+id, nil).Body["serviceId"].(map[string]any)["due"])
	c.Clock.AdvanceTo(due)
	cloudtest.Eventually(t, "service ready", func() bool { return payScoreStatus(m, id) == "service_ready" })
	require.Equal(t, http.StatusOK, m.Do("POST", "/payscore/applications/"+id+"/agreement", nil).Status)
	return id
}

// A Tuesday acceptance release that failed is run by the next daily reconciliation sweep, for
// its own calendar; the decision the reviewer revised before the release day is published
// only in its last form.
func TestPayScore_MissedTuesdayAcceptanceReleaseRunByTheSweep(t *testing.T) {
	c := cloudtest.Start(t, payScoreFriday)
	m := cloudtest.As(t, c, merchantID)
	rev := cloudtest.As(t, c, reviewer)
	id := payScoreDeveloping(t, c, m, rev)

	// Monday 21 September: acceptance materials; the reviewer rejects, then revises to approve.
	c.Clock.AdvanceTo(time.Date(2026, 9, 21, 10, 0, 0, 0, shanghai))
	for _, slot := range []string{"screen_recording", "onsite_video", "order_completed", "order_cancelled", "emergency_switch"} {
		uploadPayScore(t, m, id, slot)
	}
	require.Equal(t, http.StatusOK, m.Do("POST", "/payscore/applications/"+id+"/acceptance", nil).Status)
	r := rev.Do("POST", "/admin/payscore/applications/"+id+"/decision", map[string]any{"decision": "reject", "reason": "Secret: the on-site video is blurry."})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	c.Clock.AdvanceTo(time.Date(2026, 9, 21, 15, 0, 0, 0, shanghai))
	r = rev.Do("POST", "/admin/payscore/applications/"+id+"/decision", map[string]any{"decision": "approve"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))

	// Tuesday 22 September 09:00: the acceptance release fails (three attempts: the first and
	// Lambda's two retries). Nothing else runs the release function between now and then.
	tuesdayRelease := time.Date(2026, 9, 22, 9, 0, 0, 0, shanghai)
	c.Clock.AdvanceTo(tuesdayRelease.Add(-time.Hour))
	require.NoError(t, c.FailNext("ReleaseDecisionsFunction", 3))
	c.Clock.AdvanceTo(tuesdayRelease.Add(5 * time.Minute))
	recs := peek(t, c, "FailedEventsQueue")
	require.Len(t, recs, 1, "the release failed three times")
	assert.Contains(t, recs[0].RequestContext.FunctionARN, ":function:ReleaseDecisionsFunction")
	assert.Equal(t, "acceptance_review", payScoreStatus(m, id))

	// The daily sweep at 10:30 runs the missed Tuesday release.
	c.Clock.AdvanceTo(tuesdayRelease.Add(90 * time.Minute))
	cloudtest.Eventually(t, "live", func() bool { return payScoreStatus(m, id) == "live" })
	app := m.Do("GET", "/payscore/applications/"+id, nil).Body
	assert.Equal(t, "smart_fridge", app["liveScenario"])
	assert.NotContains(t, string(m.Do("GET", "/messages", nil).Raw), "Secret", "the revised-away rejection never reaches the merchant")
	hist := string(m.Do("GET", "/payscore/applications/"+id+"/timeline", nil).Raw)
	assert.NotContains(t, hist, "Secret")

	// The replayed original release changes nothing.
	rep, err := c.Replay(context.Background(), "FailedEventsQueue")
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Replayed)
	c.WaitNotifications()
	assert.Equal(t, "live", payScoreStatus(m, id))
	n := 0
	for _, it := range m.Do("GET", "/messages", nil).Body["items"].([]any) {
		if it.(map[string]any)["subject"] == "Pay Score go-live acceptance approved" {
			n++
		}
	}
	assert.Equal(t, 1, n, "one message for the acceptance")
}

// A go-live acceptance waiting for a reviewer past its three working days is raised to the
// reviewers once by the daily sweep (the review-SLA sweep walks every review queue).
func TestPayScore_OverdueAcceptanceRaisedOnce(t *testing.T) {
	c := cloudtest.Start(t, payScoreFriday)
	m := cloudtest.As(t, c, merchantID)
	rev := cloudtest.As(t, c, reviewer)
	id := payScoreDeveloping(t, c, m, rev)
	c.Clock.AdvanceTo(time.Date(2026, 9, 21, 10, 0, 0, 0, shanghai)) // Monday
	for _, slot := range []string{"screen_recording", "onsite_video", "order_completed", "order_cancelled", "emergency_switch"} {
		uploadPayScore(t, m, id, slot)
	}
	require.Equal(t, http.StatusOK, m.Do("POST", "/payscore/applications/"+id+"/acceptance", nil).Status)

	overdue := func() []string { return subjects(t, rev, "/admin/alerts", id, "Review overdue") }
	// Tuesday 22, Wednesday 23, Thursday 24: due by the end of Thursday.
	c.Clock.AdvanceTo(time.Date(2026, 9, 24, 23, 0, 0, 0, shanghai))
	assert.Empty(t, overdue(), "within three working days")
	c.Clock.AdvanceTo(time.Date(2026, 9, 25, 3, 0, 0, 0, shanghai)) // the sweep at 02:30
	assert.Equal(t, []string{"Review overdue: Pay Score go-live acceptance " + id}, overdue())
	c.Clock.AdvanceTo(time.Date(2026, 9, 27, 3, 0, 0, 0, shanghai))
	require.NoError(t, c.FireSchedule(context.Background(), "DailyReviewSla"))
	c.Clock.Settle()
	assert.Len(t, overdue(), 1, "raised exactly once")
}
