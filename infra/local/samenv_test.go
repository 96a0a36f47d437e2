package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// declaredEnv reads, from template.yaml itself, the variables each function is given (Globals
// and its own), so the check does not trust the code that writes the file.
func declaredEnv(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	type env struct {
		Environment struct {
			Variables map[string]any `yaml:"Variables"`
		} `yaml:"Environment"`
	}
	var doc struct {
		Globals struct {
			Function env `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties env    `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	out := map[string][]string{}
	for id, r := range doc.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		for k := range doc.Globals.Function.Environment.Variables {
			out[id] = append(out[id], k)
		}
		for k := range r.Properties.Environment.Variables {
			out[id] = append(out[id], k)
		}
	}
	return out
}

// make run with pinned engine ports writes .local/sam-env.json for SAM CLI: every function of
// the template, every variable the template declares for it, endpoints on the pinned ports that
// answer.
func TestSAMEnvFileWithPinnedPorts(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "local")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	state := t.TempDir()
	motoPort, s3Port := freePort(t), freePort(t)
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-sfn-addr", "127.0.0.1:0", "-dir", "../..", "-state", state, "-seed=false",
		"-s3-port", fmt.Sprint(s3Port))
	cmd.Env = append(os.Environ(), fmt.Sprintf("FACEPAY_MOTO_PORT=%d", motoPort)) // the flag's environment form
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ctrl-C stops everything") {
				close(up)
			}
		}
	}()
	select {
	case <-up:
	case <-time.After(2 * time.Minute):
		t.Fatal("the local cloud did not come up")
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}()

	raw, err := os.ReadFile(filepath.Join(state, "sam-env.json"))
	require.NoError(t, err)
	var file map[string]map[string]string
	require.NoError(t, json.Unmarshal(raw, &file))

	declared := declaredEnv(t)
	require.NotEmpty(t, declared)
	assert.Len(t, file, len(declared), "one entry per function of the template")
	for fn, vars := range declared {
		env, ok := file[fn]
		if !assert.True(t, ok, "%s is missing from sam-env.json", fn) {
			continue
		}
		for _, v := range vars {
			assert.NotEmpty(t, env[v], "%s: %s is declared in the template but empty in sam-env.json", fn, v)
		}
		assert.Equal(t, fmt.Sprintf("http://127.0.0.1:%d", motoPort), env["AWS_ENDPOINT_URL_DYNAMODB"], fn)
		assert.Equal(t, fmt.Sprintf("http://127.0.0.1:%d", s3Port), env["AWS_ENDPOINT_URL_S3"], fn)
		assert.Equal(t, "true", env["S3_USE_PATH_STYLE"], fn)
		for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SFN"} {
			resp, err := http.Get(env[k])
			if assert.NoError(t, err, "%s %s=%s answers", fn, k, env[k]) {
				resp.Body.Close()
			}
		}
	}
}
