package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var shellBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// The README's walkthroughs run as written against the real command: its shell blocks are
// extracted and run with bash, with only the addresses (free ports instead of 3000 and 8083)
// and the token command (this test's state folder) substituted.
func TestReadmeWalkthroughsRunVerbatim(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "aws", "sha256sum"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "the walkthrough needs %s", tool)
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)

	bin := filepath.Join(t.TempDir(), "local")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	state := t.TempDir()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-sfn-addr", "127.0.0.1:0", "-dir", root, "-state", state)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	})
	api, sfnAPI := waitForAddresses(t, stdout)

	token := bin + " token -dir " + root + " -state " + state
	rewrite := strings.NewReplacer(
		"http://127.0.0.1:3000", api,
		"http://127.0.0.1:8083", sfnAPI,
		"go run ./infra/local token", token,
	)
	makeToken := regexp.MustCompile(`make -s token ROLE=(\w+) ORG=([\w-]*)`)
	for _, section := range []struct {
		name, from, to string
		want           []string  // what the README says the steps print
		then           [2]string // a later part that continues this one's shell (same variables)
	}{
		{"evidence walkthrough", "### Evidence walkthrough", "\nRoutes (all in", []string{
			`{"version":1,"status":"pending"}`, `PUT 200`, `"status": "received"`, `"status": "under_review"`,
			`"status": "rejected"`, `The SRRC certificate names another model.`,
		}, [2]string{}},
		{"fee walkthrough", "### Fee walkthrough", "\n### The policy format", []string{
			`{"version":1,"revision":1}`, `"fee_policy_retroactive"`, `"forbidden_role"`, `{"revision":2}`,
			`{"version":1,"scheme":"comparable","used":false}`, `"deployer_not_approved"`,
		}, [2]string{}},
		// Last: it moves the virtual clock half a year on.
		{"walkthrough and pipeline", "## Walkthrough", "## Evidence uploads", []string{
			`"deck": "received"`, `"application_not_found"`, `404`, `{"status":"under_review","round":1}`,
			`{"status":"approved","vendorCode":"01"}`, `["partner application approved"]`, `["created","attachment_requested","attachment_received","submitted"]`, `duplicate_model_name`, `{"status":"approved","modelCode":"00"}`,
			`"stage":"dvt"`, `arn:aws:states:`, `"status": "RUNNING"`, `"ExecutionStarted"`,
			`201 200`, `"idempotency_key_reused"`, `"invalid_cursor"`,
			`"track": "software_precheck"`, `{"stage":"expired","reason":"no `, `"run":2}`, `{"stage":"dvt","run":2}`,
		}, [2]string{"## The certification pipeline", "## The API"}},
	} {
		t.Run(section.name, func(t *testing.T) {
			text := string(readme)
			i, j := strings.Index(text, section.from), strings.Index(text, section.to)
			require.True(t, i >= 0 && j > i, "README has the section %q", section.from)
			part := text[i:j]
			if section.then[0] != "" {
				k, l := strings.Index(text, section.then[0]), strings.Index(text, section.then[1])
				require.True(t, k >= 0 && l > k, "README has the section %q", section.then[0])
				part += text[k:l]
			}
			var script strings.Builder
			script.WriteString("set -euo pipefail\n")
			for _, m := range shellBlock.FindAllStringSubmatch(part, -1) {
				block := makeToken.ReplaceAllStringFunc(m[1], func(s string) string {
					g := makeToken.FindStringSubmatch(s)
					cmd := token + " -role " + g[1]
					if g[2] != "" {
						cmd += " -org " + g[2]
					}
					if g[1] == "vendor" {
						cmd += " -account-type service_provider"
					}
					return cmd
				})
				script.WriteString(rewrite.Replace(block))
			}
			run := exec.Command("bash", "-c", script.String())
			run.Dir = root
			run.Env = append(os.Environ(), "AWS_PAGER=")
			got, err := run.CombinedOutput()
			require.NoError(t, err, "the %s failed:\n%s", section.name, got)
			for _, w := range section.want {
				assert.Contains(t, string(got), w)
			}
		})
	}
}

func waitForAddresses(t *testing.T, stdout interface{ Read([]byte) (int, error) }) (api, sfnAPI string) {
	t.Helper()
	found := make(chan [2]string, 1)
	go func() {
		var a, s string
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if _, after, ok := strings.Cut(line, "(local) on "); ok {
				a = strings.TrimSpace(after)
			}
			if _, after, ok := strings.Cut(line, "Step Functions API "); ok {
				s = strings.TrimSpace(after)
			}
			if strings.Contains(line, "Ctrl-C stops everything") {
				found <- [2]string{a, s}
			}
		}
	}()
	select {
	case f := <-found:
		require.NotEmpty(t, f[0])
		require.NotEmpty(t, f[1])
		return f[0], f[1]
	case <-time.After(2 * time.Minute):
		t.Fatal("the local cloud did not come up")
	}
	return "", ""
}
