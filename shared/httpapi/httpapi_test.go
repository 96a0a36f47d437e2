package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
)

type sample struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func withClaims(claims map[string]string) httpapi.Request {
	return httpapi.Request{RequestContext: events.APIGatewayV2HTTPRequestContext{
		Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		},
	}}
}

func errorBody(t *testing.T, resp httpapi.Response) httpapi.ErrorDetail {
	t.Helper()
	var b httpapi.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &b), resp.Body)
	return b.Error
}

func TestDecode(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name     string
		body     string
		base64   bool
		want     sample
		wantCode string
	}{
		{"object", `{"name":"a","count":2}`, false, sample{Name: "a", Count: 2}, ""},
		{"trailing whitespace", "{\"name\":\"a\"}\n \t", false, sample{Name: "a"}, ""},
		{"base64 body", b64(`{"name":"b64"}`), true, sample{Name: "b64"}, ""},
		{"unknown field", `{"name":"a","admin":true}`, false, sample{}, "invalid_json"},
		{"trailing object", `{"name":"a"}{"name":"b"}`, false, sample{}, "invalid_json"},
		{"trailing garbage", `{"name":"a"} x`, false, sample{}, "invalid_json"},
		{"empty body", "", false, sample{}, "invalid_json"},
		{"blank body", " \n\t", false, sample{}, "invalid_json"},
		{"empty base64 body", "", true, sample{}, "invalid_json"},
		{"invalid base64", "%%%not-base64", true, sample{}, "invalid_json"},
		{"base64 of garbage", b64(`{"name":`), true, sample{}, "invalid_json"},
		{"base64 with unknown field", b64(`{"x":1}`), true, sample{}, "invalid_json"},
		{"not base64 flagged but encoded", b64(`{"name":"a"}`), false, sample{}, "invalid_json"},
		{"wrong type", `{"count":"two"}`, false, sample{}, "invalid_json"},
		{"array", `[1,2]`, false, sample{}, "invalid_json"},
		{"truncated", `{"name":"a"`, false, sample{}, "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got sample
			err := httpapi.Decode(httpapi.Request{Body: tt.body, IsBase64Encoded: tt.base64}, &got)
			if tt.wantCode == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			assert.Equal(t, domain.Invalid, domain.KindOf(err), "%v", err)
			assert.Equal(t, tt.wantCode, domain.CodeOf(err))
		})
	}
}

func TestCallerOf(t *testing.T) {
	full := map[string]string{"sub": "alice", "org": "org-a", "role": "vendor", "account_type": "service_provider", "iss": "x"}
	tests := []struct {
		name    string
		req     httpapi.Request
		want    domain.Caller
		wantErr bool
	}{
		{"all claims", withClaims(full), domain.Caller{Subject: "alice", Org: "org-a", Role: domain.RoleVendor, AccountType: "service_provider"}, false},
		{"reviewer without org", withClaims(map[string]string{"sub": "rita", "role": "reviewer"}), domain.Caller{Subject: "rita", Role: domain.RoleReviewer}, false},
		{"no authorizer", httpapi.Request{}, domain.Caller{}, true},
		{"no jwt", httpapi.Request{RequestContext: events.APIGatewayV2HTTPRequestContext{
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{}}}, domain.Caller{}, true},
		{"no claims", withClaims(nil), domain.Caller{}, true},
		{"no subject", withClaims(map[string]string{"org": "org-a", "role": "vendor"}), domain.Caller{}, true},
		{"no role", withClaims(map[string]string{"sub": "alice", "org": "org-a"}), domain.Caller{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := httpapi.CallerOf(tt.req)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			assert.Equal(t, domain.Unauthenticated, domain.KindOf(err))
			assert.Equal(t, "unauthenticated", domain.CodeOf(err))
			resp := httpapi.Error(context.Background(), err)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		})
	}
}

// captureLogs sends the default logger to a buffer for the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

