// Package handler serves the partner applications API: create a draft, edit it, attach
// files through presigned uploads, submit, withdraw, and read status and history.
package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

type applicationStore interface {
	CreateApplication(ctx context.Context, a *domain.Application, c domain.Change, claims ...store.Claim) error
	ClaimOf(ctx context.Context, scope string) (store.Claim, error)
	SaveApplication(ctx context.Context, a *domain.Application, changes ...domain.Change) error
	Application(ctx context.Context, id string) (*domain.Application, error)
	ApplicationHistory(ctx context.Context, id string) ([]domain.Change, error)
	ApplicationsOf(ctx context.Context, org, cursor string, limit int) (store.Page[domain.Application], error)
	Messages(ctx context.Context, org, cursor string, limit int) (store.Page[domain.Message], error)
	Vendor(ctx context.Context, org string) (domain.Vendor, error)
}

type uploads interface {
	PresignUpload(ctx context.Context, key, contentType, sha256Hex string, now time.Time) (blob.Upload, error)
}

// tickets records every issued upload for the reconciliation sweep (store.PutUploadTicket).
type tickets interface {
	PutUploadTicket(ctx context.Context, t store.UploadTicket) error
}

type handler struct {
	apps    applicationStore
	uploads uploads
	tickets tickets
	now     func() time.Time
	newID   func() string
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME", "CURSOR_KEY")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	db := store.New(store.NewClient(c), env["TABLE_NAME"], store.WithCursorKey(env["CURSOR_KEY"]))
	h := &handler{
		apps:    db,
		tickets: db,
		uploads: blob.New(blob.NewClient(c), env["BUCKET_NAME"]),
		now:     d.Now,
		newID:   func() string { return ids.New("app") },
	}
	return h.router().Handle, nil
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"POST /applications":                        h.create,
		"GET /applications":                         h.list,
		"GET /applications/{id}":                    h.get,
		"PATCH /applications/{id}":                  h.edit,
		"PUT /applications/{id}/attachments/{slot}": h.attach,
		"POST /applications/{id}/submit":            h.submit,
		"POST /applications/{id}/withdraw":          h.withdraw,
		"GET /applications/{id}/history":            h.history,
		"GET /messages":                             h.messages,
	}
}

var applicantRoles = []domain.Role{domain.RoleVendor, domain.RoleSoftwareProvider, domain.RoleDeployer, domain.RoleMerchant}

type createRequest struct {
	PartnerType string `json:"partnerType" maxLength:"50"`
	domain.ApplicationDraft
}

