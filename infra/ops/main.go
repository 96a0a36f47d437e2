// Command ops holds the operators' commands for a deployed stack (and the local cloud, through
// the standard endpoint variables AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_LAMBDA).
//
//	go run ./infra/ops replay -queue-url URL      re-deliver failed events (FailedEventsQueueUrl,
//	                                              ScheduleDeadLetterQueueUrl stack outputs)
//	go run ./infra/ops reconcile -function NAME   run the reconciliation sweep now and print what
//	                                              it fixed (ReconcileFunctionName stack output)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/facepay/platform/infra/ops/reconcile"
	"github.com/facepay/platform/infra/ops/replay"
)

const usage = "usage: ops replay -queue-url URL | ops reconcile -function NAME"

func main() {
	if len(os.Args) < 2 {
		fail(2, usage)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fail(1, "AWS configuration:", err)
	}
	switch cmd := os.Args[1]; cmd {
	case "replay":
		fs := flag.NewFlagSet(cmd, flag.ExitOnError)
		queueURL := fs.String("queue-url", "", "the failure queue's URL (a stack output)")
		_ = fs.Parse(os.Args[2:])
		if *queueURL == "" {
			fail(2, "replay: -queue-url is required")
		}
		rep, err := replay.Run(ctx, sqs.NewFromConfig(cfg), lambda.NewFromConfig(cfg), *queueURL)
		printJSON(rep)
		if err != nil {
			fail(1, "replay:", err)
		}
		if len(rep.Unreadable) > 0 {
			os.Exit(1)
		}
	case "reconcile":
		fs := flag.NewFlagSet(cmd, flag.ExitOnError)
		function := fs.String("function", "ReconcileFunction", "the sweep's function name or ARN (the ReconcileFunctionName stack output)")
		_ = fs.Parse(os.Args[2:])
		res, err := reconcile.Run(ctx, lambda.NewFromConfig(cfg), *function)
		if err != nil {
			fail(1, "reconcile:", err)
		}
		fmt.Println(string(res))
	default:
		fail(2, usage)
	}
}

func printJSON(v any) {
	out, _ := json.MarshalIndent(v, "", "  ")
	fmt.Println(string(out))
}

func fail(code int, msg ...any) {
	fmt.Fprintln(os.Stderr, msg...)
	os.Exit(code)
}
