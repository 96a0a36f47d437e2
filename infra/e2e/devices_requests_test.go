package e2e

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// waitExport polls an export until it is done (or failed) and returns its last view.
func waitExport(t *testing.T, v *cloudtest.Client, id string) cloudtest.Response {
	t.Helper()
	var r cloudtest.Response
	cloudtest.Eventually(t, "export "+id+" finished", func() bool {
		r = v.Do("GET", "/devices/exports/"+id, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		return r.Body["status"] == "done" || r.Body["status"] == "failed"
	})
	return r
}

// exportRows fetches a finished export's CSV through its presigned link (plain HTTP).
func exportRows(t *testing.T, export cloudtest.Response) [][]string {
	t.Helper()
	d := export.Body["download"].(map[string]any)
	resp, err := http.Get(d["url"].(string))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	rows, err := csv.NewReader(resp.Body).ReadAll()
	require.NoError(t, err)
	return rows
}

// A vendor asks to change a device's locked software mode; a reviewer decides at once; the
// approved device's next factory check runs the new mode. Denials: another vendor, a
// non-reviewer deciding, an unknown SN, the mode it already runs, a second request while one
// is pending; retries of the request and the decision change nothing. The model's inventory
// and its export list the vendor's test device, marked.
func TestDevices_SoftwareModeChangeRequestAndExport(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	p := newPipelineRun(t, c, vendor(4), k7)
	// A vendor test device, registered in DVT (where test devices are registered).
	until := c.Clock.Now().In(shanghai).AddDate(0, 0, 10).Format(time.DateOnly)
	tsn := p.m["vendorCode"].(string) + "A" + p.m["modelCode"].(string) + "0000000777K7Q2M9ZA"
	r := p.e.v.Do("POST", "/models/"+p.e.model+"/test-devices", map[string]any{"sn": tsn, "deviceType": "desktop_dual_screen", "expectedCompletion": until})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	for _, kind := range []string{"software", "hardware"} {
		p.decide(kind, p.submit(kind), "approve", "")
	}
	require.Equal(t, "pvt", p.timeline().stage())
	model, v, rev := p.e.model, p.e.v, p.rev
	l := line(t, c, newFactoryCode(t, v, false), "line-m")
	sns := serials(t, v, model, 100, 3)
	for i, sn := range sns {
		res := results(t, l.report(l.device(model, sn, fmt.Sprintf("CAM-M-%d", i))))
		require.Equal(t, "pass", res[0]["result"], "%v", res[0])
	}
	path := func(sn string) string { return "/devices/" + sn + "/software-mode-requests" }
	ask := map[string]any{"softwareMode": "app", "reason": "The merchant chain runs the turnkey app."}

	// Denials before anything is written.
	other := cloudtest.As(t, c, vendor(5))
	assert.Equal(t, "device_not_found", other.Do("POST", path(sns[0]), ask).Code(), "another vendor's device")
	assert.Equal(t, "device_not_found", v.Do("POST", path(sns[0][:15]+"ZZZZZZZZ"), ask).Code(), "an unknown SN")
	assert.Equal(t, "forbidden_role", rev.Do("POST", path(sns[0]), ask).Code())
	assert.Equal(t, "same_software_mode", v.Do("POST", path(sns[0]), map[string]any{"softwareMode": "sdk", "reason": "x"}).Code())
	assert.Equal(t, "unknown_software_mode", v.Do("POST", path(sns[0]), map[string]any{"softwareMode": "web", "reason": "x"}).Code())
	assert.Equal(t, "reason_required", v.Do("POST", path(sns[0]), map[string]any{"softwareMode": "app"}).Code())

	r = v.Do("POST", path(sns[0]), ask)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	id := r.Body["id"].(string)
	assert.Equal(t, "pending", r.Body["status"])
	again := v.Do("POST", path(sns[0]), ask)
	assert.Equal(t, http.StatusOK, again.Status, "the same request again is a retry")
	assert.Equal(t, id, again.Body["id"])
	pending := v.Do("POST", path(sns[0]), map[string]any{"softwareMode": "app", "reason": "another reason"})
	assert.Equal(t, http.StatusConflict, pending.Status)
	assert.Equal(t, "mode_change_pending", pending.Code())
	assert.Equal(t, id, v.Do("GET", "/devices/"+sns[0], nil).Body["pendingModeRequest"])
	q := rev.Do("GET", "/admin/software-mode-requests", nil)
	require.Equal(t, http.StatusOK, q.Status, string(q.Raw))
	require.Len(t, q.Body["items"], 1)
	assert.Equal(t, "forbidden_role", v.Do("GET", "/admin/software-mode-requests", nil).Code())
	assert.Equal(t, "mode_request_not_found", other.Do("GET", "/software-mode-requests/"+id, nil).Code())

	// Deciding: a vendor cannot; the reviewer approves, at once.
	decision := "/admin/software-mode-requests/" + id + "/decision"
	assert.Equal(t, "forbidden_role", v.Do("POST", decision, map[string]any{"decision": "approve"}).Code())
	assert.Equal(t, "invalid_decision", rev.Do("POST", decision, map[string]any{"decision": "maybe"}).Code())
	r = rev.Do("POST", decision, map[string]any{"decision": "approve"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "approved", r.Body["status"])
	assert.Equal(t, http.StatusOK, rev.Do("POST", decision, map[string]any{"decision": "approve"}).Status, "the same decision again")
	assert.Equal(t, "already_decided", rev.Do("POST", decision, map[string]any{"decision": "reject", "reason": "no"}).Code())
	assert.Equal(t, "mode_request_not_found", rev.Do("POST", "/admin/software-mode-requests/mreq_none/decision", map[string]any{"decision": "approve"}).Code())
	own := v.Do("GET", "/software-mode-requests/"+id, nil)
	require.Equal(t, http.StatusOK, own.Status)
	assert.NotContains(t, own.Body["decision"], "reviewer", "the vendor never reads the reviewer's name")
	assert.Empty(t, rev.Do("GET", "/admin/software-mode-requests", nil).Body["items"], "decided: out of the queue")

	d := v.Do("GET", "/devices/"+sns[0], nil)
	require.Equal(t, http.StatusOK, d.Status)
	assert.Equal(t, "app", d.Body["softwareMode"])
	assert.Nil(t, d.Body["pendingModeRequest"])
	var changed []map[string]any
	for _, h := range d.Body["history"].([]any) {
		if e := h.(map[string]any); e["action"] == "software_mode_changed" {
			changed = append(changed, e)
		}
	}
	require.Len(t, changed, 1, "one history entry, also after the retried decision")
	assert.Equal(t, map[string]any{"by": "reviewer", "from": "sdk", "to": "app"},
		map[string]any{"by": changed[0]["by"], "from": changed[0]["from"], "to": changed[0]["to"]})
	assert.NotEmpty(t, changed[0]["at"])

	// The next factory check runs the new mode; the old one is refused.
	rep := l.device(model, sns[0], "CAM-M-0")
	rep["softwareMode"] = "app"
	res := results(t, l.report(rep))
	assert.Equal(t, "pass", res[0]["result"], "%v", res[0])
	rep["softwareMode"] = "sdk"
	rep["appVersion"] = "2.3.2"
	res = results(t, l.report(rep))
	assert.Equal(t, "software_mode_locked", res[0]["error"].(map[string]any)["code"])

	// A rejection says why and leaves the mode.
	id2 := v.Do("POST", path(sns[1]), ask).Body["id"].(string)
	assert.Equal(t, "reason_required", rev.Do("POST", "/admin/software-mode-requests/"+id2+"/decision", map[string]any{"decision": "reject"}).Code())
	r = rev.Do("POST", "/admin/software-mode-requests/"+id2+"/decision", map[string]any{"decision": "reject", "reason": "The merchant contract names SDK mode."})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "sdk", v.Do("GET", "/devices/"+sns[1], nil).Body["softwareMode"])
	assert.Equal(t, "rejected", v.Do("GET", "/software-mode-requests/"+id2, nil).Body["status"])

	// Inventory: the model's test device first, marked; the export lists it too.
	inv := v.Do("GET", "/devices?modelId="+model, nil)
	require.Equal(t, http.StatusOK, inv.Status, string(inv.Raw))
	first := inv.Body["items"].([]any)[0].(map[string]any)
	assert.Equal(t, tsn, first["sn"])
	assert.Equal(t, true, first["testDevice"])

	r = v.Do("POST", "/devices/exports", map[string]any{"modelId": model})
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Raw))
	done := waitExport(t, v, r.Body["id"].(string))
	require.Equal(t, "done", done.Body["status"], string(done.Raw))
	rows := exportRows(t, done)
	assert.EqualValues(t, len(rows)-1, done.Body["rows"])
	assert.Equal(t, []string{"sn", "model_id", "status", "software_mode", "camera_sn", "checked_at", "backfilled", "conflict",
		"provider", "binding_state", "test_device", "test_until"}, rows[0])
	bySN := map[string][]string{}
	for _, row := range rows[1:] {
		bySN[row[0]] = row
	}
	assert.Len(t, bySN, 4, "three devices and the test device")
	assert.Equal(t, "true", bySN[tsn][10], "the test device is marked")
	assert.Equal(t, "app", bySN[sns[0]][3])
	assert.Equal(t, "model_not_found", other.Do("POST", "/devices/exports", map[string]any{"modelId": model}).Code(), "another vendor's model")

	// A week later the export is a stale snapshot: it reads expired, without a link (the
	// bucket's lifecycle rule deletes the file).
	c.Clock.Advance(7 * 24 * time.Hour)
	r = v.Do("GET", "/devices/exports/"+done.Body["id"].(string), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "expired", r.Body["status"])
	assert.Nil(t, r.Body["download"])
}

