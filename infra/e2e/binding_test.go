package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/rollup/rolluptest"
	"github.com/facepay/platform/shared/store"
)

func providerN(n int) cloud.Identity {
	return cloud.Identity{Subject: fmt.Sprintf("dep-owner-%d", n), Org: fmt.Sprintf("deployer-%d", n), Role: "deployer"}
}

// applyAsDeployer makes and submits a deployment-provider application and approves it (the
// decision waits for the Monday release).
func applyAsDeployer(t *testing.T, c *cloud.Cloud, id cloud.Identity) {
	t.Helper()
	cl := cloudtest.As(t, c, id)
	r := cl.Do("POST", "/applications", map[string]any{"partnerType": "deployer", "company": map[string]any{"name": id.Org + " Ltd"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	appID := r.Body["id"].(string)
	r = cl.Do("PUT", "/applications/"+appID+"/attachments/deployment_plan", map[string]any{
		"fileName": "plan.pdf", "contentType": "application/pdf", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF)})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), minimalPDF)
	require.Equal(t, http.StatusOK, status, body)
	cloudtest.Eventually(t, "plan received", func() bool {
		att, _ := cl.Do("GET", "/applications/"+appID, nil).Body["attachments"].(map[string]any)["deployment_plan"].(map[string]any)
		return att["status"] == "received"
	})
	require.Equal(t, http.StatusOK, cl.Do("POST", "/applications/"+appID+"/submit", nil).Status)
	require.Equal(t, http.StatusOK, decide(t, c, "applications", appID, "approve", "").Status)
}

// bindingWorld is an approved vendor with factory-checked devices and two approved deployment
// providers with their numbers.
type bindingWorld struct {
	c          *cloud.Cloud
	vendor     cloud.Identity
	vendorCode string
	deployers  []cloud.Identity
	numbers    []string
	sns        []string // passed devices
	failed     string   // a device that failed its factory check
}

func newBindingWorld(t *testing.T, devices int) *bindingWorld {
	t.Helper()
	return newBindingWorldAt(t, devices, tuesday)
}

// newBindingWorldAt is newBindingWorld with the virtual clock starting at start.
func newBindingWorldAt(t *testing.T, devices int, start time.Time) *bindingWorld {
	t.Helper()
	c := cloudtest.Start(t, start)
	w := &bindingWorld{c: c, vendor: vendor(1), deployers: []cloud.Identity{providerN(1), providerN(2)}}
	appID := apply(t, c, w.vendor)
	require.Equal(t, http.StatusOK, decide(t, c, "applications", appID, "approve", "").Status)
	for _, d := range w.deployers {
		applyAsDeployer(t, c, d)
	}
	require.NoError(t, c.FireSchedule(context.Background(), "WeeklyRelease"))
	w.vendorCode = cloudtest.As(t, c, w.vendor).Do("GET", "/applications/"+appID, nil).Body["vendorCode"].(string)
	for _, d := range w.deployers {
		r := cloudtest.As(t, c, d).Do("GET", "/deployer", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		w.numbers = append(w.numbers, r.Body["number"].(string))
	}
	require.NotEqual(t, w.numbers[0], w.numbers[1])
	// The devices as the factory check leaves them: the item the store writes for a checked
	// device (store.DeviceAttributes), put 25 at a time (issue 12's route writes the same item).
	table := tableName(t, c, "Table")
	var puts []types.WriteRequest
	for i := 0; i <= devices; i++ {
		sn := fmt.Sprintf("%sA00%010d%08d", w.vendorCode, i, i*7919%100000000)
		st := domain.DevicePassed
		if i == devices {
			st, w.failed = domain.DeviceFailed, sn
		} else {
			w.sns = append(w.sns, sn)
		}
		av, err := store.DeviceAttributes(&domain.Device{SN: sn, VendorOrg: w.vendor.Org, ModelID: "mdl_binding", Status: st,
			SoftwareMode: domain.ModeSDK, AppVersion: "1.0.0", Result: domain.CheckPass, Station: "line-1", CheckedAt: tuesday,
			ReceivedAt: tuesday, Checks: 1, Registration: 1})
		require.NoError(t, err)
		av["version"] = &types.AttributeValueMemberN{Value: "1"}
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	for start := 0; start < len(puts); start += 25 {
		req := map[string][]types.WriteRequest{table: puts[start:min(start+25, len(puts))]}
		for len(req) > 0 {
			out, err := c.DynamoDB.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: req})
			require.NoError(t, err)
			req = out.UnprocessedItems
		}
	}
	return w
}

