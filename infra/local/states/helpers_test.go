package states

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/clock"
	"github.com/facepay/platform/shared/awsx"
)

var testEpoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// testEnv is an executor on a frozen clock behind an httptest server, with an SDK client.
type testEnv struct {
	clk    *clock.Clock
	exec   *Executor
	srv    *httptest.Server
	client *sfn.Client
	lambda *fakeLambda
}

func newEnv(t testing.TB, mod ...func(*Options)) *testEnv {
	t.Helper()
	clk := clock.New(testEpoch)
	fl := &fakeLambda{calls: map[string]int{}}
	opts := Options{Clock: clk, Lambda: fl}
	for _, m := range mod {
		m(&opts)
	}
	ex := New(opts)
	fl.exec = ex
	srv := httptest.NewServer(ex)
	t.Cleanup(func() {
		srv.Close()
		ex.Close()
	})
	return &testEnv{clk: clk, exec: ex, srv: srv, client: sfnClient(srv.URL), lambda: fl}
}

func sfnClient(endpoint string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("x", "x", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkHTTPClient(),
	})
}

// sdkHTTPClient is the HTTP client of every SDK client in these tests: the platform's
// (shared/awsx.HTTPClient), which works around a smithy-go/net/http race.
func sdkHTTPClient() aws.HTTPClient { return awsx.HTTPClient() }

// TestSDKClientSurvivesLateBodyDrain pins awsx.HTTPClient's workaround: the transport's write loop
// draining the request body only after the response has arrived (forced here by a
// connection that lingers after each write and reads slowly) must not cut the response
// body short.
func TestSDKClientSurvivesLateBodyDrain(t *testing.T) {
	env := newEnv(t)
	arn := env.create(t, "late-drain", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	input := `{"blob":"` + strings.Repeat("x", 100<<10) + `"}`
	x := env.start(t, arn, input)
	env.clk.Settle()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return lingeringConn{c}, nil
	}}
	t.Cleanup(tr.CloseIdleConnections)
	client := sfn.New(sfn.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(env.srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("x", "x", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       awsx.WithHTTPClient(&http.Client{Transport: tr}),
	})
	for range 3 {
		d, err := client.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(x)})
		require.NoError(t, err)
		require.Equal(t, sfntypes.ExecutionStatusSucceeded, d.Status)
		require.JSONEq(t, input, aws.ToString(d.Output))
	}
}

// lingeringConn stalls after every write and before every read, so that a response
// arrives while the request's writer is still busy and is read slowly.
type lingeringConn struct{ net.Conn }

func (c lingeringConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	time.Sleep(20 * time.Millisecond)
	return n, err
}

func (c lingeringConn) Read(p []byte) (int, error) {
	time.Sleep(2 * time.Millisecond)
	return c.Conn.Read(p)
}

// create registers a definition through the API and returns the machine ARN.
func (env *testEnv) create(t testing.TB, name, def string) string {
	t.Helper()
	out, err := env.client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/local"),
	})
	require.NoError(t, err)
	return aws.ToString(out.StateMachineArn)
}

func (env *testEnv) start(t testing.TB, arn, input string) string {
	t.Helper()
	out, err := env.client.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(arn), Input: aws.String(input),
	})
	require.NoError(t, err)
	return aws.ToString(out.ExecutionArn)
}

func (env *testEnv) describe(t testing.TB, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	out, err := env.client.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	require.NoError(t, err)
	return out
}

// finish settles the clock and, while the execution runs, advances it by step (at most
// steps times); it returns the final description.
func (env *testEnv) finish(t testing.TB, arn string, step time.Duration, steps int) *sfn.DescribeExecutionOutput {
	t.Helper()
	for i := 0; ; i++ {
		env.clk.Settle()
		d := env.describe(t, arn)
		if d.Status != sfntypes.ExecutionStatusRunning || i >= steps {
			return d
		}
		env.clk.Advance(step)
	}
}

func (env *testEnv) history(t testing.TB, arn string) []sfntypes.HistoryEvent {
	t.Helper()
	var events []sfntypes.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(env.client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		events = append(events, page.Events...)
	}
	return events
}

func eventTypes(events []sfntypes.HistoryEvent) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = string(ev.Type)
	}
	return out
}

// fakeLambda stands in for the local cloud's in-process functions.
type fakeLambda struct {
	exec  *Executor
	mu    sync.Mutex
	calls map[string]int
	// tokens received by "callback" (payload field "token"), newest last
	tokens []string
	// "gauge": invocations in flight now and at most
	inFlight, maxInFlight int
}

// CustomError is a Go error type whose name surfaces as the ASL error name.
type CustomError struct{ Reason string }

func (e *CustomError) Error() string { return e.Reason }

// goErrorType mimics aws-lambda-go's errorType: the type name without package or pointer.
func goErrorType(err error) string {
	s := fmt.Sprintf("%T", err)
	s = strings.TrimPrefix(s, "*")
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func (f *fakeLambda) Invoke(ctx context.Context, fn string, payload []byte) ([]byte, error) {
	name := fn
	if i := strings.Index(fn, ":function:"); i >= 0 {
		name = fn[i+len(":function:"):]
	}
	name, _, _ = strings.Cut(name, ":")
	var in map[string]any
	_ = json.Unmarshal(payload, &in)
	f.mu.Lock()
	f.calls[name]++
	n := f.calls[name]
	f.mu.Unlock()
	switch name {
	case "echo":
		return payload, nil
	case "gauge": // holds a moment to overlap with its siblings; fails when in["fail"] is true
		f.mu.Lock()
		f.inFlight++
		f.maxInFlight = max(f.maxInFlight, f.inFlight)
		f.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
		if in["fail"] == true {
			return nil, &FunctionError{Type: "Refused", Message: fmt.Sprint("refused ", in["key"])}
		}
		return json.Marshal(map[string]any{"key": in["key"], "ok": true})
	case "add":
		a, _ := in["a"].(float64)
		b, _ := in["b"].(float64)
		return json.Marshal(map[string]any{"sum": a + b})
	case "fail":
		err := error(&CustomError{Reason: fmt.Sprint(in["message"])})
		return nil, &FunctionError{Type: goErrorType(err), Message: err.Error()}
	case "flaky": // fails with Transient until called more than in["failures"] times
		k, _ := in["failures"].(float64)
		if n <= int(k) {
			return nil, &FunctionError{Type: "Transient", Message: fmt.Sprintf("attempt %d", n)}
		}
		return json.Marshal(map[string]any{"attempts": n})
	case "callback": // keeps the token; completes it at once when in["complete"] is set
		tok, _ := in["token"].(string)
		f.mu.Lock()
		f.tokens = append(f.tokens, tok)
		f.mu.Unlock()
		if res, ok := in["complete"]; ok {
			b, _ := json.Marshal(res)
			if err := f.exec.SendTaskSuccess(tok, string(b)); err != nil {
				return nil, err
			}
		}
		if msg, ok := in["failWith"].(string); ok {
			if err := f.exec.SendTaskFailure(tok, msg, "callback failed"); err != nil {
				return nil, err
			}
		}
		return []byte(`{"submitted":true}`), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrFunctionNotFound, fn)
}

func (f *fakeLambda) lastToken() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.tokens) == 0 {
		return ""
	}
	return f.tokens[len(f.tokens)-1]
}
