// Package handler is the Lambda authorizer of the factory routes (payload format 2.0, simple
// responses). A production line sends `Authorization: Code <device authorization code>`; the
// authorizer hashes the code, looks the hash up (the code itself is never stored), refuses an
// unknown, reset or expired code, and passes the vendor it belongs to as the caller's
// organisation with the role "factory". API Gateway caches the answer per identity source (the
// Authorization header, so a new code is a new cache entry) for AuthorizerResultTtlInSeconds;
// the functions behind it check on every request that the code is still the vendor's current
// one, so a reset stops the old code at once despite the cache.
package handler

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

// Scheme is the Authorization header's scheme for device authorization codes.
const Scheme = "Code "

type codeStore interface {
	FactoryCodeByHash(ctx context.Context, hash string) (*domain.FactoryCode, error)
}

type handler struct {
	db  codeStore
	now func() time.Time
}

// New builds the authorizer from its environment (TABLE_NAME).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error), error) {
	env, err := d.Require("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	h := &handler{db: store.New(store.NewClient(c), env["TABLE_NAME"]), now: d.Now}
	return h.handle, nil
}

// CodeOf returns the code an Authorization header carries ("" when it carries none).
func CodeOf(header string) string {
	code, ok := strings.CutPrefix(header, Scheme)
	if !ok {
		return ""
	}
	return strings.TrimSpace(code)
}

func (h *handler) handle(ctx context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	deny := events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}
	code := CodeOf(req.Headers["authorization"])
	if code == "" || len(code) > 64 {
		return deny, nil
	}
	fc, err := h.db.FactoryCodeByHash(ctx, domain.HashFactoryCode(code))
	switch {
	case domain.KindOf(err) == domain.NotFound:
		return deny, nil
	case err != nil:
		// A platform fault: API Gateway answers 500, which the line tells apart from a refusal.
		return deny, err
	case !fc.Valid(h.now()):
		slog.InfoContext(ctx, "expired device authorization code", "org", fc.Org, "code", fc.ID)
		return deny, nil
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{
		"sub": "factory-code:" + fc.ID, "org": fc.Org, "role": string(domain.RoleFactory), "codeId": fc.ID,
	}}, nil
}