// listAll reads every page of the provider's listing in state.
func listAll(t *testing.T, cl *cloudtest.Client, state string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100)
		path := "/deployer/devices?limit=100&state=" + state
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := cl.Do("GET", path, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		for _, it := range r.Body["items"].([]any) {
			b := it.(map[string]any)
			assert.Equal(t, state, b["state"])
			out = append(out, b["sn"].(string))
		}
		next, _ := r.Body["next"].(string)
		if next == "" {
			slices.Sort(out)
			return out
		}
		cursor = next
	}
}

// bulk sends sns in requests of 500 to path (body built by mk) and sums the totals.
func bulk(t *testing.T, cl *cloudtest.Client, path string, items []any) map[string]int {
	t.Helper()
	sum := map[string]int{}
	for start := 0; start < len(items); start += 500 {
		chunk := items[start:min(start+500, len(items))]
		body := map[string]any{"sns": chunk}
		if path == "/bindings" {
			body = map[string]any{"items": chunk}
		}
		r := cl.Do("POST", path, body)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		for _, k := range []string{"changed", "unchanged", "errors"} {
			sum[k] += int(r.Body[k].(float64))
		}
		for _, o := range r.Body["results"].([]any) {
			if code, _ := o.(map[string]any)["code"].(string); code != "" {
				sum[code]++
			}
		}
	}
	return sum
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// The scenario: a vendor assigns 1,000 devices to two providers; one confirms all, the
// other half (and declines some); each sees exactly its own; reassignment and unbinding keep
// history and confirmation intervals; retries change nothing.
func TestBinding_ThousandDevicesTwoProviders(t *testing.T) {
	w := newBindingWorld(t, 1000)
	c := w.c
	v := cloudtest.As(t, c, w.vendor)
	p1, p2 := cloudtest.As(t, c, w.deployers[0]), cloudtest.As(t, c, w.deployers[1])
	toP1, toP2 := w.sns[:600], w.sns[600:]
	var items []any
	for _, sn := range toP1 {
		items = append(items, map[string]any{"sn": sn, "provider": w.numbers[0]})
	}
	for _, sn := range toP2 {
		items = append(items, map[string]any{"sn": sn, "provider": w.numbers[1]})
	}
	assert.Equal(t, map[string]int{"changed": 1000, "unchanged": 0, "errors": 0}, bulk(t, v, "/bindings", items))
	assert.Equal(t, map[string]int{"changed": 0, "unchanged": 1000, "errors": 0}, bulk(t, v, "/bindings", items), "a retry changes nothing")

	// Each provider sees exactly the devices assigned to it, waiting for its confirmation.
	assert.Equal(t, sorted(toP1), listAll(t, p1, "assigned"))
	assert.Equal(t, sorted(toP2), listAll(t, p2, "assigned"))
	assert.Empty(t, listAll(t, p1, "confirmed"))

	// P1 confirms all; P2 confirms half of its 400 and declines 50.
	assert.Equal(t, map[string]int{"changed": 600, "unchanged": 0, "errors": 0}, bulk(t, p1, "/deployer/devices/confirm", anys(toP1)))
	assert.Equal(t, map[string]int{"changed": 200, "unchanged": 0, "errors": 0}, bulk(t, p2, "/deployer/devices/confirm", anys(toP2[:200])))
	assert.Equal(t, map[string]int{"changed": 50, "unchanged": 0, "errors": 0}, bulk(t, p2, "/deployer/devices/decline", anys(toP2[200:250])))
	assert.Equal(t, map[string]int{"changed": 0, "unchanged": 200, "errors": 0}, bulk(t, p2, "/deployer/devices/confirm", anys(toP2[:200])), "confirming again is a retry")
	assert.Equal(t, sorted(toP1), listAll(t, p1, "confirmed"))
	assert.Empty(t, listAll(t, p1, "assigned"))
	assert.Equal(t, sorted(toP2[:200]), listAll(t, p2, "confirmed"))
	assert.Equal(t, sorted(toP2[250:]), listAll(t, p2, "assigned"), "declined devices leave the provider's listing")

	// Denials: a provider cannot see, confirm or decline another provider's devices, nor a
	// device assigned to nobody; the answer is the same as for an unknown SN.
	for _, sn := range []string{toP2[0], toP2[300], w.failed, w.vendorCode + "A00" + "9999999999" + "ZZZZZZZZ"} {
		r := p1.Do("GET", "/deployer/devices/"+sn, nil)
		assert.Equal(t, http.StatusNotFound, r.Status)
		assert.Equal(t, "binding_not_found", r.Code())
	}
	assert.Equal(t, map[string]int{"changed": 0, "unchanged": 0, "errors": 2, "binding_not_found": 2},
		bulk(t, p1, "/deployer/devices/confirm", anys([]string{toP2[300], w.failed})))
	assert.Equal(t, map[string]int{"changed": 0, "unchanged": 0, "errors": 1, "binding_not_found": 1},
		bulk(t, p1, "/deployer/devices/decline", anys([]string{toP2[300]})))
	assert.Equal(t, sorted(toP2[250:]), listAll(t, p2, "assigned"), "P1's attempts changed nothing of P2's")
	r := p1.Do("GET", "/deployer/devices/"+toP1[0], nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "confirmed", r.Body["state"])

	// Roles and organisations: a vendor cannot act as a provider, a provider not as a vendor,
	// another vendor cannot see or change these devices, an unapproved deployer has no number.
	assert.Equal(t, "forbidden_role", v.Do("GET", "/deployer/devices", nil).Code())
	assert.Equal(t, "forbidden_role", p1.Do("PUT", "/devices/"+toP1[0]+"/binding", map[string]any{"provider": w.numbers[0]}).Code())
	assert.Equal(t, "forbidden_role", p1.Do("GET", "/devices/"+toP1[0]+"/binding", nil).Code())
	other := cloudtest.As(t, c, vendor(2))
	assert.Equal(t, "device_not_found", other.Do("GET", "/devices/"+toP1[0]+"/binding", nil).Code())
	assert.Equal(t, "device_not_found", other.Do("PUT", "/devices/"+toP1[0]+"/binding", map[string]any{"provider": w.numbers[1], "reassign": true}).Code())
	assert.Equal(t, "device_not_found", other.Do("DELETE", "/devices/"+toP1[0]+"/binding", nil).Code())
	assert.Equal(t, "deployer_not_approved", cloudtest.As(t, c, providerN(9)).Do("GET", "/deployer/devices", nil).Code())

	// Single assignments: refused for a device that failed its factory check and for a number
	// no provider has; a confirmed device changes provider only when reassignment is explicit.
	assert.Equal(t, "device_not_factory_checked", v.Do("PUT", "/devices/"+w.failed+"/binding", map[string]any{"provider": w.numbers[0]}).Code())
	assert.Equal(t, "provider_not_found", v.Do("PUT", "/devices/"+w.sns[0]+"/binding", map[string]any{"provider": "DP99999999"}).Code())
	assert.Equal(t, "invalid_provider_number", v.Do("PUT", "/devices/"+w.sns[0]+"/binding", map[string]any{"provider": "acme"}).Code())
	x := toP1[0]
	r = v.Do("PUT", "/devices/"+x+"/binding", map[string]any{"provider": w.numbers[1]})
	assert.Equal(t, http.StatusConflict, r.Status)
	assert.Equal(t, "device_already_bound", r.Code())
	r = v.Do("PUT", "/devices/"+x+"/binding", map[string]any{"provider": w.numbers[1], "reassign": true})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, map[string]any{"sn": x, "result": "changed", "state": "assigned", "provider": w.numbers[1]}, r.Body)
	assert.Equal(t, "binding_not_found", p1.Do("GET", "/deployer/devices/"+x, nil).Code(), "P1 lost the device at once")
	assert.Equal(t, "assigned", p2.Do("GET", "/deployer/devices/"+x, nil).Body["state"])
	assert.Equal(t, map[string]int{"changed": 1, "unchanged": 0, "errors": 0}, bulk(t, p2, "/deployer/devices/confirm", anys([]string{x})))
	r = v.Do("DELETE", "/devices/"+x+"/binding", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "unbound", r.Body["state"])
	assert.Equal(t, "unchanged", v.Do("DELETE", "/devices/"+x+"/binding", nil).Body["result"], "unbinding again is a retry")
	assert.Equal(t, "binding_not_found", p2.Do("GET", "/deployer/devices/"+x, nil).Code())

	r = v.Do("GET", "/devices/"+x+"/binding", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	var actions []string
	for _, h := range r.Body["history"].([]any) {
		e := h.(map[string]any)
		actions = append(actions, fmt.Sprintf("%s %v>%v", e["action"], e["from"], e["to"]))
	}
	p1n, p2n := w.numbers[0], w.numbers[1]
	assert.Equal(t, []string{"assigned <nil>>" + p1n, "confirmed <nil>>" + p1n, "reassigned " + p1n + ">" + p2n,
		"confirmed <nil>>" + p2n, "unbound " + p2n + "><nil>"}, actions)
	iv := r.Body["intervals"].([]any)
	require.Len(t, iv, 2)
	for i, want := range []string{p1n, p2n} {
		e := iv[i].(map[string]any)
		assert.Equal(t, want, e["provider"])
		assert.NotNil(t, e["to"], "closed when the device left the provider")
	}
	reviewerView := cloudtest.As(t, c, reviewer).Do("GET", "/devices/"+x+"/binding", nil)
	assert.Equal(t, http.StatusOK, reviewerView.Status)
}

// A CSV import: good rows are applied, every bad row has its own reason in the per-row
// results, and a file that is not CSV is refused whole with nothing applied.
func TestBinding_CSVImportWithBadRows(t *testing.T) {
	w := newBindingWorld(t, 30)
	c := w.c
	v := cloudtest.As(t, c, w.vendor)
	var b strings.Builder
	b.WriteString("sn,provider,reassign\n")
	for _, sn := range w.sns[:20] {
		fmt.Fprintf(&b, "%s,%s\n", sn, w.numbers[0])
	}
	bad := []struct{ line, code string }{
		{w.sns[20] + "," + w.numbers[0] + ",maybe", "bad_row"},
		{w.sns[21], "bad_row"},
		{"NOT-AN-SN," + w.numbers[0], "invalid_sn"},
		{w.sns[22] + ",DP00000077", "provider_not_found"},
		{w.sns[23] + ",P1", "invalid_provider_number"},
		{w.failed + "," + w.numbers[0], "device_not_factory_checked"},
		{w.sns[0] + "," + w.numbers[1], "duplicate_sn"},
		{"99A00" + "0000000001" + "AAAAAAAA," + w.numbers[0], "device_not_found"},
		{"=cmd|' /C calc'!A0," + w.numbers[0], "invalid_sn"}, // echoed in the results as text, not a formula
	}
	for _, r := range bad {
		b.WriteString(r.line + "\n")
	}
	fmt.Fprintf(&b, "%s,%s,true\n", w.sns[24], w.numbers[1])
	data := []byte(b.String())

	start := func(data []byte, key string) map[string]any {
		r := v.Do("POST", "/binding-imports", map[string]any{"size": len(data), "sha256": cloudtest.SHA256(data)}, "Idempotency-Key", key)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
		assert.Equal(t, "waiting_upload", r.Body["status"])
		again := v.Do("POST", "/binding-imports", map[string]any{"size": len(data), "sha256": cloudtest.SHA256(data)}, "Idempotency-Key", key)
		require.Equal(t, http.StatusOK, again.Status, "a retry finds the same import")
		assert.Equal(t, r.Body["id"], again.Body["id"])
		status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), data)
		require.Equal(t, http.StatusOK, status, body)
		return r.Body
	}
	wait := func(id string) map[string]any {
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			r := v.Do("GET", "/binding-imports/"+id, nil)
			require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
			if s := r.Body["status"]; s == "done" || s == "failed" {
				return r.Body
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("import %s did not finish", id)
		return nil
	}

	im := start(data, "import-1")
	id := im["id"].(string)
	done := wait(id)
	assert.Equal(t, "done", done["status"])
	assert.EqualValues(t, 21+len(bad), done["rows"])
	assert.EqualValues(t, 21, done["changed"])
	assert.EqualValues(t, len(bad), done["errors"])
	assert.Equal(t, "import_not_found", cloudtest.As(t, c, vendor(2)).Do("GET", "/binding-imports/"+id, nil).Code(), "another vendor's import")

	// The per-row results, through the presigned link.
	link := done["results"].(map[string]any)["url"].(string)
	resp, err := http.Get(link)
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+21+len(bad))
	assert.Equal(t, []string{"row", "sn", "provider", "result", "state", "code", "message"}, rows[0])
	for i := 1; i <= 20; i++ {
		assert.Equal(t, []string{"changed", "assigned"}, rows[i][3:5], "row %d", i)
	}
	for k, want := range bad {
		got := rows[21+k]
		assert.Equal(t, fmt.Sprint(22+k), got[0], "input line number")
		assert.Equal(t, "error", got[3], want.line)
		assert.Equal(t, want.code, got[5], want.line)
		assert.NotEmpty(t, got[6], "a message says why")
	}
	assert.Equal(t, "'=cmd|' /C calc'!A0", rows[21+len(bad)-1][1], "a spreadsheet opens the echoed cell as text")
	assert.Equal(t, []string{"changed", "assigned", ""}, rows[21+len(bad)][3:6])
	assert.Equal(t, sorted(w.sns[:20]), listAll(t, cloudtest.As(t, c, w.deployers[0]), "assigned"))

	// Not CSV: refused whole, nothing applied.
	broken := []byte("sn,provider\n\"" + w.sns[25] + "," + w.numbers[0] + "\n")
	im = start(broken, "import-2")
	failed := wait(im["id"].(string))
	assert.Equal(t, "failed", failed["status"])
	assert.Equal(t, "not_csv", failed["error"])
	assert.Nil(t, failed["results"])
	r := v.Do("GET", "/devices/"+w.sns[25]+"/binding", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Nil(t, r.Body["binding"])

	// Bad declarations are refused before anything is stored.
	assert.Equal(t, "import_too_large", v.Do("POST", "/binding-imports", map[string]any{"size": 9 << 20, "sha256": cloudtest.SHA256(data)}).Code())
	assert.Equal(t, "invalid_sha256", v.Do("POST", "/binding-imports", map[string]any{"size": 10, "sha256": "abc"}).Code())
}

