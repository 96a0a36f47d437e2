package store

import (
	"context"
	"time"
)

// Claim records that an Idempotency-Key was used: by which caller for which operation
// (Scope, see httpapi.Idempotency), with which request (Fingerprint) and what it made
// (EntityID). It is created in the transaction that creates the entity, so a key is claimed
// exactly when its entity exists.
type Claim struct {
	Scope       string    `json:"scope"`
	Fingerprint string    `json:"fingerprint"`
	EntityID    string    `json:"entityId"`
	At          time.Time `json:"at"`
}

func claimPK(scope string) string { return "IDEM#" + scope }

// claim adds the creation of c to the transaction (Conflict when the key is taken).
func (tx *Tx) claim(c Claim) *Tx {
	data, err := marshalJSON(c)
	tx.add(item{PK: claimPK(c.Scope), SK: "META", Data: data}, 0, err)
	return tx
}

// ClaimOf returns the claim of scope. It returns NotFound ("claim_not_found").
func (db *DB) ClaimOf(ctx context.Context, scope string) (Claim, error) {
	it, err := db.get(ctx, claimPK(scope), "META", "claim_not_found", "an idempotency claim")
	if err != nil {
		return Claim{}, err
	}
	var c Claim
	return c, unmarshalJSON(it.Data, &c)
}
