// Package handler makes an inventory export (POST /devices/exports): it takes the export
// (a write conditional on the version read, with a lease), pages the vendor's inventory with
// the export's filters, 1,000 devices a read, and streams the CSV to S3 as a multipart
// upload of 8 MiB parts, so memory stays at one part and one page whatever the inventory's
// size (10^6 devices: about 100 MB of CSV, 13 parts). It then records the row count and the
// object's version; the vendor's GET /devices/exports/{id} presigns a link to it.
//
// Lambda delivers the asynchronous event at least once: a done or failed export ignores a
// redelivery, and a running one ignores it while its lease holds (so two runs never write
// the same export). A run that fails returns the export to the queue and returns the error, so
// Lambda's retry runs it again from the start; after the retries the event goes to
// FailedEventsQueue (template.yaml), and a status read past the lease queues it once more.
package handler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/csvsafe"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

// Event is what DevicesFunction sends: the export to make.
type Event struct {
	ExportID string `json:"exportId"`
}

type exportStore interface {
	Export(ctx context.Context, id string) (*domain.InventoryExport, error)
	SaveExport(ctx context.Context, e *domain.InventoryExport) error
	ResolveInventory(ctx context.Context, q *store.InventoryQuery) error
	Inventory(ctx context.Context, q store.InventoryQuery) (store.Page[domain.InventoryEntry], error)
}

// sink is the object being written.
type sink interface {
	io.Writer
	Close() (versionID string, err error)
	Abort()
}

type objects interface {
	NewSink(ctx context.Context, key, contentType string) sink
}

type bucket struct{ *blob.Store }

func (b bucket) NewSink(ctx context.Context, key, contentType string) sink {
	return b.NewStreamWriter(ctx, key, contentType)
}

type handler struct {
	db      exportStore
	objects objects
	now     func() time.Time
}

// New builds the function from its environment (TABLE_NAME, BUCKET_NAME).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, Event) (struct{}, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	h := &handler{db: store.New(store.NewClient(c), env["TABLE_NAME"]), objects: bucket{blob.New(blob.NewClient(c), env["BUCKET_NAME"])}, now: d.Now}
	return h.handle, nil
}

// header is the CSV's first row.
var header = []string{"sn", "model_id", "status", "software_mode", "camera_sn", "checked_at", "backfilled", "conflict",
	"provider", "binding_state", "test_device", "test_until"}

func (h *handler) handle(ctx context.Context, ev Event) (struct{}, error) {
	e, err := h.db.Export(ctx, ev.ExportID)
	switch {
	case domain.KindOf(err) == domain.NotFound:
		slog.WarnContext(ctx, "unknown export ignored", "export", ev.ExportID)
		return struct{}{}, nil
	case err != nil:
		return struct{}{}, err
	}
	if !e.Start(h.now()) {
		slog.InfoContext(ctx, "export already taken or finished; redelivery ignored", "export", e.ID, "status", e.Status)
		return struct{}{}, nil
	}
	if err := h.db.SaveExport(ctx, e); errors.Is(err, domain.ErrConflict) {
		slog.InfoContext(ctx, "another delivery took the export", "export", e.ID)
		return struct{}{}, nil
	} else if err != nil {
		return struct{}{}, err
	}
	rows, version, err := h.write(ctx, e)
	var derr *domain.Error
	switch {
	case errors.As(err, &derr) && derr.Kind != domain.Internal:
		// The filters no longer hold (the model is gone): nothing a retry would change.
		e.Fail(derr.Message, h.now())
	case err != nil:
		// Back to the queue for Lambda's retry (the lease would make the retry wait).
		e.Status, e.LeaseUntil = domain.ExportQueued, nil
		if serr := h.db.SaveExport(context.WithoutCancel(ctx), e); serr != nil {
			slog.ErrorContext(ctx, "export could not be requeued", "export", e.ID, "err", serr)
		}
		return struct{}{}, fmt.Errorf("export %s: %w", e.ID, err)
	default:
		e.Finish(rows, domain.ExportKey(e.Org, e.ID), version, h.now())
	}
	if err := h.db.SaveExport(ctx, e); errors.Is(err, domain.ErrConflict) {
		// This run outlived its lease and another took the export over: that one records it.
		slog.WarnContext(ctx, "export taken over before it finished", "export", e.ID)
		return struct{}{}, nil
	} else if err != nil {
		return struct{}{}, err
	}
	slog.InfoContext(ctx, "export finished", "export", e.ID, "status", e.Status, "rows", rows)
	return struct{}{}, nil
}

// write streams e's CSV to its key and returns the rows written and the object's version.
func (h *handler) write(ctx context.Context, e *domain.InventoryExport) (int, string, error) {
	q := store.InventoryQuery{Org: e.Org, ModelID: e.Filter.ModelID, Status: e.Filter.Status, Provider: e.Filter.Provider, Export: true}
	if err := h.db.ResolveInventory(ctx, &q); err != nil {
		return 0, "", err
	}
	out := h.objects.NewSink(ctx, domain.ExportKey(e.Org, e.ID), "text/csv")
	w := csvsafe.NewWriter(out)
	rows := 0
	err := func() error {
		if err := w.Write(header); err != nil {
			return err
		}
		for {
			page, err := h.db.Inventory(ctx, q)
			if err != nil {
				return err
			}
			for _, d := range page.Items {
				if err := w.Write(row(d)); err != nil {
					return err
				}
				rows++
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		w.Flush()
		return w.Error()
	}()
	if err != nil {
		out.Abort()
		return 0, "", err
	}
	version, err := out.Close()
	if err != nil {
		out.Abort()
		return 0, "", err
	}
	return rows, version, nil
}

func row(d domain.InventoryEntry) []string {
	at := ""
	if d.CheckedAt != nil && !d.CheckedAt.IsZero() {
		at = d.CheckedAt.UTC().Format(time.RFC3339)
	}
	return []string{d.SN, d.ModelID, d.Status, string(d.SoftwareMode), d.CameraSN, at, strconv.FormatBool(d.Backfilled),
		strconv.FormatBool(d.Conflict), d.Provider, string(d.BindingState), strconv.FormatBool(d.TestDevice), d.TestUntil}
}
