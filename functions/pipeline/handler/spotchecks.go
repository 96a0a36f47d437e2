package handler

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/store"
)

// spotCheckStore is the spot-check part of the pipeline's store.
type spotCheckStore interface {
	SpotCheck(ctx context.Context, modelID, id string) (*domain.SpotCheck, error)
	SpotChecks(ctx context.Context, modelID string) ([]domain.SpotCheck, error)
	SaveSpotCheck(ctx context.Context, s *domain.SpotCheck, p *domain.Pipeline, changes ...domain.Change) error
	SavePipeline(ctx context.Context, p *domain.Pipeline, changes ...domain.Change) error
	Alerts(ctx context.Context, cursor string, limit int) (store.Page[domain.Message], error)
}

var _ spotCheckStore = (*store.DB)(nil)

// reports presigns the upload of a spot check's lab report, and its download once it arrived.
type reports interface {
	PresignUpload(ctx context.Context, key, contentType, sha256Hex string, now time.Time) (blob.Upload, error)
	Head(ctx context.Context, key string) (versionID string, size int64, ok bool, err error)
	PresignDownload(ctx context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error)
}

// reportKey is where a spot check's lab report is kept.
func reportKey(s *domain.SpotCheck) string {
	return "spotchecks/" + s.VendorOrg + "/" + s.ModelID + "/" + s.ID + "/report.pdf"
}

// SpotCheckRecorded is the answer to recording a spot check: the record and the presigned
// upload of its lab report.
type SpotCheckRecorded struct {
	SpotCheck *domain.SpotCheck `json:"spotCheck"`
	Upload    blob.Upload       `json:"upload"`
}

