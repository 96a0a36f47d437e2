package handler

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
)

var testNow = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

// fakeStore answers what these tests need; anything else is not called (the embedded nil
// interface would panic).
type fakeStore struct {
	deviceStore
	code      *domain.FactoryCode
	device    *domain.Device
	pipelines int
}

func (f *fakeStore) FactoryCode(context.Context, string) (*domain.FactoryCode, error) {
	if f.code == nil {
		return nil, domain.Errorf(domain.NotFound, "factory_code_not_found", "none")
	}
	return f.code, nil
}

func (f *fakeStore) Device(_ context.Context, sn string) (*domain.Device, error) {
	if f.device == nil {
		return nil, domain.Errorf(domain.NotFound, "device_not_found", "none")
	}
	return f.device, nil
}

func (f *fakeStore) Pipeline(_ context.Context, id string) (*domain.Pipeline, error) {
	f.pipelines++
	return &domain.Pipeline{ModelID: id, Stage: domain.StageMP}, nil
}

func request(route string, claims map[string]string, lambda map[string]any, params map[string]string) httpapi.Request {
	a := &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{}
	if claims != nil {
		a.JWT = &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}
	} else {
		a.Lambda = lambda
	}
	return httpapi.Request{RouteKey: route, PathParameters: params, RequestContext: events.APIGatewayV2HTTPRequestContext{Authorizer: a}}
}

const sn = "0AA1B0000012345X7Q2M9ZK"

// Every route refuses the roles it does not serve; the factory routes refuse a code that is no
// longer the vendor's current one, even when the authorizer (or its cache) let it through.
func TestDenials(t *testing.T) {
	f := &fakeStore{code: &domain.FactoryCode{Org: "acme", ID: "fcode_new", ExpiresAt: testNow.Add(time.Hour)}}
	h := newHandler(f, func() time.Time { return testNow }).router()
	reviewer := map[string]string{"sub": "rita", "role": "reviewer"}
	merchant := map[string]string{"sub": "pos", "org": "m1", "role": "merchant"}
	oldCode := map[string]any{"sub": "factory-code:fcode_old", "org": "acme", "role": "factory"}
	newCode := map[string]any{"sub": "factory-code:fcode_new", "org": "acme", "role": "factory"}
	for name, tt := range map[string]struct {
		req    httpapi.Request
		status int
		code   string
	}{
		"reviewer issues a code":          {request("POST /factory-code", reviewer, nil, nil), http.StatusForbidden, "forbidden_role"},
		"merchant lists inventory":        {request("GET /devices", merchant, nil, nil), http.StatusForbidden, "forbidden_role"},
		"merchant reads a device":         {request("GET /devices/{sn}", merchant, nil, map[string]string{"sn": sn}), http.StatusForbidden, "forbidden_role"},
		"factory line asks for SNs":       {request("POST /models/{id}/serial-numbers", nil, newCode, map[string]string{"id": "mdl_1"}), http.StatusForbidden, "forbidden_role"},
		"a reset code, cached as allowed": {request("GET /factory/devices/{sn}", nil, oldCode, map[string]string{"sn": sn}), http.StatusUnauthorized, "factory_code_revoked"},
		"a vendor token on a factory route": {request("POST /factory/checks", map[string]string{"sub": "alice", "org": "acme", "role": "vendor"}, nil, nil),
			http.StatusForbidden, "forbidden_role"},
		"the current code, unknown SN": {request("GET /factory/devices/{sn}", nil, newCode, map[string]string{"sn": sn}), http.StatusNotFound, "device_not_found"},
		"no caller at all":             {request("GET /factory/devices/{sn}", nil, map[string]any{}, map[string]string{"sn": sn}), http.StatusUnauthorized, "unauthenticated"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := h.Handle(context.Background(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode, resp.Body)
			assert.Contains(t, resp.Body, `"`+tt.code+`"`)
		})
	}
}

// The runtime check answers with Cache-Control and reads a model's standing once per TTL,
// whatever the number of devices asking.
func TestPaymentEligibilityCaches(t *testing.T) {
	now := testNow
	f := &fakeStore{device: &domain.Device{SN: sn, ModelID: "mdl_1", Status: domain.DevicePassed}}
	h := newHandler(f, func() time.Time { return now }).router()
	req := request("GET /devices/{sn}/payment-eligibility", map[string]string{"sub": "pos", "org": "m1", "role": "merchant"}, nil, map[string]string{"sn": sn})
	for range 3 {
		resp, err := h.Handle(context.Background(), req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
		assert.Equal(t, "private, max-age=60", resp.Headers["Cache-Control"])
		assert.Contains(t, resp.Body, `"allowed":true`)
	}
	assert.Equal(t, 1, f.pipelines, "the standing is cached")
	now = now.Add(StandingTTL + time.Second)
	_, err := h.Handle(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, 2, f.pipelines, "and read again after its TTL")
}
