package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// Issue 8, point 4: what can never succeed is refused when it is entered.

func TestEntry_DeviceVendorNeedsAServiceProviderAccount(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	body := map[string]any{"partnerType": "device_vendor", "company": map[string]any{"name": "Acme Devices Ltd"}}
	for _, acct := range []string{"", "merchant"} {
		id := cloud.Identity{Subject: "sam", Org: "acme", Role: "vendor", AccountType: acct}
		r := cloudtest.As(t, c, id).Do("POST", "/applications", body)
		assert.Equal(t, http.StatusForbidden, r.Status, "account type %q: %s", acct, r.Raw)
		assert.Equal(t, "wrong_account_type", r.Code())
		assert.Empty(t, cloudtest.As(t, c, id).Do("GET", "/applications", nil).Body["items"], "nothing was created")
	}
	r := cloudtest.As(t, c, vendor(1)).Do("POST", "/applications", body)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	assert.Equal(t, "service_provider", r.Body["accountType"])
}

func TestEntry_NamesThatCannotGoInsideFileNames(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	v := cloudtest.As(t, c, vendor(1))
	for _, name := range []string{"Acme [CN] Ltd", "Acme/Devices", `Acme\Devices`, "Acme\tDevices"} {
		r := v.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor", "company": map[string]any{"name": name}})
		assert.Equal(t, http.StatusBadRequest, r.Status, "%q: %s", name, r.Raw)
		assert.Equal(t, "invalid_company_name", r.Code(), name)
	}
	assert.Empty(t, v.Do("GET", "/applications", nil).Body["items"], "nothing was created")
	r := v.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor", "company": map[string]any{"name": "Acme Ltd"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	r = v.Do("PATCH", "/applications/"+r.Body["id"].(string), map[string]any{"company": map[string]any{"name": "Acme]"}})
	assert.Equal(t, "invalid_company_name", r.Code(), "an edit is checked too")

	id, _ := approvedVendor(t, c, 2)
	v2 := cloudtest.As(t, c, id)
	for _, name := range []string{"K1 [Pro]", "K1/2", `K1\2`, "K1\nPro", "K1\x00"} {
		spec := clone(k1)
		spec["name"] = name
		r := v2.Do("POST", "/models", spec)
		assert.Equal(t, http.StatusBadRequest, r.Status, "%q: %s", name, r.Raw)
		assert.Equal(t, "invalid_model_name", r.Code(), name)
	}
}

func TestEntry_ModelNamesUniquePerVendorIgnoringCase(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	id, _ := approvedVendor(t, c, 1)
	v := cloudtest.As(t, c, id)
	named := func(name string) map[string]any {
		spec := clone(k1)
		spec["name"] = name
		return spec
	}
	first := v.Do("POST", "/models", named("K1"))
	require.Equal(t, http.StatusCreated, first.Status, string(first.Raw))
	for _, name := range []string{"K1", "k1", " k1 "} {
		r := v.Do("POST", "/models", named(name))
		assert.Equal(t, http.StatusConflict, r.Status, "%q: %s", name, r.Raw)
		assert.Equal(t, "duplicate_model_name", r.Code(), name)
	}
	again := v.Do("POST", "/models", named("K1"), "Idempotency-Key", "k1-once")
	assert.Equal(t, "duplicate_model_name", again.Code(), "a new registration, even with a key, is refused")
	assert.Len(t, v.Do("GET", "/models", nil).Body["items"], 1)

	other, _ := approvedVendor(t, c, 2)
	assert.Equal(t, http.StatusCreated, cloudtest.As(t, c, other).Do("POST", "/models", named("k1")).Status, "another vendor's k1")

	// Two registrations of one name at once: one is created, the other refused.
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i, name := range []string{"K2", "k2"} {
		wg.Go(func() { statuses[i] = v.Do("POST", "/models", named(name)).Status })
	}
	wg.Wait()
	assert.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict}, statuses)

	// A rejected model renamed on resubmission takes the new name and frees the old.
	require.Equal(t, http.StatusOK, decide(t, c, "models", first.Body["id"].(string), "reject", "Rename it.").Status)
	require.NoError(t, c.FireSchedule(context.Background(), "WeeklyRelease"))
	r := v.Do("POST", "/models/"+first.Body["id"].(string)+"/resubmit", named("k2"))
	assert.Equal(t, "duplicate_model_name", r.Code())
	r = v.Do("POST", "/models/"+first.Body["id"].(string)+"/resubmit", named("K1 Pro"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, http.StatusCreated, v.Do("POST", "/models", named("K1")).Status, "K1 is free again")
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// mainTable is the platform's table (logical id Table): the template has other tables
// (FiguresTable), listed in name order, so Tables[0] is not it.
func mainTable(t testing.TB, c *cloud.Cloud) string {
	t.Helper()
	for _, tb := range c.Template.Tables {
		if tb.LogicalID == "Table" {
			return tb.Name
		}
	}
	t.Fatal("the template has no Table")
	return ""
}
