package states

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const callbackDef = `{"StartAt":"WaitForDecision","States":{
 "WaitForDecision":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
   "Parameters":{"FunctionName":"callback","Payload":{"token.$":"$$.Task.Token"}},
   "TimeoutSeconds":604800,"ResultPath":"$.decision","Next":"Decided",
   "Catch":[{"ErrorEquals":["States.Timeout"],"ResultPath":"$.error","Next":"MarkExpired"}]},
 "Decided":{"Type":"Succeed"},
 "MarkExpired":{"Type":"Pass","Result":"expired","ResultPath":"$.outcome","End":true}}}`

// TestCallbackTimeoutReachesCatcher: a 7-day callback task reaches its States.Timeout
// catcher when the clock is advanced 8 days.
func TestCallbackTimeoutReachesCatcher(t *testing.T) {
	env := newEnv(t)
	x := env.start(t, env.create(t, "approval", callbackDef), `{"requestId":"r1"}`)
	env.clk.Settle()
	require.Equal(t, sfntypes.ExecutionStatusRunning, env.describe(t, x).Status)
	env.clk.Advance(6 * 24 * time.Hour)
	require.Equal(t, sfntypes.ExecutionStatusRunning, env.describe(t, x).Status)
	env.clk.Advance(2 * 24 * time.Hour)
	d := env.describe(t, x)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, d.Status)
	assert.JSONEq(t, `{"requestId":"r1","error":{"Error":"States.Timeout","Cause":""},"outcome":"expired"}`, aws.ToString(d.Output))
}

func TestTaskTokenErrors(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	x := env.start(t, env.create(t, "tokens", callbackDef), `{}`)
	env.clk.Settle()
	tok := env.lambda.lastToken()
	require.NotEmpty(t, tok)

	_, err := env.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("garbage"), Output: aws.String("{}")})
	assert.True(t, errors.As(err, new(*sfntypes.InvalidToken)), "garbage: %v", err)
	_, err = env.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(newToken()), Output: aws.String("{}")})
	assert.True(t, errors.As(err, new(*sfntypes.TaskDoesNotExist)), "unknown: %v", err)
	_, err = env.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String("not json")})
	assert.True(t, errors.As(err, new(*sfntypes.InvalidOutput)), "bad output: %v", err)

	env.clk.Advance(8 * 24 * time.Hour) // the task times out
	_, err = env.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String("{}")})
	assert.True(t, errors.As(err, new(*sfntypes.TaskTimedOut)), "late: %v", err)
	_, err = env.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tok)})
	assert.True(t, errors.As(err, new(*sfntypes.TaskTimedOut)), "late failure: %v", err)
	_, err = env.client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)})
	assert.True(t, errors.As(err, new(*sfntypes.TaskTimedOut)), "late heartbeat: %v", err)
	assert.Equal(t, sfntypes.ExecutionStatusSucceeded, env.describe(t, x).Status)
}

