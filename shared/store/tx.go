package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Tx collects writes that must happen together (an entity, its history, the applicant's
// message, a code claim) and commits them as one DynamoDB transaction.
type Tx struct {
	db     *DB
	writes []types.TransactWriteItem
	// conflicts[i] is returned when writes[i]'s condition fails (nil: the generic "conflict").
	conflicts []error
	err       error
	after     []func()
}

// Tx starts a transaction.
func (db *DB) Tx() *Tx { return &Tx{db: db} }

func (tx *Tx) add(it item, version int, err error) {
	if tx.err != nil {
		return
	}
	if err != nil {
		tx.err = err
		return
	}
	w, err := tx.db.put(it, version)
	tx.addWrite(w, err, nil)
}

// addWrite appends w; onConflict is what a failure of w's condition means to the caller.
func (tx *Tx) addWrite(w types.TransactWriteItem, err, onConflict error) {
	if tx.err != nil {
		return
	}
	if err != nil {
		tx.err = err
		return
	}
	tx.writes = append(tx.writes, w)
	tx.conflicts = append(tx.conflicts, onConflict)
}

// check adds a condition that the item at pk/sk still has version (it is not written).
func (tx *Tx) check(pk, sk string, version int) {
	if tx.err != nil {
		return
	}
	tx.writes = append(tx.writes, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                 &tx.db.table,
		Key:                       key(pk, sk),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(version)}},
	}})
}

func (tx *Tx) history(pk string, changes ...domain.Change) {
	for _, c := range changes {
		w, err := tx.db.history(pk, c)
		tx.addWrite(w, err, nil)
	}
}

func (tx *Tx) onCommit(f func()) { tx.after = append(tx.after, f) }

// Commit writes everything or nothing. A failed precondition is a Conflict error: the one its
// write declared, else code "conflict".
func (tx *Tx) Commit(ctx context.Context, what string) error {
	if tx.err != nil {
		return tx.err
	}
	if err := tx.db.write(ctx, what, tx.writes, tx.conflicts); err != nil {
		return err
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}
