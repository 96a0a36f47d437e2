package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// A submission has no head item: its versions are items of one partition (pk SUB#<model>#<kind>,
// sk VER#<nnnn>), so the current version is the last one, creating the next version is a
// create (attribute_not_exists: two racing creates cannot both win) and a decided version is
// never written again. History entries share the partition.

// submissionQueue is the gsi2 partition of versions under review (decisions take effect at
// once, so there is no "decided" state to queue).
const submissionQueue = "QUEUE#SUB#pending"

func submissionPK(modelID string, kind domain.SubmissionKind) string {
	return "SUB#" + modelID + "#" + string(kind)
}

func versionSK(n int) string { return fmt.Sprintf("VER#%04d", n) }

// Submission returns every version of model's submission of kind, oldest first; a
// submission nobody uploaded to yet has no versions (it is not an error).
func (db *DB) Submission(ctx context.Context, modelID, vendorOrg string, kind domain.SubmissionKind) (*domain.Submission, error) {
	if err := safeID("model", modelID); err != nil {
		return nil, err
	}
	s := &domain.Submission{ModelID: modelID, VendorOrg: vendorOrg, Kind: kind}
	q := &dynamodb.QueryInput{
		TableName:              &db.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :v)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: submissionPK(modelID, kind)},
			":v":  &types.AttributeValueMemberS{Value: "VER#"},
		},
		ConsistentRead: aws.Bool(true),
	}
	p := dynamodb.NewQueryPaginator(db.client, q)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query submission %s/%s: %w", modelID, kind, err)
		}
		for _, av := range out.Items {
			var it item
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("unmarshal submission version: %w", err)
			}
			var v domain.SubmissionVersion
			if err := unmarshalJSON(it.Data, &v); err != nil {
				return nil, err
			}
			v.Revision = it.Version
			s.Versions = append(s.Versions, &v)
		}
	}
	return s, nil
}

// SaveSubmissionVersion writes v (created when v.Revision is 0, else only if unchanged since
// read) with its history entries, in one transaction. It returns Conflict ("conflict") when
// the version changed meanwhile or another request created it first.
func (db *DB) SaveSubmissionVersion(ctx context.Context, v *domain.SubmissionVersion, changes ...domain.Change) error {
	return db.Tx().SaveSubmissionVersion(v, changes...).Commit(ctx, fmt.Sprintf("%s submission of model %s", v.Kind, v.ModelID))
}

// SaveSubmissionVersion adds the write of v and its history to the transaction.
func (tx *Tx) SaveSubmissionVersion(v *domain.SubmissionVersion, changes ...domain.Change) *Tx {
	data, err := marshalJSON(v)
	pk := submissionPK(v.ModelID, v.Kind)
	version := v.Revision
	it := item{PK: pk, SK: versionSK(v.Number), Data: data}
	if v.Status == domain.VersionSubmitted && v.SubmittedAt != nil {
		it.GSI2PK, it.GSI2SK = submissionQueue, ts(*v.SubmittedAt)+"#"+v.ModelID+"#"+string(v.Kind)+"#"+versionSK(v.Number)
	}
	tx.add(it, version, err)
	tx.history(pk, changes...)
	tx.onCommit(func() { v.Revision = version + 1 })
	return tx
}

// SubmissionHistory returns the history of model's submission of kind, oldest first.
func (db *DB) SubmissionHistory(ctx context.Context, modelID string, kind domain.SubmissionKind) ([]domain.Change, error) {
	return db.historyOf(ctx, submissionPK(modelID, kind))
}

// SubmissionQueue lists submitted versions waiting for a reviewer, oldest first (f.State is
// ignored; f.SubmittedUntil keeps only those submitted at or before it).
func (db *DB) SubmissionQueue(ctx context.Context, f QueueFilter) (Page[domain.SubmissionVersion], error) {
	return query[domain.SubmissionVersion](ctx, db, queueQuery(submissionQueue, f), f.Cursor, f.Limit)
}