func TestSendTaskSuccessTwice(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	x := env.start(t, env.create(t, "twice", callbackDef), `{}`)
	env.clk.Settle()
	tok := env.lambda.lastToken()
	_, err := env.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"ok":true}`)})
	require.NoError(t, err)
	env.clk.Settle()
	d := env.describe(t, x)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, d.Status)
	assert.JSONEq(t, `{"decision":{"ok":true}}`, aws.ToString(d.Output))
	_, err = env.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	assert.True(t, errors.As(err, new(*sfntypes.TaskTimedOut)), "second: %v", err)
}

// TestRetryTokensAreFresh: a retried callback task gets a new token each attempt.
func TestRetryTokensAreFresh(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	x := env.start(t, env.create(t, "fresh", `{"StartAt":"T","States":{"T":{"Type":"Task",
	  "Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "Parameters":{"FunctionName":"callback","Payload":{"token.$":"$$.Task.Token"}},
	  "Retry":[{"ErrorEquals":["Again"],"IntervalSeconds":5,"MaxAttempts":1}],"End":true}}}`), `{}`)
	env.clk.Settle()
	first := env.lambda.lastToken()
	_, err := env.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(first), Error: aws.String("Again")})
	require.NoError(t, err)
	env.clk.Advance(5 * time.Second)
	second := env.lambda.lastToken()
	require.NotEqual(t, first, second)
	_, err = env.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(first), Output: aws.String(`1`)})
	assert.True(t, errors.As(err, new(*sfntypes.TaskTimedOut)), "old token: %v", err)
	_, err = env.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(second), Output: aws.String(`2`)})
	require.NoError(t, err)
	env.clk.Settle()
	assert.Equal(t, "2", aws.ToString(env.describe(t, x).Output))
}

func TestHeartbeatTimeout(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	x := env.start(t, env.create(t, "hb", `{"StartAt":"T","States":{"T":{"Type":"Task",
	  "Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "Parameters":{"FunctionName":"callback","Payload":{"token.$":"$$.Task.Token"}},
	  "HeartbeatSeconds":60,"TimeoutSeconds":3600,"End":true}}}`), `{}`)
	env.clk.Settle()
	tok := env.lambda.lastToken()
	for range 3 { // heartbeats every 50s keep it alive past 60s
		env.clk.Advance(50 * time.Second)
		_, err := env.client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)})
		require.NoError(t, err)
	}
	require.Equal(t, sfntypes.ExecutionStatusRunning, env.describe(t, x).Status)
	env.clk.Advance(61 * time.Second)
	d := env.describe(t, x)
	require.Equal(t, sfntypes.ExecutionStatusFailed, d.Status)
	assert.Equal(t, "States.HeartbeatTimeout", aws.ToString(d.Error))
	types := eventTypes(env.history(t, x))
	assert.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskTimedOut", "ExecutionFailed"}, types)
}

// TestRetryBackoffOnVirtualClock observes the retry intervals in history timestamps:
// IntervalSeconds 2, BackoffRate 3, MaxDelaySeconds 10 → 2s, 6s, 10s.
func TestRetryBackoffOnVirtualClock(t *testing.T) {
	env := newEnv(t)
	x := env.start(t, env.create(t, "backoff", `{"StartAt":"T","States":{"T":{"Type":"Task",
	  "Resource":"arn:aws:lambda:us-east-1:000000000000:function:flaky","Parameters":{"failures":3},
	  "Retry":[{"ErrorEquals":["Transient"],"IntervalSeconds":2,"BackoffRate":3,"MaxDelaySeconds":10,"MaxAttempts":5}],"End":true}}}`), `{}`)
	d := env.finish(t, x, time.Second, 100)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, d.Status, aws.ToString(d.Cause))
	var scheduled []time.Time
	for _, ev := range env.history(t, x) {
		if ev.Type == sfntypes.HistoryEventTypeLambdaFunctionScheduled {
			scheduled = append(scheduled, aws.ToTime(ev.Timestamp))
		}
	}
	require.Len(t, scheduled, 4)
	var gaps []time.Duration
	for i := 1; i < len(scheduled); i++ {
		gaps = append(gaps, scheduled[i].Sub(scheduled[i-1]))
	}
	assert.Equal(t, []time.Duration{2 * time.Second, 6 * time.Second, 10 * time.Second}, gaps)
}

func TestStartExecutionIdempotent(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	arn := env.create(t, "idem", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`)
	start := func(input string) (*sfn.StartExecutionOutput, error) {
		return env.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("once"), Input: aws.String(input)})
	}
	a, err := start(`{"v":1}`)
	require.NoError(t, err)
	b, err := start(`{"v":1}`)
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(a.ExecutionArn), aws.ToString(b.ExecutionArn))
	_, err = start(`{"v":2}`)
	assert.True(t, errors.As(err, new(*sfntypes.ExecutionAlreadyExists)), "%v", err)
	list, err := env.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn)})
	require.NoError(t, err)
	assert.Len(t, list.Executions, 1)
	env.clk.Advance(time.Minute)
	_, err = start(`{"v":1}`) // closed executions are not restarted
	assert.True(t, errors.As(err, new(*sfntypes.ExecutionAlreadyExists)), "%v", err)
}

