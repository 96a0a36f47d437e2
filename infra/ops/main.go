// Command ops holds the operators' commands for a deployed stack (and the local cloud, through
// the standard endpoint variables AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_LAMBDA).
//
//	go run ./infra/ops replay -queue-url URL   re-deliver failed events (FailedEventsQueueUrl,
//	                                           ScheduleDeadLetterQueueUrl stack outputs)
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

	"github.com/facepay/platform/infra/ops/replay"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "replay" {
		fmt.Fprintln(os.Stderr, "usage: ops replay -queue-url URL")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("replay", flag.ExitOnError)
	queueURL := fs.String("queue-url", "", "the failure queue's URL (a stack output)")
	_ = fs.Parse(os.Args[2:])
	if *queueURL == "" {
		fmt.Fprintln(os.Stderr, "replay: -queue-url is required")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay: AWS configuration:", err)
		os.Exit(1)
	}
	rep, err := replay.Run(ctx, sqs.NewFromConfig(cfg), lambda.NewFromConfig(cfg), *queueURL)
	out, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Println(string(out))
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
	if len(rep.Unreadable) > 0 {
		os.Exit(1)
	}
}
