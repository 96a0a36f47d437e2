// Package eventstest loads the sample events of events/ (the same files `sam local invoke -e`
// uses) for handler tests, and adjusts API Gateway requests for a test case.
package eventstest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/httpapi"
)

// Dir is the project's events/ folder.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "events")
}

// Load decodes events/<path> into a T and applies mutators in order. It fails t on any
// read or decode error.
func Load[T any](t testing.TB, path string, mutators ...func(*T)) T {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(Dir(), path))
	require.NoError(t, err)
	var ev T
	require.NoError(t, json.Unmarshal(raw, &ev), path)
	for _, m := range mutators {
		m(&ev)
	}
	return ev
}

// WithBody replaces the request body.
func WithBody(body string) func(*httpapi.Request) {
	return func(r *httpapi.Request) { r.Body = body }
}

// WithQuery sets one query string parameter.
func WithQuery(name, value string) func(*httpapi.Request) {
	return func(r *httpapi.Request) {
		if r.QueryStringParameters == nil {
			r.QueryStringParameters = map[string]string{}
		}
		r.QueryStringParameters[name] = value
	}
}

// WithPath sets one path parameter.
func WithPath(name, value string) func(*httpapi.Request) {
	return func(r *httpapi.Request) {
		if r.PathParameters == nil {
			r.PathParameters = map[string]string{}
		}
		r.PathParameters[name] = value
	}
}

// WithClaim sets one verified JWT claim (role, org, account_type...).
func WithClaim(name, value string) func(*httpapi.Request) {
	return func(r *httpapi.Request) { r.RequestContext.Authorizer.JWT.Claims[name] = value }
}
