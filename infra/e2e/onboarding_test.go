package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/domain"
)

var (
	shanghai, _ = time.LoadLocation("Asia/Shanghai")
	// Tuesday 24 November 2026, 10:00 in Shanghai.
	tuesday = time.Date(2026, 11, 24, 10, 0, 0, 0, shanghai)
	// The first Monday release after it: 30 November 2026, 09:00 in Shanghai.
	monday   = time.Date(2026, 11, 30, 9, 0, 0, 0, shanghai)
	reviewer = cloud.Identity{Subject: "rita", Role: "reviewer"}
)

func vendor(n int) cloud.Identity {
	return cloud.Identity{Subject: fmt.Sprintf("owner-%d", n), Org: fmt.Sprintf("vendor-%d", n), Role: "vendor", AccountType: "service_provider"}
}

// apply makes a complete device-vendor application (agreement, deck received, survey) and submits it.
func apply(t *testing.T, c *cloud.Cloud, id cloud.Identity) string {
	t.Helper()
	v := cloudtest.As(t, c, id)
	r := v.Do("POST", "/applications", map[string]any{
		"partnerType": "device_vendor", "company": map[string]any{"name": id.Org + " Ltd"},
		"agreementAccepted": true, "survey": map[string]string{"plannedModels": "2", "annualVolume": "5000"},
	}, "Idempotency-Key", "apply-"+id.Org)
	require.Contains(t, []int{http.StatusCreated, http.StatusOK}, r.Status, string(r.Raw))
	appID := r.Body["id"].(string)
	uploadDeck(t, c, v, appID)
	r = v.Do("POST", "/applications/"+appID+"/submit", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	require.Equal(t, "under_review", r.Body["status"])
	return appID
}

func uploadDeck(t *testing.T, c *cloud.Cloud, v *cloudtest.Client, appID string) {
	t.Helper()
	r := v.Do("PUT", "/applications/"+appID+"/attachments/deck", map[string]any{
		"fileName": "deck.pdf", "contentType": "application/pdf", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF),
	})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), minimalPDF)
	require.Equal(t, http.StatusOK, status, body)
	cloudtest.Eventually(t, "deck received", func() bool {
		deck, _ := v.Do("GET", "/applications/"+appID, nil).Body["attachments"].(map[string]any)["deck"].(map[string]any)
		return deck["status"] == "received"
	})
}

func decide(t *testing.T, c *cloud.Cloud, kind, id, decision, reason string) cloudtest.Response {
	t.Helper()
	return cloudtest.As(t, c, reviewer).Do("POST", "/admin/"+kind+"/"+id+"/decision", map[string]any{"decision": decision, "reason": reason})
}

