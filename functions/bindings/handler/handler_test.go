package handler

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/binding"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/store"
)

var testNow = time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)

const (
	sn      = "01A000000012345X7Q2M9ZK" // the samples' device
	mine    = "DP00000001"              // demo-deployer's number
	another = "DP00000002"
)

// fakeStore is the handler's store: demo-deployer is provider DP00000001; sn's binding is set
// per case. Writes are refused: these cases must not reach one.
type fakeStore struct {
	binding *domain.Binding
}

func (f *fakeStore) Device(context.Context, string) (*domain.Device, error) {
	return &domain.Device{SN: sn, VendorOrg: "demo-vendor", Status: domain.DevicePassed}, nil
}

func (f *fakeStore) Binding(context.Context, string) (*domain.Binding, error) {
	if f.binding == nil {
		return nil, domain.ErrBindingNotFound.Withf("none")
	}
	return f.binding, nil
}

func (f *fakeStore) Bindings(_ context.Context, sns []string, _ bool) (map[string]*domain.Binding, error) {
	out := map[string]*domain.Binding{}
	if f.binding != nil {
		out[sn] = f.binding
	}
	return out, nil
}

func (f *fakeStore) Devices(_ context.Context, sns []string, _ bool) (map[string]*domain.Device, error) {
	d, _ := f.Device(context.Background(), sn)
	return map[string]*domain.Device{sn: d}, nil
}

func (f *fakeStore) WriteBindings(_ context.Context, ws []store.BindingWrite) []error {
	panic("no write expected")
}

func (f *fakeStore) DeployerByNumber(_ context.Context, n string) (domain.Deployer, error) {
	if n == mine || n == another {
		return domain.Deployer{Number: n}, nil
	}
	return domain.Deployer{}, domain.Errorf(domain.NotFound, "provider_not_found", "none")
}

func (f *fakeStore) BindingHistory(context.Context, string) ([]domain.Change, error) { return nil, nil }

func (f *fakeStore) Deployer(_ context.Context, org string) (domain.Deployer, error) {
	if org == "demo-deployer" {
		return domain.Deployer{Org: org, Number: mine}, nil
	}
	return domain.Deployer{}, domain.Errorf(domain.NotFound, "deployer_not_approved", "none")
}

func (f *fakeStore) ProviderBindings(context.Context, string, domain.BindingState, string, int) (store.Page[domain.Binding], error) {
	return store.Page[domain.Binding]{Items: []domain.Binding{}}, nil
}

func (f *fakeStore) SaveBindingImport(context.Context, *domain.BindingImport) error { return nil }

func (f *fakeStore) BindingImport(_ context.Context, id string) (*domain.BindingImport, error) {
	return &domain.BindingImport{ID: id, VendorOrg: "other-vendor", Status: domain.ImportDone}, nil
}

type fakeFigures struct{}

func (fakeFigures) DeviceSeries(context.Context, string, string, string) ([]rollup.Figures, error) {
	panic("figures must not be read for a device the caller may not see")
}

func (fakeFigures) ProviderDayPage(context.Context, string, string, string, int) (store.Page[rollup.Figures], error) {
	return store.Page[rollup.Figures]{Items: []rollup.Figures{}}, nil
}

func (fakeFigures) DeviceWindows(context.Context, []string, string, string) (map[string][]rollup.Figures, error) {
	return map[string][]rollup.Figures{}, nil
}

func (fakeFigures) ProviderTotalsRange(context.Context, string, string, string) ([]store.ProviderTotals, error) {
	return nil, nil
}

func confirmed(provider string) *domain.Binding {
	at := testNow.Add(-48 * time.Hour)
	return &domain.Binding{SN: sn, VendorOrg: "demo-vendor", Provider: provider, State: domain.BindingConfirmed, Since: at, ConfirmedAt: &at,
		History: []domain.Change{{At: at, Action: domain.ActionConfirmed, To: provider}}, Version: 2}
}

// Refusals answered before any write: roles, sizes, and what a provider may not see.
func TestHandler_Refusals(t *testing.T) {
	over := `{"sns":["` + strings.Repeat(sn+`","`, 500) + sn + `"]}`
	tests := []struct {
		name, sample string
		binding      *domain.Binding
		mutate       []func(*httpapi.Request)
		status       int
		code         string
	}{
		{"a deployer cannot assign", "assign-providers.json", nil, []func(*httpapi.Request){eventstest.WithClaim("role", "deployer")}, http.StatusForbidden, "forbidden_role"},
		{"a vendor cannot confirm", "confirm-devices.json", nil, []func(*httpapi.Request){eventstest.WithClaim("role", "vendor")}, http.StatusForbidden, "forbidden_role"},
		{"more than 500 devices", "confirm-devices.json", nil, []func(*httpapi.Request){eventstest.WithBody(over)}, http.StatusBadRequest, "field_too_long"},
		{"no device at all", "unbind-devices.json", nil, []func(*httpapi.Request){eventstest.WithBody(`{"sns":[]}`)}, http.StatusBadRequest, "batch_size"},
		{"an unapproved deployer", "list-deployer-devices.json", nil, []func(*httpapi.Request){eventstest.WithClaim("org", "nobody")}, http.StatusNotFound, "deployer_not_approved"},
		{"another provider's device", "get-deployer-device.json", confirmed(another), nil, http.StatusNotFound, "binding_not_found"},
		{"an unbound device", "get-deployer-device.json", nil, nil, http.StatusNotFound, "binding_not_found"},
		{"another provider's figures", "get-deployer-device-figures.json", confirmed(another), nil, http.StatusNotFound, "binding_not_found"},
		{"figures before confirming", "get-deployer-device-figures.json",
			&domain.Binding{SN: sn, Provider: mine, State: domain.BindingAssigned, Since: testNow}, nil, http.StatusForbidden, "binding_not_confirmed"},
		{"an unknown state", "list-deployer-devices.json", nil, []func(*httpapi.Request){eventstest.WithQuery("state", "declined")}, http.StatusBadRequest, "invalid_state"},
		{"another vendor's import", "get-binding-import.json", nil, nil, http.StatusNotFound, "import_not_found"},
		{"a CSV export's bad format", "get-deployer-figures.json", nil, []func(*httpapi.Request){eventstest.WithQuery("format", "xml")}, http.StatusBadRequest, "invalid_format"},
		{"a single change's own error", "assign-device-provider.json", confirmed(mine), []func(*httpapi.Request){eventstest.WithBody(`{"provider":"DP00000002"}`)},
			http.StatusConflict, "device_already_bound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeStore{binding: tt.binding}
			h := &handler{db: db, figures: fakeFigures{}, binder: &binding.Binder{DB: db, Now: func() time.Time { return testNow }}, now: func() time.Time { return testNow }}
			req := eventstest.Load[httpapi.Request](t, "bindings/"+tt.sample, tt.mutate...)
			resp, err := h.router().Handle(context.Background(), req)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode, resp.Body)
			assert.Contains(t, resp.Body, `"code":"`+tt.code+`"`)
		})
	}
}