// Inventory by deployment provider, from the bindings: the vendor lists its devices of one
// provider, at most 100 a page, each with its binding state; a large listing is exported
// asynchronously to a CSV in S3 that only the asking vendor reads; a redelivered worker event
// does nothing more.
func TestBinding_InventoryByProviderAndExport(t *testing.T) {
	w := newBindingWorld(t, 250)
	c := w.c
	v := cloudtest.As(t, c, w.vendor)
	p1 := cloudtest.As(t, c, w.deployers[0])
	var items []any
	for i, sn := range w.sns {
		items = append(items, map[string]any{"sn": sn, "provider": w.numbers[min(i/230, 1)]})
	}
	require.Equal(t, map[string]int{"changed": 250, "unchanged": 0, "errors": 0}, bulk(t, v, "/bindings", items))
	require.Equal(t, 100, bulk(t, p1, "/deployer/devices/confirm", anys(w.sns[:100]))["changed"])

	got := map[string]string{}
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		r := v.Do("GET", "/devices?limit=100&provider="+w.numbers[0]+"&cursor="+cursor, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		assert.LessOrEqual(t, len(r.Body["items"].([]any)), 100)
		for _, it := range r.Body["items"].([]any) {
			e := it.(map[string]any)
			assert.Equal(t, w.numbers[0], e["provider"])
			assert.Equal(t, false, e["testDevice"])
			got[e["sn"].(string)] = e["bindingState"].(string)
		}
		if cursor, _ = r.Body["next"].(string); cursor == "" {
			break
		}
	}
	require.Len(t, got, 230, "exactly the devices assigned to P1")
	for i, sn := range w.sns[:230] {
		assert.Equal(t, map[bool]string{true: "confirmed", false: "assigned"}[i < 100], got[sn], sn)
	}
	r := v.Do("GET", "/devices?provider="+w.numbers[1], nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Len(t, r.Body["items"], 20)
	assert.Equal(t, "invalid_provider_number", v.Do("GET", "/devices?provider=acme", nil).Code())
	assert.Equal(t, "invalid_status", v.Do("GET", "/devices?status=test&provider="+w.numbers[0], nil).Code())
	d := v.Do("GET", "/devices/"+w.sns[0], nil)
	assert.Equal(t, w.numbers[0], d.Body["provider"], "the device view reads its binding")
	assert.Equal(t, "confirmed", d.Body["bindingState"])

	// The export of P1's devices: 202 at once, the file later.
	other := cloudtest.As(t, c, vendor(2))
	assert.Equal(t, "forbidden_role", p1.Do("POST", "/devices/exports", map[string]any{"provider": w.numbers[0]}).Code())
	r = v.Do("POST", "/devices/exports", map[string]any{"provider": w.numbers[0]}, "Idempotency-Key", "export-1")
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Raw))
	id := r.Body["id"].(string)
	retry := v.Do("POST", "/devices/exports", map[string]any{"provider": w.numbers[0]}, "Idempotency-Key", "export-1")
	require.Equal(t, http.StatusAccepted, retry.Status)
	assert.Equal(t, id, retry.Body["id"], "a retry with the key answers the same export")
	assert.Equal(t, "idempotency_key_reused", v.Do("POST", "/devices/exports", map[string]any{"provider": w.numbers[1]}, "Idempotency-Key", "export-1").Code())
	done := waitExport(t, v, id)
	require.Equal(t, "done", done.Body["status"], string(done.Raw))
	assert.EqualValues(t, 230, done.Body["rows"])
	rows := exportRows(t, done)
	require.Len(t, rows, 231)
	confirmed := 0
	for _, row := range rows[1:] {
		assert.Equal(t, w.numbers[0], row[8])
		if row[9] == "confirmed" {
			confirmed++
		}
	}
	assert.Equal(t, 100, confirmed)
	assert.Equal(t, "export_not_found", other.Do("GET", "/devices/exports/"+id, nil).Code(), "only the asking vendor sees it")
	assert.Equal(t, "forbidden_role", p1.Do("GET", "/devices/exports/"+id, nil).Code())
	assert.Equal(t, "export_not_found", v.Do("GET", "/devices/exports/exp_unknown", nil).Code())

	// A redelivered worker event does nothing: the export stays as it was, one attempt.
	_, err := c.Invoke(context.Background(), "ExportDevicesFunction", []byte(`{"exportId":"`+id+`"}`))
	require.NoError(t, err)
	after := v.Do("GET", "/devices/exports/"+id, nil)
	assert.EqualValues(t, 1, after.Body["attempt"])
	assert.Equal(t, done.Body["finishedAt"], after.Body["finishedAt"])
	assert.True(t, strings.HasSuffix(after.Body["download"].(map[string]any)["fileName"].(string), ".csv"))
}
