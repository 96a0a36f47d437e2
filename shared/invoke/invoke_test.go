package invoke

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/awsx"
)

// Call speaks Lambda's Invoke API: a signed POST to the function's invocations path, the
// result decoded, a handler error (X-Amz-Function-Error) told apart from a failed call.
func TestCall(t *testing.T) {
	var got *http.Request
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		switch {
		case strings.Contains(r.URL.Path, "/Broken/"):
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = w.Write([]byte(`{"errorType":"InvalidEvent","errorMessage":"no slot"}`))
		case strings.Contains(r.URL.Path, "/Missing/"):
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Function not found"}`))
		default:
			_, _ = w.Write([]byte(`{"answer":42}`))
		}
	}))
	defer srv.Close()
	c := NewClient(awsx.Settings{Region: "us-east-1", AccessKeyID: "AKID", SecretAccessKey: "secret", LambdaURL: srv.URL})

	var out struct{ Answer int }
	require.NoError(t, c.Call(context.Background(), "Fn", map[string]string{"q": "life"}, &out))
	assert.Equal(t, 42, out.Answer)
	assert.Equal(t, "/2015-03-31/functions/Fn/invocations", got.URL.Path)
	assert.Equal(t, "RequestResponse", got.Header.Get("X-Amz-Invocation-Type"))
	assert.Contains(t, got.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKID/", "SigV4-signed")
	assert.Contains(t, got.Header.Get("Authorization"), "/us-east-1/lambda/aws4_request")
	assert.JSONEq(t, `{"q":"life"}`, gotBody)

	err := c.Call(context.Background(), "Broken", nil, &out)
	var fe *FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "InvalidEvent", fe.Type)
	assert.Equal(t, "no slot", fe.Message)

	err = c.Call(context.Background(), "Missing", nil, &out)
	require.Error(t, err)
	assert.False(t, json.Valid([]byte(err.Error())))
	assert.NotErrorAs(t, err, &fe, "a failed call is not a handler error")
	assert.Contains(t, err.Error(), "ResourceNotFoundException")
}

func TestNewClientUsesTheRegionalEndpointByDefault(t *testing.T) {
	c := NewClient(awsx.Settings{Region: "ap-east-1"})
	assert.Equal(t, "https://lambda.ap-east-1.amazonaws.com", c.endpoint)
}

// Event queues the event (InvocationType Event): accepted is 202; anything else, including a
// synchronous-looking 200, is an error, so a caller never believes an event queued that was not.
func TestEvent(t *testing.T) {
	var got *http.Request
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		switch {
		case strings.Contains(r.URL.Path, "/Missing/"):
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
		case strings.Contains(r.URL.Path, "/Sync/"):
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer srv.Close()
	c := NewClient(awsx.Settings{Region: "us-east-1", AccessKeyID: "AKID", SecretAccessKey: "secret", LambdaURL: srv.URL})

	require.NoError(t, c.Event(context.Background(), "Fn", map[string]string{"q": "life"}))
	assert.Equal(t, "/2015-03-31/functions/Fn/invocations", got.URL.Path)
	assert.Equal(t, "Event", got.Header.Get("X-Amz-Invocation-Type"))
	assert.Contains(t, got.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKID/")
	assert.JSONEq(t, `{"q":"life"}`, gotBody)

	err := c.Event(context.Background(), "Missing", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ResourceNotFoundException")
	assert.Error(t, c.Event(context.Background(), "Sync", nil))
}
