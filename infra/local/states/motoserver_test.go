package states

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The moto_server helper: tests that compare with moto or use its DynamoDB/S3 share one
// server (started on first use, killed with its process group after all tests), or the one
// named by FACEPAY_MOTO_ENDPOINT. motoMu serialises them because moto's Step Functions
// needs a reset between executions.

var (
	motoOnce sync.Once
	motoURL  string
	motoErr  error
	motoCmd  *exec.Cmd
	motoMu   sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopMoto()
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
		motoURL, motoErr = startMoto()
	})
	if motoErr != nil {
		t.Fatalf("moto_server: %v", motoErr)
	}
	return motoURL
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startMoto() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return "", err
	}
	motoCmd = cmd
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopMoto()
	return "", fmt.Errorf("moto_server did not answer on %s", url)
}

func stopMoto() {
	if motoCmd != nil && motoCmd.Process != nil {
		_ = syscall.Kill(-motoCmd.Process.Pid, syscall.SIGKILL)
		_ = motoCmd.Wait()
		motoCmd = nil
	}
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