// The acceptance, end to end on the virtual clock: a vendor assigns 1,000 devices to
// two providers; one confirms all, the other half; a generated day of their transactions is
// dropped; after the daily schedule each provider sees exactly its confirmed devices' figures,
// equal to figures computed here independently from the raw records (rolluptest.Reference);
// an assigned but unconfirmed device's figures stay hidden.
func TestBinding_ProvidersSeeExactlyTheirConfirmedDevicesFigures(t *testing.T) {
	w := newBindingWorld(t, 1000)
	c := w.c
	ctx := context.Background()
	date := tuesday.Format(time.DateOnly)

	// A generated day, its device SNs replaced one for one by the vendor's devices.
	objects := map[string][]byte{}
	cfg := rollup.GenConfig{Date: date, Devices: 1000, Rows: 20000, Objects: 8, Seed: 7}
	require.NoError(t, rollup.Generate(cfg, func(name string) (io.WriteCloser, error) {
		return &dropped{key: rollup.DayPrefix(date) + name, objects: objects}, nil
	}))
	generated, err := rolluptest.Reference(date, slices.Collect(maps.Values(objects))...)
	require.NoError(t, err)
	gsns := slices.Sorted(maps.Keys(generated))
	require.LessOrEqual(t, len(gsns), len(w.sns))
	var pairs []string
	for i, sn := range gsns {
		pairs = append(pairs, `"`+sn+`"`, `"`+w.sns[i]+`"`)
	}
	rename := strings.NewReplacer(pairs...)
	bucket := bucketName(t, c, "TransactionsBucket")
	var bodies [][]byte
	for key, body := range objects {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		raw, err := io.ReadAll(zr)
		require.NoError(t, err)
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		_, err = zw.Write([]byte(rename.Replace(string(raw))))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		bodies = append(bodies, out.Bytes())
		_, err = c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader(out.Bytes())})
		require.NoError(t, err)
	}
	want, err := rolluptest.Reference(date, bodies...)
	require.NoError(t, err)
	require.Greater(t, len(want), 900, "most devices trade that day")

	// Binding: P1 gets devices 0–499 and confirms all; P2 gets 500–999 and confirms half.
	v := cloudtest.As(t, c, w.vendor)
	p1, p2 := cloudtest.As(t, c, w.deployers[0]), cloudtest.As(t, c, w.deployers[1])
	var items []any
	for i, sn := range w.sns {
		items = append(items, map[string]any{"sn": sn, "provider": w.numbers[i/500]})
	}
	assert.Equal(t, map[string]int{"changed": 1000, "unchanged": 0, "errors": 0}, bulk(t, v, "/bindings", items))
	assert.Equal(t, 500, bulk(t, p1, "/deployer/devices/confirm", anys(w.sns[:500]))["changed"])
	assert.Equal(t, 250, bulk(t, p2, "/deployer/devices/confirm", anys(w.sns[500:750]))["changed"])
	confirmed := map[string][]string{w.numbers[0]: w.sns[:500], w.numbers[1]: w.sns[500:750]}

	// T+1: the schedule fires at 02:00 the next day.
	c.Clock.AdvanceTo(time.Date(2026, 11, 25, 2, 0, 30, 0, shanghai))
	waitRollups(t, c, 1)

	for k, p := range []*cloudtest.Client{p1, p2} {
		number := w.numbers[k]
		expect := map[string]rollup.Figures{}
		for _, sn := range confirmed[number] {
			if f, ok := want[sn]; ok {
				expect[sn] = f
			}
		}
		got, day := readDay(t, p, date)
		assert.Equal(t, expect, got, "provider %s sees exactly its confirmed devices' figures", number)
		var sum int64
		for _, f := range expect {
			sum += f.SuccessCount
		}
		assert.Equal(t, len(expect), day.Totals.Devices)
		assert.Equal(t, sum, day.Totals.SuccessCount)

		// The CSV export has the same devices, a page at a time (the cursor in X-Next-Cursor).
		csvResp := p.Do("GET", "/deployer/figures?format=csv&limit=100&date="+date, nil)
		require.Equal(t, http.StatusOK, csvResp.Status)
		rows, err := csv.NewReader(bytes.NewReader(csvResp.Raw)).ReadAll()
		require.NoError(t, err)
		assert.Len(t, rows, min(len(expect), 100)+1)
		for _, row := range rows[1:] {
			assert.Contains(t, expect, row[0])
		}

		// A confirmed device's series through its own route equals the independent figure.
		sn := confirmed[number][0]
		r := p.Do("GET", "/deployer/devices/"+sn+"/figures?from="+date+"&to="+date, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		var series struct{ Items []rollup.Figures }
		require.NoError(t, json.Unmarshal(r.Raw, &series))
		if f, ok := want[sn]; ok {
			assert.Equal(t, []rollup.Figures{f}, series.Items)
		}
	}
	// The stored provider totals of the day equal the sums of the independent figures, and the
	// listing of confirmed devices shows each one's yesterday (the day) and 30-day sums.
	views := map[string][]byte{} // what each provider sees, to compare after the re-runs
	for k, p := range []*cloudtest.Client{p1, p2} {
		number := w.numbers[k]
		expect := expectedTotals(date, number, confirmed[number], want)
		r := p.Do("GET", "/deployer/totals?from="+date+"&to="+date, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		var tr struct{ Days []store.ProviderTotals }
		require.NoError(t, json.Unmarshal(r.Raw, &tr))
		assert.Equal(t, []store.ProviderTotals{expect}, tr.Days, "provider %s's totals of the day", number)

		rows := listDeviceFigures(t, p)
		assert.Equal(t, sorted(confirmed[number]), slices.Sorted(maps.Keys(rows)), "provider %s lists exactly its confirmed devices", number)
		for sn, row := range rows {
			f, traded := want[sn]
			if !traded {
				assert.Nil(t, row.Yesterday, sn)
				assert.Zero(t, row.Last30Days.Days, sn)
				continue
			}
			if assert.NotNil(t, row.Yesterday, sn) {
				assert.Equal(t, f, *row.Yesterday, sn)
			}
			assert.Equal(t, 1, row.Last30Days.Days, sn)
			assert.Equal(t, f.SuccessCount, row.Last30Days.SuccessCount, sn)
			assert.Equal(t, f.FeePayers, row.Last30Days.FeePayers, sn)
			assert.Equal(t, f.OverLimitCount > 0, row.OverLimit, sn)
		}
		views[number] = providerViews(t, p, date)
	}

	// The schedule firing again gives identical figures and totals.
	require.NoError(t, c.FireSchedule(ctx, "DailyRollup"))
	waitRollups(t, c, 2)
	for k, p := range []*cloudtest.Client{p1, p2} {
		assert.JSONEq(t, string(views[w.numbers[k]]), string(providerViews(t, p, date)), "the schedule fired twice")
	}

	// The vendor unbinds one of P1's devices; re-running the day gives identical figures and
	// totals: the device was P1's when the day closed. P1 no longer sees the device itself.
	lost := w.sns[3]
	r := v.Do("DELETE", "/devices/"+lost+"/binding", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	c.Clock.Advance(time.Hour)
	out, err := c.Invoke(ctx, functionName(t, c, "StartRollupFunction"), []byte(`{"date":"`+date+`"}`))
	require.NoError(t, err, string(out))
	waitRollups(t, c, 3)
	for k, p := range []*cloudtest.Client{p1, p2} {
		assert.JSONEq(t, string(views[w.numbers[k]]), string(providerViews(t, p, date)), "the day re-run after an unbind")
	}
	assert.Equal(t, "binding_not_found", p1.Do("GET", "/deployer/devices/"+lost+"/figures", nil).Code())
	assert.NotContains(t, listDeviceFigures(t, p1), lost)

	// Denials: an assigned but unconfirmed device's figures, another provider's device.
	r = p2.Do("GET", "/deployer/devices/"+w.sns[800]+"/figures", nil)
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, "binding_not_confirmed", r.Code())
	assert.Equal(t, "binding_not_found", p2.Do("GET", "/deployer/devices/"+w.sns[0]+"/figures", nil).Code())
	assert.Equal(t, "binding_not_found", p1.Do("GET", "/deployer/devices/"+w.sns[600]+"/figures", nil).Code())
	assert.Equal(t, "forbidden_role", v.Do("GET", "/deployer/figures", nil).Code())
}

// expectedTotals sums the independent figures of provider's confirmed devices that traded.
func expectedTotals(date, provider string, sns []string, want map[string]rollup.Figures) store.ProviderTotals {
	var figs []rollup.Figures
	of := map[string]string{}
	for _, sn := range sns {
		if f, ok := want[sn]; ok {
			figs = append(figs, f)
			of[sn] = provider
		}
	}
	return store.SumTotals(date, figs, of)[0]
}

type deviceRow struct {
	SN         string          `json:"sn"`
	Yesterday  *rollup.Figures `json:"yesterday"`
	Last30Days struct {
		Days         int   `json:"days"`
		SuccessCount int64 `json:"success_count"`
		FeePayers    int64 `json:"fee_payers"`
	} `json:"last30Days"`
	OverLimit bool `json:"overLimit"`
}

// listDeviceFigures reads every page (100 at most) of the provider's devices with figures.
func listDeviceFigures(t *testing.T, cl *cloudtest.Client) map[string]deviceRow {
	t.Helper()
	out := map[string]deviceRow{}
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20)
		path := "/deployer/device-figures?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := cl.Do("GET", path, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		var page struct {
			Items []deviceRow
			Next  string
		}
		require.NoError(t, json.Unmarshal(r.Raw, &page))
		require.LessOrEqual(t, len(page.Items), 100)
		for _, row := range page.Items {
			out[row.SN] = row
		}
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

