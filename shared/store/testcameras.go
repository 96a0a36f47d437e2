package store

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Items: pk=MODEL#<id> sk=TESTCAM#<request>: a test camera request (domain.TestCameraRequest);
// pk=MODEL#<id> sk=TESTCAM#COUNT and pk=VENDOR#<org> sk=TESTCAM#COUNT: how many test cameras
// the model and the vendor were given (attribute n; only grows). A request, both counters and
// the history entry are written in one transaction whose counter conditions hold the limits,
// so concurrent requests can never exceed them.

const testCamCount = "TESTCAM#COUNT"

func testCamSK(id string) string { return "TESTCAM#" + id }

// counterAdd returns the update adding q to the counter at pk, on condition that the result
// stays within limit; a failed condition is the returned conflict.
func (db *DB) counterAdd(pk string, q, limit int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:           &db.table,
		Key:                 key(pk, testCamCount),
		UpdateExpression:    aws.String("ADD n :q"),
		ConditionExpression: aws.String("attribute_not_exists(n) OR n <= :rest"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":q":    &types.AttributeValueMemberN{Value: strconv.Itoa(q)},
			":rest": &types.AttributeValueMemberN{Value: strconv.Itoa(limit - q)},
		},
	}}
}

// CreateTestCameraRequest stores r if the model and the vendor stay within their test camera
// limits. Conflict codes: test_camera_model_limit, test_camera_vendor_limit, conflict (the
// request exists: a repeat).
func (db *DB) CreateTestCameraRequest(ctx context.Context, r *domain.TestCameraRequest, c domain.Change) error {
	data, err := marshalJSON(r)
	if err != nil {
		return err
	}
	req, err := db.put(item{PK: modelPK(r.ModelID), SK: testCamSK(r.ID), Data: data}, 0)
	if err != nil {
		return err
	}
	hist, err := db.history(modelPK(r.ModelID), c)
	if err != nil {
		return err
	}
	writes := []types.TransactWriteItem{
		req,
		db.counterAdd(modelPK(r.ModelID), r.Quantity, domain.MaxTestCamerasPerModel),
		db.counterAdd("VENDOR#"+r.VendorOrg, r.Quantity, domain.MaxTestCamerasPerVendor),
		hist,
	}
	conflicts := []error{nil,
		domain.Errorf(domain.Conflict, "test_camera_model_limit", "a model gets at most %d free test cameras", domain.MaxTestCamerasPerModel),
		domain.Errorf(domain.Conflict, "test_camera_vendor_limit", "a vendor gets at most %d free test cameras in total", domain.MaxTestCamerasPerVendor),
	}
	if err := db.write(ctx, "test camera request "+r.ID, writes, conflicts); err != nil {
		return err
	}
	r.Version = 1
	return nil
}

// TestCameraRequest returns request id of model. NotFound ("test_camera_request_not_found").
func (db *DB) TestCameraRequest(ctx context.Context, modelID, id string) (*domain.TestCameraRequest, error) {
	if err := safeID("test_camera_request", id); err != nil {
		return nil, err
	}
	it, err := db.get(ctx, modelPK(modelID), testCamSK(id), "test_camera_request_not_found", "test camera request "+id)
	if err != nil {
		return nil, err
	}
	var r domain.TestCameraRequest
	if err := unmarshalJSON(it.Data, &r); err != nil {
		return nil, err
	}
	r.Version = it.Version
	return &r, nil
}

// SaveTestCameraRequest writes a changed request with its history (Conflict if it changed).
func (db *DB) SaveTestCameraRequest(ctx context.Context, r *domain.TestCameraRequest, c domain.Change) error {
	data, err := marshalJSON(r)
	tx := db.Tx()
	tx.add(item{PK: modelPK(r.ModelID), SK: testCamSK(r.ID), Data: data}, r.Version, err)
	tx.history(modelPK(r.ModelID), c)
	return tx.Commit(ctx, "test camera request "+r.ID)
}

// TestCameraRequests lists the model's test camera requests, oldest first by id.
func (db *DB) TestCameraRequests(ctx context.Context, modelID string) ([]domain.TestCameraRequest, error) {
	q := &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: modelPK(modelID)},
			":prefix": &types.AttributeValueMemberS{Value: "TESTCAM#tcr_"},
		},
		ConsistentRead: aws.Bool(true),
	}
	var out []domain.TestCameraRequest
	cursor := ""
	for {
		p, err := query[domain.TestCameraRequest](ctx, db, q, cursor, 100)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		cursor = p.Next
	}
}
