package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/awsx"
)

// A state machine created through the Step Functions API calls an in-process function: the
// Go error the handler returns surfaces under its type name, which Catch matches, as on AWS;
// a Wait of three days passes when the virtual clock is advanced.
func TestStepFunctions_HandlerErrorTypeAndVirtualWait(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	ctx := context.Background()
	client := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.SFNURL), HTTPClient: awsx.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider("any", "any", "")})
	fn, ok := c.Template.Function("PipelineTaskFunction")
	require.True(t, ok)
	def := `{"StartAt":"Wait","States":{
	  "Wait":{"Type":"Wait","Seconds":259200,"Next":"Call"},
	  "Call":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	    "Parameters":{"FunctionName":"` + fn.ARN + `","Payload":{"step":"prototype_evidence"}},
	    "Catch":[{"ErrorEquals":["InvalidEvent"],"ResultPath":"$.error","Next":"Caught"}],"End":true},
	  "Caught":{"Type":"Pass","End":true}}}`
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("error-names"),
		Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/test")})
	require.NoError(t, err)
	ex, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{}`)})
	require.NoError(t, err)

	c.Clock.Advance(2 * 24 * time.Hour)
	assert.Equal(t, "RUNNING", executionStatus(t, c, *ex.ExecutionArn), "still waiting after two of three days")
	c.Clock.Advance(24 * time.Hour)
	require.Equal(t, "SUCCEEDED", executionStatus(t, c, *ex.ExecutionArn))

	out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
	require.NoError(t, err)
	var result struct {
		Error struct{ Error, Cause string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.Output)), &result))
	assert.Equal(t, "InvalidEvent", result.Error.Error, "the Go type name of the handler's error")
	assert.Contains(t, result.Error.Cause, "no modelId")
}