func TestRouter(t *testing.T) {
	vendor := map[string]string{"sub": "alice", "org": "org-a", "role": "vendor"}
	var seen domain.Caller
	rt := httpapi.Router{
		"GET /ok": func(_ context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
			seen = c
			return httpapi.JSON(http.StatusOK, map[string]string{"path": req.RawPath}), nil
		},
		"POST /conflict": func(context.Context, domain.Caller, httpapi.Request) (httpapi.Response, error) {
			return httpapi.Response{}, domain.Errorf(domain.Conflict, "not_editable", "it is submitted")
		},
		"POST /wrapped": func(context.Context, domain.Caller, httpapi.Request) (httpapi.Response, error) {
			return httpapi.Response{}, fmt.Errorf("load: %w", domain.Errorf(domain.NotFound, "model_not_found", "model x does not exist"))
		},
		"GET /internal": func(context.Context, domain.Caller, httpapi.Request) (httpapi.Response, error) {
			return httpapi.Response{}, errors.New("dynamodb: secret-table-name throttled")
		},
	}
	tests := []struct {
		name        string
		routeKey    string
		claims      map[string]string
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{"route ok", "GET /ok", vendor, http.StatusOK, "", ""},
		{"unknown route", "DELETE /ok", vendor, http.StatusNotFound, "route_not_found", ""},
		{"unknown route without caller", "GET /nope", nil, http.StatusNotFound, "route_not_found", ""},
		{"no caller", "GET /ok", nil, http.StatusUnauthorized, "unauthenticated", ""},
		{"domain error", "POST /conflict", vendor, http.StatusConflict, "not_editable", "it is submitted"},
		{"wrapped domain error", "POST /wrapped", vendor, http.StatusNotFound, "model_not_found", "model x does not exist"},
		{"internal error", "GET /internal", vendor, http.StatusInternalServerError, "internal", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := captureLogs(t)
			req := withClaims(tt.claims)
			req.RouteKey, req.RawPath = tt.routeKey, "/ok"
			resp, err := rt.Handle(context.Background(), req)
			require.NoError(t, err, "the router never returns an error")
			assert.Equal(t, tt.wantStatus, resp.StatusCode, resp.Body)
			assert.Equal(t, "application/json", resp.Headers["Content-Type"])
			if tt.wantCode == "" {
				assert.JSONEq(t, `{"path":"/ok"}`, resp.Body)
				assert.Equal(t, domain.Caller{Subject: "alice", Org: "org-a", Role: domain.RoleVendor}, seen)
				return
			}
			got := errorBody(t, resp)
			assert.Equal(t, tt.wantCode, got.Code)
			if tt.wantMessage != "" {
				assert.Equal(t, tt.wantMessage, got.Message)
			}
			assert.NotContains(t, resp.Body, "secret-table-name")
			if tt.wantStatus == http.StatusInternalServerError {
				assert.Contains(t, logs.String(), "secret-table-name", "internal errors are logged in full")
			} else {
				assert.Empty(t, logs.String(), "client errors are not logged")
			}
		})
	}
}

func TestError_StatusOfEveryKind(t *testing.T) {
	tests := []struct {
		kind domain.Kind
		want int
	}{
		{domain.Internal, http.StatusInternalServerError},
		{domain.Invalid, http.StatusBadRequest},
		{domain.Unauthenticated, http.StatusUnauthorized},
		{domain.Forbidden, http.StatusForbidden},
		{domain.NotFound, http.StatusNotFound},
		{domain.Conflict, http.StatusConflict},
		{domain.TooLarge, http.StatusRequestEntityTooLarge},
		{domain.Kind(99), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.kind), func(t *testing.T) {
			captureLogs(t)
			resp := httpapi.Error(context.Background(), domain.Errorf(tt.kind, "some_code", "a message"))
			assert.Equal(t, tt.want, resp.StatusCode)
			got := errorBody(t, resp)
			assert.Equal(t, "some_code", got.Code)
		})
	}
	t.Run("plain error", func(t *testing.T) {
		captureLogs(t)
		resp := httpapi.Error(context.Background(), errors.New("boom: credentials expired"))
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		assert.Equal(t, httpapi.ErrorDetail{Code: "internal", Message: "internal error"}, errorBody(t, resp))
	})
}

func TestJSON(t *testing.T) {
	resp := httpapi.JSON(http.StatusCreated, map[string]int{"n": 1})
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Headers["Content-Type"])
	assert.JSONEq(t, `{"n":1}`, resp.Body)

	captureLogs(t)
	bad := httpapi.JSON(http.StatusOK, map[string]any{"f": func() {}})
	assert.Equal(t, http.StatusInternalServerError, bad.StatusCode, "an unencodable value is an internal error")
	assert.Equal(t, httpapi.ErrorDetail{Code: "internal", Message: "internal error"}, errorBody(t, bad))
}

func TestLimit(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]string
		want    int
		wantErr bool
	}{
		{"absent", nil, 50, false},
		{"other params", map[string]string{"cursor": "x"}, 50, false},
		{"min", map[string]string{"limit": "1"}, 1, false},
		{"max", map[string]string{"limit": "100"}, 100, false},
		{"zero", map[string]string{"limit": "0"}, 0, true},
		{"negative", map[string]string{"limit": "-1"}, 0, true},
		{"too large", map[string]string{"limit": "101"}, 0, true},
		{"not a number", map[string]string{"limit": "ten"}, 0, true},
		{"empty", map[string]string{"limit": ""}, 0, true},
		{"fraction", map[string]string{"limit": "1.5"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := httpapi.Limit(httpapi.Request{QueryStringParameters: tt.params}, 50)
			if tt.wantErr {
				assert.Equal(t, domain.Invalid, domain.KindOf(err))
				assert.Equal(t, "invalid_limit", domain.CodeOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestQuery(t *testing.T) {
	req := httpapi.Request{QueryStringParameters: map[string]string{"status": "decided", "empty": ""}}
	assert.Equal(t, "decided", httpapi.Query(req, "status", "pending"))
	assert.Equal(t, "", httpapi.Query(req, "empty", "def"), "present but empty is not absent")
	assert.Equal(t, "pending", httpapi.Query(req, "missing", "pending"))
	assert.Equal(t, "def", httpapi.Query(httpapi.Request{}, "x", "def"))
}
