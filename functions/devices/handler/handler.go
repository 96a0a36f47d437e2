// Package handler serves production devices: serial numbers for vendors, the vendors' device
// authorization codes, the factory check (one device or a batch of up to 500, per-device
// results), the closed-loop query, re-registration after a mainboard swap, the runtime check
// the payment app makes, and the vendor's inventory.
package handler

import (
	"context"
	"crypto/rand"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/invoke"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

// deviceStore is what the handler needs of the table.
type deviceStore interface {
	Model(ctx context.Context, id string) (*domain.Model, error)
	Pipeline(ctx context.Context, id string) (*domain.Pipeline, error)
	Device(ctx context.Context, sn string) (*domain.Device, error)
	Devices(ctx context.Context, sns []string, consistent bool) (map[string]*domain.Device, error)
	WriteDevices(ctx context.Context, ws []store.DeviceWrite) []error
	DeviceHistory(ctx context.Context, sn string) ([]domain.Change, error)
	MarkPVTPass(ctx context.Context, modelID, sn string, at time.Time) error
	TestDevice(ctx context.Context, sn string) (*domain.TestDevice, error)
	CodeOwner(ctx context.Context, scope, code string) (string, error)
	FactoryCode(ctx context.Context, org string) (*domain.FactoryCode, error)
	SaveFactoryCode(ctx context.Context, fc, prev *domain.FactoryCode, ch domain.Change) error
	FactoryCodeHistory(ctx context.Context, org string) ([]domain.Change, error)
	Vendor(ctx context.Context, org string) (domain.Vendor, error)
	CheckInventoryCursor(q store.InventoryQuery) error
	Inventory(ctx context.Context, q store.InventoryQuery) (store.Page[domain.InventoryEntry], error)
	Binding(ctx context.Context, sn string) (*domain.Binding, error)
	ResolveInventory(ctx context.Context, q *store.InventoryQuery) error
	SaveExport(ctx context.Context, e *domain.InventoryExport) error
	Export(ctx context.Context, id string) (*domain.InventoryExport, error)
	ModeRequest(ctx context.Context, id string) (*domain.ModeChangeRequest, error)
	SaveModeRequest(ctx context.Context, r *domain.ModeChangeRequest, w store.DeviceWrite) error
	PendingModeRequests(ctx context.Context, cursor string, limit int) (store.Page[domain.ModeChangeRequest], error)
}

type handler struct {
	db      deviceStore
	now     func() time.Time
	rnd     func(n int) int
	pvt     sync.Map // model id → true once its PVT pass is marked (the mark is idempotent; this saves the write)
	runtime *standings
	exports exportDeps
}

// exportDeps are what the inventory exports need besides the table.
type exportDeps struct {
	starter  exportStarter
	function string // EXPORT_FUNCTION: ExportDevicesFunction's name
	files    downloads
}

// New builds the function from its environment (TABLE_NAME, CURSOR_KEY, BUCKET_NAME,
// EXPORT_FUNCTION).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("TABLE_NAME", "CURSOR_KEY", "BUCKET_NAME", "EXPORT_FUNCTION")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	db := store.New(store.NewClient(c), env["TABLE_NAME"], store.WithCursorKey(env["CURSOR_KEY"]))
	h := newHandler(db, d.Now)
	h.exports = exportDeps{starter: invoke.NewClient(c), function: env["EXPORT_FUNCTION"], files: blob.New(blob.NewClient(c), env["BUCKET_NAME"])}
	return h.router().Handle, nil
}

func newHandler(db deviceStore, now func() time.Time) *handler {
	var seed [32]byte
	_, _ = rand.Read(seed[:])
	gen := mrand.New(mrand.NewChaCha8(seed))
	var mu sync.Mutex
	h := &handler{db: db, now: now, rnd: func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		return gen.IntN(n)
	}}
	h.runtime = newStandings(db, now, StandingTTL)
	return h
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"POST /models/{id}/serial-numbers":      h.generateSerialNumbers,
		"POST /factory-code":                    h.createFactoryCode,
		"GET /factory-code":                     h.getFactoryCode,
		"POST /factory-code/reset":              h.resetFactoryCode,
		"POST /factory/checks":                  h.factoryCheck,
		"GET /factory/devices/{sn}":             h.inspectionRecord,
		"GET /devices":                          h.inventory,
		"GET /devices/{sn}":                     h.vendorDevice,
		"POST /devices/{sn}/reregistration":     h.reregister,
		"GET /devices/{sn}/payment-eligibility": h.paymentEligibility,
		"POST /devices/exports":                 h.startExport,
		"GET /devices/exports/{id}":             h.exportStatus,

		"POST /devices/{sn}/software-mode-requests":        h.requestModeChange,
		"GET /software-mode-requests/{id}":                 h.modeRequest,
		"GET /admin/software-mode-requests":                h.pendingModeRequests,
		"POST /admin/software-mode-requests/{id}/decision": h.decideModeRequest,
	}
}

// vendorModel loads the caller's own model (another vendor's is not found).
func (h *handler) vendorModel(ctx context.Context, c domain.Caller, id string) (*domain.Model, error) {
	m, err := h.db.Model(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Owns(m.VendorOrg) {
		return nil, domain.Errorf(domain.NotFound, "model_not_found", "model %s does not exist", id)
	}
	return m, nil
}

// stage is the model's certification stage (registered before its pipeline's first step).
func (h *handler) stage(ctx context.Context, modelID string) (domain.Stage, error) {
	p, err := h.db.Pipeline(ctx, modelID)
	switch {
	case domain.KindOf(err) == domain.NotFound:
		return domain.StageRegistered, nil
	case err != nil:
		return "", err
	}
	return p.Stage, nil
}

// SerialNumbersRequest asks for SNs: one per vendor serial.
type SerialNumbersRequest struct {
	VendorSerials []string `json:"vendorSerials" maxItems:"500" maxLength:"10"`
}

// GeneratedSN is one generated serial number.
type GeneratedSN struct {
	VendorSerial string `json:"vendorSerial"`
	SN           string `json:"sn"`
}

// generateSerialNumbers makes an SN for each of the vendor's serials (POST /models/{id}/serial-numbers).
// Nothing is stored: an SN is recorded when its device is factory-checked.
func (h *handler) generateSerialNumbers(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	var body SerialNumbersRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	if len(body.VendorSerials) == 0 {
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "invalid_vendor_serial", "vendorSerials lists at least one serial")
	}
	m, err := h.vendorModel(ctx, c, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	out := make([]GeneratedSN, 0, len(body.VendorSerials))
	for _, vs := range body.VendorSerials {
		s, err := domain.GenerateSerialNumber(m, vs, h.rnd)
		if err != nil {
			return httpapi.Response{}, err
		}
		out = append(out, GeneratedSN{VendorSerial: vs, SN: s.String()})
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"modelId": m.ID, "items": out}), nil
}