func TestStopExecution(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	arn := env.create(t, "stop", callbackDef)
	x := env.start(t, arn, `{}`)
	env.clk.Settle()
	tok := env.lambda.lastToken()
	_, err := env.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(x), Error: aws.String("Operator"), Cause: aws.String("no longer needed")})
	require.NoError(t, err)
	env.clk.Settle()
	d := env.describe(t, x)
	assert.Equal(t, sfntypes.ExecutionStatusAborted, d.Status)
	assert.Equal(t, "Operator", aws.ToString(d.Error))
	types := eventTypes(env.history(t, x))
	assert.Equal(t, "ExecutionAborted", types[len(types)-1])
	_, err = env.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String("{}")})
	assert.True(t, errors.As(err, new(*sfntypes.TaskTimedOut)), "%v", err)

	aborted, err := env.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn), StatusFilter: sfntypes.ExecutionStatusAborted})
	require.NoError(t, err)
	assert.Len(t, aborted.Executions, 1)
	running, err := env.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn), StatusFilter: sfntypes.ExecutionStatusRunning})
	require.NoError(t, err)
	assert.Empty(t, running.Executions)
}

func TestExecutionTimeout(t *testing.T) {
	env := newEnv(t)
	x := env.start(t, env.create(t, "timeout", `{"TimeoutSeconds":300,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}`), `{}`)
	env.clk.Advance(299 * time.Second)
	require.Equal(t, sfntypes.ExecutionStatusRunning, env.describe(t, x).Status)
	env.clk.Advance(time.Second)
	d := env.describe(t, x)
	assert.Equal(t, sfntypes.ExecutionStatusTimedOut, d.Status)
	assert.Equal(t, testEpoch.Add(300*time.Second), aws.ToTime(d.StopDate))
	assert.Equal(t, 0, env.clk.Pending(), "the wait timer is cancelled")
}

// TestGoErrorTypeSurfaces: a Go handler error's type name is the ASL error name.
func TestGoErrorTypeSurfaces(t *testing.T) {
	env := newEnv(t)
	x := env.start(t, env.create(t, "goerr", `{"StartAt":"T","States":{"T":{"Type":"Task",
	  "Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"fail","Payload":{"message":"quota exceeded"}},"End":true}}}`), `{}`)
	env.clk.Settle()
	d := env.describe(t, x)
	require.Equal(t, sfntypes.ExecutionStatusFailed, d.Status)
	assert.Equal(t, goErrorType(&CustomError{}), aws.ToString(d.Error))
	assert.Equal(t, "CustomError", aws.ToString(d.Error))
	assert.JSONEq(t, `{"errorMessage":"quota exceeded","errorType":"CustomError","stackTrace":[]}`, aws.ToString(d.Cause))
}

