package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Items: pk=TESTDEV#<sn> sk=META: a vendor test device's current registration
// (domain.TestDevice; a renewal overwrites a cleared one, checking its version), history in
// the same partition; gsi1 ORG#<org> / TESTDEV#<model>#<sn> (a model's test devices, listed
// apart from production devices); gsi2 TESTDEV#ACTIVE / <clearAt>#<sn> while active (the
// daily clearing reads what is due, oldest first; few items: test devices are a handful per model).

const testDevicesDue = "TESTDEV#ACTIVE"

func testDevicePK(sn string) string { return "TESTDEV#" + sn }

func testDeviceItem(d *domain.TestDevice) (item, error) {
	data, err := marshalJSON(d)
	it := item{PK: testDevicePK(d.SN), SK: "META", Data: data,
		GSI1PK: "ORG#" + d.VendorOrg, GSI1SK: "TESTDEV#" + d.ModelID + "#" + d.SN}
	if d.Status == domain.TestDeviceActive {
		it.GSI2PK, it.GSI2SK = testDevicesDue, ts(d.ClearAt)+"#"+d.SN
	}
	return it, err
}

// SaveTestDevice writes d (a new registration when d.Version is 0, else only if unchanged
// since read) with its history. Conflict ("conflict") when it changed meanwhile.
func (db *DB) SaveTestDevice(ctx context.Context, d *domain.TestDevice, changes ...domain.Change) error {
	it, err := testDeviceItem(d)
	tx := db.Tx()
	tx.add(it, d.Version, err)
	tx.history(testDevicePK(d.SN), changes...)
	version := d.Version
	tx.onCommit(func() { d.Version = version + 1 })
	return tx.Commit(ctx, "test device "+d.SN)
}

// TestDevice returns the device's current registration. NotFound ("test_device_not_found").
func (db *DB) TestDevice(ctx context.Context, sn string) (*domain.TestDevice, error) {
	if err := safeID("test_device", sn); err != nil {
		return nil, err
	}
	it, err := db.get(ctx, testDevicePK(sn), "META", "test_device_not_found", "test device "+sn)
	if err != nil {
		return nil, err
	}
	var d domain.TestDevice
	if err := unmarshalJSON(it.Data, &d); err != nil {
		return nil, err
	}
	d.Version = it.Version
	return &d, nil
}

// TestDevicesOf lists model's test devices (every registration's current state).
func (db *DB) TestDevicesOf(ctx context.Context, org, modelID string) ([]domain.TestDevice, error) {
	return all[domain.TestDevice](ctx, db, &dynamodb.QueryInput{
		IndexName:              aws.String("gsi1"),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: "ORG#" + org},
			":prefix": &types.AttributeValueMemberS{Value: "TESTDEV#" + modelID + "#"},
		},
	})
}

// TestDevicesDue lists active test devices whose clearing time is at or before until.
func (db *DB) TestDevicesDue(ctx context.Context, until time.Time) ([]domain.TestDevice, error) {
	return all[domain.TestDevice](ctx, db, &dynamodb.QueryInput{
		IndexName:              aws.String("gsi2"),
		KeyConditionExpression: aws.String("gsi2pk = :pk AND gsi2sk <= :until"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":    &types.AttributeValueMemberS{Value: testDevicesDue},
			":until": &types.AttributeValueMemberS{Value: ts(until) + "#~"},
		},
	})
}

// all reads every page of q.
func all[T any](ctx context.Context, db *DB, q *dynamodb.QueryInput) ([]T, error) {
	var out []T
	cursor := ""
	for {
		p, err := query[T](ctx, db, q, cursor, 100)
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
