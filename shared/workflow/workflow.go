// Package workflow is the platform's Step Functions access: starting a model's pipeline
// (idempotent by execution name) and completing the callback task a step waits on.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
)

// Pipelines starts and resumes executions of one state machine.
type Pipelines struct {
	client          *sfn.Client
	stateMachineARN string
}

// NewClient is a function's Step Functions client, built from its settings (endpoint
// override: AWS_ENDPOINT_URL_SFN).
func NewClient(s awsx.Settings) *sfn.Client {
	return sfn.NewFromConfig(s.Config(s.SFNURL))
}

// New returns the pipelines of the state machine stateMachineARN.
func New(client *sfn.Client, stateMachineARN string) *Pipelines {
	return &Pipelines{client: client, stateMachineARN: stateMachineARN}
}

// Start starts the execution called name with input and returns its ARN. Starting the same
// name with the same input again returns the same execution (Step Functions' own idempotency),
// so a retried release never starts a second pipeline.
func (p *Pipelines) Start(ctx context.Context, name string, input any) (string, error) {
	b, err := json.Marshal(input)
	if err != nil {
		return "", fmt.Errorf("encode pipeline input: %w", err)
	}
	out, err := p.client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: &p.stateMachineARN, Name: &name, Input: aws.String(string(b)),
	})
	if err != nil {
		return "", fmt.Errorf("start pipeline %s: %w", name, err)
	}
	return aws.ToString(out.ExecutionArn), nil
}

// Resume completes the task waiting on token with output as its result. It returns Conflict
// ("not_waiting") when the execution no longer waits on it.
func (p *Pipelines) Resume(ctx context.Context, token string, output any) error {
	b, err := json.Marshal(output)
	if err != nil {
		return fmt.Errorf("encode task output: %w", err)
	}
	_, err = p.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: aws.String(string(b))})
	return taskErr(err)
}

// Fail fails the task waiting on token with error and cause (what a Catch in the ASL matches).
func (p *Pipelines) Fail(ctx context.Context, token, errName, cause string) error {
	_, err := p.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &token, Error: &errName, Cause: &cause})
	return taskErr(err)
}

// Stop stops execution name of the state machine (a withdrawn model's run). One that never
// started is nothing to stop; stopping a finished one changes nothing (Step Functions).
func (p *Pipelines) Stop(ctx context.Context, name, cause string) error {
	arn := ExecutionARN(p.stateMachineARN, name)
	_, err := p.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: &arn, Cause: &cause})
	if errors.As(err, new(*types.ExecutionDoesNotExist)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop pipeline %s: %w", name, err)
	}
	return nil
}

// ExecutionARN is the ARN of execution name of state machine stateMachineARN
// (arn:aws:states:<region>:<account>:execution:<machine>:<name>).
func ExecutionARN(stateMachineARN, name string) string {
	return strings.Replace(stateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

func taskErr(err error) error {
	if errors.As(err, new(*types.TaskTimedOut)) || errors.As(err, new(*types.TaskDoesNotExist)) || errors.As(err, new(*types.InvalidToken)) {
		return domain.ErrNotWaiting.Withf("the pipeline is no longer waiting for this step")
	}
	if err != nil {
		return fmt.Errorf("complete task: %w", err)
	}
	return nil
}

// TrackTimeoutDays reads PIPELINE_TRACK_TIMEOUT_DAYS, how long a pipeline track waits for its
// vendor before it expires: domain.DefaultTrackTimeoutDays when unset, an error unless it is a
// whole number of days from 1 to 3650.
func TrackTimeoutDays(getenv func(string) string) (int, error) {
	s := getenv("PIPELINE_TRACK_TIMEOUT_DAYS")
	if s == "" {
		return domain.DefaultTrackTimeoutDays, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 3650 {
		return 0, fmt.Errorf("PIPELINE_TRACK_TIMEOUT_DAYS %q: want a number of days from 1 to 3650", s)
	}
	return n, nil
}