// create starts a draft. With an Idempotency-Key header the id derives from the key (scoped
// to the caller), so a retried create returns the draft the first attempt made instead of
// making another; the same key with another body is refused (422 idempotency_key_reused).
func (h *handler) create(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(applicantRoles...); err != nil {
		return httpapi.Response{}, err
	}
	var body createRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	t, err := domain.ParsePartnerType(body.PartnerType)
	if err != nil {
		return httpapi.Response{}, err
	}
	idem, err := httpapi.IdempotencyOf(req, c, "createApplication", body)
	if err != nil {
		return httpapi.Response{}, err
	}
	id := h.newID()
	var claims []store.Claim
	if idem.Key != "" {
		id = ids.Derived("app", idem.Scope)
		claims = append(claims, store.Claim{Scope: idem.Scope, Fingerprint: idem.Fingerprint, EntityID: id, At: h.now()})
	}
	a, change, err := domain.NewApplication(id, c, t, body.ApplicationDraft, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.apps.CreateApplication(ctx, a, change, claims...); err != nil {
		if idem.Key != "" && errors.Is(err, domain.ErrConflict) {
			prev, err := h.replay(ctx, c, idem)
			if err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.JSON(http.StatusOK, prev.ForOwner()), nil
		}
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusCreated, a.ForOwner()), nil
}

// replay answers a create whose Idempotency-Key is claimed: with the draft the first request
// made when the request is the same, else ErrIdempotencyKeyReused.
func (h *handler) replay(ctx context.Context, c domain.Caller, idem httpapi.Idempotency) (*domain.Application, error) {
	cl, err := h.apps.ClaimOf(ctx, idem.Scope)
	if err != nil {
		return nil, err
	}
	if cl.Fingerprint != idem.Fingerprint {
		return nil, domain.ErrIdempotencyKeyReused.Withf("Idempotency-Key %q was used with a different request; use a new key", idem.Key)
	}
	return h.owned(ctx, c, cl.EntityID)
}

// messages lists the caller organisation's outbox: every released outcome, newest first.
func (h *handler) messages(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(applicantRoles...); err != nil {
		return httpapi.Response{}, err
	}
	limit, err := httpapi.Limit(req, 50)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.apps.Messages(ctx, c.Org, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, page), nil
}

func (h *handler) list(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(applicantRoles...); err != nil {
		return httpapi.Response{}, err
	}
	limit, err := httpapi.Limit(req, 50)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.apps.ApplicationsOf(ctx, c.Org, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := store.Page[*domain.Application]{Next: page.Next, Items: make([]*domain.Application, len(page.Items))}
	for i := range page.Items {
		out.Items[i] = page.Items[i].ForOwner()
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// owned loads an application the caller's organisation owns. Another organisation's
// application is reported as not found, so ids cannot be probed.
func (h *handler) owned(ctx context.Context, c domain.Caller, id string) (*domain.Application, error) {
	if err := c.Require(applicantRoles...); err != nil {
		return nil, err
	}
	a, err := h.apps.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Owns(a.Org) {
		return nil, domain.Errorf(domain.NotFound, "application_not_found", "application %s does not exist", id)
	}
	return a, nil
}

func (h *handler) get(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	a, err := h.owned(ctx, c, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, a.ForOwner()), nil
}

func (h *handler) history(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	a, err := h.owned(ctx, c, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	hist, err := h.apps.ApplicationHistory(ctx, a.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": domain.OwnerHistory(hist)}), nil
}

// change loads the caller's application, applies f and saves it with f's history entry.
// f returning a zero Change means "nothing to do" (an idempotent repeat). A save that loses a
// race loads and applies f again, so a request that lost to an identical one finds the work
// done and answers as the winner did.
func (h *handler) change(ctx context.Context, c domain.Caller, id string, f func(a *domain.Application) (domain.Change, error)) (*domain.Application, error) {
	var a *domain.Application
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		var err error
		if a, err = h.owned(ctx, c, id); err != nil {
			return err
		}
		ch, err := f(a)
		if err != nil || ch.Action == "" {
			return err
		}
		return h.apps.SaveApplication(ctx, a, ch)
	})
	return a, err
}

func (h *handler) edit(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var d domain.ApplicationDraft
	if err := httpapi.Decode(req, &d); err != nil {
		return httpapi.Response{}, err
	}
	a, err := h.change(ctx, c, req.PathParameters["id"], func(a *domain.Application) (domain.Change, error) {
		return a.Edit(c, d, h.now())
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, a.ForOwner()), nil
}

func (h *handler) submit(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	a, err := h.change(ctx, c, req.PathParameters["id"], func(a *domain.Application) (domain.Change, error) {
		if a.Status == domain.AppSubmitted {
			return domain.Change{}, nil // a retried submit
		}
		if a.PartnerType == domain.PartnerDeviceVendor {
			if v, err := h.apps.Vendor(ctx, c.Org); err == nil {
				return domain.Change{}, domain.Errorf(domain.Conflict, "already_a_vendor",
					"%s is already an approved device vendor (code %s)", c.Org, v.Code)
			} else if domain.KindOf(err) != domain.NotFound {
				return domain.Change{}, err
			}
		}
		return a.Submit(c, h.now())
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, a.ForOwner()), nil
}

type withdrawRequest struct {
	Reason string `json:"reason" maxLength:"500"`
}

func (h *handler) withdraw(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var body withdrawRequest
	if req.Body != "" {
		if err := httpapi.Decode(req, &body); err != nil {
			return httpapi.Response{}, err
		}
	}
	a, err := h.change(ctx, c, req.PathParameters["id"], func(a *domain.Application) (domain.Change, error) {
		if a.Status == domain.AppWithdrawn {
			return domain.Change{}, nil
		}
		return a.Withdraw(c, body.Reason, h.now())
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, a.ForOwner()), nil
}

// maxAttachmentSize bounds application attachments (decks, licences).
const maxAttachmentSize = domain.MaxAttachmentSize

// attachmentTypes are the accepted content types per file extension. The deck is PPT, PPTX
// or PDF; other slots also take images of scanned documents.
var attachmentTypes = map[string]string{
	".pdf":  "application/pdf",
	".ppt":  "application/vnd.ms-powerpoint",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
}

var deckExtensions = []string{".pdf", ".ppt", ".pptx"}

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

// AttachmentKey is where an application's upload lands: owner, application, slot and upload,
// so the notification alone tells which record it belongs to.
func AttachmentKey(org, appID, slot, uploadID string) string {
	return path.Join("applications", org, appID, slot, uploadID)
}

// attach issues a presigned upload for one slot. Asking again for the same pending file
// within store.UploadReusableFor reuses its upload id (and key), so a retry does not orphan an
// upload. The upload's ticket is written before its URL is handed out, so the reconciliation
// sweep knows of every upload that may arrive.
func (h *handler) attach(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var body attachRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	slot := req.PathParameters["slot"]
	body.SHA256 = strings.ToLower(body.SHA256) // hex either case; compared and stored lower-case
	if err := checkAttachment(slot, body); err != nil {
		return httpapi.Response{}, err
	}
	var att *domain.Attachment
	_, err := h.change(ctx, c, req.PathParameters["id"], func(a *domain.Application) (domain.Change, error) {
		if prev := a.Attachments[slot]; prev != nil && prev.Status == domain.AttachmentPending &&
			prev.RequestedAt.After(h.now().Add(-store.UploadReusableFor)) && prev.FileName == body.FileName && prev.SHA256 == body.SHA256 && prev.Size == body.Size && prev.ContentType == body.ContentType {
			att = prev
			return domain.Change{}, nil
		}
		uploadID := ids.New("up")
		ch, err := a.RequestAttachment(c, domain.Attachment{
			Slot: slot, UploadID: uploadID, FileName: body.FileName, ContentType: body.ContentType,
			Size: body.Size, SHA256: body.SHA256, Key: AttachmentKey(a.Org, a.ID, slot, uploadID),
		}, h.now())
		att = a.Attachments[slot]
		return ch, err
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.tickets.PutUploadTicket(ctx, store.UploadTicket{Key: att.Key, RequestedAt: att.RequestedAt, IssuedAt: h.now()}); err != nil {
		return httpapi.Response{}, err
	}
	up, err := h.uploads.PresignUpload(ctx, att.Key, att.ContentType, att.SHA256, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, attachResponse{Attachment: att, Upload: up}), nil
}

func checkAttachment(slot string, b attachRequest) error {
	ext := strings.ToLower(path.Ext(b.FileName))
	if b.FileName == "" || len(b.FileName) > 255 || strings.ContainsAny(b.FileName, "/\\\x00") {
		return domain.Errorf(domain.Invalid, "invalid_file_name", "fileName must be a plain file name of at most 255 bytes")
	}
	want, ok := attachmentTypes[ext]
	if !ok || (slot == "deck" && !slices.Contains(deckExtensions, ext)) {
		allowed := "PDF, PPT, PPTX, JPG or PNG"
		if slot == "deck" {
			allowed = "PPT, PPTX or PDF"
		}
		return domain.Errorf(domain.Invalid, "wrong_extension", "%q: the %s must be %s", b.FileName, slot, allowed)
	}
	if b.ContentType != want {
		return domain.Errorf(domain.Invalid, "wrong_content_type", "a %s file must be sent as %s, not %q", ext, want, b.ContentType)
	}
	if b.Size <= 0 {
		return domain.Errorf(domain.Invalid, "empty_file", "size must be positive")
	}
	if b.Size > maxAttachmentSize {
		return domain.Errorf(domain.TooLarge, "file_too_large", "%q is %d bytes; the limit is %d", b.FileName, b.Size, maxAttachmentSize)
	}
	// Checked here, before the slot changes, not only when the upload is signed: a refused
	// request must leave nothing behind.
	if sum, err := hex.DecodeString(b.SHA256); err != nil || len(sum) != sha256.Size {
		return domain.Errorf(domain.Invalid, "invalid_sha256", "sha256 must be the file's SHA-256 as 64 hex digits")
	}
	return nil
}
