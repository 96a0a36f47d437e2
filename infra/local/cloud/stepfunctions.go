package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/facepay/platform/infra/local/states"
)

// stepFunctions is the Step Functions engine the local cloud serves: the JSON API on its own
// port, state machines registered from the template.
type stepFunctions interface {
	http.Handler
	Close()
}

// lambdaInvoker lets the executor call the in-process functions; a handler's error reaches
// the executor with its Go type name, as Lambda reports it (what ASL Retry/Catch match).
type lambdaInvoker struct{ host *host }

func (l lambdaInvoker) Invoke(ctx context.Context, functionName string, payload []byte) ([]byte, error) {
	out, err := l.host.Invoke(ctx, functionName, payload)
	var fe *FunctionError
	if errors.As(err, &fe) {
		return nil, &states.FunctionError{Type: fe.Type, Message: fe.Message}
	}
	return out, err
}

// newStepFunctions starts the embedded executor on the virtual clock and registers every
// state machine of the template with its DefinitionSubstitutions applied.
func newStepFunctions(ctx context.Context, c *Cloud) (stepFunctions, error) {
	ex := states.New(states.Options{
		Clock: c.Clock, Lambda: lambdaInvoker{host: c.host}, DynamoDB: c.DynamoDB, S3: c.S3,
		Region: Stack.Region, AccountID: Stack.AccountID,
	})
	for _, sm := range c.Template.StateMachines {
		def, err := sm.Definition(c.Template.Dir)
		if err != nil {
			ex.Close()
			return nil, err
		}
		arn, err := ex.CreateStateMachine(sm.Name, def, fmt.Sprintf("arn:aws:iam::%s:role/%s-role", Stack.AccountID, sm.Name))
		if err != nil {
			ex.Close()
			return nil, fmt.Errorf("state machine %s: %w", sm.LogicalID, err)
		}
		if arn != sm.ARN {
			ex.Close()
			return nil, fmt.Errorf("state machine %s registered as %s, but the template resolves it to %s", sm.LogicalID, arn, sm.ARN)
		}
	}
	return ex, nil
}
