package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Contract is the OpenAPI document (infra/openapi.yaml) as the local cloud enforces it, with
// kin-openapi: the gateway validates every request against it before any function runs, and
// end-to-end tests validate every response they receive (cloudtest), so code and document
// cannot drift apart.
//
// AWS's HTTP API does not validate requests against the document: there the functions'
// own checks (shared/httpapi.Decode's limits, the domain's rules) are all there is, and they
// mirror everything the document says. Locally the function still runs, so a refusal carries
// the function's own code as in production; but a request the document refuses that the
// function accepts is answered 400 {"error":{"code":"invalid_request",...}} (and logged):
// the function lacks a check, and tests see it.
type Contract struct {
	doc *openapi3.T
}

// LoadContract reads and validates the OpenAPI document at path.
func LoadContract(ctx context.Context, path string) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", path, err)
	}
	return &Contract{doc: doc}, nil
}

var contractOptions = &openapi3filter.Options{
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, // the gateway verifies the JWT itself
	MultiError:         false,
}

// route finds the document's operation for method and a concrete path: a literal segment
// beats a parameter, as API Gateway prefers the most specific route.
func (c *Contract) route(method, path string) (*routers.Route, map[string]string, error) {
	segs := split(path)
	var best *routers.Route
	var bestParams map[string]string
	bestScore := -1
	for tmpl, item := range c.doc.Paths.Map() {
		op := item.GetOperation(method)
		parts := split(tmpl)
		if op == nil || len(parts) != len(segs) {
			continue
		}
		score, params, ok := 0, map[string]string{}, true
		for i, p := range parts {
			if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
				params[p[1:len(p)-1]] = segs[i]
				continue
			}
			if p != segs[i] {
				ok = false
				break
			}
			score++
		}
		if ok && score > bestScore {
			best = &routers.Route{Spec: c.doc, Path: tmpl, PathItem: item, Method: method, Operation: op}
			bestParams, bestScore = params, score
		}
	}
	if best == nil {
		return nil, nil, fmt.Errorf("%s %s is not in the OpenAPI document", method, path)
	}
	return best, bestParams, nil
}

// ValidateRequest checks req, whose body is body, against the document. A nil Contract (a
// gateway built for a test without a document) accepts everything.
func (c *Contract) ValidateRequest(ctx context.Context, req *http.Request, body []byte) error {
	if c == nil {
		return nil
	}
	rt, params, err := c.route(req.Method, req.URL.Path)
	if err != nil {
		return err
	}
	r := req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params, Route: rt, Options: contractOptions,
	})
}

// ValidateResponse checks a response to req (status, headers, body) against the document:
// its status must be one the operation lists, its body must match that response's schema,
// and an error's code must be one of the operation's x-error-codes.
func (c *Contract) ValidateResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	rt, params, err := c.route(req.Method, req.URL.Path)
	if err != nil {
		return err
	}
	if code := errorCode(body); code != "" {
		if codes := append(declaredCodes(c.doc.Extensions), declaredCodes(rt.Operation.Extensions)...); !slices.Contains(codes, code) {
			return fmt.Errorf("error code %q is not among the x-error-codes of %s %s (%s)", code, rt.Method, rt.Path, strings.Join(codes, ", "))
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: rt, Options: contractOptions},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(ctx, in)
}

// ErrorCodeOf returns the operation (method and path template) that serves req and the error
// code of body ("" for a success).
func (c *Contract) ErrorCodeOf(req *http.Request, body []byte) (operation, code string) {
	rt, _, err := c.route(req.Method, req.URL.Path)
	if err != nil {
		return "", ""
	}
	return rt.Method + " " + rt.Path, errorCode(body)
}

func errorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

// declaredCodes is the x-error-codes (an operation's) or x-common-error-codes (the
// document's) among ext: the codes errors may carry.
func declaredCodes(ext map[string]any) []string {
	raw, _ := ext["x-error-codes"].([]any)
	if common, ok := ext["x-common-error-codes"].([]any); ok {
		raw = common
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
