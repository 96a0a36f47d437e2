package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/facepay/platform/infra/local/clock"
	"github.com/facepay/platform/infra/local/template"
	"github.com/facepay/platform/infra/ops/replay"
	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/ids"
)

// async is Lambda's asynchronous invocation, as S3 notifications, EventBridge Scheduler and
// Invoke with InvocationType Event use it: the first attempt at once; after a function error up
// to the function's MaximumRetryAttempts more, one minute and then two minutes later on the
// virtual clock ("Lambda waits one minute before the second attempt and two minutes before the
// third", Lambda Developer Guide, asynchronous invocation); once they are spent, an invocation
// record goes to the function's OnFailure destination, an SQS queue, or is dropped as Lambda
// drops it when there is none.
type async struct {
	host   *host
	clock  *clock.Clock
	sqs    *sqs.Client
	queues map[string]string // queue ARN → queue URL
	wg     sync.WaitGroup    // first attempts started in the background and still running
}

// asyncEvent is one asynchronous invocation and its attempts so far.
type asyncEvent struct {
	function  string // name
	payload   []byte
	requestID string
	attempts  int
}

// start runs the first attempt in the background (S3 → Lambda: the caller does not wait).
func (a *async) start(function string, payload []byte) {
	ev := &asyncEvent{function: a.host.resolve(function), payload: payload, requestID: ids.New("req")}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.attempt(context.Background(), ev)
	}()
}

// run runs the first attempt before returning (schedules: the clock settles its effects before
// firing anything later). Retries still happen later, on the clock.
func (a *async) run(ctx context.Context, function string, payload []byte) error {
	ev := &asyncEvent{function: a.host.resolve(function), payload: payload, requestID: ids.New("req")}
	return a.attempt(ctx, ev)
}

func (a *async) attempt(ctx context.Context, ev *asyncEvent) error {
	ev.attempts++
	_, err := a.host.Invoke(ctx, ev.function, ev.payload)
	if err == nil {
		return nil
	}
	f, known := a.host.functions[ev.function]
	var fnErr *FunctionError
	if !known || !errors.As(err, &fnErr) {
		return err // not delivered at all: the caller (the scheduler) handles it
	}
	slog.Error("asynchronous invocation failed", "function", ev.function, "attempt", ev.attempts, "err", err)
	if ev.attempts <= f.Async.MaximumRetryAttempts {
		a.clock.AfterFunc(time.Duration(ev.attempts)*time.Minute, func() { _ = a.attempt(context.Background(), ev) })
		return err
	}
	a.exhausted(ctx, f, ev, fnErr)
	return err
}

// exhausted sends the invocation record Lambda sends to an OnFailure destination.
func (a *async) exhausted(ctx context.Context, f template.Function, ev *asyncEvent, fnErr *FunctionError) {
	if f.Async.OnFailure == "" {
		slog.Error("asynchronous event dropped: retries spent and no OnFailure destination", "function", f.Name)
		return
	}
	url, ok := a.queues[f.Async.OnFailure]
	if !ok {
		slog.Error("asynchronous event dropped: the OnFailure destination is not a queue of the template",
			"function", f.Name, "destination", f.Async.OnFailure)
		return
	}
	rec := InvocationRecord{Version: "1.0", Timestamp: a.clock.Now().UTC().Format(time.RFC3339Nano)}
	rec.RequestContext.RequestID = ev.requestID
	rec.RequestContext.FunctionARN = f.ARN + ":$LATEST"
	rec.RequestContext.Condition = "RetriesExhausted"
	rec.RequestContext.ApproximateInvokeCount = ev.attempts
	rec.RequestPayload = rawOrString(ev.payload)
	rec.ResponseContext.StatusCode = 200
	rec.ResponseContext.ExecutedVersion = "$LATEST"
	rec.ResponseContext.FunctionError = "Unhandled"
	rec.ResponsePayload, _ = json.Marshal(fnErr)
	body, err := json.Marshal(rec)
	if err == nil {
		_, err = a.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(body))})
	}
	if err != nil {
		slog.Error("asynchronous event lost: OnFailure destination not reachable", "function", f.Name, "err", err)
		return
	}
	slog.Warn("asynchronous event sent to its OnFailure destination", "function", f.Name, "attempts", ev.attempts, "queue", url)
}

// deadLetter puts a schedule's input the scheduler could not deliver into the schedule's
// dead-letter queue, with the attributes EventBridge Scheduler sets.
func (a *async) deadLetter(ctx context.Context, queueARN, scheduleARN, target string, input []byte, cause error) error {
	url, ok := a.queues[queueARN]
	if !ok {
		return fmt.Errorf("dead-letter queue %s is not a queue of the template", queueARN)
	}
	attr := func(v string) sqstypes.MessageAttributeValue {
		return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	_, err := a.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(input)),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"ERROR_CODE":     attr("ResourceNotFoundException"),
			"ERROR_MESSAGE":  attr(cause.Error()),
			"SCHEDULE_ARN":   attr(scheduleARN),
			"TARGET_ARN":     attr(target),
			"RETRY_ATTEMPTS": attr("0"),
		}})
	return err
}

// InvocationRecord is what Lambda sends to an asynchronous invocation's destination
// (Lambda Developer Guide, "Capturing records of Lambda asynchronous invocations").
type InvocationRecord struct {
	Version        string `json:"version"`
	Timestamp      string `json:"timestamp"`
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionARN            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	RequestPayload  json.RawMessage `json:"requestPayload"`
	ResponseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	ResponsePayload json.RawMessage `json:"responsePayload"`
}

// rawOrString keeps a JSON payload as it is and quotes anything else, as Lambda records a
// non-JSON payload as a string.
func rawOrString(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	q, _ := json.Marshal(string(b))
	return q
}

var errNoQueue = errors.New("no such queue in the template")

// Replay re-delivers the failed events waiting in the template's queue logicalID, by the same
// code operators run against AWS (infra/ops/replay), through the local Lambda Invoke API.
func (c *Cloud) Replay(ctx context.Context, logicalID string) (replay.Report, error) {
	url, ok := c.Queues[logicalID]
	if !ok {
		return replay.Report{}, fmt.Errorf("%w: %s", errNoQueue, logicalID)
	}
	return replay.Run(ctx, c.SQS, c.Lambda(), url)
}

// Lambda is a Lambda client for the local Lambda Invoke API.
func (c *Cloud) Lambda() *lambda.Client {
	cfg := aws.Config{Region: Stack.Region, Credentials: credentials.StaticCredentialsProvider{Value: c.creds}, HTTPClient: awsx.HTTPClient()}
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(c.SFNURL) })
}

func (c *Cloud) queueDepth(ctx context.Context, url string) (int, error) {
	out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		return 0, fmt.Errorf("queue %s: %w", url, err)
	}
	n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	return n, nil
}
