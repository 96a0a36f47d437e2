// Package httpapi adapts API Gateway HTTP API (payload 2.0) events to the domain: it reads the
// caller from the verified JWT claims, decodes bodies strictly, routes by route key and turns
// domain errors into responses through the one kind → status table.
package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"

	"github.com/aws/aws-lambda-go/events"

	"github.com/facepay/platform/shared/domain"
)

// Request and Response are the HTTP API payload 2.0 event and result.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

// statusOf is the one table from error kind to HTTP status.
var statusOf = map[domain.Kind]int{
	domain.Invalid:         http.StatusBadRequest,
	domain.Unauthenticated: http.StatusUnauthorized,
	domain.Forbidden:       http.StatusForbidden,
	domain.NotFound:        http.StatusNotFound,
	domain.Conflict:        http.StatusConflict,
	domain.TooLarge:        http.StatusRequestEntityTooLarge,
	domain.Unprocessable:   http.StatusUnprocessableEntity,
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail carries the stable code and the caller-safe message.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// JSON returns a response with v encoded as its JSON body.
func JSON(status int, v any) Response {
	body, err := json.Marshal(v)
	if err != nil {
		return Error(context.Background(), err)
	}
	return Response{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}
}

// Error turns err into a response. Internal errors are logged in full and shown as "internal error".
func Error(ctx context.Context, err error) Response {
	status, ok := statusOf[domain.KindOf(err)]
	if !ok {
		status = http.StatusInternalServerError
		slog.ErrorContext(ctx, "request failed", "err", err)
	}
	return JSON(status, ErrorBody{Error: ErrorDetail{Code: domain.CodeOf(err), Message: domain.MessageOf(err)}})
}

// Decode reads req's JSON body into v, refusing unknown fields, trailing data and an empty body
// (Invalid, "invalid_json") and fields longer than their limits (limits.go; Invalid,
// "field_too_long").
func Decode(req Request, v any) error {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return domain.Errorf(domain.Invalid, "invalid_json", "the request body is not valid base64")
		}
		body = b
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return domain.Errorf(domain.Invalid, "invalid_json", "the request body is empty; a JSON object is expected")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return domain.Errorf(domain.Invalid, "invalid_json", "the request body is not valid: %s", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.Errorf(domain.Invalid, "invalid_json", "the request body has data after the JSON object")
	}
	return checkLimits(reflect.ValueOf(v), "", DefaultMaxLength, DefaultMaxItems)
}

// Route handles one route key of a function.
type Route func(ctx context.Context, c domain.Caller, req Request) (Response, error)

// Router dispatches requests by route key ("POST /applications/{id}/attachments") after
// reading the caller. A function that serves several routes is one Router.
type Router map[string]Route

// Handle is the Lambda handler of a function made of routes. Client mistakes become
// responses; the returned error is always nil, so API Gateway never retries a request.
func (rt Router) Handle(ctx context.Context, req Request) (Response, error) {
	route, ok := rt[req.RouteKey]
	if !ok {
		return Error(ctx, domain.Errorf(domain.NotFound, "route_not_found", "no route %q", req.RouteKey)), nil
	}
	c, err := CallerOf(req)
	if err != nil {
		return Error(ctx, err), nil
	}
	resp, err := route(ctx, c, req)
	if err != nil {
		return Error(ctx, err), nil
	}
	return resp, nil
}

// CallerOf returns the caller named by the verified JWT claims (sub, org, role, and the
// optional account_type), or by a Lambda authorizer's context with the same names. It returns an Unauthenticated error when they are missing.
func CallerOf(req Request) (domain.Caller, error) {
	var claims map[string]string
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		claims = a.JWT.Claims
	} else if a != nil && a.Lambda != nil {
		// A Lambda authorizer's context (the factory lines' device authorization code): the
		// same names as the JWT claims, as strings.
		claims = map[string]string{}
		for k, v := range a.Lambda {
			if s, ok := v.(string); ok {
				claims[k] = s
			}
		}
	}
	c := domain.Caller{
		Subject:     claims["sub"],
		Org:         claims["org"],
		Role:        domain.Role(claims["role"]),
		AccountType: claims["account_type"],
	}
	if c.Subject == "" || c.Role == "" {
		return c, domain.Errorf(domain.Unauthenticated, "unauthenticated", "the request carries no verified caller")
	}
	return c, nil
}

// Query returns the query string parameter name, or def when absent.
func Query(req Request, name, def string) string {
	if v, ok := req.QueryStringParameters[name]; ok {
		return v
	}
	return def
}