func TestOnboarding_MondayRelease(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	apps := map[int]string{}
	for n := 1; n <= 3; n++ {
		apps[n] = apply(t, c, vendor(n))
	}
	rev := cloudtest.As(t, c, reviewer)
	queue := rev.Do("GET", "/admin/applications?partnerType=device_vendor&status=pending", nil)
	require.Equal(t, http.StatusOK, queue.Status, string(queue.Raw))
	assert.Len(t, queue.Body["items"], 3)

	// Wednesday: two approvals, one rejection (first approved, then revised to a rejection).
	c.Clock.AdvanceTo(tuesday.Add(24 * time.Hour))
	require.Equal(t, http.StatusOK, decide(t, c, "applications", apps[1], "approve", "").Status)
	require.Equal(t, http.StatusOK, decide(t, c, "applications", apps[2], "approve", "").Status)
	require.Equal(t, http.StatusOK, decide(t, c, "applications", apps[3], "approve", "").Status)
	r := decide(t, c, "applications", apps[3], "reject", "The deck lacks the one-year deployment plan.")
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Len(t, rev.Do("GET", "/admin/applications?status=decided", nil).Body["items"], 3)

	// Just before Monday 09:00: nothing is visible yet.
	c.Clock.AdvanceTo(monday.Add(-time.Minute))
	for n := 1; n <= 3; n++ {
		got := cloudtest.As(t, c, vendor(n)).Do("GET", "/applications/"+apps[n], nil)
		assert.Equal(t, "under_review", got.Body["status"], "vendor %d before the release", n)
		assert.Nil(t, got.Body["outcome"])
		assert.Nil(t, got.Body["vendorCode"])
	}

	c.Clock.AdvanceTo(monday.Add(time.Minute))
	codes := map[string]bool{}
	for n := 1; n <= 2; n++ {
		got := cloudtest.As(t, c, vendor(n)).Do("GET", "/applications/"+apps[n], nil)
		assert.Equal(t, "approved", got.Body["status"])
		code, _ := got.Body["vendorCode"].(string)
		assert.True(t, domain.ValidCode(code), "vendor code %q", code)
		codes[code] = true
	}
	assert.Len(t, codes, 2, "the two vendor codes are distinct")

	v3 := cloudtest.As(t, c, vendor(3))
	got := v3.Do("GET", "/applications/"+apps[3], nil)
	assert.Equal(t, "rejected", got.Body["status"])
	assert.Equal(t, "The deck lacks the one-year deployment plan.", got.Body["outcome"].(map[string]any)["reason"])
	msgs := v3.Do("GET", "/messages", nil)
	require.Len(t, msgs.Body["items"], 1)
	assert.Contains(t, msgs.Body["items"].([]any)[0].(map[string]any)["body"], "one-year deployment plan")

	// Deciding after the release is refused.
	r = decide(t, c, "applications", apps[3], "approve", "")
	assert.Equal(t, http.StatusConflict, r.Status)
	assert.Equal(t, "already_released", r.Code())

	// The rejected vendor reworks and resubmits; approved the following Monday.
	r = v3.Do("PATCH", "/applications/"+apps[3], map[string]any{"survey": map[string]string{"plannedModels": "2", "deploymentPlan": "attached in deck v2"}})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	uploadDeck(t, c, v3, apps[3])
	r = v3.Do("POST", "/applications/"+apps[3]+"/submit", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "under_review", r.Body["status"])
	assert.EqualValues(t, 2, r.Body["round"])
	require.Equal(t, http.StatusOK, decide(t, c, "applications", apps[3], "approve", "").Status)
	c.Clock.AdvanceTo(monday.Add(7*24*time.Hour + time.Minute))
	got = v3.Do("GET", "/applications/"+apps[3], nil)
	assert.Equal(t, "approved", got.Body["status"])
	code, _ := got.Body["vendorCode"].(string)
	assert.True(t, domain.ValidCode(code))
	assert.False(t, codes[code], "a code is never reused")

	// Running the release again changes nothing.
	require.NoError(t, c.FireSchedule(context.Background(), "WeeklyRelease"))
	assert.Len(t, v3.Do("GET", "/messages", nil).Body["items"], 2)
	assert.Equal(t, code, v3.Do("GET", "/applications/"+apps[3], nil).Body["vendorCode"])

	// The applicant's history has the releases, never the held decisions; the reviewers' has both.
	actions := func(items any) (out []string) {
		for _, h := range items.([]any) {
			out = append(out, h.(map[string]any)["action"].(string))
		}
		return out
	}
	assert.Equal(t, []string{"created", "attachment_requested", "attachment_received", "submitted",
		"released", "edited", "attachment_requested", "attachment_received", "submitted", "released"},
		actions(v3.Do("GET", "/applications/"+apps[3]+"/history", nil).Body["items"]))
	assert.Equal(t, []string{"created", "attachment_requested", "attachment_received", "submitted", "decided", "decision_revised",
		"released", "edited", "attachment_requested", "attachment_received", "submitted", "decided", "released"},
		actions(rev.Do("GET", "/admin/applications/"+apps[3], nil).Body["history"]))
}

// Two schedule deliveries at once never allocate a code twice nor skip an application.
func TestOnboarding_RacingReleases(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	const n = 8
	apps := make([]string, n)
	for i := range apps {
		apps[i] = apply(t, c, vendor(100+i))
		require.Equal(t, http.StatusOK, decide(t, c, "applications", apps[i], "approve", "").Status)
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.FireSchedule(context.Background(), "WeeklyRelease")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	codes := map[string]string{}
	for i, id := range apps {
		v := cloudtest.As(t, c, vendor(100+i))
		got := v.Do("GET", "/applications/"+id, nil)
		require.Equal(t, "approved", got.Body["status"], "application %d released", i)
		code := got.Body["vendorCode"].(string)
		require.True(t, domain.ValidCode(code))
		prev, dup := codes[code]
		require.False(t, dup, "code %s given to %s and %s", code, prev, id)
		codes[code] = id
		assert.Len(t, v.Do("GET", "/messages", nil).Body["items"], 1, "one outcome message each")
	}
}

func TestOnboarding_BadInput(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	v := cloudtest.As(t, c, vendor(1))
	id := v.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor", "company": map[string]any{"name": "V1"},
		"agreementAccepted": true, "survey": map[string]string{"q": "a"}}).Body["id"].(string)

	r := v.Do("POST", "/applications/"+id+"/submit", nil)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "missing_deck", r.Code())

	wrongAcct := vendor(1)
	wrongAcct.AccountType = "merchant"
	uploadDeck(t, c, v, id)
	r = cloudtest.As(t, c, wrongAcct).Do("POST", "/applications/"+id+"/submit", nil)
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, "wrong_account_type", r.Code())

	r = v.Do("PUT", "/applications/"+id+"/attachments/deck", map[string]any{"fileName": "deck.docx", "contentType": "application/msword", "size": 10, "sha256": cloudtest.SHA256([]byte("x"))})
	assert.Equal(t, "wrong_extension", r.Code())
	r = v.Do("PUT", "/applications/"+id+"/attachments/deck", map[string]any{"fileName": "deck.pdf", "contentType": "application/pdf", "size": 60 << 20, "sha256": cloudtest.SHA256([]byte("x"))})
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	assert.Equal(t, "file_too_large", r.Code())
	r = v.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor", "unknownField": 1})
	assert.Equal(t, "invalid_json", r.Code())

	require.Equal(t, http.StatusOK, v.Do("POST", "/applications/"+id+"/submit", nil).Status)
	r = v.Do("PATCH", "/applications/"+id, map[string]any{"agreementAccepted": false})
	assert.Equal(t, http.StatusConflict, r.Status)
	assert.Equal(t, "not_editable", r.Code())

	r = v.Do("POST", "/admin/applications/"+id+"/decision", map[string]any{"decision": "approve"})
	assert.Equal(t, http.StatusForbidden, r.Status, "a vendor calling the admin API")
	assert.Equal(t, "forbidden_role", r.Code())
	assert.Equal(t, http.StatusForbidden, v.Do("GET", "/admin/applications", nil).Status)

	r = decide(t, c, "applications", id, "maybe", "")
	assert.Equal(t, "invalid_decision", r.Code())
	r = decide(t, c, "applications", id, "reject", "")
	assert.Equal(t, "reason_required", r.Code())

	// Models: only approved vendors, and only known device types.
	r = v.Do("POST", "/models", map[string]any{"name": "K1", "deviceType": "desktop_single_screen", "os": "android", "softwareModes": []string{"sdk"}, "cameraModel": "C1"})
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, "vendor_not_approved", r.Code())
	require.Equal(t, http.StatusOK, decide(t, c, "applications", id, "approve", "").Status)
	require.NoError(t, c.FireSchedule(context.Background(), "WeeklyRelease"))
	r = v.Do("POST", "/models", map[string]any{"name": "K1", "deviceType": "toaster", "os": "android", "softwareModes": []string{"sdk"}, "cameraModel": "C1"})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "unknown_device_type", r.Code())

	// Deciding twice after the release.
	r = decide(t, c, "applications", id, "reject", "changed my mind")
	assert.Equal(t, http.StatusConflict, r.Status)
	assert.Equal(t, "already_released", r.Code())
}

