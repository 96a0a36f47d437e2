package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/evidence/evidencetest"
)

// v1 is a Linux vending machine with no radio: it needs only 3C.
var v1 = map[string]any{"name": "V1", "deviceType": "vending_machine", "os": "linux", "softwareModes": []string{"sdk"}, "cameraModel": "FC-300"}

const day = 24 * time.Hour

// subjects lists the subjects of the messages (the vendor's outbox, GET /messages) or alerts
// (the reviewers', GET /admin/alerts) about model that contain part.
func subjects(t *testing.T, c *cloudtest.Client, path, model, part string) []string {
	t.Helper()
	r := c.Do("GET", path+"?limit=100", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	var out []string
	for _, m := range r.Body["items"].([]any) {
		m := m.(map[string]any)
		if m["entityId"] == model && strings.Contains(m["subject"].(string), part) {
			out = append(out, m["subject"].(string))
		}
	}
	return out
}

// A review overdue one week after submission is raised to the reviewers once, whatever the
// daily runs and redeliveries; vendor and reviewer both see its due date. A withdrawn model's
// pipeline stops: a later approval changes nothing.
func TestPipeline_OverdueReviewRaisedOnceAndWithdrawal(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	p := newPipelineRun(t, c, vendor(4), v1)
	model := p.e.model
	n := p.submit("certificates")
	submitted := c.Clock.Now()
	for _, who := range []*cloudtest.Client{p.e.v, p.rev} {
		r := who.Do("GET", "/models/"+model+"/timeline", nil)
		require.Equal(t, http.StatusOK, r.Status)
		w := timelineView{t: t, raw: string(r.Raw), body: r.Body}.wait("certification")
		require.NotNil(t, w, string(r.Raw))
		assert.Equal(t, "reviewer", w["from"])
		assert.WithinDuration(t, submitted.Add(7*day), parseTime(t, w["due"]), time.Minute, "due one week after submission")
	}
	overdue := func() []string { return subjects(t, p.rev, "/admin/alerts", model, "Review overdue") }
	c.Clock.Advance(6 * day)
	assert.Empty(t, overdue(), "not overdue within the week")
	c.Clock.Advance(2 * day)
	assert.Len(t, overdue(), 1, "raised on the first sweep after the week")
	c.Clock.Advance(3 * day)
	for range 2 { // a redelivered schedule, a re-run by an operator
		require.NoError(t, c.FireSchedule(context.Background(), "DailyReviewSla"))
	}
	c.Clock.Settle()
	assert.Len(t, overdue(), 1, "raised exactly once")
	assert.Equal(t, "forbidden_role", p.e.v.Do("GET", "/admin/alerts", nil).Code())

	// Withdrawal: stage withdrawn, the execution stopped; the approval that follows changes nothing.
	assert.Equal(t, "forbidden_role", p.rev.Do("POST", "/models/"+model+"/withdraw", map[string]any{"reason": "x"}).Code())
	r := p.e.v.Do("POST", "/models/"+model+"/withdraw", map[string]any{"reason": "Replaced by the V2."})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, http.StatusOK, p.e.v.Do("POST", "/models/"+model+"/withdraw", map[string]any{"reason": "Replaced by the V2."}).Status, "a repeat answers the same")
	p.decide("certificates", n, "approve", "")
	tl := p.timeline()
	assert.Equal(t, "withdrawn", tl.stage())
	assert.Equal(t, "Replaced by the V2.", tl.body["reason"])
	assert.Empty(t, tl.waits(), "a withdrawn model waits for nothing")
	assert.Equal(t, map[string]any{"allowed": false, "reason": "model_withdrawn"}, tl.body["payments"])
}

