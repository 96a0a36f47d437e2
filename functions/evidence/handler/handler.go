// Package handler serves the prototype-stage evidence of approved models (DOMAIN.md section 3):
// vendors ask for presigned uploads slot by slot, read what arrived (with its pre-screening)
// and submit a complete version; reviewers read a version with short-lived download links and
// approve or reject it with feedback, which takes effect at once. Files never pass through
// Lambda: process-upload checks each one on arrival.
package handler

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/precheck"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/workflow"
)

type evidenceStore interface {
	Tx() *store.Tx
	Model(ctx context.Context, id string) (*domain.Model, error)
	Vendor(ctx context.Context, org string) (domain.Vendor, error)
	Submission(ctx context.Context, modelID, vendorOrg string, kind domain.SubmissionKind) (*domain.Submission, error)
	SubmissionHistory(ctx context.Context, modelID string, kind domain.SubmissionKind) ([]domain.Change, error)
	SaveSubmissionVersion(ctx context.Context, v *domain.SubmissionVersion, changes ...domain.Change) error
	SaveArtifact(ctx context.Context, v *domain.SubmissionVersion, slot string, changes ...domain.Change) error
	SubmissionQueue(ctx context.Context, f store.QueueFilter) (store.Page[domain.SubmissionVersion], error)
	TaskTokenOf(ctx context.Context, modelID, step string) (store.TaskToken, error)
	Pipeline(ctx context.Context, id string) (*domain.Pipeline, error)
	SavePipeline(ctx context.Context, p *domain.Pipeline, changes ...domain.Change) error
}

// pipelines completes the certification pipeline's waiting steps.
type pipelines interface {
	Resume(ctx context.Context, token string, output any) error
}

type files interface {
	PresignUpload(ctx context.Context, key, contentType, sha256Hex string, now time.Time) (blob.Upload, error)
	PresignDownload(ctx context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error)
}

// tickets records every issued upload for the reconciliation sweep (store.PutUploadTicket).
type tickets interface {
	PutUploadTicket(ctx context.Context, t store.UploadTicket) error
}

type handler struct {
	db        evidenceStore
	tickets   tickets
	files     files
	pipelines pipelines
	now       func() time.Time
	newID     func(prefix string) string
}

// New builds the function from its environment (TABLE_NAME, BUCKET_NAME).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME", "CURSOR_KEY")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	table, bucket := env["TABLE_NAME"], env["BUCKET_NAME"]
	db := store.New(store.NewClient(c), table, store.WithCursorKey(env["CURSOR_KEY"]))
	h := &handler{db: db, tickets: db, files: blob.New(blob.NewClient(c), bucket), pipelines: workflow.New(workflow.NewClient(c), ""),
		now: d.Now, newID: ids.New}
	return h.router().Handle, nil
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"GET /models/{id}/submissions/{kind}":                                    h.get,
		"GET /models/{id}/submissions/{kind}/versions/{version}":                 h.getVersion,
		"PUT /models/{id}/submissions/{kind}/slots/{slot}":                       h.requestUpload,
		"POST /models/{id}/submissions/{kind}/submit":                            h.submit,
		"GET /admin/submissions":                                                 h.queue,
		"GET /admin/models/{id}/submissions/{kind}/versions/{version}":           h.review,
		"POST /admin/models/{id}/submissions/{kind}/versions/{version}/decision": h.decide,
	}
}

// target is the model and submission a request names.
type target struct {
	model *domain.Model
	kind  domain.SubmissionKind
	sub   *domain.Submission
}

// owned loads the caller's approved model and its submission of the kind in the path.
// Another vendor's model is "not found", so ids cannot be probed. Evidence belongs to approved
// models only: Conflict ("model_not_approved") before the model code is released.
func (h *handler) owned(ctx context.Context, c domain.Caller, req httpapi.Request) (target, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return target{}, err
	}
	t, err := h.load(ctx, req)
	if err != nil {
		return target{}, err
	}
	if !c.Owns(t.model.VendorOrg) {
		return target{}, domain.Errorf(domain.NotFound, "model_not_found", "model %s does not exist", t.model.ID)
	}
	return t, nil
}

// reviewed loads any model's submission for a reviewer.
func (h *handler) reviewed(ctx context.Context, c domain.Caller, req httpapi.Request) (target, error) {
	if err := c.Require(domain.RoleReviewer); err != nil {
		return target{}, err
	}
	return h.load(ctx, req)
}

