package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// A held decision stays with the reviewers until the Monday release (issue 8, point 1), and
// vendors see no internals (point 6). The applicant calls every route it has, as the template
// wires them, before and after a reviewer decides and revises: every answer is the same.

// probe is how the applicant calls one of its routes while its application or model is under
// review, in a way that changes nothing (reads, retries, refused edits).
type probe struct {
	body    any
	headers []string
}

// applicantProbes covers every partner route of the template (ids filled in per scenario);
// TestHeldDecision_* fail when a route has neither a probe nor a reason to be left out, so a
// new route cannot escape the check.
func applicantProbes(spec map[string]any) (map[string]probe, map[string]string) {
	deck := map[string]any{"fileName": "deck.pdf", "contentType": "application/pdf", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF)}
	probes := map[string]probe{
		"POST /applications": {map[string]any{"partnerType": "device_vendor", "company": map[string]any{"name": "Second Try Ltd"}},
			[]string{"Idempotency-Key", "probe-app"}}, // the first call (warm-up) creates it; the others return it
		"PATCH /applications/{id}":                  {map[string]any{"survey": map[string]string{"plannedModels": "9"}}, nil},
		"PUT /applications/{id}/attachments/{slot}": {deck, nil},
		"POST /applications/{id}/submit":            {nil, nil}, // a retried submit
		"POST /models":                              {spec, []string{"Idempotency-Key", "probe-model"}},
		"POST /models/{id}/resubmit":                {spec, nil},
		"PUT /models/{id}/submissions/{kind}/slots/{slot}": {map[string]any{"fileName": "[3C证书]-[x][y].pdf", "contentType": "application/pdf",
			"size": 10, "sha256": strings.Repeat("0", 64)}, nil},
		"POST /models/{id}/submissions/{kind}/submit": {nil, nil},
		// The pipeline's vendor steps: refused (409) while the model has no pipeline.
		"POST /models/{id}/pvt/declaration":         {map[string]any{"camerasPurchased": true, "factoryChecksRunning": true}, nil},
		"POST /models/{id}/inspection/shipment":     {map[string]any{"carrier": "SF Express", "trackingNumber": "SF1"}, nil},
		"POST /models/{id}/restart":                 {nil, nil},
		"POST /models/{id}/test-cameras":            {map[string]any{"cameraModel": "FC-200", "quantity": 1}, nil},
		"POST /models/{id}/test-devices":            {map[string]any{"sn": "00A000000000001AAAAAAAA", "deviceType": "handheld", "expectedCompletion": "2027-01-15"}, nil},
		"POST /models/{id}/test-devices/{sn}/clear": {nil, nil},
		// Pay Score is the merchant's: a vendor is refused (403) and nothing changes.
		"POST /payscore/applications":                         {nil, nil},
		"PUT /payscore/applications/{id}/attachments/{slot}":  {nil, nil},
		"POST /payscore/applications/{id}/phone-verification": {nil, nil},
		"POST /payscore/applications/{id}/submit":             {nil, nil},
		"POST /payscore/applications/{id}/agreement":          {nil, nil},
		"POST /payscore/applications/{id}/acceptance":         {nil, nil},
		// Refused while the model has no pipeline (409) or no such spot check (404).
		"POST /models/{id}/withdraw":                       {map[string]any{"reason": "probe"}, nil},
		"POST /models/{id}/spot-checks/{checkId}/response": {map[string]any{"response": "probe"}, nil},
		// Devices: SNs need a model code (409 before the release); the first call issues the
		// factory code, the next ones answer factory_code_exists; no such device to re-register;
		// a vendor token is not a device authorization code (the authorizer refuses).
		"POST /models/{id}/serial-numbers":          {map[string]any{"vendorSerials": []string{"0000000001"}}, nil},
		"POST /factory-code":                        {nil, nil},
		"POST /devices/{sn}/reregistration":         {map[string]any{"reason": "probe"}, nil},
		"POST /devices/{sn}/software-mode-requests": {map[string]any{"softwareMode": "app", "reason": "probe"}, nil},
		"POST /factory/checks":                      {map[string]any{"devices": []map[string]any{{"sn": "00A000000000001AAAAAAAA"}}}, nil},
		// Binding: no such device (per-device errors in bulk answers); confirming and declining
		// are the provider's (403 for a vendor).
		"PUT /devices/{sn}/binding":      {map[string]any{"provider": "DP00000001"}, nil},
		"DELETE /devices/{sn}/binding":   {nil, nil},
		"POST /bindings":                 {map[string]any{"items": []map[string]any{{"sn": "00A000000000001AAAAAAAA", "provider": "DP00000001"}}}, nil},
		"POST /bindings/unbind":          {map[string]any{"sns": []string{"00A000000000001AAAAAAAA"}}, nil},
		"POST /deployer/devices/confirm": {map[string]any{"sns": []string{"00A000000000001AAAAAAAA"}}, nil},
		"POST /fee/signups":              {map[string]any{"sns": []string{"00A000000000001AAAAAAAA"}, "date": "2026-11-24"}, nil},
		"POST /deployer/devices/decline": {map[string]any{"sns": []string{"00A000000000001AAAAAAAA"}}, nil},
	}
	skipped := map[string]string{
		"POST /applications/{id}/withdraw": "withdrawing ends the review (it is what the applicant may do, not a read)",
		"POST /factory-code/reset":         "every reset issues a new code (what the vendor may do, not a read)",
		"POST /binding-imports":            "every call starts an import with a fresh upload link (what the vendor may do, not a read)",
		"POST /devices/exports":            "every call starts an export, whose status then moves on its own (what the vendor may do, not a read)",
	}
	return probes, skipped
}