// The other partner types follow the same flow: their own slots, no deck or account rule, the
// Monday release, no vendor code; each applies only as its own role's partner type.
func TestOnboarding_OtherPartnerTypes(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	partners := []struct {
		id   cloud.Identity
		typ  string
		slot string
	}{
		{cloud.Identity{Subject: "s", Org: "soft-1", Role: "software_provider", AccountType: "merchant"}, "software_provider", "business_licence"},
		{cloud.Identity{Subject: "d", Org: "deploy-1", Role: "deployer"}, "deployer", "deployment_plan"},
		{cloud.Identity{Subject: "m", Org: "shop-1", Role: "merchant"}, "merchant", "store_photo"},
	}
	ids := map[string]string{}
	for _, p := range partners {
		cl := cloudtest.As(t, c, p.id)
		r := cl.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor"})
		assert.Equal(t, "wrong_role", r.Code(), "%s cannot apply as a device vendor", p.typ)
		r = cl.Do("POST", "/applications", map[string]any{"partnerType": p.typ, "company": map[string]any{"name": p.id.Org}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
		id := r.Body["id"].(string)
		r = cl.Do("PUT", "/applications/"+id+"/attachments/deck", map[string]any{
			"fileName": "deck.pdf", "contentType": "application/pdf", "size": 10, "sha256": cloudtest.SHA256([]byte("x"))})
		assert.Equal(t, "unknown_slot", r.Code(), "%s has no deck slot", p.typ)
		r = cl.Do("PUT", "/applications/"+id+"/attachments/"+p.slot, map[string]any{
			"fileName": "doc.pdf", "contentType": "application/pdf", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF)})
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), minimalPDF)
		require.Equal(t, http.StatusOK, status, body)
		cloudtest.Eventually(t, p.slot+" received", func() bool {
			att, _ := cl.Do("GET", "/applications/"+id, nil).Body["attachments"].(map[string]any)[p.slot].(map[string]any)
			return att["status"] == "received"
		})
		r = cl.Do("POST", "/applications/"+id+"/submit", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		queue := cloudtest.As(t, c, reviewer).Do("GET", "/admin/applications?partnerType="+p.typ, nil)
		require.Len(t, queue.Body["items"], 1, p.typ)
		require.Equal(t, http.StatusOK, decide(t, c, "applications", id, "approve", "").Status)
		ids[p.typ] = id
	}
	c.Clock.AdvanceTo(monday.Add(time.Minute))
	for _, p := range partners {
		got := cloudtest.As(t, c, p.id).Do("GET", "/applications/"+ids[p.typ], nil)
		assert.Equal(t, "approved", got.Body["status"], p.typ)
		assert.Nil(t, got.Body["vendorCode"], "only device vendors get a vendor code")
		assert.Len(t, cloudtest.As(t, c, p.id).Do("GET", "/messages", nil).Body["items"], 1, p.typ)
	}
}
