// Package reconcile runs the reconciliation sweep on demand: it invokes the sweep's function
// synchronously, as the daily schedule would asynchronously, and returns the function's
// result (what it found and fixed), so an operator sees the answer at once.
package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Invoker is the part of Lambda reconcile uses.
type Invoker interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Run invokes function (the ReconcileFunction's name or ARN) with an operator's event ({}:
// act as of now) and returns its result as indented JSON. A handler error is an error carrying
// the function's error payload.
func Run(ctx context.Context, fn Invoker, function string) ([]byte, error) {
	out, err := fn.Invoke(ctx, &lambda.InvokeInput{FunctionName: &function,
		InvocationType: lambdatypes.InvocationTypeRequestResponse, Payload: []byte("{}")})
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", function, err)
	}
	if out.FunctionError != nil {
		return nil, fmt.Errorf("%s failed (%s): %s", function, *out.FunctionError, out.Payload)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out.Payload, "", "  "); err != nil {
		return nil, fmt.Errorf("%s answered something other than JSON: %w", function, err)
	}
	return pretty.Bytes(), nil
}
