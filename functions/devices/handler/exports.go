package handler

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/store"
)

// exportStarter queues an export's worker (an asynchronous Lambda invoke of ExportDevicesFunction).
type exportStarter interface {
	Event(ctx context.Context, function string, event any) error
}

// downloads presigns the link to a finished export's CSV.
type downloads interface {
	PresignDownload(ctx context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error)
}

// exportRequeueAfter is how long an export may stay queued before a status read queues its
// worker again (the first invoke may have been lost after the export was saved).
const exportRequeueAfter = 2 * time.Minute

// ExportEvent is the worker's event: which export to make.
type ExportEvent struct {
	ExportID string `json:"exportId"`
}

// ExportView is an export as its vendor reads it: status, rows and, once done, the link.
type ExportView struct {
	*domain.InventoryExport
	Download *blob.Download `json:"download,omitempty"`
	// The object's key and version stay server-side: these shadow the export's (always empty).
	Key       string `json:"key,omitempty"`
	VersionID string `json:"versionId,omitempty"`
}

// startExport queues an export of the vendor's inventory (POST /devices/exports {modelId,
// status, provider}: the filters of GET /devices): 202 with the export. With an
// Idempotency-Key a retry answers the export the first attempt made (and queues its worker
// again, which does nothing for an export already running or done).
func (h *handler) startExport(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	var f domain.ExportFilter
	if err := httpapi.Decode(req, &f); err != nil {
		return httpapi.Response{}, err
	}
	f.Provider = strings.TrimSpace(f.Provider)
	if err := domain.ValidateInventoryFilter(f.Status, f.Provider); err != nil {
		return httpapi.Response{}, err
	}
	idem, err := httpapi.IdempotencyOf(req, c, "startDeviceExport", f)
	if err != nil {
		return httpapi.Response{}, err
	}
	q := store.InventoryQuery{Org: c.Org, ModelID: f.ModelID, Status: f.Status, Provider: f.Provider}
	if err := h.db.ResolveInventory(ctx, &q); err != nil {
		return httpapi.Response{}, err // an unknown model is refused now, not in the worker
	}
	id := ids.New("exp")
	if idem.Key != "" {
		id = ids.Derived("exp", idem.Scope)
	}
	e, err := domain.NewInventoryExport(id, c, f, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.db.SaveExport(ctx, e); errors.Is(err, domain.ErrConflict) && idem.Key != "" {
		prev, err := h.db.Export(ctx, id)
		if err != nil {
			return httpapi.Response{}, err
		}
		if prev.Filter != f {
			return httpapi.Response{}, domain.ErrIdempotencyKeyReused
		}
		e = prev
	} else if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.queueExport(ctx, e); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusAccepted, ExportView{InventoryExport: e}), nil
}

func (h *handler) queueExport(ctx context.Context, e *domain.InventoryExport) error {
	if h.exports.starter == nil {
		return errors.New("exports are not configured (EXPORT_FUNCTION)")
	}
	return h.exports.starter.Event(ctx, h.exports.function, ExportEvent{ExportID: e.ID})
}

// exportStatus answers GET /devices/exports/{id}: status and rows and, once done, a link valid
// a few minutes (ask again for a fresh one); after domain.ExportKeptFor it reads expired. Another vendor's export is export_not_found. An
// export still queued after a while, or running past its lease, has its worker queued again.
func (h *handler) exportStatus(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	e, err := h.db.Export(ctx, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	if !c.Owns(e.Org) {
		return httpapi.Response{}, domain.Errorf(domain.NotFound, "export_not_found", "export %s does not exist", e.ID)
	}
	now := h.now()
	v := ExportView{InventoryExport: e}
	switch {
	case e.Expired(now):
		v.Status = domain.ExportExpired // its file is gone, or about to be: no link
	case e.Status == domain.ExportDone:
		d, err := h.exports.files.PresignDownload(ctx, e.Key, e.VersionID, "devices-"+e.ID+".csv", now)
		if err != nil {
			return httpapi.Response{}, err
		}
		v.Download = &d
	case e.Status == domain.ExportQueued && now.Sub(e.RequestedAt) > exportRequeueAfter,
		e.Status == domain.ExportRunning && e.LeaseUntil != nil && now.After(*e.LeaseUntil):
		if err := h.queueExport(ctx, e); err != nil {
			return httpapi.Response{}, err
		}
	}
	return httpapi.JSON(http.StatusOK, v), nil
}
