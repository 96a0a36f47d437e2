package states

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAWSCLI drives the executor with the official AWS CLI (v1) over HTTP.
func TestAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	require.NoError(t, err, "the AWS CLI must be installed")
	env := newEnv(t)
	home := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsBin, append([]string{"stepfunctions"}, append(args, "--endpoint-url", env.srv.URL, "--output", "json")...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_DEFAULT_REGION=us-east-1",
			"HOME="+home, "AWS_CONFIG_FILE="+home+"/config", "AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "aws %v: %s", args, out)
		var m map[string]any
		if len(out) > 0 {
			require.NoError(t, json.Unmarshal(out, &m), "%s", out)
		}
		return m
	}

	created := run("create-state-machine", "--name", "cli-approval", "--definition", callbackDef,
		"--role-arn", "arn:aws:iam::000000000000:role/local")
	arn, _ := created["stateMachineArn"].(string)
	require.Equal(t, "arn:aws:states:us-east-1:000000000000:stateMachine:cli-approval", arn)

	started := run("start-execution", "--state-machine-arn", arn, "--name", "first", "--input", `{"requestId":"r1"}`)
	x, _ := started["executionArn"].(string)
	require.NotEmpty(t, x)
	env.clk.Settle()
	assert.Equal(t, "RUNNING", run("describe-execution", "--execution-arn", x)["status"])

	run("send-task-success", "--task-token", env.lambda.lastToken(), "--task-output", `{"approved":true}`)
	env.clk.Settle()
	desc := run("describe-execution", "--execution-arn", x)
	assert.Equal(t, "SUCCEEDED", desc["status"])
	assert.JSONEq(t, `{"requestId":"r1","decision":{"approved":true}}`, desc["output"].(string))

	hist := run("get-execution-history", "--execution-arn", x)
	var types []string
	for _, ev := range hist["events"].([]any) {
		types = append(types, ev.(map[string]any)["type"].(string))
	}
	assert.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted",
		"TaskSucceeded", "TaskStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}, types)

	// errors come back as the CLI's named exceptions
	cmd := exec.Command(awsBin, "stepfunctions", "send-task-success", "--task-token", "garbage", "--task-output", "{}",
		"--endpoint-url", env.srv.URL)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_DEFAULT_REGION=us-east-1", "HOME="+home)
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "InvalidToken")
}

// awsCLI returns a runner of `aws stepfunctions <args> --endpoint-url <env>` that decodes
// the JSON the CLI prints and fails t when the CLI does.
func awsCLI(t *testing.T, env *testEnv) func(args ...string) map[string]any {
	t.Helper()
	awsBin, err := exec.LookPath("aws")
	require.NoError(t, err, "the AWS CLI must be installed")
	home := t.TempDir()
	return func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsBin, append([]string{"stepfunctions"}, append(args, "--endpoint-url", env.srv.URL, "--output", "json")...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_DEFAULT_REGION=us-east-1",
			"HOME="+home, "AWS_CONFIG_FILE="+home+"/config", "AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "aws %v: %s", args, out)
		var m map[string]any
		if len(out) > 0 {
			require.NoError(t, json.Unmarshal(out, &m), "%s", out)
		}
		return m
	}
}
