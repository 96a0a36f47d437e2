// Package handler validates uploads on arrival: it reads the object S3 reports, checks the
// bytes are what the file name claims and that they hash to the declared SHA-256, and marks
// the slot received, or rejected with a reason (moving the object to quarantine/). Two kinds
// of upload arrive: application attachments (applications/...) and model evidence
// (evidence/..., see evidence.go), whose spreadsheets are also pre-screened.
// Notifications arrive at least once; a redelivered one finds the slot already settled and
// changes nothing. The reconciliation sweep re-drives uploads whose notification was lost by
// the same path, with an S3 event of its own; whichever of the two comes second (or loses the
// race to save) finds the slot settled. Once an upload has settled its ticket (the sweep's
// index, store.UploadTicket) is deleted.
//
// Every upload it settles is counted in CloudWatch (Embedded Metric Format, on stdout):
// UploadsReceived with dimension Kind ("application" or "evidence"), or UploadsRejected with
// Kind and Reason, the stable reason code. A redelivered or stale notification counts nothing.
package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/invoke"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/metrics"
	"github.com/facepay/platform/shared/precheck"
	"github.com/facepay/platform/shared/store"
)

type applicationStore interface {
	Application(ctx context.Context, id string) (*domain.Application, error)
	SaveApplication(ctx context.Context, a *domain.Application, changes ...domain.Change) error
}

type evidenceStore interface {
	Model(ctx context.Context, id string) (*domain.Model, error)
	Submission(ctx context.Context, modelID, vendorOrg string, kind domain.SubmissionKind) (*domain.Submission, error)
	SaveArtifact(ctx context.Context, v *domain.SubmissionVersion, slot string, changes ...domain.Change) error
}

type objects interface {
	Open(ctx context.Context, key, versionID string) (*blob.Object, error)
	Quarantine(ctx context.Context, key, versionID string) error
	PresignDownload(ctx context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error)
}

// prescreener screens a spreadsheet: in production the PrescreenWorkbookFunction, invoked
// synchronously, so that the workbook readers stay out of this function's cold start.
type prescreener interface {
	Prescreen(ctx context.Context, r evidence.PrescreenRequest) (evidence.PrescreenResponse, error)
}

// remotePrescreen invokes the pre-screening function.
type remotePrescreen struct {
	client   *invoke.Client
	function string
}

func (p remotePrescreen) Prescreen(ctx context.Context, r evidence.PrescreenRequest) (evidence.PrescreenResponse, error) {
	var out evidence.PrescreenResponse
	err := p.client.Call(ctx, p.function, r, &out)
	return out, err
}

// tickets is the reconciliation sweep's index of issued uploads (store.DeleteUploadTicket).
type tickets interface {
	DeleteUploadTicket(ctx context.Context, key string, requestedAt time.Time) error
}

type handler struct {
	apps      applicationStore
	subs      evidenceStore
	tickets   tickets
	objects   objects
	prescreen prescreener
	now       func() time.Time
	metrics   io.Writer // EMF lines go to stdout, which Lambda ships to CloudWatch Logs
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, events.S3Event) (struct{}, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME", "PRESCREEN_FUNCTION")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	db := store.New(store.NewClient(c), env["TABLE_NAME"])
	h := &handler{apps: db, subs: db, tickets: db, objects: blob.New(blob.NewClient(c), env["BUCKET_NAME"]), now: d.Now, metrics: os.Stdout,
		prescreen: remotePrescreen{client: invoke.NewClient(c), function: env["PRESCREEN_FUNCTION"]}}
	return h.handle, nil
}

// handle processes every record; an error makes S3's async invoke retry the whole event,
// which is safe because processing is idempotent.
func (h *handler) handle(ctx context.Context, e events.S3Event) (struct{}, error) {
	var errs []error
	for _, r := range e.Records {
		key, err := url.QueryUnescape(r.S3.Object.Key) // S3 sends keys form-encoded
		if err != nil {
			slog.WarnContext(ctx, "undecodable key ignored", "key", r.S3.Object.Key)
			continue
		}
		if err := h.process(ctx, key, r.S3.Object.VersionID); err != nil {
			errs = append(errs, fmt.Errorf("process %s: %w", key, err))
		}
	}
	return struct{}{}, errors.Join(errs...)
}

func (h *handler) process(ctx context.Context, key, versionID string) error {
	switch parts := strings.Split(key, "/"); {
	case len(parts) == 5 && parts[0] == "applications":
		return h.applicationUpload(ctx, parts[1], parts[2], parts[3], parts[4], key, versionID)
	case parts[0] == "evidence":
		k, ok := precheck.ParseKey(key)
		if !ok {
			slog.WarnContext(ctx, "evidence key of an unknown shape ignored", "key", key)
			return nil
		}
		return h.evidenceUpload(ctx, k, key, versionID)
	default:
		slog.InfoContext(ctx, "object outside any upload slot ignored", "key", key)
		return nil
	}
}

