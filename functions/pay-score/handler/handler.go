// Package handler serves the Pay Score API (DOMAIN.md "Pay Score for unattended devices"): a
// merchant's application for one scenario with its attachments (presigned uploads, checked on
// arrival by process-upload), the verified customer-service phone, submission (which starts
// the application's workflow, statemachines/payscore.asl.json), the agreement signed online,
// the go-live acceptance materials and the merchant's timeline; and the reviewers' misuse
// report that revokes a live service. The reviewers' queue and decisions are in functions/review.
package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/workflow"
)

type payScoreStore interface {
	CreatePayScore(ctx context.Context, p *domain.PayScoreApplication, c domain.Change, claims ...store.Claim) error
	ClaimOf(ctx context.Context, scope string) (store.Claim, error)
	SavePayScore(ctx context.Context, p *domain.PayScoreApplication, changes ...domain.Change) error
	PayScore(ctx context.Context, id string) (*domain.PayScoreApplication, error)
	PayScoreHistory(ctx context.Context, id string) ([]domain.Change, error)
	PayScoresOf(ctx context.Context, org, cursor string, limit int) (store.Page[domain.PayScoreApplication], error)
	PayScoreTokenOf(ctx context.Context, id, step string) (store.PayScoreToken, error)
}

type uploads interface {
	PresignUpload(ctx context.Context, key, contentType, sha256Hex string, now time.Time) (blob.Upload, error)
}

type flows interface {
	Start(ctx context.Context, name string, input any) (string, error)
	ResumePayScore(ctx context.Context, a *domain.PayScoreApplication, step string, tokenOf func(ctx context.Context, id, step string) (string, error)) error
}

type handler struct {
	db      payScoreStore
	uploads uploads
	flows   flows
	now     func() time.Time
	newID   func() string
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME", "CURSOR_KEY", "STATE_MACHINE_ARN")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	h := &handler{
		db:      store.New(store.NewClient(c), env["TABLE_NAME"], store.WithCursorKey(env["CURSOR_KEY"])),
		uploads: blob.New(blob.NewClient(c), env["BUCKET_NAME"]),
		flows:   workflow.New(workflow.NewClient(c), env["STATE_MACHINE_ARN"]),
		now:     d.Now,
		newID:   func() string { return ids.New("psa") },
	}
	return h.router().Handle, nil
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"POST /payscore/applications":                         h.create,
		"GET /payscore/applications":                          h.list,
		"GET /payscore/applications/{id}":                     h.get,
		"PUT /payscore/applications/{id}/attachments/{slot}":  h.attach,
		"POST /payscore/applications/{id}/phone-verification": h.verifyPhone,
		"POST /payscore/applications/{id}/submit":             h.submit,
		"POST /payscore/applications/{id}/agreement":          h.sign,
		"POST /payscore/applications/{id}/acceptance":         h.submitAcceptance,
		"GET /payscore/applications/{id}/timeline":            h.timeline,
		"POST /admin/payscore/applications/{id}/misuse":       h.reportMisuse,
	}
}

type createRequest struct {
	Scenario string `json:"scenario" maxLength:"40"`
	domain.PayScoreDetails
}

// create starts a draft for one scenario. With an Idempotency-Key the id derives from the key
// (scoped to the caller), so a retried create returns the first draft; the same key with
// another body is refused (422 idempotency_key_reused).
func (h *handler) create(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleMerchant); err != nil {
		return httpapi.Response{}, err
	}
	var body createRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	idem, err := httpapi.IdempotencyOf(req, c, "createPayScoreApplication", body)
	if err != nil {
		return httpapi.Response{}, err
	}
	id := h.newID()
	var claims []store.Claim
	if idem.Key != "" {
		id = ids.Derived("psa", idem.Scope)
		claims = append(claims, store.Claim{Scope: idem.Scope, Fingerprint: idem.Fingerprint, EntityID: id, At: h.now()})
	}
	p, ch, err := domain.NewPayScoreApplication(id, c, domain.PayScoreScenario(body.Scenario), body.PayScoreDetails, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.db.CreatePayScore(ctx, p, ch, claims...); err != nil {
		if idem.Key == "" || !errors.Is(err, domain.ErrConflict) {
			return httpapi.Response{}, err
		}
		cl, err := h.db.ClaimOf(ctx, idem.Scope)
		if err != nil {
			return httpapi.Response{}, err
		}
		if cl.Fingerprint != idem.Fingerprint {
			return httpapi.Response{}, domain.ErrIdempotencyKeyReused.Withf("Idempotency-Key %q was used with a different request; use a new key", idem.Key)
		}
		prev, err := h.owned(ctx, c, cl.EntityID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, prev.ForOwner()), nil
	}
	return httpapi.JSON(http.StatusCreated, p.ForOwner()), nil
}