func (h *handler) load(ctx context.Context, req httpapi.Request) (target, error) {
	kind, err := domain.ParseSubmissionKind(req.PathParameters["kind"])
	if err != nil {
		return target{}, err
	}
	m, err := h.db.Model(ctx, req.PathParameters["id"])
	if err != nil {
		return target{}, err
	}
	sub, err := h.db.Submission(ctx, m.ID, m.VendorOrg, kind)
	if err != nil {
		return target{}, err
	}
	return target{model: m, kind: kind, sub: sub}, nil
}

func approved(m *domain.Model) error {
	if m.Status != domain.ModelApproved {
		return domain.Errorf(domain.Conflict, "model_not_approved",
			"model %s is %s; evidence is uploaded once the model is approved", m.ID, strings.ReplaceAll(string(m.Status), "_", " "))
	}
	return nil
}

func version(t target, req httpapi.Request) (*domain.SubmissionVersion, error) {
	n, err := strconv.Atoi(req.PathParameters["version"])
	if err != nil {
		return nil, domain.Errorf(domain.NotFound, "version_not_found", "version %q does not exist", req.PathParameters["version"])
	}
	return t.sub.Version(n)
}

// SlotInfo describes one slot of a submission: where to upload (path) and what it takes.
type SlotInfo struct {
	Slot             string   `json:"slot"`
	Path             string   `json:"path"` // the slot ID as a URL path segment
	Required         bool     `json:"required"`
	ExpectedFileName string   `json:"expectedFileName"` // for a category zip, an example of NamePattern
	NamePattern      string   `json:"namePattern"`      // the rule: the expected name, or [<n><title>]-[<vendor>][<model>].zip
	Extensions       []string `json:"extensions"`
	MaxSize          int64    `json:"maxSize"`     // bytes
	MaxSizeText      string   `json:"maxSizeText"` // the same in MiB: "10 MiB (10485760 bytes)"
}

// VersionSummary is one version in a submission's list.
type VersionSummary struct {
	Version     int                  `json:"version"`
	Status      domain.VersionStatus `json:"status"`
	SubmittedAt *time.Time           `json:"submittedAt,omitempty"`
	Outcome     *domain.Decision     `json:"outcome,omitempty"`
}

// SubmissionView is what GET /models/{id}/submissions/{kind} returns.
type SubmissionView struct {
	ModelID  string                    `json:"modelId"`
	Kind     domain.SubmissionKind     `json:"kind"`
	Slots    []SlotInfo                `json:"slots"`
	Current  *domain.SubmissionVersion `json:"current"`
	Versions []VersionSummary          `json:"versions"`
	History  []domain.Change           `json:"history"`
}

// get shows a submission: readable as soon as the model is registered, so a vendor can
// prepare its files (expected names, formats, limits) before the model's release; uploads
// wait for the approval.
func (h *handler) get(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	t, err := h.owned(ctx, c, req)
	if err != nil {
		return httpapi.Response{}, err
	}
	v, err := h.db.Vendor(ctx, t.model.VendorOrg)
	if err != nil {
		return httpapi.Response{}, err
	}
	required, optional, err := precheck.Slots(t.model, t.kind)
	if err != nil {
		return httpapi.Response{}, err
	}
	view := SubmissionView{ModelID: t.model.ID, Kind: t.kind, Current: t.sub.Current().ForOwner(), Versions: []VersionSummary{}}
	for i, s := range append(required, optional...) {
		view.Slots = append(view.Slots, SlotInfo{Slot: s.ID(), Path: precheck.PathForm(s.ID()), Required: i < len(required),
			ExpectedFileName: s.ExpectedFileName(v.Name, t.model.Name, ""), NamePattern: s.NamePattern(v.Name, t.model.Name),
			Extensions: s.Extensions(), MaxSize: s.MaxSize(), MaxSizeText: evidence.SizeText(s.MaxSize())})
	}
	for _, ver := range t.sub.Versions {
		view.Versions = append(view.Versions, VersionSummary{Version: ver.Number, Status: ver.Status, SubmittedAt: ver.SubmittedAt, Outcome: ver.Outcome.ForOwner()})
	}
	hist, err := h.db.SubmissionHistory(ctx, t.model.ID, t.kind)
	if err != nil {
		return httpapi.Response{}, err
	}
	view.History = domain.OwnerHistory(hist)
	return httpapi.JSON(http.StatusOK, view), nil
}

func (h *handler) getVersion(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	t, err := h.owned(ctx, c, req)
	if err != nil {
		return httpapi.Response{}, err
	}
	v, err := version(t, req)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, v.ForOwner()), nil
}

