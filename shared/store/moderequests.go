package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Software-mode change requests: a few per vendor and month, so the JSON envelope (the
// request carries its own history: requested, decided).
//
//	request   MODEREQ#<id>   META   gsi2 QUEUE#MODEREQ#pending / <requested>#<id> (while pending: the reviewers' queue)
//
// A vendor finds its requests from its devices (GET /devices/{sn} names the pending one).
//
// Opening a request and deciding it each write the request and its device in one transaction:
// the device item carries the pending request's id (mreq), so the condition on the device's
// version keeps one pending request per device even under concurrent calls, and an approval
// changes the device's mode, clears the mark and adds the device's history entry atomically. A
// factory check racing either write loses on the version, reloads and keeps the mark.

func modeRequestPK(id string) string { return "MODEREQ#" + id }

const modeRequestQueue = "QUEUE#MODEREQ#pending"

func modeRequestItem(r *domain.ModeChangeRequest) (item, error) {
	data, err := marshalJSON(r)
	it := item{PK: modeRequestPK(r.ID), SK: "META", Data: data}
	if r.Status == domain.ModeRequestPending {
		it.GSI2PK, it.GSI2SK = modeRequestQueue, ts(r.RequestedAt)+"#"+r.ID
	}
	return it, err
}

// SaveModeRequest writes request r (created when r.Version is 0, else conditional on it) and
// device w in one transaction. Conflict ("conflict") when either changed since it was read.
func (db *DB) SaveModeRequest(ctx context.Context, r *domain.ModeChangeRequest, w DeviceWrite) error {
	tx := db.Tx()
	it, err := modeRequestItem(r)
	tx.add(it, r.Version, err)
	acts, err := db.deviceActions(w)
	if err != nil {
		return err
	}
	for _, a := range acts {
		tx.addWrite(a, nil, nil)
	}
	if err := tx.Commit(ctx, "software-mode request "+r.ID); err != nil {
		return err
	}
	r.Version++
	w.Device.Version++
	return nil
}

// ModeRequest returns request id. NotFound ("mode_request_not_found").
func (db *DB) ModeRequest(ctx context.Context, id string) (*domain.ModeChangeRequest, error) {
	if err := safeID("mode_request", id); err != nil {
		return nil, err
	}
	it, err := db.get(ctx, modeRequestPK(id), "META", "mode_request_not_found", "software-mode request "+id)
	if err != nil {
		return nil, err
	}
	var r domain.ModeChangeRequest
	if err := unmarshalJSON(it.Data, &r); err != nil {
		return nil, err
	}
	r.Version = it.Version
	return &r, nil
}

// PendingModeRequests lists the requests waiting for a reviewer, oldest first.
func (db *DB) PendingModeRequests(ctx context.Context, cursor string, limit int) (Page[domain.ModeChangeRequest], error) {
	return query[domain.ModeChangeRequest](ctx, db, &dynamodb.QueryInput{
		IndexName:                 aws.String("gsi2"),
		KeyConditionExpression:    aws.String("gsi2pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: modeRequestQueue}},
	}, cursor, limit)
}