func TestInvalidDefinitions(t *testing.T) {
	env := newEnv(t)
	tests := map[string]string{
		"not json":           `{`,
		"missing StartAt":    `{"States":{"A":{"Type":"Succeed"}}}`,
		"StartAt not found":  `{"StartAt":"B","States":{"A":{"Type":"Succeed"}}}`,
		"Next not found":     `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Z"}}}`,
		"Next and End":       `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`,
		"no Next nor End":    `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`,
		"unknown type":       `{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}`,
		"unknown field":      `{"StartAt":"A","States":{"A":{"Type":"Pass","Bogus":1,"End":true}}}`,
		"unreachable":        `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`,
		"ALL not last":       `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}}}`,
		"ALL not alone":      `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Catch":[{"ErrorEquals":["States.ALL","X"],"Next":"A"}],"End":true}}}`,
		"catch target":       `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Catch":[{"ErrorEquals":["X"],"Next":"Q"}],"End":true}}}`,
		"bad path":           `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"a.b","End":true}}}`,
		"bad intrinsic":      `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}}}`,
		"choice no Next":     `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","StringEquals":"a"}]}}}`,
		"choice bad operand": `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"a","Next":"A"}]}}}`,
		"wait two fields":    `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`,
		"branch invalid":     `{"StartAt":"A","States":{"A":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{}}],"End":true}}}`,
		"map no processor":   `{"StartAt":"A","States":{"A":{"Type":"Map","End":true}}}`,
		"heartbeat too long": `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","TimeoutSeconds":10,"HeartbeatSeconds":10,"End":true}}}`,
		"resultpath not ref": `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`,
	}
	for name, def := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := env.client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
				Name: aws.String("bad"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
			assert.True(t, errors.As(err, new(*sfntypes.InvalidDefinition)), "%v", err)
		})
	}
}

func TestAPIErrorsAndMachines(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	_, err := env.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:m:nope")})
	assert.True(t, errors.As(err, new(*sfntypes.ExecutionDoesNotExist)), "%v", err)
	_, err = env.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("not-an-arn")})
	assert.True(t, errors.As(err, new(*sfntypes.InvalidArn)), "%v", err)
	_, err = env.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:nope")})
	assert.True(t, errors.As(err, new(*sfntypes.StateMachineDoesNotExist)), "%v", err)

	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}}`
	arn := env.create(t, "m1", def)
	again := env.create(t, "m1", def) // identical create is idempotent
	assert.Equal(t, arn, again)
	_, err = env.client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("m1"),
		Definition: aws.String(`{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}`), RoleArn: aws.String("arn:aws:iam::000000000000:role/local")})
	assert.True(t, errors.As(err, new(*sfntypes.StateMachineAlreadyExists)), "%v", err)

	// the Go-level registration updates in place
	goARN, err := env.exec.CreateStateMachine("m1", `{"StartAt":"B","States":{"B":{"Type":"Pass","Result":2,"End":true}}}`, "")
	require.NoError(t, err)
	assert.Equal(t, arn, goARN)
	x := env.start(t, arn, `{}`)
	env.clk.Settle()
	assert.Equal(t, "2", aws.ToString(env.describe(t, x).Output))

	_, err = env.client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(def)})
	require.NoError(t, err)
	desc, err := env.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	require.NoError(t, err)
	assert.Equal(t, def, aws.ToString(desc.Definition))
	list, err := env.client.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	require.NoError(t, err)
	require.Len(t, list.StateMachines, 1)
	_, err = env.client.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)})
	require.NoError(t, err)
	_, err = env.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	assert.True(t, errors.As(err, new(*sfntypes.StateMachineDoesNotExist)), "%v", err)
}

// TestManyConcurrentExecutions: executions with different waits advance independently.
func TestManyConcurrentExecutions(t *testing.T) {
	env := newEnv(t)
	arn, err := env.exec.CreateStateMachine("many", `{"StartAt":"W","States":{
	  "W":{"Type":"Wait","SecondsPath":"$.s","Next":"P"},
	  "P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":10,"End":true}}}],"ResultPath":null,"End":true}}}`, "")
	require.NoError(t, err)
	var arns []string
	for i := range 200 {
		x, err := env.exec.StartExecution(arn, "", `{"s":`+itoa(i*60)+`}`)
		require.NoError(t, err)
		arns = append(arns, x)
	}
	env.clk.Advance(100*time.Minute + 10*time.Second)
	for i, x := range arns {
		status, _, _, _, err := env.exec.DescribeExecution(x)
		require.NoError(t, err)
		if i <= 100 {
			assert.Equal(t, "SUCCEEDED", status, i)
		} else {
			assert.Equal(t, "RUNNING", status, i)
		}
	}
	env.clk.Advance(24 * time.Hour)
	for _, x := range arns {
		status, _, _, _, _ := env.exec.DescribeExecution(x)
		assert.Equal(t, "SUCCEEDED", status)
	}
}

func itoa(i int) string { return fmtInt(int64(i)) }

func fmtInt(i int64) string { return string(intNumber(i)) }

// TestCloseStopsEverything: Close returns promptly with executions blocked on timers and
// tokens, and leaves no goroutines behind.
func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	env := newEnv(t)
	arn := env.create(t, "close", callbackDef)
	for range 20 {
		env.start(t, arn, `{}`)
	}
	wait, err := env.exec.CreateStateMachine("closewait", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
	  {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":999999,"End":true}}},
	  {"StartAt":"V","States":{"V":{"Type":"Wait","Seconds":99999,"End":true}}}],"End":true}}}`, "")
	require.NoError(t, err)
	for range 20 {
		_, err := env.exec.StartExecution(wait, "", "{}")
		require.NoError(t, err)
	}
	env.clk.Settle()
	done := make(chan struct{})
	go func() {
		env.srv.Close()
		env.exec.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+2)
	status, _, _, _, err := env.exec.DescribeExecution(strings0(env, arn))
	require.NoError(t, err)
	assert.Equal(t, "ABORTED", status)
}