type uploadRequest struct {
	FileName    string `json:"fileName" maxLength:"255"`
	ContentType string `json:"contentType" maxLength:"100"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256" maxLength:"64"`
	// Certificate: a certificate's number, issue and expiry dates (certificate slots only).
	Certificate *domain.CertificateDetails `json:"certificate,omitempty"`
}

// UploadResponse is the pending artifact, the version it goes into and its presigned upload.
type UploadResponse struct {
	Version  int              `json:"version"`
	Artifact *domain.Artifact `json:"artifact"`
	Upload   blob.Upload      `json:"upload"`
}

// requestUpload checks what is known before the bytes arrive (name against the slot's
// pattern with the vendor's and model's names, size limit, content type, checksum form) and
// returns a presigned PUT for a key of its own. Asking again for the same pending file within
// store.UploadReusableFor reuses its upload, so a retry does not orphan one. The upload's
// ticket is written before its URL is handed out (see the reconciliation sweep).
func (h *handler) requestUpload(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var body uploadRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	var t target
	var v *domain.SubmissionVersion
	var a *domain.Artifact
	var slotID string
	// A request that loses a race (another slot of the version changed) reloads and asks again.
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		var err error
		t, err = h.owned(ctx, c, req)
		if err != nil {
			return err
		}
		if err := approved(t.model); err != nil {
			return err
		}
		slot, err := precheck.Slot(t.model, t.kind, req.PathParameters["slot"])
		if err != nil {
			return err
		}
		vendor, err := h.db.Vendor(ctx, t.model.VendorOrg)
		if err != nil {
			return err
		}
		if err := slot.CheckUpload(body.FileName, body.Size, body.ContentType, vendor.Name, t.model.Name); err != nil {
			return err
		}
		if err := checkCertificateDetails(slot, body.Certificate); err != nil {
			return err
		}
		sum := strings.ToLower(body.SHA256)
		if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
			return domain.Errorf(domain.Invalid, "invalid_sha256", "sha256 must be the file's SHA-256 as 64 hex digits")
		}
		v = t.sub.Current()
		if prev := pendingSame(v, slot.ID(), body, sum, h.now()); prev != nil {
			a = prev
		} else {
			var ch domain.Change
			v, ch, err = t.sub.RequestUpload(c, domain.Artifact{Slot: slot.ID(), UploadID: h.newID("up"), FileName: body.FileName,
				ContentType: body.ContentType, Size: body.Size, SHA256: sum, Certificate: body.Certificate}, h.now())
			if err != nil {
				return err
			}
			// A new version is written whole; in an open one only this slot's file is, so asking
			// for one slot's upload never contends with another slot's file arriving.
			save := func() error { return h.db.SaveArtifact(ctx, v, slot.ID(), ch) }
			if v.Revision == 0 {
				save = func() error { return h.db.SaveSubmissionVersion(ctx, v, ch) }
			}
			if err := save(); err != nil {
				return err
			}
			a = v.Artifacts[slot.ID()]
		}
		slotID = slot.ID()
		return nil
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	key := precheck.Key(t.model.VendorOrg, t.model.ID, t.kind, v.Number, slotID, a.UploadID)
	if err := h.tickets.PutUploadTicket(ctx, store.UploadTicket{Key: key, RequestedAt: a.RequestedAt, IssuedAt: h.now()}); err != nil {
		return httpapi.Response{}, err
	}
	up, err := h.files.PresignUpload(ctx, key, a.ContentType, a.SHA256, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, UploadResponse{Version: v.Number, Artifact: a, Upload: up}), nil
}

func pendingSame(v *domain.SubmissionVersion, slot string, b uploadRequest, sum string, now time.Time) *domain.Artifact {
	if v == nil || v.Status != domain.VersionOpen {
		return nil
	}
	a := v.Artifacts[slot]
	if a != nil && a.Status == domain.ArtifactPending && a.RequestedAt.After(now.Add(-store.UploadReusableFor)) && a.FileName == b.FileName && a.SHA256 == sum &&
		a.Size == b.Size && a.ContentType == b.ContentType && sameDetails(a.Certificate, b.Certificate) {
		return a
	}
	return nil
}

// checkCertificateDetails accepts a certificate's details only on a certificate slot, and only
// valid ones. Error codes (Invalid): certificate_details_not_applicable, invalid_certificate_details.
func checkCertificateDetails(slot evidence.Slot, d *domain.CertificateDetails) error {
	switch {
	case d == nil:
		return nil
	case slot.Kind != evidence.KindCertificate:
		return domain.Errorf(domain.Invalid, "certificate_details_not_applicable", "only a certificate upload carries certificate details")
	case d.Confirmed:
		return domain.Errorf(domain.Invalid, "invalid_certificate_details", "a reviewer confirms certificate details when approving")
	}
	return d.Check()
}

