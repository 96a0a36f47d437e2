package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// k7 is a Wi-Fi + 4G Android desktop with both software modes: 3C, SRRC and CTA.
var k7 = map[string]any{"name": "K7", "deviceType": "desktop_dual_screen", "os": "android",
	"softwareModes": []string{"sdk", "app"}, "connectivity": []string{"wifi", "4g"}, "cameraModel": "FC-200"}

// The acceptance scenario, on the virtual clock through the gateway: DVT with one software
// rejection and resubmission, hardware approved, 3C + SRRC + CTA approved; PVT opens with the
// pre-checks (certification still running); an invited inspection fails (restricted), a
// re-inspection passes, the restriction is lifted; PVT declared done; MP. The timeline is
// checked at every step.
func TestPipeline_WiFi4GModelFromDVTToMassProduction(t *testing.T) {
	wall := time.Now()
	c := cloudtest.Start(t, tuesday)
	start := c.Clock.Now()
	p := newPipelineRun(t, c, vendor(1), k7)
	model := p.e.model
	day := 24 * time.Hour
	setup, pipelineWall := time.Since(wall), time.Now() // engines, onboarding, model approval

	tl := p.timeline()
	assert.Equal(t, "dvt", tl.stage())
	assert.EqualValues(t, 1, tl.body["run"])
	assert.Equal(t, map[string]string{"software_precheck": "waiting", "hardware_precheck": "waiting", "certification": "waiting", "pvt": "not_started"}, tl.statuses())
	assert.Equal(t, map[string]string{"software_precheck": "vendor", "hardware_precheck": "vendor", "certification": "vendor"}, tl.waits())
	assert.Equal(t, []any{"3c", "srrc", "cta"}, tl.track("certification")["certificates"], "Wi-Fi needs SRRC, 4G needs CTA")
	opened := parseTime(t, tl.body["stageSince"])
	assert.Equal(t, opened.Add(180*day), parseTime(t, tl.wait("hardware_precheck")["due"]), "a track waits 180 days for its vendor")

	// Authorization: another vendor cannot see it, a vendor cannot act as reviewer, a reviewer reads any.
	other := cloudtest.As(t, c, vendor(9))
	assert.Equal(t, http.StatusNotFound, other.Do("GET", "/models/"+model+"/timeline", nil).Status)
	assert.Equal(t, "model_not_found", other.Do("POST", "/models/"+model+"/pvt/declaration", map[string]any{"camerasPurchased": true, "factoryChecksRunning": true}).Code())
	r := p.e.v.Do("POST", "/admin/models/"+model+"/inspection", map[string]any{"lab": "CTTL", "devices": 12, "deadline": "2027-03-01T00:00:00Z"})
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, "forbidden_role", r.Code())
	assert.Equal(t, http.StatusOK, p.rev.Do("GET", "/models/"+model+"/timeline", nil).Status)
	// Nothing to declare or inspect in DVT.
	assert.Equal(t, "not_in_pvt", p.e.v.Do("POST", "/models/"+model+"/pvt/declaration", map[string]any{"camerasPurchased": true, "factoryChecksRunning": true}).Code())
	assert.Equal(t, "not_in_pvt", p.rev.Do("POST", "/admin/models/"+model+"/inspection", map[string]any{"lab": "CTTL", "devices": 12, "deadline": "2027-03-01T00:00:00Z"}).Code())

	// DVT, software: submitted, rejected with feedback, resubmitted, approved.
	c.Clock.Advance(2 * day)
	n := p.submit("software")
	tl = p.timeline()
	w := tl.wait("software_precheck")
	require.NotNil(t, w, tl.raw)
	assert.Equal(t, "reviewer", w["from"])
	assert.Equal(t, parseTime(t, w["since"]).Add(7*day), parseTime(t, w["due"]), "a review is due one week after submission")
	c.Clock.Advance(3 * day)
	p.decide("software", n, "reject", "The APP-mode video does not show the payment result.")
	tl = p.timeline()
	assert.Equal(t, "waiting", tl.track("software_precheck")["status"])
	assert.Equal(t, "vendor", tl.wait("software_precheck")["from"])
	assert.Equal(t, map[string]any{"approve": false, "feedback": "The APP-mode video does not show the payment result.",
		"decidedAt": tl.track("software_precheck")["lastDecision"].(map[string]any)["decidedAt"]}, tl.track("software_precheck")["lastDecision"])
	c.Clock.Advance(2 * day)
	n = p.submit("software", "software.3.app")
	assert.Equal(t, 2, n)
	c.Clock.Advance(4 * day)
	p.decide("software", n, "approve", "")
	tl = p.timeline()
	assert.Equal(t, "approved", tl.track("software_precheck")["status"])
	assert.Equal(t, "dvt", tl.stage(), "one pre-check is not enough for PVT")

	// Hardware approved: both pre-checks → PVT opens while certification still runs.
	n = p.submit("hardware")
	c.Clock.Advance(6 * day)
	p.decide("hardware", n, "approve", "")
	tl = p.timeline()
	assert.Equal(t, "pvt", tl.stage())
	assert.Equal(t, map[string]string{"software_precheck": "approved", "hardware_precheck": "approved", "certification": "waiting", "pvt": "waiting"}, tl.statuses())
	assert.Equal(t, map[string]string{"certification": "vendor", "pvt": "vendor"}, tl.waits())

	// PVT: a reviewer invites a third-party inspection; the vendor ships; the lab fails it.
	c.Clock.Advance(7 * day)
	deadline := c.Clock.Now().Add(28 * day).UTC().Truncate(time.Second)
	bad := p.rev.Do("POST", "/admin/models/"+model+"/inspection", map[string]any{"lab": "CTTL Beijing", "devices": 20, "deadline": deadline})
	assert.Equal(t, "invalid_device_count", bad.Code(), "10 to 16 devices")
	invite := map[string]any{"lab": "CTTL Beijing", "devices": 12, "deadline": deadline}
	r = p.rev.Do("POST", "/admin/models/"+model+"/inspection", invite)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Raw))
	again := p.rev.Do("POST", "/admin/models/"+model+"/inspection", invite)
	assert.Equal(t, http.StatusAccepted, again.Status, "a repeated invitation gets the same answer: %s", again.Raw)
	tl = p.timeline()
	assert.Equal(t, "invited", tl.body["inspection"].(map[string]any)["status"])
	w = tl.wait("pvt")
	assert.Equal(t, "vendor", w["from"])
	assert.Equal(t, deadline, parseTime(t, w["due"]))
	assert.Equal(t, "not_in_pvt", p.e.v.Do("POST", "/models/"+model+"/pvt/declaration", map[string]any{"camerasPurchased": true, "factoryChecksRunning": true}).Code(),
		"no declaration while an inspection is under way")
	c.Clock.Advance(3 * day)
	r = p.e.v.Do("POST", "/models/"+model+"/inspection/shipment", map[string]any{"carrier": "SF Express", "trackingNumber": "SF100"})
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Raw))
	tl = p.timeline()
	assert.Equal(t, "lab", tl.wait("pvt")["from"])
	c.Clock.Advance(14 * day)
	assert.Equal(t, "reason_required", p.rev.Do("POST", "/admin/models/"+model+"/inspection/result", map[string]any{"result": "fail", "report": "CTTL-1"}).Code())
	r = p.rev.Do("POST", "/admin/models/"+model+"/inspection/result", map[string]any{"result": "fail", "report": "CTTL-1", "feedback": "Backlight recognition failed on 3 of 12 devices."})
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Raw))
	tl = p.timeline()
	assert.Equal(t, "restricted", tl.stage())
	assert.Contains(t, tl.body["reason"], "Backlight recognition failed")
	assert.Equal(t, "reviewer", tl.wait("pvt")["from"], "waiting for a re-inspection invitation")
	assert.Equal(t, "not_liftable", p.rev.Do("POST", "/admin/models/"+model+"/restriction/lift", map[string]any{"reason": "too early"}).Code(),
		"no lifting before a passed re-inspection")

	// Re-inspection passes; the restriction stays until a reviewer lifts it.
	c.Clock.Advance(2 * day)
	deadline = c.Clock.Now().Add(21 * day).UTC().Truncate(time.Second)
	require.Equal(t, http.StatusAccepted, p.rev.Do("POST", "/admin/models/"+model+"/inspection", map[string]any{"lab": "CTTL Beijing", "devices": 10, "deadline": deadline}).Status)
	p.timeline()
	require.Equal(t, http.StatusAccepted, p.e.v.Do("POST", "/models/"+model+"/inspection/shipment", map[string]any{"carrier": "SF Express", "trackingNumber": "SF200"}).Status)
	c.Clock.Advance(10 * day)
	p.timeline()
	require.Equal(t, http.StatusAccepted, p.rev.Do("POST", "/admin/models/"+model+"/inspection/result", map[string]any{"result": "pass", "report": "CTTL-2"}).Status)
	tl = p.timeline()
	assert.Equal(t, "restricted", tl.stage())
	assert.Equal(t, "passed", tl.body["inspection"].(map[string]any)["status"])
	assert.EqualValues(t, 2, tl.body["inspection"].(map[string]any)["round"])
	assert.Equal(t, "reviewer", tl.wait("pvt")["from"], "waiting for the restriction to be lifted")
	require.Equal(t, http.StatusAccepted, p.rev.Do("POST", "/admin/models/"+model+"/restriction/lift", map[string]any{"reason": "Re-inspection passed."}).Status)
	tl = p.timeline()
	assert.Equal(t, "pvt", tl.stage())
	assert.Equal(t, "vendor", tl.wait("pvt")["from"], "waiting for the PVT declaration")

	// Certificates approved: still no MP until PVT is declared done.
	c.Clock.Advance(10 * day)
	n = p.submit("certificates")
	c.Clock.Advance(5 * day)
	p.decide("certificates", n, "approve", "")
	tl = p.timeline()
	assert.Equal(t, "approved", tl.track("certification")["status"])
	assert.Equal(t, "pvt", tl.stage(), "MP waits for the PVT declaration")
	assert.Equal(t, "pvt_not_ready", p.e.v.Do("POST", "/models/"+model+"/pvt/declaration", map[string]any{"camerasPurchased": true, "factoryChecksRunning": false}).Code())

	c.Clock.Advance(2 * day)
	r = p.e.v.Do("POST", "/models/"+model+"/pvt/declaration", map[string]any{"camerasPurchased": true, "factoryChecksRunning": true})
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Raw))
	tl = p.timeline()
	assert.Equal(t, "pvt", tl.stage(), "MP also needs a device that passed the factory check in PVT")
	assert.Equal(t, "vendor", tl.wait("pvt")["from"])

	// A device passes the factory check in PVT; the vendor declares again: MP opens.
	p.factoryPass()
	r = p.e.v.Do("POST", "/models/"+model+"/pvt/declaration", map[string]any{"camerasPurchased": true, "factoryChecksRunning": true})
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Raw))
	tl = p.timeline()
	assert.Equal(t, "mp", tl.stage())
	assert.Equal(t, map[string]string{"software_precheck": "approved", "hardware_precheck": "approved", "certification": "approved", "pvt": "approved"}, tl.statuses())
	assert.Empty(t, tl.waits(), "nothing left to wait for")

	hist := p.e.v.Do("GET", "/models/"+model+"/history", nil)
	require.Equal(t, http.StatusOK, hist.Status)
	var stages []string
	for _, h := range hist.Body["items"].([]any) {
		if h := h.(map[string]any); h["action"] == "stage_changed" {
			stages = append(stages, h["to"].(string))
		}
	}
	assert.Equal(t, []string{"dvt", "pvt", "restricted", "mp"}, stages, "every stage change is in the model's history")
	assert.NotContains(t, string(hist.Raw), "arn:", "no execution ARN in the vendor's history")

	simulated := c.Clock.Now().Sub(start)
	assert.GreaterOrEqual(t, simulated, 10*7*day, "at least ten simulated weeks")
	t.Logf("pipeline DVT→MP: %.1f simulated weeks in %s wall time (plus %s to start the engines, onboard the vendor and approve the model)",
		simulated.Hours()/24/7, time.Since(pipelineWall).Round(time.Millisecond), setup.Round(time.Millisecond))
}

