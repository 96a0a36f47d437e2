package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// The local cloud holds under concurrent writes as DynamoDB does: 325 mixed writes (creates,
// retried creates, edits, upload requests; several clients on the same applications) from 20
// clients at once through the gateway, and not one 5xx. moto_server alone fails about one
// concurrent TransactWriteItems in ten (engines.Moto explains the proxy that prevents it).
// Throughput is logged, never asserted (README, "Performance").
func TestLoad_ConcurrentWritesThroughTheGateway(t *testing.T) {
	const vendors, clients = 100, 20
	c := cloudtest.Start(t, tuesday)
	ids := make([]cloud.Identity, vendors)
	for i := range ids {
		ids[i] = cloud.Identity{Subject: fmt.Sprintf("load-%d", i), Org: fmt.Sprintf("load-vendor-%d", i), Role: "vendor", AccountType: "service_provider"}
	}
	create := func(i int) cloudtest.Response {
		return cloudtest.As(t, c, ids[i]).Do("POST", "/applications", map[string]any{
			"partnerType": "device_vendor", "company": map[string]any{"name": ids[i].Org + " Ltd"},
			"agreementAccepted": true, "survey": map[string]string{"plannedModels": "2", "annualVolume": "5000"},
		}, "Idempotency-Key", "load-"+ids[i].Org)
	}

	var mu sync.Mutex
	apps := make([]string, vendors)
	statuses := map[int]int{}
	var failures []string
	record := func(op string, r cloudtest.Response) {
		mu.Lock()
		defer mu.Unlock()
		statuses[r.Status]++
		if r.Status >= 500 {
			failures = append(failures, fmt.Sprintf("%s: %d %s", op, r.Status, r.Raw))
		}
	}
	run := func(ops []func()) time.Duration {
		work := make(chan func())
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for op := range work {
					op()
				}
			}()
		}
		start := time.Now()
		for _, op := range ops {
			work <- op
		}
		close(work)
		wg.Wait()
		return time.Since(start)
	}

	var creates []func()
	for i := range vendors {
		creates = append(creates, func() {
			r := create(i)
			record("create", r)
			if r.Status == http.StatusCreated {
				mu.Lock()
				apps[i] = r.Body["id"].(string)
				mu.Unlock()
			}
		})
	}
	took := run(creates)
	for i, id := range apps {
		require.NotEmpty(t, id, "vendor %d's application was not created", i)
	}

	// Two or three writes per vendor in random order across all clients, so that two clients often
	// write the same application at once (those may lose with 409, never with a 5xx).
	var mixed []func()
	for i := range vendors {
		v := cloudtest.As(t, c, ids[i])
		if i%4 == 0 {
			mixed = append(mixed, func() { record("retried create", create(i)) })
		}
		mixed = append(mixed,
			func() {
				record("edit", v.Do("PATCH", "/applications/"+apps[i], map[string]any{"company": map[string]any{"name": ids[i].Org + " Group"}}))
			},
			func() {
				record("upload request", v.Do("PUT", "/applications/"+apps[i]+"/attachments/deck", map[string]any{
					"fileName": "deck.pdf", "contentType": "application/pdf", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF),
				}))
			})
	}
	rand.Shuffle(len(mixed), func(a, b int) { mixed[a], mixed[b] = mixed[b], mixed[a] })
	took += run(mixed)

	total := len(creates) + len(mixed)
	require.GreaterOrEqual(t, total, 300)
	assert.Empty(t, failures, "5xx answers under concurrent writes")
	for status := range statuses {
		assert.Contains(t, []int{http.StatusOK, http.StatusCreated, http.StatusConflict}, status, "statuses: %v", statuses)
	}
	t.Logf("%d writes from %d clients in %v: %.0f writes/s through the gateway; statuses %v",
		total, clients, took.Round(time.Millisecond), float64(total)/took.Seconds(), statuses)
}
