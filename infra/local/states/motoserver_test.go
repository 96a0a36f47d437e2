package states

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/facepay/platform/infra/local/engines"
)

// The moto_server helper: tests that compare with moto or use its DynamoDB/S3 share one
// server (started on first use behind engines' serialising proxy, stopped with its process
// group after all tests), or the one named by FACEPAY_MOTO_ENDPOINT. motoMu serialises the
// tests because moto's Step Functions needs a reset between executions.

var (
	motoOnce sync.Once
	motoURL  string
	motoErr  error
	moto     *engines.Moto
	motoMu   sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

// motoEndpoint returns the moto_server URL, starting the server if needed. It fails the
// test (never skips) when moto cannot be started.
func motoEndpoint(t testing.TB) string {
	t.Helper()
	motoOnce.Do(func() {
		if ep := os.Getenv("FACEPAY_MOTO_ENDPOINT"); ep != "" {
			motoURL = ep
			return
		}
		if moto, motoErr = engines.StartMoto(context.Background(), engines.MotoOptions{}); motoErr == nil {
			motoURL = moto.Endpoint
		}
	})
	if motoErr != nil {
		t.Fatalf("moto_server: %v", motoErr)
	}
	return motoURL
}

// motoResetSFN resets moto and enables Step Functions execution.
func motoResetSFN(t testing.TB, url string) {
	t.Helper()
	for _, call := range []struct{ path, body string }{
		{"/moto-api/reset", ""},
		{"/moto-api/config", `{"stepfunctions":{"execute_state_machine":true}}`},
	} {
		resp, err := http.Post(url+call.path, "application/json", bytes.NewBufferString(call.body))
		if err != nil {
			t.Fatalf("moto %s: %v", call.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("moto %s: %s", call.path, resp.Status)
		}
	}
}
