package store

import (
	"context"

	"github.com/facepay/platform/shared/domain"
)

// Inventory exports: a few per vendor and day, the JSON envelope.
//
//	export   EXPORT#<id>   META   (filters, status, attempt and lease, rows, the CSV's key and version)
//
// The worker takes an export with a write conditional on the version it read (Start), so of
// two deliveries of its event only one runs; it finishes with another such write, which a run
// whose lease was taken over loses.

func exportPK(id string) string { return "EXPORT#" + id }

// SaveExport creates (Version 0) or updates e, conditional on its version. Conflict
// ("conflict") when it changed since it was read.
func (db *DB) SaveExport(ctx context.Context, e *domain.InventoryExport) error {
	data, err := marshalJSON(e)
	tx := db.Tx()
	tx.add(item{PK: exportPK(e.ID), SK: "META", Data: data}, e.Version, err)
	if err := tx.Commit(ctx, "export "+e.ID); err != nil {
		return err
	}
	e.Version++
	return nil
}

// Export returns export id. NotFound ("export_not_found").
func (db *DB) Export(ctx context.Context, id string) (*domain.InventoryExport, error) {
	if err := safeID("export", id); err != nil {
		return nil, err
	}
	it, err := db.get(ctx, exportPK(id), "META", "export_not_found", "export "+id)
	if err != nil {
		return nil, err
	}
	var e domain.InventoryExport
	if err := unmarshalJSON(it.Data, &e); err != nil {
		return nil, err
	}
	e.Version = it.Version
	return &e, nil
}
