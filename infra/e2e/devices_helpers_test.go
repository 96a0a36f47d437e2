package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// factoryLine is a production line logged in with its vendor's device authorization code.
type factoryLine struct {
	t       *testing.T
	cl      *cloudtest.Client
	code    string
	station string
	c       *cloud.Cloud
}

// newFactoryCode issues (or resets) the vendor's device authorization code and returns it.
func newFactoryCode(t *testing.T, v *cloudtest.Client, reset bool) string {
	t.Helper()
	path := "/factory-code"
	if reset {
		path += "/reset"
	}
	r := v.Do("POST", path, nil)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	return r.Body["code"].(string)
}

func line(t *testing.T, c *cloud.Cloud, code, station string) *factoryLine {
	return &factoryLine{t: t, cl: cloudtest.As(t, c, cloud.Identity{}), code: code, station: station, c: c}
}

// report sends devices as one factory report.
func (f *factoryLine) report(devices ...map[string]any) cloudtest.Response {
	f.t.Helper()
	return f.cl.Do("POST", "/factory/checks", map[string]any{"devices": devices}, "Authorization", "Code "+f.code)
}

// device is a passing factory check of sn with camera for model, by the line's station.
func (f *factoryLine) device(model, sn, camera string) map[string]any {
	return map[string]any{"sn": sn, "cameraSn": camera, "modelId": model, "softwareMode": "sdk",
		"wiredMac": "00:1A:2B:3C:4D:5E", "appVersion": "2.3.1", "result": "pass", "station": f.station,
		"checkedAt": f.c.Clock.Now().UTC().Add(-time.Minute).Truncate(time.Second).Format(time.RFC3339)}
}

// serials asks the platform for n SNs of model, vendor serials from first on.
func serials(t *testing.T, v *cloudtest.Client, model string, first, n int) []string {
	t.Helper()
	var out []string
	for start := first; start < first+n; start += 500 {
		var vs []string
		for i := start; i < min(start+500, first+n); i++ {
			vs = append(vs, fmt.Sprintf("%010d", i))
		}
		r := v.Do("POST", "/models/"+model+"/serial-numbers", map[string]any{"vendorSerials": vs})
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		for _, it := range r.Body["items"].([]any) {
			out = append(out, it.(map[string]any)["sn"].(string))
		}
	}
	return out
}

// factoryPass reports one passing factory check of a device of the run's model (in PVT), so
// the MP gate holds.
func (p *pipelineRun) factoryPass() {
	p.t.Helper()
	code := newFactoryCode(p.t, p.e.v, false)
	sn := serials(p.t, p.e.v, p.e.model, 1, 1)[0]
	l := line(p.t, p.c, code, "pvt-line")
	r := l.report(l.device(p.e.model, sn, "FC200-PVT-1"))
	require.Equal(p.t, http.StatusOK, r.Status, string(r.Raw))
	res := r.Body["results"].([]any)[0].(map[string]any)
	require.Equal(p.t, "pass", res["result"], string(r.Raw))
}

// anotherModel registers and approves one more model of an approved vendor (one release).
func anotherModel(t *testing.T, c *cloud.Cloud, id cloud.Identity, spec map[string]any) map[string]any {
	t.Helper()
	v := cloudtest.As(t, c, id)
	r := v.Do("POST", "/models", spec)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	modelID := r.Body["id"].(string)
	require.Equal(t, http.StatusOK, decide(t, c, "models", modelID, "approve", "").Status)
	require.NoError(t, c.FireSchedule(context.Background(), "WeeklyRelease"))
	r = v.Do("GET", "/models/"+modelID, nil)
	require.Equal(t, "approved", r.Body["status"], string(r.Raw))
	return r.Body
}