// A mandatory certificate warns its vendor 90, 30 and 7 days ahead (once each) and restricts
// the model on the day it expires, until a renewed one is approved. A failed spot check's
// rectification order restricts the model once overdue, raised once, until a reviewer closes it.
func TestPipeline_CertificateExpiryAndSpotCheckRestrictTheModel(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	expires := c.Clock.Now().In(shanghai).AddDate(0, 0, 100).Format(time.DateOnly)
	expiresAt, err := time.ParseInLocation(time.DateOnly, expires, shanghai)
	require.NoError(t, err)
	p := newPipelineRun(t, c, vendor(5), v1)
	p.e.certExpiresOn = expires
	model := p.e.model
	for _, kind := range []string{"certificates", "software", "hardware"} {
		p.decide(kind, p.submit(kind), "approve", "")
	}
	require.Equal(t, "pvt", p.timeline().stage())
	p.factoryPass() // MP also needs a device that passed the factory check in PVT
	require.Equal(t, http.StatusAccepted, p.e.v.Do("POST", "/models/"+model+"/pvt/declaration", map[string]any{"camerasPurchased": true, "factoryChecksRunning": true}).Status)
	tl := p.timeline()
	require.Equal(t, "mp", tl.stage())
	assert.Equal(t, map[string]any{"allowed": true}, tl.body["payments"])
	assert.Equal(t, expires, tl.body["certificateValidity"].(map[string]any)["3c"].(map[string]any)["expiresOn"], "as the upload declared and the reviewer confirmed")
	assert.Equal(t, "model_in_production", p.e.v.Do("POST", "/models/"+model+"/withdraw", map[string]any{}).Code())

	warnings := func() []string { return subjects(t, p.e.v, "/messages", model, "certificate expires in") }
	c.Clock.AdvanceTo(expiresAt.Add(-91 * day))
	assert.Empty(t, warnings())
	c.Clock.AdvanceTo(expiresAt.Add(-89 * day))
	assert.Equal(t, []string{"3C certificate expires in 90 days"}, warnings())
	c.Clock.AdvanceTo(expiresAt.Add(-6 * day))
	assert.ElementsMatch(t, []string{"3C certificate expires in 90 days", "3C certificate expires in 30 days", "3C certificate expires in 7 days"}, warnings(), "each once")

	// The day before: still allowed. On the day, before the 02:30 sweep: the runtime answer
	// already says no; after it, the stage says restricted and vendor and reviewers are told.
	c.Clock.AdvanceTo(expiresAt.Add(-time.Hour))
	assert.Equal(t, map[string]any{"allowed": true}, p.timeline().body["payments"])
	c.Clock.AdvanceTo(expiresAt.Add(time.Hour))
	assert.Equal(t, map[string]any{"allowed": false, "reason": "certificate_expired"}, p.timeline().body["payments"])
	c.Clock.AdvanceTo(expiresAt.Add(3 * time.Hour))
	tl = p.timeline()
	assert.Equal(t, "restricted", tl.stage())
	assert.True(t, expiresAt.Add(150*time.Minute).Equal(parseTime(t, tl.body["stageSince"])), "restricted by the sweep of that day: %v", tl.body["stageSince"])
	require.Len(t, tl.body["restrictions"], 1)
	assert.Equal(t, "certificate_expired", tl.body["restrictions"].([]any)[0].(map[string]any)["reason"])
	assert.Len(t, subjects(t, p.e.v, "/messages", model, "certificate expired: model restricted"), 1)
	assert.Len(t, subjects(t, p.rev, "/admin/alerts", model, "certificate expired"), 1)

	// The renewal: a new version with the renewed 3C; its approval lifts the restriction.
	c.Clock.Advance(2 * day)
	p.e.certExpiresOn = expiresAt.AddDate(5, 0, 0).Format(time.DateOnly)
	n := p.submit("certificates")
	assert.Equal(t, 2, n, "a renewal version")
	r := p.rev.Do("POST", "/admin/models/"+model+"/submissions/certificates/versions/2/decision", map[string]any{"decision": "approve",
		"certificates": map[string]any{"3c": map[string]any{"number": "2026011606000777", "issuedOn": expires, "expiresOn": p.e.certExpiresOn}}})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	tl = p.timeline()
	assert.Equal(t, "mp", tl.stage())
	assert.Equal(t, "2026011606000777", tl.body["certificateValidity"].(map[string]any)["3c"].(map[string]any)["number"], "as the reviewer corrected it")
	assert.Equal(t, map[string]any{"allowed": true}, tl.body["payments"])

	// Spot checks: a reviewer records market samples; the SN must be the model's.
	spots := "/admin/models/" + model + "/spot-checks"
	sn := func(serial string) string {
		return p.m["vendorCode"].(string) + "L" + p.m["modelCode"].(string) + serial + "K7Q2M9ZA"
	}
	report := evidencetest.PDF()
	check := func(serial, result string, deadline time.Time) map[string]any {
		body := map[string]any{"sn": sn(serial), "lab": "CTTL Beijing", "findings": "Backlight recognition on 3 sampled devices.", "result": result,
			"report": map[string]any{"fileName": "CTTL-SC-" + serial + ".pdf", "contentType": "application/pdf", "size": len(report), "sha256": cloudtest.SHA256(report)}}
		if !deadline.IsZero() {
			body["deadline"] = deadline.UTC().Format(time.RFC3339)
		}
		return body
	}
	bad := check("0000000001", "pass", time.Time{})
	bad["sn"] = p.m["vendorCode"].(string) + "L" + "ZZ" + "0000000001K7Q2M9ZA"
	assert.Equal(t, "sn_model_mismatch", p.rev.Do("POST", spots, bad).Code())
	assert.Equal(t, "forbidden_role", p.e.v.Do("POST", spots, check("0000000001", "pass", time.Time{})).Code())
	r = p.rev.Do("POST", spots, check("0000000001", "pass", time.Time{}))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), report)
	require.Equal(t, http.StatusOK, status, body)
	deadline := c.Clock.Now().Add(14 * day).Truncate(time.Second)
	failed := check("0000000002", "fail", deadline)
	r = p.rev.Do("POST", spots, failed)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	id := r.Body["spotCheck"].(map[string]any)["id"].(string)
	again := p.rev.Do("POST", spots, failed)
	assert.Equal(t, http.StatusOK, again.Status, "the same record again")
	assert.Equal(t, id, again.Body["spotCheck"].(map[string]any)["id"])
	list := p.e.v.Do("GET", "/models/"+model+"/spot-checks", nil)
	require.Equal(t, http.StatusOK, list.Status)
	require.Len(t, list.Body["items"], 2)
	for _, it := range list.Body["items"].([]any) {
		it := it.(map[string]any)
		if it["id"] == id {
			assert.Nil(t, it["reportDownload"], "the failed check's report has not arrived")
			continue
		}
		assert.Equal(t, strings.TrimSpace(string(report)), download(t, it["reportDownload"]), "the passed check's lab report, as uploaded")
	}
	assert.NotContains(t, string(list.Raw), "rita", "the vendor never sees the reviewer")
	assert.Equal(t, http.StatusNotFound, cloudtest.As(t, c, vendor(9)).Do("GET", "/models/"+model+"/spot-checks", nil).Status)
	closeURL := "/admin/models/" + model + "/spot-checks/" + id + "/close"
	assert.Equal(t, "no_response_yet", p.rev.Do("POST", closeURL, map[string]any{"reason": "Fixed."}).Code())
	assert.Equal(t, map[string]any{"allowed": true}, p.timeline().body["payments"], "not overdue before the deadline")

	c.Clock.Advance(15 * day)
	tl = p.timeline()
	assert.Equal(t, "restricted", tl.stage())
	assert.Equal(t, map[string]any{"allowed": false, "reason": "spot_check_overdue"}, tl.body["payments"])
	c.Clock.Advance(2 * day)
	assert.Len(t, subjects(t, p.rev, "/admin/alerts", model, "Rectification order overdue"), 1, "raised once")
	r = p.e.v.Do("POST", "/models/"+model+"/spot-checks/"+id+"/response", map[string]any{"response": "Firmware 2.4.1 enables backlight compensation."})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "restricted", p.timeline().stage(), "the vendor's response alone does not lift it")
	r = p.rev.Do("POST", closeURL, map[string]any{"reason": "Re-sampled units pass."})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, http.StatusOK, p.rev.Do("POST", closeURL, map[string]any{"reason": "Re-sampled units pass."}).Status, "closing again answers the same")
	tl = p.timeline()
	assert.Equal(t, "mp", tl.stage())
	assert.Empty(t, tl.body["restrictions"])
	assert.Equal(t, map[string]any{"allowed": true}, tl.body["payments"])

	hist := p.e.v.Do("GET", "/models/"+model+"/history", nil)
	var stages []string
	for _, h := range hist.Body["items"].([]any) {
		if h := h.(map[string]any); h["action"] == "stage_changed" || h["action"] == "restriction_lifted" {
			stages = append(stages, h["action"].(string)+":"+h["to"].(string))
		}
	}
	assert.Equal(t, []string{"stage_changed:dvt", "stage_changed:pvt", "stage_changed:mp", "stage_changed:restricted", "restriction_lifted:mp",
		"stage_changed:restricted", "restriction_lifted:mp"}, stages)
}
