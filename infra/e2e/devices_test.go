package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// countDevices counts the device items of the table (a Scan: the test's own check, not an
// access pattern of the platform).
func countDevices(t *testing.T, c *cloud.Cloud) int {
	t.Helper()
	n := 0
	var start map[string]types.AttributeValue
	for {
		out, err := c.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{
			TableName: aws.String(mainTable(t, c)), Select: types.SelectCount, ExclusiveStartKey: start,
			FilterExpression:          aws.String("begins_with(pk, :d) AND begins_with(sk, :s)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: "DEV#"}, ":s": &types.AttributeValueMemberS{Value: "D#"}},
		})
		require.NoError(t, err)
		n += int(out.Count)
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return n
		}
	}
}

func results(t *testing.T, r cloudtest.Response) []map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%.500s", r.Raw)
	var out []map[string]any
	for _, x := range r.Body["results"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// The acceptance scenario of the factory check, through the local gateway: 10,000 devices of
// one model in batches of 500 from two stations at once land once; re-sending every batch
// changes nothing; two stations racing on the same 500 SNs create each once; a DVT-only
// model's devices fail with the reason; 3 invalid SNs in a batch are listed with their codes
// while the rest land; a reset code stops working at once.
func TestDevices_FactoryCheckAtVolume(t *testing.T) {
	if testing.Short() {
		t.Skip("volume: 10,500 devices through the gateway (minutes on moto); make test runs it")
	}
	c := cloudtest.Start(t, tuesday)
	p := newPipelineRun(t, c, vendor(3), k7)
	for _, kind := range []string{"software", "hardware"} {
		p.decide(kind, p.submit(kind), "approve", "")
	}
	require.Equal(t, "pvt", p.timeline().stage())
	model, v := p.e.model, p.e.v
	code := newFactoryCode(t, v, false)
	assert.Equal(t, "factory_code_exists", v.Do("POST", "/factory-code", nil).Code(), "one code per vendor")

	const total, batch = 10000, 500
	start := time.Now()
	sns := serials(t, v, model, 0, total+batch)
	t.Logf("%d SNs generated in %s", len(sns), time.Since(start).Round(time.Millisecond))
	batchOf := func(l *factoryLine, i int, camera string) []map[string]any {
		var ds []map[string]any
		for _, sn := range sns[i*batch : (i+1)*batch] {
			ds = append(ds, l.device(model, sn, camera+sn[5:15]))
		}
		return ds
	}
	lines := []*factoryLine{line(t, c, code, "line-a"), line(t, c, code, "line-b")}
	sent := make([][][]map[string]any, 2)

	// Two stations at once, 10 batches each.
	start = time.Now()
	var wg sync.WaitGroup
	for s, l := range lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := s * 10; i < (s+1)*10; i++ {
				ds := batchOf(l, i, "CAM")
				sent[s] = append(sent[s], ds)
				for _, r := range results(t, l.report(ds...)) {
					if !assert.EqualValues(t, 201, r["status"], "%v", r) {
						return
					}
					assert.Equal(t, "pass", r["result"])
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("10,000 devices in 20 batches of 500 from two stations at once: %s (%.0f devices/s on the local engine)", elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	require.Equal(t, total, countDevices(t, c), "every device landed once")

	// Re-sending every batch changes nothing.
	start = time.Now()
	for s, l := range lines {
		for _, ds := range sent[s] {
			r := l.report(ds...)
			for _, res := range results(t, r) {
				require.EqualValues(t, 200, res["status"])
				require.Equal(t, []any{"same_report"}, res["warnings"])
			}
			assert.EqualValues(t, batch, r.Body["summary"].(map[string]any)["passed"])
		}
	}
	t.Logf("re-sending 20 batches: %s", time.Since(start).Round(time.Millisecond))
	assert.Equal(t, total, countDevices(t, c))
	rec := lines[0].cl.Do("GET", "/factory/devices/"+sns[17], nil, "Authorization", "Code "+code)
	require.Equal(t, http.StatusOK, rec.Status, string(rec.Raw))
	assert.EqualValues(t, 1, rec.Body["checks"], "the re-sent report was not written again")
	assert.Equal(t, "pass", rec.Body["result"])
	assert.Equal(t, "CAM"+sns[17][5:15], rec.Body["cameraSn"])

	// Two stations race on the same 500 new SNs: each lands once; the slower station's report
	// is a repeated check (same camera) and is answered so.
	var raced [2][]map[string]any
	for s, l := range lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raced[s] = results(t, l.report(batchOf(l, 20, "CAM")...))
		}()
	}
	wg.Wait()
	created := 0
	for i := range batch {
		a, b := raced[0][i]["status"], raced[1][i]["status"]
		for _, st := range []any{a, b} {
			if st == float64(201) {
				created++
			} else {
				assert.EqualValues(t, 200, st)
			}
		}
	}
	assert.Equal(t, batch, created, "every raced SN was created exactly once")
	require.Equal(t, total+batch, countDevices(t, c))

	// A passed SN reported with another camera SN: a conflict for the vendor, recorded.
	conflict := results(t, lines[1].report(lines[1].device(model, sns[3], "OTHERCAM")))
	assert.EqualValues(t, 409, conflict[0]["status"])
	assert.Equal(t, "camera_sn_conflict", conflict[0]["error"].(map[string]any)["code"])
	dev := v.Do("GET", "/devices/"+sns[3], nil)
	require.Equal(t, http.StatusOK, dev.Status, string(dev.Raw))
	assert.Equal(t, "OTHERCAM", dev.Body["conflict"].(map[string]any)["cameraSn"])
	assert.Equal(t, "camera_sn_conflict", dev.Body["history"].([]any)[0].(map[string]any)["action"])

	// A batch with 3 invalid SNs: the rest land, the 3 are listed with their codes.
	extra := serials(t, v, model, 20000, 497)
	var mixed []map[string]any
	for _, sn := range extra {
		mixed = append(mixed, lines[0].device(model, sn, "X"+sn[5:15]))
	}
	bad := map[int]string{0: "invalid_sn", 250: "sn_vendor_mismatch", 499: "sn_model_mismatch"}
	ok := extra[0]
	mixed = append(mixed[:0], append([]map[string]any{lines[0].device(model, ok[:22]+"a", "Y1")}, mixed...)...)
	mixed = append(mixed[:250], append([]map[string]any{lines[0].device(model, "ZZ"+ok[2:], "Y2")}, mixed[250:]...)...)
	mixed = append(mixed, lines[0].device(model, ok[:3]+"ZZ"+ok[5:], "Y3"))
	require.Len(t, mixed, 500)
	r := lines[0].report(mixed...)
	res := results(t, r)
	for i, want := range bad {
		assert.EqualValues(t, 400, res[i]["status"], "%v", res[i])
		assert.Equal(t, want, res[i]["error"].(map[string]any)["code"], "device %d", i)
		assert.Equal(t, false, res[i]["retryable"])
	}
	assert.EqualValues(t, 497, r.Body["summary"].(map[string]any)["passed"])
	assert.EqualValues(t, 3, r.Body["summary"].(map[string]any)["invalid"])

	// A model only in DVT: its devices fail with the reason.
	dvt := anotherModel(t, c, vendor(3), map[string]any{"name": "D1", "deviceType": "vending_machine", "os": "linux",
		"softwareModes": []string{"app"}, "connectivity": []string{}, "cameraModel": "FC-200"})
	dvtSN := serials(t, v, dvt["id"].(string), 1, 1)[0]
	d := lines[0].device(dvt["id"].(string), dvtSN, "CAMDVT")
	d["softwareMode"] = "app"
	res = results(t, lines[0].report(d))
	assert.EqualValues(t, 201, res[0]["status"], "%v", res[0])
	assert.Equal(t, "fail", res[0]["result"])
	assert.Equal(t, "model_not_accepted", res[0]["errors"].([]any)[0].(map[string]any)["code"])
	assert.Contains(t, res[0]["errors"].([]any)[0].(map[string]any)["message"], "has not passed acceptance")

	// Another vendor's line cannot report this vendor's devices, nor read them.
	other := cloudtest.As(t, c, vendor(4))
	_ = approvedModel(t, c, vendor(4), map[string]any{"name": "O1", "deviceType": "vending_machine", "os": "linux",
		"softwareModes": []string{"app"}, "connectivity": []string{}, "cameraModel": "FC-200"})
	otherLine := line(t, c, newFactoryCode(t, other, false), "other")
	res = results(t, otherLine.report(otherLine.device(model, extra[5], "Z")))
	assert.Equal(t, "model_not_found", res[0]["error"].(map[string]any)["code"])
	assert.Equal(t, http.StatusNotFound, otherLine.cl.Do("GET", "/factory/devices/"+sns[1], nil, "Authorization", "Code "+otherLine.code).Status)
	assert.Equal(t, http.StatusNotFound, other.Do("GET", "/devices/"+sns[1], nil).Status)
	assert.Equal(t, http.StatusNotFound, lines[0].cl.Do("GET", "/factory/devices/"+sns[total+batch-1][:15]+"ZZZZZZZZ", nil, "Authorization", "Code "+code).Status, "an unknown SN")

	// Reset: the old code stops working at once, although the gateway still caches its
	// authorizer answer; the new one works.
	newCode := newFactoryCode(t, v, true)
	old := lines[0].report(lines[0].device(model, extra[10], "X"))
	assert.Equal(t, http.StatusUnauthorized, old.Status)
	assert.Equal(t, "factory_code_revoked", old.Code())
	assert.Equal(t, http.StatusUnauthorized, lines[0].cl.Do("GET", "/factory/devices/"+sns[1], nil, "Authorization", "Code "+code).Status)
	fresh := line(t, c, newCode, "line-a")
	assert.Equal(t, http.StatusOK, fresh.cl.Do("GET", "/factory/devices/"+sns[1], nil, "Authorization", "Code "+newCode).Status)
	assert.Equal(t, http.StatusForbidden, fresh.cl.Do("GET", "/factory/devices/"+sns[1], nil, "Authorization", "Code NOTACODE").Status, "an unknown code: the authorizer refuses")
	assert.Equal(t, http.StatusUnauthorized, fresh.cl.Do("GET", "/factory/devices/"+sns[1], nil).Status, "no code at all")
	codes := v.Do("GET", "/factory-code", nil)
	require.Equal(t, http.StatusOK, codes.Status)
	assert.Len(t, codes.Body["history"], 2, "created, then reset")

	// The runtime check: a passed device may pay; an SN never checked may not.
	pay := cloudtest.As(t, c, cloud.Identity{Subject: "pos-app", Org: "m1", Role: "merchant"})
	e := pay.Do("GET", "/devices/"+sns[5]+"/payment-eligibility", nil)
	require.Equal(t, http.StatusOK, e.Status, string(e.Raw))
	assert.Equal(t, true, e.Body["allowed"])
	e = pay.Do("GET", "/devices/"+extra[100][:15]+"00000000/payment-eligibility", nil)
	assert.Equal(t, "not_factory_checked", e.Body["reason"])
	e = pay.Do("GET", "/devices/"+extra[100][:3]+"ZZ"+extra[100][5:]+"/payment-eligibility", nil)
	assert.Equal(t, "model_unregistered", e.Body["reason"])

	// Inventory: pages of 100 with sealed cursors.
	page := v.Do("GET", "/devices?modelId="+model+"&limit=100", nil)
	require.Equal(t, http.StatusOK, page.Status, string(page.Raw))
	assert.Len(t, page.Body["items"], 100)
	require.NotEmpty(t, page.Body["next"])
	next := v.Do("GET", fmt.Sprintf("/devices?modelId=%s&limit=100&cursor=%s", model, page.Body["next"]), nil)
	require.Equal(t, http.StatusOK, next.Status, string(next.Raw))
	assert.NotEqual(t, page.Body["items"].([]any)[0], next.Body["items"].([]any)[0])
	assert.Equal(t, "invalid_cursor", v.Do("GET", "/devices?modelId="+model+"&status=failed&cursor="+page.Body["next"].(string), nil).Code())
}
