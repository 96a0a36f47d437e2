package handler

import (
	"context"
	"errors"
	"net/http"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/store"
)

// testCameraStore is the test camera part of the pipeline's store.
type testCameraStore interface {
	CreateTestCameraRequest(ctx context.Context, r *domain.TestCameraRequest, c domain.Change) error
	TestCameraRequest(ctx context.Context, modelID, id string) (*domain.TestCameraRequest, error)
	SaveTestCameraRequest(ctx context.Context, r *domain.TestCameraRequest, c domain.Change) error
	TestCameraRequests(ctx context.Context, modelID string) ([]domain.TestCameraRequest, error)
}

var _ testCameraStore = (*store.DB)(nil)

type cameraRequest struct {
	CameraModel string `json:"cameraModel"`
	Quantity    int    `json:"quantity"`
}

// requestTestCameras: a vendor asks for free test cameras for a model in DVT (at most 2 per
// model and 4 per vendor, held by the store's transaction). With an Idempotency-Key a retry
// returns the request the first call made (200).
func (h *handler) requestTestCameras(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	// Everything about the request is checked before anything is looked up or changed.
	var in cameraRequest
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	// The key is checked and scoped like every other route's (caller and operation), and the
	// request's id derives from that scope, so a retry finds the first request.
	idem, err := httpapi.IdempotencyOf(req, c, "requestTestCameras", in)
	if err != nil {
		return httpapi.Response{}, err
	}
	m, err := h.model(ctx, c, req, domain.RoleVendor)
	if err != nil {
		return httpapi.Response{}, err
	}
	stage, err := h.stage(ctx, m.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	id, key := ids.New("tcr"), idem.Key
	if key != "" {
		id = ids.Derived("tcr", m.ID, idem.Scope)
	}
	r, ch, err := domain.NewTestCameraRequest(id, c, m, stage, in.CameraModel, in.Quantity, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.cameras.CreateTestCameraRequest(ctx, r, ch); err != nil {
		if key != "" && errors.Is(err, domain.ErrConflict) {
			prev, gerr := h.cameras.TestCameraRequest(ctx, m.ID, id)
			if gerr != nil {
				return httpapi.Response{}, gerr
			}
			if prev.CameraModel != in.CameraModel || prev.Quantity != in.Quantity {
				return httpapi.Response{}, domain.ErrIdempotencyKeyReused.Withf("Idempotency-Key %q was used with a different request; use a new key", key)
			}
			return httpapi.JSON(http.StatusOK, prev), nil
		}
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusCreated, r), nil
}

// listTestCameras lists a model's test camera requests (its vendor, or any reviewer).
func (h *handler) listTestCameras(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleVendor, domain.RoleReviewer)
	if err != nil {
		return httpapi.Response{}, err
	}
	list, err := h.cameras.TestCameraRequests(ctx, m.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	if list == nil {
		list = []domain.TestCameraRequest{}
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": list}), nil
}

type cameraShipment struct {
	TrackingNumber string `json:"trackingNumber"`
}

// shipTestCameras: a reviewer marks a request shipped with its tracking number; the same
// number again is harmless.
func (h *handler) shipTestCameras(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleReviewer)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in cameraShipment
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	r, err := h.cameras.TestCameraRequest(ctx, m.ID, req.PathParameters["requestId"])
	if err != nil {
		return httpapi.Response{}, err
	}
	ch, changed, err := r.Ship(c, in.TrackingNumber, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	if changed {
		if err := h.cameras.SaveTestCameraRequest(ctx, r, ch); err != nil {
			return httpapi.Response{}, err
		}
	}
	return httpapi.JSON(http.StatusOK, r), nil
}
