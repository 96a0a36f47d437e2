package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Items: pk=VENDOR#<org> sk=FACTORYCODE: the vendor's current device authorization code
// (domain.FactoryCode: id, hash, expiry; never the code), history in the vendor's partition;
// pk=FCODE#<sha256 of the code> sk=META: the authorizer's lookup (org, id, expiry). A reset
// writes the new lookup and deletes the old one in the same transaction, so the old code finds
// nothing from that moment on.

type factoryCodeRecord struct {
	domain.FactoryCode
	Hash string `json:"hash"`
}

// FactoryCode returns org's current code. NotFound ("factory_code_not_found").
func (db *DB) FactoryCode(ctx context.Context, org string) (*domain.FactoryCode, error) {
	if err := safeID("factory_code", org); err != nil {
		return nil, err
	}
	it, err := db.get(ctx, "VENDOR#"+org, "FACTORYCODE", "factory_code_not_found", "the device authorization code of "+org)
	if err != nil {
		return nil, err
	}
	var r factoryCodeRecord
	if err := unmarshalJSON(it.Data, &r); err != nil {
		return nil, err
	}
	r.FactoryCode.Hash, r.FactoryCode.Version = r.Hash, it.Version
	return &r.FactoryCode, nil
}

// FactoryCodeByHash returns the code whose hash is hash. NotFound ("factory_code_not_found").
func (db *DB) FactoryCodeByHash(ctx context.Context, hash string) (*domain.FactoryCode, error) {
	it, err := db.get(ctx, "FCODE#"+hash, "META", "factory_code_not_found", "device authorization code")
	if err != nil {
		return nil, err
	}
	var r factoryCodeRecord
	if err := unmarshalJSON(it.Data, &r); err != nil {
		return nil, err
	}
	r.FactoryCode.Hash = r.Hash
	return &r.FactoryCode, nil
}

// SaveFactoryCode makes fc the vendor's current code, replacing prev (nil when none): the old
// lookup is deleted in the same transaction. Conflict ("conflict") when another create or
// reset won the race.
func (db *DB) SaveFactoryCode(ctx context.Context, fc, prev *domain.FactoryCode, ch domain.Change) error {
	data, err := marshalJSON(factoryCodeRecord{FactoryCode: *fc, Hash: fc.Hash})
	tx := db.Tx()
	version := 0
	if prev != nil {
		version = prev.Version
	}
	tx.add(item{PK: "VENDOR#" + fc.Org, SK: "FACTORYCODE", Data: data}, version, err)
	tx.add(item{PK: "FCODE#" + fc.Hash, SK: "META", Data: data, TTL: fc.ExpiresAt.Add(24 * time.Hour).Unix()}, 0, err)
	if prev != nil {
		tx.addWrite(types.TransactWriteItem{Delete: &types.Delete{TableName: &db.table, Key: key("FCODE#"+prev.Hash, "META")}}, nil, nil)
	}
	tx.history("VENDOR#"+fc.Org, ch)
	tx.onCommit(func() { fc.Version = version + 1 })
	return tx.Commit(ctx, "device authorization code of "+fc.Org)
}

// FactoryCodeHistory returns the creations and resets of org's codes, oldest first.
func (db *DB) FactoryCodeHistory(ctx context.Context, org string) ([]domain.Change, error) {
	hist, err := db.historyOf(ctx, "VENDOR#"+org)
	if err != nil {
		return nil, err
	}
	out := []domain.Change{}
	for _, c := range hist {
		if c.Action == "factory_code_created" || c.Action == "factory_code_reset" {
			out = append(out, c)
		}
	}
	return out, nil
}