// recordSpotCheck: a reviewer records a market sample of a model in PVT or MP (SN valid for
// the model, lab, findings, result); a failed one opens a rectification order with a deadline,
// written on the model's pipeline record in the same transaction. The id derives from the SN
// and the report's checksum, so a retry finds the first record (200) and gets a fresh upload.
func (h *handler) recordSpotCheck(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var in domain.SpotCheckInput
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	m, err := h.model(ctx, c, req, domain.RoleReviewer)
	if err != nil {
		return httpapi.Response{}, err
	}
	s, ch, err := domain.NewSpotCheck(c, m, in, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	status := http.StatusCreated
	err = store.Retry(ctx, store.RetryAttempts, func() error {
		prev, err := h.spots.SpotCheck(ctx, m.ID, s.ID)
		switch {
		case err == nil && prev.Same(in):
			s, status = prev, http.StatusOK
			return nil
		case err == nil:
			return domain.Errorf(domain.Conflict, "spot_check_exists", "spot check %s of %s with this report was recorded with other findings", prev.ID, in.SN)
		case domain.KindOf(err) != domain.NotFound:
			return err
		}
		p, err := h.pipeline(ctx, m.ID)
		if err != nil {
			return err
		}
		if ok, reason := inMarket(p); !ok {
			return domain.Errorf(domain.Conflict, "not_in_market", "model %s has no devices in the field to sample (%s)", m.ID, reason)
		}
		changes := []domain.Change{ch}
		if s.Order == nil {
			p = nil // a passed check changes nothing on the pipeline record
		} else {
			changes = append(changes, p.OpenRectification(s.ID, s.Order.Deadline, h.now())...)
		}
		return h.spots.SaveSpotCheck(ctx, s, p, changes...)
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	up, err := h.reports.PresignUpload(ctx, reportKey(s), s.Report.ContentType, s.Report.SHA256, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(status, SpotCheckRecorded{SpotCheck: s, Upload: up}), nil
}

// inMarket reports whether the model's devices are in the field: PVT or MP, restricted or not.
func inMarket(p *domain.Pipeline) (bool, string) {
	if p == nil {
		return false, "its pipeline has not started"
	}
	pos := p.Position
	if pos == "" {
		pos = p.Stage
		if pos == domain.StageRestricted {
			pos = domain.StagePVT
		}
	}
	if pos != domain.StagePVT && pos != domain.StageMP {
		return false, "stage " + string(pos)
	}
	return true, ""
}

// SpotChecks is a model's spot checks.
type SpotChecks struct {
	Items []SpotCheckView `json:"items"`
}

// SpotCheckView is a spot check as listed: with a download of its lab report once the report
// arrived. The upload was presigned with the report's SHA-256, so S3 took only that file.
type SpotCheckView struct {
	domain.SpotCheck
	ReportDownload *blob.Download `json:"reportDownload,omitempty"`
}

// listSpotChecks: the vendor (its own models) or a reviewer reads a model's spot checks, their
// orders and their lab reports; the vendor never sees which reviewer recorded them. One
// HeadObject per spot check (a model has a handful).
func (h *handler) listSpotChecks(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleVendor, domain.RoleReviewer)
	if err != nil {
		return httpapi.Response{}, err
	}
	items, err := h.spots.SpotChecks(ctx, m.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := SpotChecks{Items: make([]SpotCheckView, 0, len(items))}
	for _, s := range items {
		if c.Role != domain.RoleReviewer {
			s = s.ForOwner()
		}
		v := SpotCheckView{SpotCheck: s}
		version, _, ok, err := h.reports.Head(ctx, reportKey(&s))
		if err != nil {
			return httpapi.Response{}, err
		}
		if ok {
			d, err := h.reports.PresignDownload(ctx, reportKey(&s), version, s.Report.FileName, h.now())
			if err != nil {
				return httpapi.Response{}, err
			}
			v.ReportDownload = &d
		}
		out.Items = append(out.Items, v)
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// spotCheck loads the spot check in the path of a model the caller may see.
func (h *handler) spotCheck(ctx context.Context, c domain.Caller, req httpapi.Request, role domain.Role) (*domain.SpotCheck, error) {
	m, err := h.model(ctx, c, req, role)
	if err != nil {
		return nil, err
	}
	return h.spots.SpotCheck(ctx, m.ID, req.PathParameters["checkId"])
}

type orderResponse struct {
	Response string `json:"response" maxLength:"4000"`
}

// respondToOrder: the vendor answers a rectification order (what it changed). It does not lift
// an overdue order's restriction: only a reviewer's closing does. The same answer again is 200
// with nothing changed.
func (h *handler) respondToOrder(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var in orderResponse
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	var s *domain.SpotCheck
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		var err error
		if s, err = h.spotCheck(ctx, c, req, domain.RoleVendor); err != nil {
			return err
		}
		ch, changed, err := s.Respond(c, in.Response, h.now())
		if err != nil || !changed {
			return err
		}
		return h.spots.SaveSpotCheck(ctx, s, nil, ch)
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, s.ForOwner()), nil
}

type orderClosing struct {
	Reason string `json:"reason" maxLength:"2000"`
}

// closeOrder: a reviewer closes a rectification order the vendor answered; an overdue order's
// restriction is lifted in the same transaction. Closing it again with the same reason is 200.
func (h *handler) closeOrder(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var in orderClosing
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	var s *domain.SpotCheck
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		var err error
		if s, err = h.spotCheck(ctx, c, req, domain.RoleReviewer); err != nil {
			return err
		}
		now := h.now()
		ch, changed, err := s.Close(c, in.Reason, now)
		if err != nil || !changed {
			return err
		}
		p, err := h.pipeline(ctx, s.ModelID)
		if err != nil {
			return err
		}
		changes := []domain.Change{ch}
		if p != nil {
			changes = append(changes, p.CloseRectification(s.ID, in.Reason, now)...)
		}
		return h.spots.SaveSpotCheck(ctx, s, p, changes...)
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, s), nil
}

// listAlerts: what the daily sweep raised to the reviewers (overdue reviews, expired
// certificates, overdue rectification orders), newest first.
func (h *handler) listAlerts(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	limit, err := httpapi.Limit(req, 50)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.spots.Alerts(ctx, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, page), nil
}

type withdrawal struct {
	Reason string `json:"reason" maxLength:"2000"`
}

// Withdrawn is the answer to a withdrawal.
type Withdrawn struct {
	ModelID string       `json:"modelId"`
	Stage   domain.Stage `json:"stage"`
}

// withdraw: the vendor withdraws a model that is not in mass production: the stage becomes
// withdrawn (recorded first, so the running execution's record steps change nothing after),
// then the run's execution is stopped. A repeat stops it again and answers the same.
func (h *handler) withdraw(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var in withdrawal
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	m, err := h.model(ctx, c, req, domain.RoleVendor)
	if err != nil {
		return httpapi.Response{}, err
	}
	var p *domain.Pipeline
	err = store.Retry(ctx, store.RetryAttempts, func() error {
		if p, err = h.pipeline(ctx, m.ID); err != nil {
			return err
		}
		if p == nil {
			return domain.Errorf(domain.Conflict, "pipeline_not_started", "model %s has no pipeline to withdraw from; wait for its approval", m.ID)
		}
		changes, err := p.Withdraw(in.Reason, h.now())
		if errors.Is(err, domain.ErrAlreadyWithdrawn) {
			return nil
		}
		if err != nil {
			return err
		}
		return h.spots.SavePipeline(ctx, p, changes...)
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.pipelines.Stop(ctx, domain.ExecutionName(m.ID, max(p.Run, 1)), "withdrawn by the vendor"); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, Withdrawn{ModelID: m.ID, Stage: domain.StageWithdrawn}), nil
}
