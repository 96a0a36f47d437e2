package e2e

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// concurrently sends the same request n times at once and returns the responses.
func concurrently(n int, f func() cloudtest.Response) []cloudtest.Response {
	out := make([]cloudtest.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f()
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// countActions counts the history entries with action.
func countActions(items any, action string) int {
	n := 0
	list, _ := items.([]any)
	for _, it := range list {
		if e, _ := it.(map[string]any); e["action"] == action {
			n++
		}
	}
	return n
}

// Identical requests sent at once are as harmless as repeated ones: every one answers as the
// first did, and history holds one entry per change (issue 10 point 4: 4 to 19 of 20 got 409
// conflict, and one submit left 5 "submitted" entries, one decision 2 "decided").
func TestRepeats_ConcurrentIdenticalSubmitsAndDecisions(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	id := vendor(1)
	v := cloudtest.As(t, c, id)
	r := v.Do("POST", "/applications", map[string]any{
		"partnerType": "device_vendor", "company": map[string]any{"name": "Acme Ltd"},
		"agreementAccepted": true, "survey": map[string]string{"plannedModels": "2"},
	})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	appID := r.Body["id"].(string)
	uploadDeck(t, c, v, appID)

	const n = 20
	submits := concurrently(n, func() cloudtest.Response { return v.Do("POST", "/applications/"+appID+"/submit", nil) })
	for i, r := range submits {
		if assert.Equal(t, http.StatusOK, r.Status, "submit %d: %s", i, r.Raw) {
			assert.Equal(t, "under_review", r.Body["status"], "submit %d", i)
			assert.Equal(t, submits[0].Body["version"], r.Body["version"], "submit %d answers as the first", i)
		}
	}
	hist := v.Do("GET", "/applications/"+appID+"/history", nil)
	require.Equal(t, http.StatusOK, hist.Status, string(hist.Raw))
	assert.Equal(t, 1, countActions(hist.Body["items"], "submitted"), "one submit, one entry: %s", hist.Raw)

	rev := cloudtest.As(t, c, reviewer)
	decisions := concurrently(n, func() cloudtest.Response {
		return rev.Do("POST", "/admin/applications/"+appID+"/decision", map[string]any{"decision": "reject", "reason": "The deck lacks the plan."})
	})
	for i, r := range decisions {
		if assert.Equal(t, http.StatusOK, r.Status, "decision %d: %s", i, r.Raw) {
			assert.Equal(t, decisions[0].Body["decision"], r.Body["decision"], "decision %d answers as the first", i)
		}
	}
	view := rev.Do("GET", "/admin/applications/"+appID, nil)
	require.Equal(t, http.StatusOK, view.Status, string(view.Raw))
	assert.Equal(t, 1, countActions(view.Body["history"], "decided"), "one decision, one entry: %s", view.Raw)
	assert.Equal(t, 1, countActions(view.Body["history"], "submitted"))
}