func sameDetails(a, b *domain.CertificateDetails) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// submit sends the open version to review once every required file is received and passed
// pre-screening; repeating it is harmless.
func (h *handler) submit(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var v *domain.SubmissionVersion
	// A submit that loses a race reloads: an identical one then finds the version submitted
	// and answers as the winner did.
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		t, err := h.owned(ctx, c, req)
		if err != nil {
			return err
		}
		v = t.sub.Current()
		if v != nil && v.Status == domain.VersionSubmitted {
			return nil // a retried submit
		}
		required, err := precheck.Required(t.model, t.kind)
		if err != nil {
			return err
		}
		ch, err := v.Submit(c, precheck.RequiredIDs(required), h.now())
		if err != nil {
			return err
		}
		// The required slots include one zip per required category; this says so in the
		// standard's own terms should the slot list and the standard ever disagree.
		if err := precheck.CheckComplete(t.model, v); err != nil {
			return err
		}
		return h.db.SaveSubmissionVersion(ctx, v, ch)
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// QueueItem is one submitted version waiting for a reviewer.
type QueueItem struct {
	ModelID     string                `json:"modelId"`
	VendorOrg   string                `json:"vendorOrg"`
	Kind        domain.SubmissionKind `json:"kind"`
	Version     int                   `json:"version"`
	SubmittedBy string                `json:"submittedBy"`
	SubmittedAt *time.Time            `json:"submittedAt"`
	Files       int                   `json:"files"`
}

// queue lists submitted versions oldest first (minAgeDays: only those waiting at least that
// long; reviews finish within one week), one page at a time.
func (h *handler) queue(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	f := store.QueueFilter{Cursor: httpapi.Query(req, "cursor", "")}
	if v, ok := req.QueryStringParameters["minAgeDays"]; ok {
		days, err := strconv.Atoi(v)
		if err != nil || days < 0 || days > 3650 {
			return httpapi.Response{}, domain.Errorf(domain.Invalid, "invalid_age", "minAgeDays must be a whole number of days")
		}
		f.SubmittedUntil = h.now().Add(-time.Duration(days) * 24 * time.Hour)
	}
	var err error
	if f.Limit, err = httpapi.Limit(req, 50); err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.SubmissionQueue(ctx, f)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := store.Page[QueueItem]{Items: []QueueItem{}, Next: page.Next}
	for _, v := range page.Items {
		out.Items = append(out.Items, QueueItem{ModelID: v.ModelID, VendorOrg: v.VendorOrg, Kind: v.Kind, Version: v.Number,
			SubmittedBy: v.SubmittedBy, SubmittedAt: v.SubmittedAt, Files: len(v.Artifacts)})
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// ReviewView is a version as a reviewer sees it: every file with a short-lived download link
// (received files only: refused ones are in quarantine and never part of a submission).
type ReviewView struct {
	Model     *domain.Model             `json:"model"`
	Version   *domain.SubmissionVersion `json:"version"`
	Downloads map[string]blob.Download  `json:"downloads"`
	History   []domain.Change           `json:"history"`
}

func (h *handler) review(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	t, err := h.reviewed(ctx, c, req)
	if err != nil {
		return httpapi.Response{}, err
	}
	v, err := version(t, req)
	if err != nil {
		return httpapi.Response{}, err
	}
	view := ReviewView{Model: t.model, Version: v, Downloads: map[string]blob.Download{}}
	for slot, a := range v.Artifacts {
		if a.Status != domain.ArtifactReceived {
			continue
		}
		key := precheck.Key(t.model.VendorOrg, t.model.ID, t.kind, artifactVersion(t.sub, slot, a), slot, a.UploadID)
		d, err := h.files.PresignDownload(ctx, key, a.VersionID, a.FileName, h.now())
		if err != nil {
			return httpapi.Response{}, err
		}
		view.Downloads[slot] = d
	}
	if view.History, err = h.db.SubmissionHistory(ctx, t.model.ID, t.kind); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, view), nil
}

// artifactVersion is the version a (possibly carried-over) artifact was uploaded into: the
// first version holding the same upload.
func artifactVersion(s *domain.Submission, slot string, a *domain.Artifact) int {
	for _, v := range s.Versions {
		if prev := v.Artifacts[slot]; prev != nil && prev.UploadID == a.UploadID {
			return v.Number
		}
	}
	return 0
}

type decisionRequest struct {
	Decision string `json:"decision" maxLength:"10"`
	Reason   string `json:"reason" maxLength:"2000"`
	// Certificates: the reviewer's corrections of certificate details (by certificate: 3c, srrc,
	// cta) when approving a certificates version; the others are confirmed as uploaded.
	Certificates map[domain.Certificate]domain.CertificateDetails `json:"certificates,omitempty" maxItems:"3"`
}

// decide approves or rejects a submitted version with feedback; it takes effect at once and
// the vendor is told in its outbox. Repeating the same decision is harmless.
func (h *handler) decide(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var body decisionRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	approve, err := domain.ParseVerdict(body.Decision)
	if err != nil {
		return httpapi.Response{}, err
	}
	// A retried decision records nothing; it still nudges the pipeline, in case the resume
	// after the first attempt failed. One that loses a race reloads and finds it recorded.
	var t target
	var v *domain.SubmissionVersion
	err = store.Retry(ctx, store.RetryAttempts, func() error {
		if t, err = h.reviewed(ctx, c, req); err != nil {
			return err
		}
		if v, err = version(t, req); err != nil {
			return err
		}
		if v.Outcome.Same(approve, body.Reason) {
			return nil
		}
		if approve {
			if err := v.ConfirmCertificates(body.Certificates); err != nil {
				return err
			}
		}
		return h.record(ctx, c, t, v, approve, body.Reason)
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	if approve && t.kind == domain.SubmissionCertificates {
		if err := h.recordCertificates(ctx, t.model, v); err != nil {
			return httpapi.Response{}, err
		}
	}
	// Saved before resuming: the decision stays recorded even if the resume fails. Only an
	// approval completes the kind's track; a rejection leaves it waiting for the resubmission.
	if approve {
		if err := h.resumeTrack(ctx, t); err != nil {
			return httpapi.Response{}, err
		}
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// record decides version v and saves it with the vendor's outcome message.
func (h *handler) record(ctx context.Context, c domain.Caller, t target, v *domain.SubmissionVersion, approve bool, reason string) error {
	now := h.now()
	ch, err := v.Decide(c, approve, reason, now)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s pre-check of model %s (version %d)", t.kind, t.model.Name, v.Number)
	if t.kind == domain.SubmissionCertificates {
		what = fmt.Sprintf("certificates of model %s (version %d)", t.model.Name, v.Number)
	}
	msg := domain.OutcomeMessage(h.newID("msg"), t.model.VendorOrg, "model", t.model.ID, what, v.Outcome, "", now)
	return h.db.Tx().SaveSubmissionVersion(v, ch).PutMessage(msg).Commit(ctx, what)
}

// recordCertificates writes the validity of an approved certificates version (the first or a
// renewal) on the model's pipeline record, where the daily sweep warns before expiry and the
// runtime check reads it; a renewal lifts the certificate_expired restriction. Repeating it
// changes nothing.
func (h *handler) recordCertificates(ctx context.Context, m *domain.Model, v *domain.SubmissionVersion) error {
	valid := v.CertificateValidity()
	return store.Retry(ctx, store.RetryAttempts, func() error {
		p, err := h.db.Pipeline(ctx, m.ID)
		switch {
		case domain.KindOf(err) == domain.NotFound:
			// The workflow's first record step has not run yet; it finds this record.
			p = &domain.Pipeline{ModelID: m.ID, VendorOrg: m.VendorOrg, Stage: domain.StageRegistered}
		case err != nil:
			return err
		}
		changes := p.RecordCertificates(valid, h.now())
		if len(changes) == 0 {
			return nil
		}
		return h.db.SavePipeline(ctx, p, changes...)
	})
}

// resumeTrack completes the pipeline track of t's submission kind (the software or hardware
// pre-check, or the national certification) once its current version is approved. Joins and
// gates are the state machine's; this only resumes the one callback waiting on this kind. A
// track not (or no longer) waiting is left alone.
func (h *handler) resumeTrack(ctx context.Context, t target) error {
	cur := t.sub.Current()
	if cur == nil || cur.Status != domain.VersionApproved {
		return nil
	}
	track := domain.TrackOf(t.kind)
	tok, err := h.db.TaskTokenOf(ctx, t.model.ID, string(track))
	if domain.KindOf(err) == domain.NotFound {
		slog.WarnContext(ctx, "submission approved but no pipeline track waits for it", "model", t.model.ID, "track", track)
		return nil
	}
	if err != nil {
		return err
	}
	err = h.pipelines.Resume(ctx, tok.Token, map[string]any{"approvedVersion": cur.Number, "approvedAt": h.now()})
	if errors.Is(err, domain.ErrNotWaiting) {
		return nil // resumed before (a retried decision) or the track expired
	}
	return err
}
