// Package handler applies a vendor's binding CSV when it arrives (S3 object-created under
// binding-imports/<org>/<import id>.csv): up to 100,000 rows, 500 at a time through the same
// binder as POST /bindings, one result row per input row written to
// binding-results/<org>/<import id>.csv, totals saved on the import after every chunk (its
// progress) and its status set to done. A file the platform refuses as a whole (not CSV,
// more rows than allowed, another size than declared) marks the import failed with the
// reason and applies no row.
//
// Notifications arrive at least once: a finished import ignores a redelivery. An attempt that
// stopped half-way (a timeout) is run again from the start by Lambda's retry, which is safe
// because every assignment is idempotent (rows applied the first time answer "unchanged").
// After the retries the event goes to the failed-events queue (template.yaml).
package handler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/binding"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/csvsafe"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

type importStore interface {
	BindingImport(ctx context.Context, id string) (*domain.BindingImport, error)
	SaveBindingImport(ctx context.Context, im *domain.BindingImport) error
}

type objects interface {
	Open(ctx context.Context, key, versionID string) (*blob.Object, error)
	Put(ctx context.Context, key, contentType string, body io.Reader, size int64) error
}

type importer interface {
	Import(ctx context.Context, c domain.Caller, in io.Reader, results *csvsafe.Writer, onChunk func([]domain.BindingOutcome) error) error
}

type handler struct {
	db      importStore
	objects objects
	binder  importer
	now     func() time.Time
}

// New builds the function from its environment (TABLE_NAME, BUCKET_NAME).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, events.S3Event) (struct{}, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	db := store.New(store.NewClient(c), env["TABLE_NAME"])
	h := &handler{db: db, objects: blob.New(blob.NewClient(c), env["BUCKET_NAME"]), binder: &binding.Binder{DB: db, Now: d.Now}, now: d.Now}
	return h.handle, nil
}

func (h *handler) handle(ctx context.Context, e events.S3Event) (struct{}, error) {
	var errs []error
	for _, r := range e.Records {
		key, err := url.QueryUnescape(r.S3.Object.Key) // S3 sends keys form-encoded
		if err != nil {
			slog.WarnContext(ctx, "undecodable key ignored", "key", r.S3.Object.Key)
			continue
		}
		if err := h.process(ctx, key, r.S3.Object.VersionID); err != nil {
			errs = append(errs, fmt.Errorf("import %s: %w", key, err))
		}
	}
	return struct{}{}, errors.Join(errs...)
}

func (h *handler) process(ctx context.Context, key, versionID string) error {
	parts := strings.Split(key, "/")
	if len(parts) != 3 || parts[0] != "binding-imports" || !strings.HasSuffix(parts[2], ".csv") {
		slog.InfoContext(ctx, "object outside any import ignored", "key", key)
		return nil
	}
	org, id := parts[1], strings.TrimSuffix(parts[2], ".csv")
	im, err := h.db.BindingImport(ctx, id)
	if domain.KindOf(err) == domain.NotFound || (err == nil && im.VendorOrg != org) {
		slog.WarnContext(ctx, "object names no import of its organisation; ignored", "key", key)
		return nil
	}
	if err != nil {
		return err
	}
	if im.Status == domain.ImportDone || im.Status == domain.ImportFailed {
		return nil // a redelivered notification
	}
	obj, err := h.objects.Open(ctx, key, versionID)
	if err != nil {
		return err
	}
	defer obj.Body.Close()
	if obj.Size != im.Size {
		return h.fail(ctx, im, domain.Errorf(domain.Invalid, "size_mismatch", "the file has %d bytes, %d were declared", obj.Size, im.Size))
	}
	// Start the totals again: a retried attempt counts every row once more.
	im.Status, im.Rows, im.Changed, im.Unchanged, im.Errors = domain.ImportProcessing, 0, 0, 0, 0
	if err := h.db.SaveBindingImport(ctx, im); err != nil {
		return err
	}
	var out bytes.Buffer
	w := csvsafe.NewWriter(&out)
	caller := domain.Caller{Subject: im.By, Org: im.VendorOrg, Role: domain.RoleVendor}
	err = h.binder.Import(ctx, caller, io.LimitReader(obj.Body, domain.MaxBindingImportBytes+1), w, func(outs []domain.BindingOutcome) error {
		im.Count(outs)
		return h.db.SaveBindingImport(ctx, im) // progress the vendor can watch
	})
	switch {
	case domain.KindOf(err) == domain.Invalid:
		return h.fail(ctx, im, err)
	case err != nil:
		return err
	}
	if err := h.objects.Put(ctx, binding.ResultsKey(im.VendorOrg, im.ID), "text/csv", bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil {
		return err
	}
	done := h.now()
	im.Status, im.FinishedAt = domain.ImportDone, &done
	slog.InfoContext(ctx, "binding import done", "import", im.ID, "rows", im.Rows, "changed", im.Changed, "errors", im.Errors)
	return h.db.SaveBindingImport(ctx, im)
}

// fail marks the import refused as a whole, with the reason's code and message.
func (h *handler) fail(ctx context.Context, im *domain.BindingImport, why error) error {
	done := h.now()
	im.Status, im.Error, im.Message, im.FinishedAt = domain.ImportFailed, domain.CodeOf(why), domain.MessageOf(why), &done
	im.Rows, im.Changed, im.Unchanged, im.Errors = 0, 0, 0, 0
	return h.db.SaveBindingImport(ctx, im)
}
