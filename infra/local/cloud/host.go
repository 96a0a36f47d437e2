package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

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

// Invoke runs a function with a JSON event, as Lambda's synchronous invoke does. A handler
// error comes back as *FunctionError.
func (h *host) Invoke(ctx context.Context, nameOrARN string, payload []byte) ([]byte, error) {
	name := h.resolve(nameOrARN)
	b, err := h.handler(ctx, name)
	if err != nil {
		return nil, err
	}
	if h.injectedFault(name) {
		return nil, &FunctionError{Type: "InjectedFault", Message: "failure injected by the local cloud (FailNext)"}
	}
	out, err := b.Invoke(ctx, payload)
	if err != nil {
		return nil, &FunctionError{Type: errorType(err), Message: err.Error()}
	}
	return out, nil
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
