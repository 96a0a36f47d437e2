// Package replay re-delivers failed asynchronous events from a queue to the functions they
// were meant for, by the same path as the original event (an asynchronous Lambda invoke), so a
// replayed event that fails again is retried and lands in the queue again rather than being lost.
//
// It understands the two kinds of message the template's queues hold: Lambda's invocation
// records (OnFailure destinations: requestContext.functionArn and requestPayload) and
// EventBridge Scheduler's dead letters (the target input as the body, the target in the
// TARGET_ARN attribute). A message it cannot read stays in the queue and is reported.
package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Queue is the part of SQS replay uses.
type Queue interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Invoker is the part of Lambda replay uses.
type Invoker interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Report says what a run did.
type Report struct {
	Replayed   int               `json:"replayed"`             // re-invoked and removed from the queue
	ByFunction map[string]int    `json:"byFunction"`           // replayed per target function
	Unreadable map[string]string `json:"unreadable,omitempty"` // message id → why it stayed in the queue
}

// Run drains queueURL: each message's event is invoked again asynchronously on its function and
// the message deleted once Lambda accepted it. Messages received during the run are not received
// twice (they stay invisible for visibility seconds). It stops when a receive returns nothing.
func Run(ctx context.Context, q Queue, fn Invoker, queueURL string) (Report, error) {
	rep := Report{ByFunction: map[string]int{}, Unreadable: map[string]string{}}
	for {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &queueURL, MaxNumberOfMessages: 10, VisibilityTimeout: 300,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			return rep, fmt.Errorf("receive from %s: %w", queueURL, err)
		}
		if len(out.Messages) == 0 {
			return rep, nil
		}
		for _, m := range out.Messages {
			target, payload, err := Event(m)
			if err != nil {
				rep.Unreadable[aws.ToString(m.MessageId)] = err.Error()
				continue
			}
			if _, err := fn.Invoke(ctx, &lambda.InvokeInput{
				FunctionName: &target, InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload,
			}); err != nil {
				return rep, fmt.Errorf("replay message %s to %s: %w", aws.ToString(m.MessageId), target, err)
			}
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				// Replayed but not deleted: it comes back after the visibility timeout and is
				// replayed again, which the functions tolerate (every event handler is idempotent).
				return rep, fmt.Errorf("delete replayed message %s: %w", aws.ToString(m.MessageId), err)
			}
			rep.Replayed++
			rep.ByFunction[functionName(target)]++
		}
	}
}

// Event reads a queue message: the function to invoke and the event to give it.
func Event(m sqstypes.Message) (function string, payload []byte, err error) {
	if a, ok := m.MessageAttributes["TARGET_ARN"]; ok && aws.ToString(a.StringValue) != "" {
		return aws.ToString(a.StringValue), []byte(aws.ToString(m.Body)), nil
	}
	var rec struct {
		RequestContext struct {
			FunctionARN string `json:"functionArn"`
		} `json:"requestContext"`
		RequestPayload json.RawMessage `json:"requestPayload"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &rec); err != nil {
		return "", nil, fmt.Errorf("neither an invocation record nor a scheduler dead letter: %w", err)
	}
	if rec.RequestContext.FunctionARN == "" || len(rec.RequestPayload) == 0 {
		return "", nil, fmt.Errorf("invocation record without requestContext.functionArn or requestPayload")
	}
	return unqualified(rec.RequestContext.FunctionARN), rec.RequestPayload, nil
}

// unqualified drops a version qualifier (":$LATEST") from a function ARN.
func unqualified(arn string) string {
	if parts := strings.Split(arn, ":"); len(parts) == 8 {
		return strings.Join(parts[:7], ":")
	}
	return arn
}

func functionName(arnOrName string) string {
	if parts := strings.Split(arnOrName, ":"); len(parts) >= 7 {
		return parts[6]
	}
	return arnOrName
}
