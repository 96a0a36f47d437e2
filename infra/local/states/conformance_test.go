package states

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformanceCase is one directory under testdata/conformance: definition.asl.json,
// input.json and expected.json.
type conformanceCase struct {
	name, definition, input string
	want                    expectation
}

type expectation struct {
	Status     string          `json:"status"`
	Output     json.RawMessage `json:"output"`
	Error      string          `json:"error"`
	Cause      string          `json:"cause"`
	Events     []string        `json:"events"`     // expected history event types, when given
	Advance    string          `json:"advance"`    // clock step while the execution runs (default 1h)
	Lambda     bool            `json:"lambda"`     // uses the test Lambda functions
	Moto       bool            `json:"moto"`       // also run on moto_server's Step Functions
	MotoReason string          `json:"motoReason"` // why a case is not compared with moto
	CLI        bool            `json:"cli"`        // also run through the AWS CLI
}

func loadConformance(t *testing.T) []conformanceCase {
	t.Helper()
	dirs, err := filepath.Glob("testdata/conformance/*")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	var cases []conformanceCase
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		read := func(f string) string {
			b, err := os.ReadFile(filepath.Join(dir, f))
			require.NoError(t, err)
			return string(b)
		}
		c := conformanceCase{name: filepath.Base(dir), definition: read("definition.asl.json"), input: read("input.json")}
		require.NoError(t, json.Unmarshal([]byte(read("expected.json")), &c.want), dir)
		if !c.want.Moto && !c.want.Lambda {
			require.NotEmpty(t, c.want.MotoReason, "%s: a case kept from the moto comparison must say why", dir)
		}
		cases = append(cases, c)
	}
	return cases
}

// checkResult compares an execution's description with the expectation.
func checkResult(t *testing.T, want expectation, d *sfn.DescribeExecutionOutput) {
	t.Helper()
	require.Equal(t, want.Status, string(d.Status), "error=%s cause=%s", aws.ToString(d.Error), aws.ToString(d.Cause))
	if len(want.Output) > 0 {
		assert.JSONEq(t, string(want.Output), aws.ToString(d.Output))
	}
	if want.Error != "" {
		assert.Equal(t, want.Error, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	if want.Cause != "" {
		assert.Equal(t, want.Cause, aws.ToString(d.Cause))
	}
}

// TestConformance runs every case on the executor through the SDK client.
func TestConformance(t *testing.T) {
	for _, c := range loadConformance(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t)
			step := time.Hour
			if c.want.Advance != "" {
				var err error
				step, err = time.ParseDuration(c.want.Advance)
				require.NoError(t, err)
			}
			arn := env.create(t, c.name, c.definition)
			x := env.start(t, arn, c.input)
			d := env.finish(t, x, step, 10000)
			checkResult(t, c.want, d)
			if c.want.Events != nil {
				assert.Equal(t, c.want.Events, eventTypes(env.history(t, x)))
			}
		})
	}
}

// TestConformanceMoto runs the cases that need neither Lambda nor long waits on
// moto_server's Step Functions: both engines must give the expected result.
func TestConformanceMoto(t *testing.T) {
	url := motoEndpoint(t)
	client := sfnClient(url)
	ctx := context.Background()
	for _, c := range loadConformance(t) {
		if !c.want.Moto {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			motoMu.Lock()
			defer motoMu.Unlock()
			motoResetSFN(t, url)
			sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
				Name: aws.String(c.name), Definition: aws.String(c.definition),
				RoleArn: aws.String("arn:aws:iam::123456789012:role/local"),
			})
			require.NoError(t, err)
			x, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(c.input)})
			require.NoError(t, err)
			var d *sfn.DescribeExecutionOutput
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				d, err = client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
				require.NoError(t, err)
				if d.Status != sfntypes.ExecutionStatusRunning {
					break
				}
			}
			checkResult(t, c.want, d)
		})
	}
}

// TestConformanceAWSCLI runs the `cli: true` cases through the official AWS CLI: the
// definition, the input and the result go through its serialisation, not the Go SDK's.
func TestConformanceAWSCLI(t *testing.T) {
	ran := 0
	for _, c := range loadConformance(t) {
		if !c.want.CLI {
			continue
		}
		ran++
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			aws := awsCLI(t, env)
			arn := aws("create-state-machine", "--name", c.name, "--definition", c.definition,
				"--role-arn", "arn:aws:iam::000000000000:role/local")["stateMachineArn"].(string)
			x := aws("start-execution", "--state-machine-arn", arn, "--input", c.input)["executionArn"].(string)
			env.finish(t, x, time.Hour, 10000)
			d := aws("describe-execution", "--execution-arn", x)
			got := &sfn.DescribeExecutionOutput{Status: sfntypes.ExecutionStatus(fmt.Sprint(d["status"]))}
			for field, dst := range map[string]**string{"output": &got.Output, "error": &got.Error, "cause": &got.Cause} {
				if v, ok := d[field].(string); ok {
					*dst = &v
				}
			}
			checkResult(t, c.want, got)
		})
	}
	require.NotZero(t, ran, "no conformance case is marked cli")
}