func strings0(env *testEnv, arn string) string {
	env.exec.mu.Lock()
	defer env.exec.mu.Unlock()
	return env.exec.machines[arn].executions[0].arn
}

// TestDataLimitExceeded: a state output above 256 KiB fails the execution with the
// terminal States.DataLimitExceeded, which States.ALL does not catch.
func TestDataLimitExceeded(t *testing.T) {
	env := newEnv(t)
	arn := env.create(t, "big", `{"StartAt":"Double","States":{
	  "Double":{"Type":"Parallel","Branches":[
	    {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
	    {"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
	    "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},
	  "Caught":{"Type":"Succeed"}}}`)
	big := make([]byte, 150*1024)
	for i := range big {
		big[i] = 'x'
	}
	x := env.start(t, arn, `{"blob":"`+string(big)+`"}`)
	env.clk.Settle()
	d := env.describe(t, x)
	assert.Equal(t, sfntypes.ExecutionStatusFailed, d.Status)
	assert.Equal(t, "States.DataLimitExceeded", aws.ToString(d.Error))
}

func TestNames(t *testing.T) {
	for name, ok := range map[string]bool{"a": true, "run.1@x+y=z": true, "Approval-StateMachine_01": true,
		"": false, "has space": false, "a:b": false, "a/b": false, "{x}": false, "a*": false, string(make([]byte, 81)): false} {
		assert.Equal(t, ok, validName(name), "%q", name)
	}
	env := newEnv(t)
	arn := env.create(t, "names.1", `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`)
	_, err := env.client.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("bad name")})
	assert.True(t, errors.As(err, new(*sfntypes.InvalidName)), "%v", err)
	x, err := env.client.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("order@1.2")})
	require.NoError(t, err)
	env.clk.Settle()
	assert.Equal(t, sfntypes.ExecutionStatusSucceeded, env.describe(t, aws.ToString(x.ExecutionArn)).Status)
}

func TestGoAPIErrorCodes(t *testing.T) {
	env := newEnv(t)
	assert.Equal(t, "InvalidToken", ErrorCode(env.exec.SendTaskSuccess("nope", "{}")))
	assert.Equal(t, "TaskDoesNotExist", ErrorCode(env.exec.SendTaskHeartbeat(newToken())))
	_, err := env.exec.CreateStateMachine("x", `{}`, "")
	assert.Equal(t, "InvalidDefinition", ErrorCode(err))
	assert.Equal(t, "", ErrorCode(errors.New("other")))
}
