package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/facepay/platform/infra/local/template"
	"github.com/facepay/platform/shared/lambdafn"
)

// FunctionError is a handler's error as Lambda reports it: the Go type name and the message.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// host runs the template's functions in-process, each built once (its cold start) with the
// template's environment pointed at the local engines.
type host struct {
	mu        sync.Mutex
	functions map[string]template.Function // by name
	arns      map[string]string            // ARN → name
	built     map[string]lambda.Handler
	deps      func(template.Function) lambdafn.Deps
	faults    map[string]int // name → invocations still to fail (FailNext)
}

func newHost(t *template.Template, deps func(template.Function) lambdafn.Deps) (*host, error) {
	h := &host{functions: map[string]template.Function{}, arns: map[string]string{}, built: map[string]lambda.Handler{}, deps: deps,
		faults: map[string]int{}}
	for _, f := range t.Functions {
		if _, ok := Functions[f.CodeURI]; !ok {
			return nil, fmt.Errorf("function %s: no constructor registered for %s in infra/local/cloud/functions.go", f.LogicalID, f.CodeURI)
		}
		h.functions[f.Name] = f
		h.arns[f.ARN] = f.Name
	}
	return h, nil
}

// start builds every function now, so bad configuration fails the start, as a deploy would.
func (h *host) start(ctx context.Context) error {
	for name := range h.functions {
		if _, err := h.handler(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (h *host) handler(ctx context.Context, name string) (lambda.Handler, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.built[name]; ok {
		return b, nil
	}
	f, ok := h.functions[name]
	if !ok {
		return nil, fmt.Errorf("function %s does not exist", name)
	}
	b, err := Functions[f.CodeURI](ctx, h.deps(f))
	if err != nil {
		return nil, fmt.Errorf("function %s: cold start: %w", f.LogicalID, err)
	}
	h.built[name] = b
	return b, nil
}

// resolve turns a function name, ARN, or ARN with a version/alias suffix into a name.
func (h *host) resolve(nameOrARN string) string {
	if n, ok := h.arns[nameOrARN]; ok {
		return n
	}
	if strings.HasPrefix(nameOrARN, "arn:") {
		parts := strings.Split(nameOrARN, ":")
		if len(parts) >= 7 {
			return parts[6]
		}
	}
	return nameOrARN
}

// MaxPayload is Lambda's limit on a synchronous invocation's request and on its response:
// 6 MB each (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). Lambda
// refuses a larger request with RequestEntityTooLargeException (413) and fails a larger
// response with Function.ResponseSizeTooLarge.
const MaxPayload = 6 << 20

// PayloadTooLargeError is Lambda refusing a request above MaxPayload: the function never ran.
type PayloadTooLargeError struct{ Size int }

func (e *PayloadTooLargeError) Error() string {
	return fmt.Sprintf("RequestEntityTooLargeException: request must be smaller than %d bytes for the InvokeFunction operation (got %d)", MaxPayload, e.Size)
}

// Invoke runs a function with a JSON event, as Lambda's synchronous invoke does, within
// Lambda's limits: a request above MaxPayload is refused (*PayloadTooLargeError); a handler
// still running at the function's timeout fails with Sandbox.Timedout, a response above
// MaxPayload with Function.ResponseSizeTooLarge, a handler error with its Go type name, each
// as *FunctionError. As in Lambda, a caller that goes away does not cancel the invocation:
// the handler's context ends only at the function's timeout.
func (h *host) Invoke(ctx context.Context, nameOrARN string, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return nil, &PayloadTooLargeError{Size: len(payload)}
	}
	name := h.resolve(nameOrARN)
	b, err := h.handler(ctx, name)
	if err != nil {
		return nil, err
	}
	if h.injectedFault(name) {
		return nil, &FunctionError{Type: "InjectedFault", Message: "failure injected by the local cloud (FailNext)"}
	}
	timeout := h.functions[name].Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second // Lambda's default
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: &FunctionError{Type: "Runtime.ExitError", Message: fmt.Sprintf("panic: %v", v)}}
			}
		}()
		out, err := b.Invoke(ctx, payload)
		done <- result{out, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		// The handler goroutine is abandoned, as Lambda abandons (and resets) a timed-out
		// environment; its late result goes nowhere.
		return nil, &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("Task timed out after %.2f seconds", timeout.Seconds())}
	}
	var fe *FunctionError
	switch {
	case errors.As(r.err, &fe):
		return nil, fe
	case r.err != nil:
		return nil, &FunctionError{Type: errorType(r.err), Message: r.err.Error()}
	case len(r.out) > MaxPayload:
		return nil, &FunctionError{Type: "Function.ResponseSizeTooLarge",
			Message: fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", len(r.out), MaxPayload)}
	}
	return r.out, nil
}

// failNext makes the next n invocations of function fail with an InjectedFault error, before
// its handler runs, so the retry and failure-destination paths can be exercised.
func (h *host) failNext(function string, n int) error {
	name := h.resolve(function)
	if _, ok := h.functions[name]; !ok {
		return fmt.Errorf("function %s does not exist", function)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults[name] = n
	return nil
}

// faultsLeft is how many injected failures of function are still to come.
func (h *host) faultsLeft(function string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.faults[h.resolve(function)]
}

func (h *host) injectedFault(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.faults[name] > 0 {
		h.faults[name]--
		return true
	}
	return false
}

// invokeJSON marshals event, invokes and decodes the result into out (when not nil).
func (h *host) invokeJSON(ctx context.Context, name string, event, out any) error {
	payload, err := json.Marshal(event)
	if err != nil {
		return err
	}
	res, err := h.Invoke(ctx, name, payload)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(res, out)
}

// errorType is the name Lambda reports for a Go error: its type's name, without the pointer.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
