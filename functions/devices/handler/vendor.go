package handler

import (
	"context"
	"net/http"
	"strings"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/store"
)

// IssuedCode is a device authorization code as issued: the code is shown this once.
type IssuedCode struct {
	Code string `json:"code"`
	domain.FactoryCode
}

// CodeView is the vendor's current code (never the code itself) and the history of its codes.
type CodeView struct {
	Current *CurrentCode    `json:"current"`
	History []domain.Change `json:"history"`
}

// CurrentCode describes the current code.
type CurrentCode struct {
	domain.FactoryCode
	Valid bool `json:"valid"`
}

// createFactoryCode issues the vendor's device authorization code (POST /factory-code): valid
// for a month; 409 factory_code_exists while one is valid (reset it instead).
func (h *handler) createFactoryCode(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := noBody(req); err != nil {
		return httpapi.Response{}, err
	}
	return h.issueCode(ctx, c, false)
}

// noBody refuses a body on an operation that takes none (Invalid, "invalid_json").
func noBody(req httpapi.Request) error {
	if strings.TrimSpace(req.Body) != "" {
		return domain.Errorf(domain.Invalid, "invalid_json", "this operation takes no request body")
	}
	return nil
}

// resetFactoryCode replaces the vendor's code with a new one (POST /factory-code/reset): the old
// code is refused from this moment on. A retried reset issues another code and revokes the one
// the lost answer carried, so exactly one code, the last one shown, is valid.
func (h *handler) resetFactoryCode(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := noBody(req); err != nil {
		return httpapi.Response{}, err
	}
	return h.issueCode(ctx, c, true)
}

func (h *handler) issueCode(ctx context.Context, c domain.Caller, reset bool) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	prev, err := h.db.FactoryCode(ctx, c.Org)
	switch {
	case domain.KindOf(err) == domain.NotFound:
		prev = nil
	case err != nil:
		return httpapi.Response{}, err
	}
	code, fc, ch, err := domain.NewFactoryCode(c, ids.New("fcode"), prev, reset, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.db.SaveFactoryCode(ctx, fc, prev, ch); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusCreated, IssuedCode{Code: code, FactoryCode: *fc}), nil
}

// getFactoryCode lists the vendor's current code and the history of its codes (GET /factory-code).
func (h *handler) getFactoryCode(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	view := CodeView{}
	fc, err := h.db.FactoryCode(ctx, c.Org)
	switch {
	case err == nil:
		view.Current = &CurrentCode{FactoryCode: *fc, Valid: fc.Valid(h.now())}
	case domain.KindOf(err) != domain.NotFound:
		return httpapi.Response{}, err
	}
	if view.History, err = h.db.FactoryCodeHistory(ctx, c.Org); err != nil {
		return httpapi.Response{}, err
	}
	for i := range view.History {
		view.History[i].By = "vendor"
	}
	return httpapi.JSON(http.StatusOK, view), nil
}

// VendorDevice is a device as its vendor sees it: the inspection record and its history.
type VendorDevice struct {
	InspectionRecord
	FirstPassedAt any                 `json:"firstPassedAt,omitempty"`
	PassedIn      domain.Stage        `json:"passedIn,omitempty"`
	Registration  int                 `json:"registration"`
	Provider      string              `json:"provider,omitempty"`     // the deployment provider assigned or confirmed
	BindingState  domain.BindingState `json:"bindingState,omitempty"` // assigned or confirmed
	// PendingModeRequest is the software-mode change request waiting for a reviewer.
	PendingModeRequest string          `json:"pendingModeRequest,omitempty"`
	History            []domain.Change `json:"history"`
}

// vendorDevice answers GET /devices/{sn} for the device's vendor.
func (h *handler) vendorDevice(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	d, err := h.ownDevice(ctx, c.Org, req.PathParameters["sn"])
	if err != nil {
		return httpapi.Response{}, err
	}
	return h.deviceView(ctx, d)
}

func (h *handler) deviceView(ctx context.Context, d *domain.Device) (httpapi.Response, error) {
	hist, err := h.db.DeviceHistory(ctx, d.SN)
	if err != nil {
		return httpapi.Response{}, err
	}
	// A reviewer's change (an approved software-mode request) says "reviewer", never who.
	v := VendorDevice{InspectionRecord: recordOf(d), PassedIn: d.PassedIn, Registration: d.Registration, History: domain.OwnerHistory(hist),
		PendingModeRequest: d.PendingModeRequest}
	// The provider is the binding's (one GetItem; bindings.go keeps it, not the device item).
	switch b, err := h.db.Binding(ctx, d.SN); {
	case err == nil:
		if b.State == domain.BindingAssigned || b.State == domain.BindingConfirmed {
			v.Provider, v.BindingState = b.Provider, b.State
		}
	case domain.KindOf(err) != domain.NotFound:
		return httpapi.Response{}, err
	}
	if d.FirstPassedAt != nil {
		v.FirstPassedAt = d.FirstPassedAt
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// ReregisterRequest says why a device's SN was rewritten onto a new mainboard.
type ReregisterRequest struct {
	Reason string `json:"reason" maxLength:"500"`
}

// reregister records a mainboard swap (POST /devices/{sn}/reregistration): the device waits for
// its next factory check, which may bring a new camera SN and MACs; history keeps the old ones.
func (h *handler) reregister(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	var body ReregisterRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	var resp httpapi.Response
	err := store.Retry(ctx, 5, func() error {
		d, err := h.ownDevice(ctx, c.Org, req.PathParameters["sn"])
		if err != nil {
			return err
		}
		ch, err := d.Reregister(c.Subject, body.Reason, h.now())
		if err != nil {
			return err
		}
		if errs := h.db.WriteDevices(ctx, []store.DeviceWrite{{Device: d, Changes: []domain.Change{ch}}}); errs[0] != nil {
			return errs[0]
		}
		resp, err = h.deviceView(ctx, d)
		return err
	})
	return resp, err
}

// inventory lists the vendor's devices of one model (GET /devices?modelId=&status=&provider=),
// at most 100 a page; the model's test devices come first, marked. With provider, the devices
// the vendor assigned to that deployment provider (waiting or confirmed), of one model or all.
func (h *handler) inventory(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	limit, err := httpapi.Limit(req, 100)
	if err != nil {
		return httpapi.Response{}, err
	}
	q := store.InventoryQuery{Org: c.Org, Cursor: httpapi.Query(req, "cursor", ""), Limit: limit, ModelID: httpapi.Query(req, "modelId", ""),
		Status: httpapi.Query(req, "status", ""), Provider: strings.TrimSpace(httpapi.Query(req, "provider", ""))}
	if err := domain.ValidateInventoryFilter(q.Status, q.Provider); err != nil {
		return httpapi.Response{}, err
	}
	if err := h.db.CheckInventoryCursor(q); err != nil {
		return httpapi.Response{}, err // a cursor is checked before anything is read
	}
	if err := h.db.ResolveInventory(ctx, &q); err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.Inventory(ctx, q)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, page), nil
}