func (h *handler) list(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleMerchant); err != nil {
		return httpapi.Response{}, err
	}
	limit, err := httpapi.Limit(req, 50)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.PayScoresOf(ctx, c.Org, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := store.Page[*domain.PayScoreApplication]{Next: page.Next, Items: []*domain.PayScoreApplication{}}
	for i := range page.Items {
		out.Items = append(out.Items, page.Items[i].ForOwner())
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// owned loads an application the caller's organisation owns; another's is not found.
func (h *handler) owned(ctx context.Context, c domain.Caller, id string) (*domain.PayScoreApplication, error) {
	if err := c.Require(domain.RoleMerchant); err != nil {
		return nil, err
	}
	p, err := h.db.PayScore(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Owns(p.Org) {
		return nil, domain.Errorf(domain.NotFound, "payscore_application_not_found", "Pay Score application %s does not exist", id)
	}
	return p, nil
}

func (h *handler) get(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	p, err := h.owned(ctx, c, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, p.ForOwner()), nil
}

// change loads the caller's application, applies f and saves it with f's history entry; a
// zero Change saves nothing (a retried request). A lost race reloads and applies f again.
func (h *handler) change(ctx context.Context, id string, load func(string) (*domain.PayScoreApplication, error),
	f func(p *domain.PayScoreApplication) (domain.Change, error)) (*domain.PayScoreApplication, error) {
	var p *domain.PayScoreApplication
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		var err error
		if p, err = load(id); err != nil {
			return err
		}
		ch, err := f(p)
		if err != nil || ch.Action == "" {
			return err
		}
		return h.db.SavePayScore(ctx, p, ch)
	})
	return p, err
}

func (h *handler) mine(ctx context.Context, c domain.Caller) func(string) (*domain.PayScoreApplication, error) {
	return func(id string) (*domain.PayScoreApplication, error) { return h.owned(ctx, c, id) }
}

type phoneRequest struct {
	Phone string `json:"phone" maxLength:"20"`
}

// verifyPhone records the customer-service phone as verified. The verification itself (a code
// sent to the phone) is the payment platform's merchant console's; this records its result.
func (h *handler) verifyPhone(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var body phoneRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	p, err := h.change(ctx, req.PathParameters["id"], h.mine(ctx, c), func(p *domain.PayScoreApplication) (domain.Change, error) {
		return p.VerifyPhone(c, body.Phone, h.now())
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, p.ForOwner()), nil
}

// submit sends the complete application to review and starts its workflow (named after the
// application, so a retried submit finds the same execution). Without a verified phone the
// application is deferred to next week's review, and the answer says so.
func (h *handler) submit(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	p, err := h.change(ctx, req.PathParameters["id"], h.mine(ctx, c), func(p *domain.PayScoreApplication) (domain.Change, error) {
		if p.SubmittedAt != nil && p.Execution == "" {
			return domain.Change{}, nil // submitted, its workflow not started yet: start it below
		}
		return p.Submit(c, h.now())
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	if p.Execution == "" {
		arn, err := h.flows.Start(ctx, "payscore-"+p.ID, map[string]string{"applicationId": p.ID})
		if err != nil {
			return httpapi.Response{}, err
		}
		p, err = h.change(ctx, p.ID, h.mine(ctx, c), func(p *domain.PayScoreApplication) (domain.Change, error) {
			if p.Execution != "" {
				return domain.Change{}, nil
			}
			p.Execution = arn
			return domain.Change{At: h.now(), By: "platform", Action: "workflow_started"}, nil
		})
		if err != nil {
			return httpapi.Response{}, err
		}
	}
	return httpapi.JSON(http.StatusOK, p.ForOwner()), nil
}

// step saves the merchant's step f, then tells the workflow (a retried request tells it again).
func (h *handler) step(ctx context.Context, c domain.Caller, req httpapi.Request, step string,
	f func(p *domain.PayScoreApplication) (domain.Change, error)) (httpapi.Response, error) {
	p, err := h.change(ctx, req.PathParameters["id"], h.mine(ctx, c), f)
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.flows.ResumePayScore(ctx, p, step, h.tokenOf); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, p.ForOwner()), nil
}

func (h *handler) tokenOf(ctx context.Context, id, step string) (string, error) {
	t, err := h.db.PayScoreTokenOf(ctx, id, step)
	return t.Token, err
}

func (h *handler) sign(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	return h.step(ctx, c, req, domain.StepAgreement, func(p *domain.PayScoreApplication) (domain.Change, error) {
		return p.SignAgreement(c, h.now())
	})
}

func (h *handler) submitAcceptance(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	return h.step(ctx, c, req, domain.StepAcceptance, func(p *domain.PayScoreApplication) (domain.Change, error) {
		if p.Status == domain.PayScoreAcceptanceReview {
			return domain.Change{}, nil // a retried submission
		}
		return p.SubmitAcceptance(c, h.now())
	})
}

func (h *handler) timeline(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	p, err := h.owned(ctx, c, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	hist, err := h.db.PayScoreHistory(ctx, p.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, domain.BuildPayScoreTimeline(p.ForOwner(), domain.OwnerHistory(hist), h.now())), nil
}

type misuseRequest struct {
	Scenario string `json:"scenario" maxLength:"40"`
	Report   string `json:"report" maxLength:"2000"`
}

// reportMisuse is a reviewer's report of use outside the approved scenario: Pay Score goes
// offline at once, with the report in the history.
func (h *handler) reportMisuse(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	var body misuseRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	load := func(id string) (*domain.PayScoreApplication, error) { return h.db.PayScore(ctx, id) }
	p, err := h.change(ctx, req.PathParameters["id"], load, func(p *domain.PayScoreApplication) (domain.Change, error) {
		return p.ReportMisuse(c, domain.PayScoreScenario(body.Scenario), body.Report, h.now())
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, p), nil
}

type attachRequest struct {
	FileName    string `json:"fileName" maxLength:"255"`
	ContentType string `json:"contentType" maxLength:"100"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256" maxLength:"64"`
}

type attachResponse struct {
	Attachment *domain.Attachment `json:"attachment"`
	Upload     blob.Upload        `json:"upload"`
}

// contentTypes are the content types per extension a Pay Score file is sent as.
var contentTypes = map[string]string{
	".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".mp4": "video/mp4",
}

// AttachmentKey is where a Pay Score upload lands (its own prefix): owner, application, slot
// and upload, so the notification alone tells which record it belongs to.
func AttachmentKey(org, id, slot, uploadID string) string {
	return path.Join("payscore", org, id, slot, uploadID)
}

// attach issues a presigned upload for one slot, signing the key, the content type and the
// declared SHA-256. Asking again for the same pending file reuses its upload.
func (h *handler) attach(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var body attachRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	slot := req.PathParameters["slot"]
	body.SHA256 = strings.ToLower(body.SHA256)
	if err := checkAttachment(body); err != nil {
		return httpapi.Response{}, err
	}
	var att *domain.Attachment
	_, err := h.change(ctx, req.PathParameters["id"], h.mine(ctx, c), func(p *domain.PayScoreApplication) (domain.Change, error) {
		if prev := p.Attachments[slot]; prev != nil && prev.Status == domain.AttachmentPending &&
			prev.FileName == body.FileName && prev.SHA256 == body.SHA256 && prev.Size == body.Size && prev.ContentType == body.ContentType {
			att = prev
			return domain.Change{}, nil
		}
		uploadID := ids.New("up")
		ch, err := p.RequestAttachment(c, domain.Attachment{
			Slot: slot, UploadID: uploadID, FileName: body.FileName, ContentType: body.ContentType,
			Size: body.Size, SHA256: body.SHA256, Key: AttachmentKey(p.Org, p.ID, slot, uploadID),
		}, h.now())
		att = p.Attachments[slot]
		return ch, err
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	up, err := h.uploads.PresignUpload(ctx, att.Key, att.ContentType, att.SHA256, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, attachResponse{Attachment: att, Upload: up}), nil
}

func checkAttachment(b attachRequest) error {
	if b.FileName == "" || len(b.FileName) > 255 || strings.ContainsAny(b.FileName, "/\\\x00") {
		return domain.Errorf(domain.Invalid, "invalid_file_name", "fileName must be a plain file name of at most 255 bytes")
	}
	ext := strings.ToLower(path.Ext(b.FileName))
	want, ok := contentTypes[ext]
	if !ok {
		return domain.Errorf(domain.Invalid, "unsupported_file_type", "%q: Pay Score files are PDF, PNG, JPG or MP4", b.FileName)
	}
	if b.ContentType != want {
		return domain.Errorf(domain.Invalid, "wrong_content_type", "a %s file must be sent as %s, not %q", ext, want, b.ContentType)
	}
	if b.Size <= 0 {
		return domain.Errorf(domain.Invalid, "empty_file", "size must be positive")
	}
	if b.Size > domain.MaxAttachmentSize {
		return domain.Errorf(domain.TooLarge, "file_too_large", "%q is %d bytes; the limit is %d (50 MiB)", b.FileName, b.Size, int64(domain.MaxAttachmentSize))
	}
	if sum, err := hex.DecodeString(b.SHA256); err != nil || len(sum) != sha256.Size {
		return domain.Errorf(domain.Invalid, "invalid_sha256", "sha256 must be the file's SHA-256 as 64 hex digits")
	}
	return nil
}