func (h *handler) applicationUpload(ctx context.Context, org, appID, slot, uploadID, key, versionID string) error {
	// Retry on a lost race with the applicant editing the same application. The bytes are read
	// and checked once; a retry only repeats the load and the save. What follows a settled
	// upload (metric, quarantine) runs once, after the save.
	var obj *blob.Object
	var code, reason string
	var then func() error
	var settled *time.Time // the settled upload's RequestedAt: its ticket is done with
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		then, settled = nil, nil
		a, err := h.apps.Application(ctx, appID)
		if domain.KindOf(err) == domain.NotFound {
			slog.WarnContext(ctx, "upload for unknown application", "key", key)
			return nil
		}
		if err != nil {
			return err
		}
		att := a.Attachments[slot]
		if a.Org == org && att != nil && att.UploadID == uploadID && att.Status == domain.AttachmentRejected {
			// Redelivered after a rejection: the quarantine may have failed the first time
			// (the rejection was saved first), and moving it again is harmless.
			then, settled = func() error { return h.objects.Quarantine(ctx, key, att.VersionID) }, &att.RequestedAt
			return nil
		}
		if a.Org == org && att != nil && att.UploadID == uploadID && att.Status == domain.AttachmentReceived &&
			(versionID == "" || versionID == att.VersionID) {
			slog.InfoContext(ctx, "redelivered notification ignored", "key", key)
			settled = &att.RequestedAt
			return nil
		}
		if a.Org != org || att == nil || att.UploadID != uploadID || att.Status != domain.AttachmentPending {
			// No slot takes this object: a superseded upload, or a second PUT through a URL
			// already used. It leaves the live prefix unchecked.
			return h.unaccepted(ctx, key, versionID)
		}
		if obj == nil {
			if obj, code, reason, err = h.inspect(ctx, key, versionID, att.FileName, att.SHA256, att.Size); err != nil {
				return err
			}
		}
		ch, err := a.ReceiveAttachment(slot, uploadID, obj.VersionID, obj.Size, reason, h.now())
		if errors.Is(err, domain.ErrStaleUpload) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := h.apps.SaveApplication(ctx, a, ch); err != nil {
			return err
		}
		settled = &att.RequestedAt
		then = func() error {
			h.count(ctx, kindApplication, code)
			if code != "" {
				return h.objects.Quarantine(ctx, key, obj.VersionID)
			}
			return nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	if then != nil {
		if err := then(); err != nil {
			return err
		}
	}
	h.ticketDone(ctx, key, settled)
	return nil
}

// ticketDone deletes the ticket of the upload at key once it has settled (requestedAt is nil
// when this event settled nothing the ticket stands for). A failed delete is logged, not
// returned: the upload is settled, and the sweep's next run re-drives the object, which finds
// it settled and comes here again.
func (h *handler) ticketDone(ctx context.Context, key string, requestedAt *time.Time) {
	if requestedAt == nil {
		return
	}
	if err := h.tickets.DeleteUploadTicket(ctx, key, *requestedAt); err != nil {
		slog.WarnContext(ctx, "upload ticket not deleted", "key", key, "err", err)
	}
}

// inspect reads the object and returns why it is refused: a stable reason code
// (file_too_large, size_mismatch, checksum_mismatch, content_mismatch) and a message, both ""
// when it is fine. The size checked is the object's, not the one declared: the presigned URL
// signs the checksum, not the length.
func (h *handler) inspect(ctx context.Context, key, versionID, fileName, wantSHA string, declared int64) (obj *blob.Object, code, reason string, err error) {
	obj, err = h.objects.Open(ctx, key, versionID)
	if err != nil {
		return nil, "", "", err
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(io.LimitReader(obj.Body, domain.MaxAttachmentSize+1))
	if err != nil {
		return nil, "", "", fmt.Errorf("read %s: %w", key, err)
	}
	obj.Size = max(obj.Size, int64(len(data)))
	if obj.Size > domain.MaxAttachmentSize {
		return obj, "file_too_large", fmt.Sprintf("the file is %d bytes; attachments take at most %d bytes (50 MiB)", obj.Size, int64(domain.MaxAttachmentSize)), nil
	}
	if obj.Size != declared {
		return obj, "size_mismatch", fmt.Sprintf("the file is %d bytes, not the %d declared when the upload was requested", obj.Size, declared), nil
	}
	sum := sha256.Sum256(data)
	if wantSHA != "" && hex.EncodeToString(sum[:]) != wantSHA {
		return obj, "checksum_mismatch", "the file's SHA-256 differs from the one declared when the upload was requested", nil
	}
	if reason := checkContent(fileName, data); reason != "" {
		return obj, "content_mismatch", reason, nil
	}
	return obj, "", "", nil
}

// unaccepted moves an object no slot takes (superseded, or a second PUT through a used URL)
// out of the live prefix into quarantine/, where the bucket's lifecycle rule expires it.
// Only that object version moves: a slot's accepted version stays where it is.
func (h *handler) unaccepted(ctx context.Context, key, versionID string) error {
	slog.InfoContext(ctx, "object no slot accepts quarantined", "key", key, "versionId", versionID)
	if versionID == "" {
		// Without a version id the current version is the accepted one, if any: leave it.
		return nil
	}
	return h.objects.Quarantine(ctx, key, versionID)
}

// The Kind dimension of the upload metrics.
const (
	kindApplication = "application"
	kindEvidence    = "evidence"
)

// count publishes one settled upload of kind: UploadsReceived when reasonCode is "", else
// UploadsRejected with the Reason dimension. A failed write is logged, not returned: the
// upload is already recorded, and a retry would find it settled and count nothing.
func (h *handler) count(ctx context.Context, kind, reasonCode string) {
	name, dims := "UploadsReceived", map[string]string{"Kind": kind}
	if reasonCode != "" {
		name, dims["Reason"] = "UploadsRejected", reasonCode
	}
	if err := metrics.Count(h.metrics, h.now(), name, 1, dims); err != nil {
		slog.WarnContext(ctx, "upload metric not written", "metric", name, "err", err)
	}
}
