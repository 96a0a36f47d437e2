// Command baseline is the smallest useful aws-lambda-go function. The bench
// command measures every function's cold start against it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, name string) (string, error) {
	return "hello " + name, nil
}

func main() {
	lambda.StartHandlerFunc(handle)
}
