package cloud

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Lambda authorizers, as API Gateway's HTTP API runs them: payload format 2.0 with simple
// responses ({"isAuthorized": bool, "context": {...}}), the only kind the template declares.
// A request missing any identity-source header is refused 401 without invoking the
// authorizer; a false answer is 403; an authorizer that fails is 500. Answers are cached per
// authorizer and identity-source values for the authorizer's ReauthorizeEvery (wall clock, as
// the JWT check: the authorizer lives outside the virtual clock); the route's function gets
// the context in requestContext.authorizer.lambda.

type authorizerEntry struct {
	until   time.Time
	allowed bool
	context map[string]any
}

type authorizerCache struct {
	mu      sync.Mutex
	entries map[string]authorizerEntry
}

func (c *authorizerCache) get(k string) (authorizerEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || time.Now().After(e.until) {
		return authorizerEntry{}, false
	}
	return e, true
}

func (c *authorizerCache) put(k string, e authorizerEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[k] = e
}

// authorizeLambda runs rt's Lambda authorizer for req: the authorizer description for the
// function's event, or nil and the status to answer.
func (g *gateway) authorizeLambda(req *http.Request, rt *gwRoute, params map[string]string) (*events.APIGatewayV2HTTPRequestContextAuthorizerDescription, int) {
	la := g.lambdas[rt.authorizer]
	var identity []string
	for _, h := range la.IdentityHeaders {
		v := req.Header.Get(h)
		if v == "" {
			return nil, http.StatusUnauthorized
		}
		identity = append(identity, v)
	}
	key := la.Name + "\x00" + strings.Join(identity, "\x00")
	e, ok := g.cache.get(key)
	if !ok || la.TTL == 0 {
		ev := g.event(req, rt, params, nil, nil)
		areq := events.APIGatewayV2CustomAuthorizerV2Request{
			Version: "2.0", Type: "REQUEST",
			RouteArn:       "arn:aws:execute-api:us-east-1:000000000000:local/" + g.stage + "/" + req.Method + req.URL.Path,
			IdentitySource: identity, RouteKey: ev.RouteKey, RawPath: ev.RawPath, RawQueryString: ev.RawQueryString,
			Cookies: ev.Cookies, Headers: ev.Headers, QueryStringParameters: ev.QueryStringParameters,
			RequestContext: ev.RequestContext, PathParameters: ev.PathParameters,
		}
		var resp events.APIGatewayV2CustomAuthorizerSimpleResponse
		if err := g.host.invokeJSON(req.Context(), la.Function, areq, &resp); err != nil {
			slog.Error("authorizer failed", "authorizer", la.Name, "err", err)
			return nil, http.StatusInternalServerError
		}
		e = authorizerEntry{until: time.Now().Add(la.TTL), allowed: resp.IsAuthorized, context: resp.Context}
		if la.TTL > 0 {
			g.cache.put(key, e)
		}
	}
	if !e.allowed {
		return nil, http.StatusForbidden
	}
	ctx := e.context
	if ctx == nil {
		ctx = map[string]any{}
	}
	return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: ctx}, 0
}
