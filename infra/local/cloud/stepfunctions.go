package cloud

import (
	"context"
	"net/http"
)

// stepFunctions is the seam for the embedded Step Functions executor: the Step Functions JSON
// API, plus registration of the template's state machines.
type stepFunctions interface {
	http.Handler
	Close()
}

type noStepFunctions struct{}

func (noStepFunctions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotImplemented, map[string]string{"message": "no Step Functions executor"})
}
func (noStepFunctions) Close() {}

func newStepFunctions(ctx context.Context, c *Cloud) (stepFunctions, error) {
	return noStepFunctions{}, nil
}
