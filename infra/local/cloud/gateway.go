package cloud

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/facepay/platform/infra/local/template"
)

// gateway is the local HTTP API: it routes each request to the function the template wires to
// its route, refuses what the OpenAPI document does not describe, verifies the bearer token as
// the JWT authorizer would, and passes the claims in a payload 2.0 event.
type gateway struct {
	routes   []gwRoute
	ops      map[string]template.Operation
	contract *Contract
	auth     *Authority
	host     *host
	stage    string
	lambdas  map[string]template.LambdaAuthorizer // the API's Lambda authorizers by name
	cache    authorizerCache
}

type gwRoute struct {
	method   string
	segments []string // "{id}" marks a parameter
	key      string
	function string
	timeout  time.Duration // the integration timeout
	// authorizer names the route's Lambda authorizer ("" : the JWT authorizer).
	authorizer string
}

// maxBody is the HTTP API's limit on a request body; above it the gateway answers 413 without
// invoking anything (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
// The event built from a smaller body may still exceed Lambda's 6 MB (MaxPayload): Lambda
// refuses that one, and the client gets 413 as well.
const maxBody = 10 << 20

func newGateway(t *template.Template, ops map[string]template.Operation, contract *Contract, auth *Authority, h *host) *gateway {
	g := &gateway{ops: ops, contract: contract, auth: auth, host: h, stage: "$default", lambdas: map[string]template.LambdaAuthorizer{},
		cache: authorizerCache{entries: map[string]authorizerEntry{}}}
	def := ""
	if len(t.APIs) > 0 {
		g.lambdas, def = t.APIs[0].LambdaAuthorizers, t.APIs[0].DefaultAuthorizer
	}
	for _, f := range t.Functions {
		for _, r := range f.Routes {
			timeout := r.Timeout
			if timeout <= 0 {
				timeout = 30 * time.Second
			}
			name := r.Authorizer
			if name == "" {
				name = def
			}
			if _, ok := g.lambdas[name]; !ok {
				name = ""
			}
			g.routes = append(g.routes, gwRoute{method: r.Method, segments: split(r.Path), key: r.Key(), function: f.Name, timeout: timeout, authorizer: name})
		}
	}
	return g
}

func split(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// match finds the route for method and path; a literal segment beats a parameter, as API
// Gateway prefers the most specific route. found reports whether the path exists at all.
func (g *gateway) match(method, path string) (r *gwRoute, params map[string]string, found bool) {
	segs := split(path)
	bestScore := -1
	for i := range g.routes {
		rt := &g.routes[i]
		if len(rt.segments) != len(segs) {
			continue
		}
		score, p, ok := 0, map[string]string{}, true
		for j, s := range rt.segments {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				if segs[j] == "" {
					ok = false
					break
				}
				p[s[1:len(s)-1]] = segs[j]
				continue
			}
			if s != segs[j] {
				ok = false
				break
			}
			score++
		}
		if !ok {
			continue
		}
		found = true
		if rt.method == method && score > bestScore {
			r, params, bestScore = rt, p, score
		}
	}
	return r, params, found
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rt, params, found := g.match(req.Method, req.URL.Path)
	if rt == nil {
		// API Gateway answers an unknown route with 404 {"message":"Not Found"}.
		status := http.StatusNotFound
		if found {
			status = http.StatusMethodNotAllowed
		}
		writeJSON(w, status, map[string]string{"message": http.StatusText(status)})
		return
	}
	if _, ok := g.ops[rt.key]; !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found (route not in the OpenAPI document)"})
		return
	}
	var authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
	if rt.authorizer != "" {
		var status int
		if authz, status = g.authorizeLambda(req, rt, params); authz == nil {
			writeJSON(w, status, map[string]string{"message": http.StatusText(status)})
			return
		}
	} else {
		token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		claims, err := g.auth.Verify(strings.TrimSpace(token))
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		authz = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "Request Entity Too Large"})
		return
	}
	// AWS's HTTP API does not validate requests (see Contract), so the function runs either
	// way and a refusal keeps the function's own code, as in production. A request the
	// document refuses must not succeed, though: if the function accepts it, the function
	// lacks a check the document states, and the answer is 400 invalid_request.
	invalid := g.contract.ValidateRequest(req.Context(), req, body)
	resp, err := g.invoke(req, rt, g.event(req, rt, params, authz, body))
	var tooLarge *PayloadTooLargeError
	switch {
	case errors.As(err, &tooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "Request Entity Too Large"})
		return
	case errors.Is(err, errIntegrationTimeout):
		// HTTP APIs answer an integration timeout with 503 (REST APIs with 504); the function
		// keeps running until its own timeout, as in AWS.
		slog.Warn("integration timeout", "function", rt.function, "route", rt.key, "after", rt.timeout)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "Service Unavailable"})
		return
	case err != nil:
		slog.Error("function failed", "function", rt.function, "route", rt.key, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal Server Error"})
		return
	}
	if invalid != nil && (resp.StatusCode < 400 || resp.StatusCode >= 500) {
		slog.Error("a request the API document refuses was not refused by its function", "route", rt.key,
			"status", resp.StatusCode, "err", invalid)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{
			"code": "invalid_request", "message": "the request does not match the API document: " + invalid.Error()}})
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	out := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if out, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Internal Server Error"})
			return
		}
	}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

var errIntegrationTimeout = errors.New("integration timeout")

// invoke runs rt's function with ev and waits for it at most the route's integration timeout.
func (g *gateway) invoke(req *http.Request, rt *gwRoute, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	type result struct {
		resp events.APIGatewayV2HTTPResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.err = g.host.invokeJSON(req.Context(), rt.function, ev, &r.resp)
		done <- r
	}()
	timer := time.NewTimer(rt.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.resp, r.err
	case <-timer.C:
		return events.APIGatewayV2HTTPResponse{}, errIntegrationTimeout
	}
}

// event builds the payload 2.0 event API Gateway sends for req.
func (g *gateway) event(req *http.Request, rt *gwRoute, params map[string]string, authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription, body []byte) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, vs := range req.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	var query map[string]string
	if q := req.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	var cookies []string
	for _, c := range req.Cookies() {
		cookies = append(cookies, c.String())
	}
	if len(params) == 0 {
		params = nil
	}
	now := time.Now().UTC()
	ip, _, _ := net.SplitHostPort(req.RemoteAddr)
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.key,
		RawPath:               req.URL.Path,
		RawQueryString:        req.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   rt.key,
			AccountID:  "000000000000",
			Stage:      g.stage,
			RequestID:  requestID(),
			APIID:      "local",
			DomainName: req.Host,
			Time:       now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			Authorizer: authz,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: req.Method, Path: req.URL.Path, Protocol: req.Proto, SourceIP: ip, UserAgent: req.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if textual(req.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// textual reports whether API Gateway passes a body of this type as text (otherwise base64).
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return contentType == ""
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "xml") ||
		mt == "application/x-www-form-urlencoded" || mt == "application/javascript"
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