// A model with no radio needs only 3C; without an invited inspection, MP opens once the
// pre-checks, the certificate and the PVT declaration are in.
func TestPipeline_NoRadioModelNeedsOnly3C(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	p := newPipelineRun(t, c, vendor(2), map[string]any{"name": "V1", "deviceType": "vending_machine", "os": "linux",
		"softwareModes": []string{"sdk"}, "cameraModel": "FC-300"})
	tl := p.timeline()
	assert.Equal(t, []any{"3c"}, tl.track("certification")["certificates"])
	r := p.e.v.Do("GET", p.e.base("certificates"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, r.Body["slots"], 1, "only the 3C slot")

	// Free test cameras in DVT: 2 per model at most, from the supported list; a reviewer ships them.
	cams := "/models/" + p.e.model + "/test-cameras"
	assert.Equal(t, "unsupported_camera", p.e.v.Do("POST", cams, map[string]any{"cameraModel": "XYZ-1", "quantity": 1}).Code())
	r = p.e.v.Do("POST", cams, map[string]any{"cameraModel": "FC-300", "quantity": 2})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	reqID := r.Body["id"].(string)
	assert.Equal(t, "test_camera_model_limit", p.e.v.Do("POST", cams, map[string]any{"cameraModel": "FC-300", "quantity": 1}).Code())
	r = p.rev.Do("POST", "/admin/models/"+p.e.model+"/test-cameras/"+reqID+"/shipment", map[string]any{"trackingNumber": "SF300"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	list := p.e.v.Do("GET", cams, nil)
	require.Len(t, list.Body["items"], 1)
	assert.Equal(t, "shipped", list.Body["items"].([]any)[0].(map[string]any)["status"])

	// Vendor test devices: SNs valid for the vendor's and model's codes; cleared on their
	// expected pre-check completion date by the daily schedule, or early by the vendor.
	devs := "/models/" + p.e.model + "/test-devices"
	sn := func(serial string) string {
		return p.m["vendorCode"].(string) + "L" + p.m["modelCode"].(string) + serial + "K7Q2M9ZA"
	}
	until := c.Clock.Now().In(shanghai).AddDate(0, 0, 10).Format(time.DateOnly)
	reg := map[string]any{"sn": sn("0000000001"), "deviceType": "vending_machine", "expectedCompletion": until}
	r = p.e.v.Do("POST", devs, reg)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	assert.Equal(t, http.StatusOK, p.e.v.Do("POST", devs, reg).Status, "the same registration again")
	assert.Equal(t, "sn_system_type_mismatch", p.e.v.Do("POST", devs, map[string]any{"sn": p.m["vendorCode"].(string) + "A" + p.m["modelCode"].(string) + "0000000002K7Q2M9ZA",
		"deviceType": "vending_machine", "expectedCompletion": until}).Code(), "a Linux model's SN has system type L")
	early := map[string]any{"sn": sn("0000000003"), "deviceType": "vending_machine", "expectedCompletion": until}
	require.Equal(t, http.StatusCreated, p.e.v.Do("POST", devs, early).Status)
	r = p.e.v.Do("POST", devs+"/"+sn("0000000003")+"/clear", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "cleared early by the vendor", r.Body["clearedReason"])
	c.Clock.Advance(9 * 24 * time.Hour)
	byStatus := func() map[string]string {
		out := map[string]string{}
		for _, d := range p.e.v.Do("GET", devs, nil).Body["items"].([]any) {
			out[d.(map[string]any)["sn"].(string)] = d.(map[string]any)["status"].(string)
		}
		return out
	}
	assert.Equal(t, map[string]string{sn("0000000001"): "active", sn("0000000003"): "cleared"}, byStatus())
	c.Clock.Advance(2 * 24 * time.Hour)
	assert.Equal(t, map[string]string{sn("0000000001"): "cleared", sn("0000000003"): "cleared"}, byStatus(), "cleared on the date")

	for _, kind := range []string{"certificates", "software", "hardware"} {
		p.decide(kind, p.submit(kind), "approve", "")
	}
	tl = p.timeline()
	assert.Equal(t, "pvt", tl.stage())
	assert.Equal(t, "approved", tl.track("certification")["status"])
	p.factoryPass()
	require.Equal(t, http.StatusAccepted, p.e.v.Do("POST", "/models/"+p.e.model+"/pvt/declaration", map[string]any{"camerasPurchased": true, "factoryChecksRunning": true}).Status)
	tl = p.timeline()
	assert.Equal(t, "mp", tl.stage())
	assert.Nil(t, tl.body["inspection"], "no inspection was invited")
}

// A track the vendor never submits expires after 180 days with its reason; the vendor
// restarts the model (a new execution name), the approvals it had carry over, and it completes.
func TestPipeline_ExpiredTrackAndRestart(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	p := newPipelineRun(t, c, vendor(3), evModel)
	model := p.e.model
	assert.Equal(t, "not_expired", p.e.v.Do("POST", "/models/"+model+"/restart", nil).Code())
	p.decide("software", p.submit("software"), "approve", "")
	p.decide("certificates", p.submit("certificates"), "approve", "")
	tl := p.timeline()
	assert.Equal(t, "vendor", tl.wait("hardware_precheck")["from"])

	c.Clock.Advance(181 * 24 * time.Hour)
	tl = p.timeline()
	assert.Equal(t, "expired", tl.stage())
	assert.Equal(t, "no hardware pre-check submitted within 180 days", tl.body["reason"])
	assert.Equal(t, "expired", tl.track("hardware_precheck")["status"])
	assert.Empty(t, tl.waits(), "an expired model waits for nothing")
	assert.Equal(t, "forbidden_role", p.rev.Do("POST", "/models/"+model+"/restart", nil).Code(), "only the vendor restarts")

	r := p.e.v.Do("POST", "/models/"+model+"/restart", nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Raw))
	assert.EqualValues(t, 2, r.Body["run"])
	tl = p.timeline()
	assert.Equal(t, "dvt", tl.stage())
	assert.EqualValues(t, 2, tl.body["run"])
	assert.Equal(t, "approved", tl.track("software_precheck")["status"], "approvals carry over to the new run")
	assert.Equal(t, "approved", tl.track("certification")["status"])
	assert.Equal(t, map[string]string{"hardware_precheck": "vendor"}, tl.waits())

	p.decide("hardware", p.submit("hardware"), "approve", "")
	require.Equal(t, "pvt", p.timeline().stage())
	p.factoryPass()
	require.Equal(t, http.StatusAccepted, p.e.v.Do("POST", "/models/"+model+"/pvt/declaration", map[string]any{"camerasPurchased": true, "factoryChecksRunning": true}).Status)
	assert.Equal(t, "mp", p.timeline().stage())
}
