package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/template"
	"github.com/facepay/platform/shared/lambdafn"
)

// limitsAPI serves one route, POST /fn, wired to handle through the real gateway and host.
// invoked counts the invocations that reached the handler.
func limitsAPI(t *testing.T, fnTimeout, routeTimeout time.Duration,
	handle func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)) (url, token string, invoked *atomic.Int32) {
	t.Helper()
	invoked = new(atomic.Int32)
	code := "test/" + t.Name()
	Functions[code] = func(context.Context, lambdafn.Deps) (lambda.Handler, error) {
		return lambda.NewHandler(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			invoked.Add(1)
			return handle(ctx, ev)
		}), nil
	}
	t.Cleanup(func() { delete(Functions, code) })
	tpl := &template.Template{Functions: []template.Function{{
		LogicalID: "Fn", Name: "Fn", ARN: "arn:aws:lambda:us-east-1:000000000000:function:Fn", CodeURI: code, Timeout: fnTimeout,
		Routes: []template.Route{{Method: "POST", Path: "/fn", Timeout: routeTimeout}},
	}}}
	h, err := newHost(tpl, func(template.Function) lambdafn.Deps { return lambdafn.Deps{} })
	require.NoError(t, err)
	require.NoError(t, h.start(context.Background())) // cold start now, as the cloud does: Functions is not read again
	auth, err := NewAuthority("", "https://issuer.test", "facepay")
	require.NoError(t, err)
	srv := httptest.NewServer(newGateway(tpl, map[string]template.Operation{"POST /fn": {Method: "POST", Path: "/fn"}}, nil, auth, h))
	t.Cleanup(srv.Close)
	token, err = auth.Token(Identity{Subject: "s", Org: "o", Role: "vendor"}, time.Hour)
	require.NoError(t, err)
	return srv.URL + "/fn", token, invoked
}

func post(t *testing.T, url, token, contentType string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// jsonBody is a JSON document of about n bytes.
func jsonBody(n int) []byte {
	b, _ := json.Marshal(map[string]string{"data": strings.Repeat("x", n-12)})
	return b
}

func echoSize(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	b, _ := json.Marshal(map[string]int{"bodyBytes": len(ev.Body)})
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(b)}, nil
}

// Lambda refuses a synchronous invocation whose event is above 6 MB, and the HTTP API any body
// above 10 MB: both are 413 and the function never runs. Below the limits it runs.
func TestGateway_PayloadLimits(t *testing.T) {
	// A generous timeout: this is about sizes, and decoding a 5 MB event under -race on a loaded
	// machine took more than 3 s (the function timed out before it ran).
	url, token, invoked := limitsAPI(t, 60*time.Second, 0, echoSize)

	status, body := post(t, url, token, "application/json", jsonBody(5<<20))
	assert.Equal(t, http.StatusOK, status, body)
	assert.EqualValues(t, 1, invoked.Load())

	for _, tc := range []struct {
		name, contentType string
		body              []byte
	}{
		{"a 6.4 MB JSON body: the event is above Lambda's 6 MB", "application/json", jsonBody(6_400_000)},
		{"a 4.8 MB binary body: base64 in the event makes it 6.4 MB", "application/octet-stream", bytes.Repeat([]byte{0xff}, 4_800_000)},
		{"an 11 MB body: above the HTTP API's 10 MB", "application/json", jsonBody(11 << 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, url, token, tc.contentType, tc.body)
			assert.Equal(t, http.StatusRequestEntityTooLarge, status)
			assert.JSONEq(t, `{"message":"Request Entity Too Large"}`, body)
		})
	}
	assert.EqualValues(t, 1, invoked.Load(), "refused requests never reach the function")
}

// A response above 6 MB is a Lambda error (Function.ResponseSizeTooLarge): the client gets
// the HTTP API's 500, never the oversized body.
func TestGateway_ResponseSizeLimit(t *testing.T) {
	url, token, _ := limitsAPI(t, 3*time.Second, 0, func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: strings.Repeat("x", 6<<20)}, nil
	})
	status, body := post(t, url, token, "application/json", []byte(`{}`))
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.JSONEq(t, `{"message":"Internal Server Error"}`, body)
}

// A function still running at its timeout fails (its context ends then): 500. A function that
// outlasts the route's integration timeout: 503, as HTTP APIs answer.
func TestGateway_Timeouts(t *testing.T) {
	waitForDeadline := func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		<-ctx.Done()
		time.Sleep(time.Second) // past the deadline, as a handler that ignores it would
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	}
	t.Run("function timeout", func(t *testing.T) {
		url, token, _ := limitsAPI(t, 200*time.Millisecond, 30*time.Second, waitForDeadline)
		status, body := post(t, url, token, "application/json", []byte(`{}`))
		assert.Equal(t, http.StatusInternalServerError, status)
		assert.JSONEq(t, `{"message":"Internal Server Error"}`, body)
	})
	t.Run("integration timeout", func(t *testing.T) {
		url, token, _ := limitsAPI(t, 30*time.Second, 200*time.Millisecond, func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		})
		status, body := post(t, url, token, "application/json", []byte(`{}`))
		assert.Equal(t, http.StatusServiceUnavailable, status)
		assert.JSONEq(t, `{"message":"Service Unavailable"}`, body)
	})
}

// Lambda's limits hold for every synchronous caller (Step Functions, tests), not only the
// gateway, and the handler sees the timeout as its context's deadline.
func TestHost_Limits(t *testing.T) {
	var deadline time.Duration
	code := "test/host-limits"
	Functions[code] = func(context.Context, lambdafn.Deps) (lambda.Handler, error) {
		return lambda.NewHandler(func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			d, _ := ctx.Deadline()
			deadline = time.Until(d)
			if string(in) == `"panic"` {
				panic("boom")
			}
			return in, nil
		}), nil
	}
	t.Cleanup(func() { delete(Functions, code) })
	h, err := newHost(&template.Template{Functions: []template.Function{{Name: "Fn", CodeURI: code, Timeout: 15 * time.Second}}},
		func(template.Function) lambdafn.Deps { return lambdafn.Deps{} })
	require.NoError(t, err)
	require.NoError(t, h.start(context.Background()))

	out, err := h.Invoke(context.Background(), "Fn", []byte(`"hi"`))
	require.NoError(t, err)
	assert.Equal(t, `"hi"`, string(out))
	assert.InDelta(t, 15*time.Second, deadline, float64(time.Second), "the function's timeout is its context's deadline")

	big, _ := json.Marshal(strings.Repeat("x", MaxPayload))
	_, err = h.Invoke(context.Background(), "Fn", big)
	var tooLarge *PayloadTooLargeError
	assert.ErrorAs(t, err, &tooLarge)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = h.Invoke(ctx, "Fn", []byte(`"hi"`))
	assert.NoError(t, err, "a caller's cancellation does not cancel an invocation")

	_, err = h.Invoke(context.Background(), "Fn", []byte(`"panic"`))
	var fe *FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Runtime.ExitError", fe.Type)
}
