package handler

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

type fakeCodes map[string]*domain.FactoryCode

type brokenStore struct{}

func (brokenStore) FactoryCodeByHash(context.Context, string) (*domain.FactoryCode, error) {
	return nil, errors.New("engine down")
}

func (f fakeCodes) FactoryCodeByHash(_ context.Context, hash string) (*domain.FactoryCode, error) {
	if c, ok := f[hash]; ok {
		return c, nil
	}
	return nil, domain.Errorf(domain.NotFound, "factory_code_not_found", "none")
}

func TestAuthorizer(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	codes := fakeCodes{
		domain.HashFactoryCode("GOODCODE"): {Org: "acme", ID: "fcode_1", ExpiresAt: now.Add(time.Hour)},
		domain.HashFactoryCode("OLDCODE"):  {Org: "acme", ID: "fcode_0", ExpiresAt: now.Add(-time.Second)},
	}
	h := &handler{db: codes, now: func() time.Time { return now }}
	ask := func(header string) events.APIGatewayV2CustomAuthorizerSimpleResponse {
		resp, err := h.handle(context.Background(), events.APIGatewayV2CustomAuthorizerV2Request{Headers: map[string]string{"authorization": header}})
		require.NoError(t, err)
		return resp
	}
	ok := ask("Code GOODCODE")
	assert.True(t, ok.IsAuthorized)
	assert.Equal(t, map[string]any{"sub": "factory-code:fcode_1", "org": "acme", "role": "factory", "codeId": "fcode_1"}, ok.Context)
	for _, header := range []string{"Code OLDCODE", "Code UNKNOWN", "Bearer GOODCODE", "", "GOODCODE"} {
		assert.False(t, ask(header).IsAuthorized, header)
	}
	// A store failure is a platform fault, not a refusal: the error makes API Gateway answer 500.
	h.db = brokenStore{}
	resp, err := h.handle(context.Background(), events.APIGatewayV2CustomAuthorizerV2Request{Headers: map[string]string{"authorization": "Code GOODCODE"}})
	require.Error(t, err)
	assert.False(t, resp.IsAuthorized)
}
