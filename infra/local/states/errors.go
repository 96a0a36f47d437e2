package states

import "fmt"

// Error names defined by the Amazon States Language (all start with "States.").
const (
	errALL                    = "States.ALL"
	errTaskFailed             = "States.TaskFailed"
	errTimeout                = "States.Timeout"
	errHeartbeatTimeout       = "States.HeartbeatTimeout"
	errRuntime                = "States.Runtime"
	errDataLimitExceeded      = "States.DataLimitExceeded"
	errPermissions            = "States.Permissions"
	errResultPathMatchFailure = "States.ResultPathMatchFailure"
	errParameterPathFailure   = "States.ParameterPathFailure"
	errBranchFailed           = "States.BranchFailed"
	errNoChoiceMatched        = "States.NoChoiceMatched"
	errIntrinsicFailure       = "States.IntrinsicFailure"
	errItemReaderFailed       = "States.ItemReaderFailed"
	errExceedToleratedFailure = "States.ExceedToleratedFailureThreshold"
	errResultWriterFailed     = "States.ResultWriterFailed"
	errQueryEvaluationError   = "States.QueryEvaluationError"
)

// stateError is an error raised inside an execution: a name that Retry and Catch match
// and a human-readable cause.
type stateError struct {
	Name  string
	Cause string
}

func (e *stateError) Error() string { return e.Name + ": " + e.Cause }

func newErr(name, format string, args ...any) *stateError {
	return &stateError{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// terminal reports whether the error can be neither retried nor caught.
func (e *stateError) terminal() bool {
	return e.Name == errRuntime || e.Name == errDataLimitExceeded
}

// matches reports whether a retrier's or catcher's ErrorEquals list matches e.
// States.ALL matches every error except the terminal ones; States.TaskFailed matches every
// error except States.Timeout (and the terminal ones); other names match exactly.
func (e *stateError) matches(errorEquals []string) bool {
	if e.terminal() {
		return false
	}
	for _, name := range errorEquals {
		switch {
		case name == errALL:
			return true
		case name == e.Name:
			return true
		case name == errTaskFailed && e.Name != errTimeout:
			return true
		}
	}
	return false
}

// errorOutput is the JSON object a Catch passes on: {"Error": ..., "Cause": ...}.
func (e *stateError) errorOutput() any {
	return map[string]any{"Error": e.Name, "Cause": e.Cause}
}
