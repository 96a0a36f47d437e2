package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// approvedModel takes vendor id from application to an approved model (two releases, fired
// at once) and returns the model as the vendor reads it.
func approvedModel(t *testing.T, c *cloud.Cloud, id cloud.Identity, spec map[string]any) map[string]any {
	t.Helper()
	ctx := context.Background()
	appID := apply(t, c, id)
	require.Equal(t, http.StatusOK, decide(t, c, "applications", appID, "approve", "").Status)
	require.NoError(t, c.FireSchedule(ctx, "WeeklyRelease"))
	v := cloudtest.As(t, c, id)
	r := v.Do("POST", "/models", spec, "Idempotency-Key", "model-"+id.Org+"-"+spec["name"].(string))
	require.Contains(t, []int{http.StatusCreated, http.StatusOK}, r.Status, string(r.Raw))
	modelID := r.Body["id"].(string)
	r = decide(t, c, "models", modelID, "approve", "")
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	require.NoError(t, c.FireSchedule(ctx, "WeeklyRelease"))
	r = v.Do("GET", "/models/"+modelID, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	require.Equal(t, "approved", r.Body["status"], "model release (it also starts the pipeline): %s", r.Raw)
	return r.Body
}

// evidenceClient uploads evidence for one model as its vendor.
type evidenceClient struct {
	t     *testing.T
	v     *cloudtest.Client
	model string
	// certExpiresOn is the expiry date the certificate uploads declare (default 2031-06-01).
	certExpiresOn string
}

func (e evidenceClient) base(kind string) string {
	return "/models/" + e.model + "/submissions/" + kind
}

// ask requests an upload for slot (path form) of kind.
func (e evidenceClient) ask(kind, slot, fileName, contentType string, data []byte) cloudtest.Response {
	e.t.Helper()
	body := map[string]any{"fileName": fileName, "contentType": contentType, "size": len(data), "sha256": cloudtest.SHA256(data)}
	if strings.HasPrefix(slot, "certificate.") {
		// A certificate upload declares its number and dates (a reviewer confirms them).
		expires := e.certExpiresOn
		if expires == "" {
			expires = "2031-06-01"
		}
		body["certificate"] = map[string]any{"number": strings.ToUpper(strings.TrimPrefix(slot, "certificate.")) + "-" + expires,
			"issuedOn": "2024-06-01", "expiresOn": expires}
	}
	return e.v.Do("PUT", e.base(kind)+"/slots/"+slot, body)
}

// upload asks for an upload, PUTs data with plain HTTP and waits until the notification has
// settled the artifact; it returns the artifact as the vendor reads it and the upload response.
func (e evidenceClient) upload(kind, slot, fileName, contentType string, data []byte) (map[string]any, cloudtest.Response) {
	e.t.Helper()
	r := e.ask(kind, slot, fileName, contentType, data)
	require.Equal(e.t, http.StatusOK, r.Status, string(r.Raw))
	status, body := cloudtest.Put(e.t, r.Body["upload"].(map[string]any), data)
	require.Equal(e.t, http.StatusOK, status, body)
	slotID := r.Body["artifact"].(map[string]any)["slot"].(string)
	uploadID := r.Body["artifact"].(map[string]any)["uploadId"].(string)
	var art map[string]any
	cloudtest.Eventually(e.t, slotID+" settled", func() bool {
		cur, _ := e.v.Do("GET", e.base(kind), nil).Body["current"].(map[string]any)
		arts, _ := cur["artifacts"].(map[string]any)
		art, _ = arts[slotID].(map[string]any)
		return art != nil && art["uploadId"] == uploadID && art["status"] != "pending"
	})
	return art, r
}
