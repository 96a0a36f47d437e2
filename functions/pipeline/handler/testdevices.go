package handler

import (
	"context"
	"net/http"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/store"
)

// testDeviceStore is the vendor test device part of the pipeline's store.
type testDeviceStore interface {
	TestDevice(ctx context.Context, sn string) (*domain.TestDevice, error)
	SaveTestDevice(ctx context.Context, d *domain.TestDevice, changes ...domain.Change) error
	TestDevicesOf(ctx context.Context, org, modelID string) ([]domain.TestDevice, error)
}

var _ testDeviceStore = (*store.DB)(nil)

type deviceRegistration struct {
	SN                 string `json:"sn"`
	DeviceType         string `json:"deviceType"`
	ExpectedCompletion string `json:"expectedCompletion"`
}

// registerTestDevice: a vendor registers a device of its DVT model as a test device, until its
// expected pre-check completion date; the same registration again answers the same (200).
func (h *handler) registerTestDevice(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleVendor)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in deviceRegistration
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	stage, err := h.stage(ctx, m.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	prev, err := h.devices.TestDevice(ctx, in.SN)
	switch {
	case domain.KindOf(err) == domain.NotFound:
		prev = nil
	case err != nil:
		return httpapi.Response{}, err
	case prev.VendorOrg != c.Org:
		return httpapi.Response{}, domain.Errorf(domain.Conflict, "test_device_active", "device %s is registered elsewhere", in.SN)
	case prev.Same(m.ID, in.ExpectedCompletion):
		return httpapi.JSON(http.StatusOK, prev), nil
	}
	d, ch, err := domain.RegisterTestDevice(c, m, stage, in.SN, in.DeviceType, in.ExpectedCompletion, prev, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.devices.SaveTestDevice(ctx, d, ch); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusCreated, d), nil
}

// listTestDevices lists a model's test devices, apart from its production devices.
func (h *handler) listTestDevices(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleVendor, domain.RoleReviewer)
	if err != nil {
		return httpapi.Response{}, err
	}
	list, err := h.devices.TestDevicesOf(ctx, m.VendorOrg, m.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	if list == nil {
		list = []domain.TestDevice{}
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": list}), nil
}

// clearTestDevice: the vendor clears one of its test devices early (it then needs a factory
// check like any device). Clearing a cleared device is harmless.
func (h *handler) clearTestDevice(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleVendor)
	if err != nil {
		return httpapi.Response{}, err
	}
	d, err := h.devices.TestDevice(ctx, req.PathParameters["sn"])
	if err == nil && d.ModelID != m.ID {
		err = domain.Errorf(domain.NotFound, "test_device_not_found", "model %s has no test device %s", m.ID, d.SN)
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	if ch, changed := d.Clear(c.Subject, domain.ClearedByOwner, h.now()); changed {
		if err := h.devices.SaveTestDevice(ctx, d, ch); err != nil {
			return httpapi.Response{}, err
		}
	}
	return httpapi.JSON(http.StatusOK, d), nil
}