// snapshot calls every applicant route once and returns status and body per route.
func snapshot(t *testing.T, c *cloud.Cloud, v *cloudtest.Client, ids map[string]string, spec map[string]any) map[string]string {
	t.Helper()
	probes, skipped := applicantProbes(spec)
	fill := strings.NewReplacer("{kind}", "certificates", "{version}", "1", "{slot}", "certificate.3c", "{checkId}", "spc_none")
	out := map[string]string{}
	for _, f := range c.Template.Functions {
		for _, r := range f.Routes {
			if strings.HasPrefix(r.Path, "/admin/") {
				continue
			}
			key := r.Key()
			if _, ok := skipped[key]; ok {
				continue
			}
			p, ok := probes[key]
			if r.Method != http.MethodGet && !ok {
				t.Errorf("%s: no probe for this applicant route; add one (or a reason to skip it)", key)
				continue
			}
			path := r.Path
			if strings.HasPrefix(path, "/applications/") {
				path = strings.Replace(path, "{id}", ids["application"], 1)
			}
			path = fill.Replace(strings.Replace(path, "{id}", ids["model"], 1))
			if key == "PUT /applications/{id}/attachments/{slot}" {
				path = strings.TrimSuffix(path, "certificate.3c") + "deck"
			}
			resp := v.Do(r.Method, path, p.body, p.headers...)
			require.Less(t, resp.Status, 500, "%s: %s", key, resp.Raw)
			out[key] = string(resp.Raw)
			assertNoInternals(t, key, string(resp.Raw))
		}
	}
	return out
}

// assertNoInternals fails if an applicant's response names the reviewer, a held decision or
// its revision, an execution ARN or a raw table key.
func assertNoInternals(t *testing.T, what, body string) {
	t.Helper()
	for _, leak := range []string{reviewer.Subject, `"reviewer":`, "heldDecision", `"held"`, "arn:aws:", "APP#", "MODEL#", "META", `"pk"`, "decision_revised"} {
		assert.NotContains(t, body, leak, "%s reveals %q: %s", what, leak, body)
	}
}

func TestHeldDecision_ApplicationRevealsNothingUntilTheRelease(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	id := vendor(1)
	v := cloudtest.As(t, c, id)
	ids := map[string]string{"application": apply(t, c, id), "model": "mdl_none"}
	c.Clock.AdvanceTo(tuesday.Add(24 * time.Hour))
	snapshot(t, c, v, ids, k1) // warm-up: creates what the idempotent probes return afterwards
	before := snapshot(t, c, v, ids, k1)

	require.Equal(t, http.StatusOK, decide(t, c, "applications", ids["application"], "approve", "").Status)
	require.Equal(t, http.StatusOK, decide(t, c, "applications", ids["application"], "reject", "Secret: the deck lacks the plan.").Status)
	assert.Equal(t, before, snapshot(t, c, v, ids, k1), "nothing the applicant can call changed with the held decision")

	rev := cloudtest.As(t, c, reviewer).Do("GET", "/admin/applications/"+ids["application"], nil)
	assert.Contains(t, string(rev.Raw), "Secret: the deck lacks the plan.", "reviewers see the held decision")
	assert.Contains(t, string(rev.Raw), `"by":"rita"`, "and who decided")
	assert.Contains(t, string(rev.Raw), `"accountType":"service_provider"`, "and the applicant's account type")

	// After the release: outcome and reason, never the reviewer nor the revision.
	c.Clock.AdvanceTo(monday.Add(time.Minute))
	after := snapshot(t, c, v, ids, k1)
	got := v.Do("GET", "/applications/"+ids["application"], nil)
	assert.Equal(t, "rejected", got.Body["status"])
	assert.Equal(t, "Secret: the deck lacks the plan.", got.Body["outcome"].(map[string]any)["reason"])
	assert.Contains(t, after["GET /applications/{id}/history"], `"action":"released"`)
	assert.NotContains(t, after["GET /applications/{id}/history"], `"action":"decided"`, "the held decision itself never shows")
	assert.Contains(t, after["GET /messages"], "Secret: the deck lacks the plan.")
}

