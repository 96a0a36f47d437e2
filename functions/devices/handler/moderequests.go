package handler

import (
	"context"
	"net/http"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/store"
)

// ModeRequestBody is a vendor's request to change a device's locked software mode.
type ModeRequestBody struct {
	SoftwareMode string `json:"softwareMode" maxLength:"10"`
	Reason       string `json:"reason" maxLength:"500"`
}

// ModeDecisionBody is a reviewer's decision on a software-mode change request.
type ModeDecisionBody struct {
	Decision string `json:"decision" maxLength:"10"`
	Reason   string `json:"reason" maxLength:"2000"`
}

// requestModeChange opens a software-mode change request for one of the vendor's devices
// (POST /devices/{sn}/software-mode-requests): 201 with the request; the same request again
// while it is pending answers 200 with it (a retry); another one while it is pending is 409
// mode_change_pending.
func (h *handler) requestModeChange(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	var body ModeRequestBody
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	to, err := domain.ParseSoftwareMode(body.SoftwareMode)
	if err != nil {
		return httpapi.Response{}, err
	}
	var resp httpapi.Response
	err = store.Retry(ctx, store.RetryAttempts, func() error {
		d, err := h.ownDevice(ctx, c.Org, req.PathParameters["sn"])
		if err != nil {
			return err
		}
		if d.PendingModeRequest != "" {
			prev, err := h.db.ModeRequest(ctx, d.PendingModeRequest)
			if err != nil {
				return err
			}
			if prev.Retry(to, body.Reason) {
				resp = httpapi.JSON(http.StatusOK, prev.ForOwner())
				return nil
			}
		}
		m, err := h.db.Model(ctx, d.ModelID)
		if err != nil {
			return err
		}
		r, err := domain.RequestModeChange(d, m, to, body.Reason, ids.New("mreq"), c, h.now())
		if err != nil {
			return err
		}
		if err := h.db.SaveModeRequest(ctx, r, store.DeviceWrite{Device: d}); err != nil {
			return err
		}
		resp = httpapi.JSON(http.StatusCreated, r.ForOwner())
		return nil
	})
	return resp, err
}

// modeRequest shows a request to its vendor (without the reviewer's name) or to a reviewer
// (GET /software-mode-requests/{id}); another vendor's is not found.
func (h *handler) modeRequest(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor, domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	r, err := h.db.ModeRequest(ctx, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	if c.Role == domain.RoleReviewer {
		return httpapi.JSON(http.StatusOK, r), nil
	}
	if !c.Owns(r.VendorOrg) {
		return httpapi.Response{}, domain.Errorf(domain.NotFound, "mode_request_not_found", "software-mode request %s does not exist", r.ID)
	}
	return httpapi.JSON(http.StatusOK, r.ForOwner()), nil
}

// pendingModeRequests is the reviewers' queue, oldest first (GET /admin/software-mode-requests).
func (h *handler) pendingModeRequests(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	limit, err := httpapi.Limit(req, 100)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.PendingModeRequests(ctx, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, page), nil
}

// decideModeRequest records a reviewer's decision (POST /admin/software-mode-requests/{id}/decision):
// effective at once (see domain.ModeChangeRequest). An approval changes the device's mode with
// a history entry; the next factory check reports the new mode. The same decision again
// answers 200 and writes nothing; another one is 409 already_decided.
func (h *handler) decideModeRequest(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	var body ModeDecisionBody
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	approve, err := domain.ParseVerdict(body.Decision)
	if err != nil {
		return httpapi.Response{}, err
	}
	var r *domain.ModeChangeRequest
	err = store.Retry(ctx, store.RetryAttempts, func() error {
		if r, err = h.db.ModeRequest(ctx, req.PathParameters["id"]); err != nil {
			return err
		}
		if r.Same(approve, body.Reason) {
			return nil
		}
		d, err := h.db.Device(ctx, r.SN)
		if err != nil {
			return err
		}
		m, err := h.db.Model(ctx, r.ModelID)
		if err != nil {
			return err
		}
		ch, err := r.Decide(c, approve, body.Reason, d, m, h.now())
		if err != nil {
			return err
		}
		w := store.DeviceWrite{Device: d}
		if ch != nil {
			w.Changes = []domain.Change{*ch}
		}
		return h.db.SaveModeRequest(ctx, r, w)
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, r), nil
}