// providerViews is what a provider reads of a day: its devices' figures and its totals.
func providerViews(t *testing.T, cl *cloudtest.Client, date string) []byte {
	t.Helper()
	items, day := readDay(t, cl, date)
	totals := cl.Do("GET", "/deployer/totals?from="+date+"&to="+date, nil)
	require.Equal(t, http.StatusOK, totals.Status, string(totals.Raw))
	b, err := json.Marshal(map[string]any{"items": items, "dayTotals": day.Totals, "totals": json.RawMessage(totals.Raw)})
	require.NoError(t, err)
	return b
}

type providerDay struct {
	Items  []rollup.Figures
	Next   string
	Totals struct {
		Devices      int   `json:"devices"`
		SuccessCount int64 `json:"success_count"`
	}
}

// readDay reads every page of the provider's day (100 at most a page): its devices' figures
// by SN, and the day's totals.
func readDay(t *testing.T, cl *cloudtest.Client, date string) (map[string]rollup.Figures, providerDay) {
	t.Helper()
	got := map[string]rollup.Figures{}
	var first providerDay
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20)
		path := "/deployer/figures?limit=100&date=" + date
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := cl.Do("GET", path, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		var day providerDay
		require.NoError(t, json.Unmarshal(r.Raw, &day))
		require.LessOrEqual(t, len(day.Items), 100)
		if pages == 0 {
			first = day
		}
		assert.Equal(t, first.Totals, day.Totals, "every page carries the day's totals")
		for _, f := range day.Items {
			assert.NotContains(t, got, f.DeviceSN, "a device on two pages")
			got[f.DeviceSN] = f
		}
		if day.Next == "" {
			return got, first
		}
		cursor = day.Next
	}
}