func TestHeldDecision_ModelRevealsNothingUntilTheRelease(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	id := vendor(1)
	appID := apply(t, c, id)
	require.Equal(t, http.StatusOK, decide(t, c, "applications", appID, "approve", "").Status)
	require.NoError(t, c.FireSchedule(context.Background(), "WeeklyRelease"))
	v := cloudtest.As(t, c, id)
	r := v.Do("POST", "/models", k1, "Idempotency-Key", "probe-model")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	ids := map[string]string{"application": appID, "model": r.Body["id"].(string)}
	c.Clock.AdvanceTo(tuesday.Add(24 * time.Hour))
	snapshot(t, c, v, ids, k1)
	before := snapshot(t, c, v, ids, k1)

	require.Equal(t, http.StatusOK, decide(t, c, "models", ids["model"], "reject", "Secret: FC-200 is not certified.").Status)
	require.Equal(t, http.StatusOK, decide(t, c, "models", ids["model"], "approve", "").Status)
	assert.Equal(t, before, snapshot(t, c, v, ids, k1), "nothing the vendor can call changed with the held decision")

	c.Clock.AdvanceTo(monday.Add(time.Minute))
	after := snapshot(t, c, v, ids, k1) // checks every answer for internals: no ARN, no reviewer
	got := v.Do("GET", "/models/"+ids["model"], nil)
	assert.Equal(t, "approved", got.Body["status"])
	assert.NotEmpty(t, got.Body["modelCode"])
	assert.NotEmpty(t, pipelineARN(t, c, ids["model"]), "the pipeline started; only reviewers read its ARN")
	assert.Contains(t, after["GET /models/{id}/history"], `"action":"pipeline_started"`)
	assert.NotContains(t, after["GET /models/{id}/history"], `"action":"decided"`, "the held decision itself never shows")
	assert.NotContains(t, after["GET /messages"], "Secret", "the revised-away rejection never reaches the vendor")
}

// The applicant's version and updatedAt do not move when a reviewer decides or revises (they
// went 4 → 5 → 6 when the held decision was stored on the entity); the release moves them once.
func TestHeldDecision_ApplicantVersionAndUpdatedAtStay(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	id := vendor(1)
	v := cloudtest.As(t, c, id)
	appID := apply(t, c, id)
	read := func(path string) (float64, string) {
		r := v.Do("GET", path, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		return r.Body["version"].(float64), r.Body["updatedAt"].(string)
	}
	c.Clock.AdvanceTo(tuesday.Add(time.Hour))
	version, updated := read("/applications/" + appID)
	for _, d := range []string{"approve", "reject", "approve"} {
		c.Clock.AdvanceTo(c.Clock.Now().Add(time.Hour))
		require.Equal(t, http.StatusOK, decide(t, c, "applications", appID, d, "Reason "+d).Status)
		gotVersion, gotUpdated := read("/applications/" + appID)
		assert.Equal(t, version, gotVersion, "after %s", d)
		assert.Equal(t, updated, gotUpdated, "after %s", d)
	}
	require.NoError(t, c.FireSchedule(context.Background(), "WeeklyRelease"))
	gotVersion, _ := read("/applications/" + appID)
	assert.Equal(t, version+1, gotVersion, "the release is the one change the applicant sees")

	m := v.Do("POST", "/models", k1)
	require.Equal(t, http.StatusCreated, m.Status, string(m.Raw))
	modelID := m.Body["id"].(string)
	version, updated = read("/models/" + modelID)
	for _, d := range []string{"reject", "approve"} {
		c.Clock.AdvanceTo(c.Clock.Now().Add(time.Hour))
		require.Equal(t, http.StatusOK, decide(t, c, "models", modelID, d, "Reason "+d).Status)
		gotVersion, gotUpdated := read("/models/" + modelID)
		assert.Equal(t, version, gotVersion, "after %s", d)
		assert.Equal(t, updated, gotUpdated, "after %s", d)
	}
}
