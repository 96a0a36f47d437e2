package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// A submission has no head item: its versions are items of one partition (pk SUB#<model>#<kind>,
// sk VER#<nnnn>), so the current version is the last one, creating the next version is a
// create (attribute_not_exists: two racing creates cannot both win) and a decided version is
// never written again. Each file of a version is an item of its own (sk
// VER#<nnnn>#SLOT#<slot id>), written alone when an upload is asked for or arrives, so the
// slots of one version never contend: a vendor asks for the next slot's upload while
// process-upload settles the previous one. Submitting or deciding writes the version item and
// re-writes every slot item at the revision it was read (a file that changed under a submit
// fails it); the first upload to a slot checks that the version item is unchanged (still
// open). The version item keeps a snapshot of its files as they were when it was last
// written (the reviewers' queue counts them); Submission reads the slot items. History
// entries share the partition.

// submissionQueue is the gsi2 partition of versions under review (decisions take effect at
// once, so there is no "decided" state to queue).
const submissionQueue = "QUEUE#SUB#pending"

func submissionPK(modelID string, kind domain.SubmissionKind) string {
	return "SUB#" + modelID + "#" + string(kind)
}

func versionSK(n int) string { return fmt.Sprintf("VER#%04d", n) }

func slotSK(n int, slot string) string { return versionSK(n) + "#SLOT#" + slot }

// Submission returns every version of model's submission of kind, oldest first, each with its
// files; a submission nobody uploaded to yet has no versions (it is not an error).
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
			if strings.Contains(it.SK, "#SLOT#") { // sorts right after its version
				var a domain.Artifact
				if err := unmarshalJSON(it.Data, &a); err != nil {
					return nil, err
				}
				a.Revision = it.Version
				if cur := s.Current(); cur != nil && strings.HasPrefix(it.SK, versionSK(cur.Number)+"#") {
					cur.Artifacts[a.Slot] = &a
				}
				continue
			}
			var v domain.SubmissionVersion
			if err := unmarshalJSON(it.Data, &v); err != nil {
				return nil, err
			}
			v.Revision = it.Version
			v.Artifacts = map[string]*domain.Artifact{} // the slot items that follow
			s.Versions = append(s.Versions, &v)
		}
	}
	return s, nil
}

// SaveSubmissionVersion writes v and its history in one transaction: created with its files
// when v.Revision is 0, else only if v and each of its files are unchanged since read. It
// returns Conflict ("conflict") when something changed meanwhile or another request created
// the version first.
func (db *DB) SaveSubmissionVersion(ctx context.Context, v *domain.SubmissionVersion, changes ...domain.Change) error {
	return db.Tx().SaveSubmissionVersion(v, changes...).Commit(ctx, fmt.Sprintf("%s submission of model %s", v.Kind, v.ModelID))
}

// SaveSubmissionVersion adds the writes of v, its files and its history to the transaction.
func (tx *Tx) SaveSubmissionVersion(v *domain.SubmissionVersion, changes ...domain.Change) *Tx {
	data, err := marshalJSON(v)
	pk := submissionPK(v.ModelID, v.Kind)
	version := v.Revision
	it := item{PK: pk, SK: versionSK(v.Number), Data: data}
	if v.Status == domain.VersionSubmitted && v.SubmittedAt != nil {
		it.GSI2PK, it.GSI2SK = submissionQueue, ts(*v.SubmittedAt)+"#"+v.ModelID+"#"+string(v.Kind)+"#"+versionSK(v.Number)
	}
	tx.add(it, version, err)
	for _, a := range v.Artifacts {
		rev := a.Revision
		if version == 0 {
			rev = 0 // a new version's files are new items, carried-over ones included
		}
		tx.artifact(v, a, rev)
	}
	tx.history(pk, changes...)
	tx.onCommit(func() { v.Revision = version + 1 })
	return tx
}

// SaveArtifact writes the file of v's slot and its history in one transaction, leaving the
// version item and the other slots alone: created when the file's Revision is 0 (then only
// while the version item is unchanged since read, i.e. still open), else only if the file is
// unchanged since read. It returns Conflict ("conflict") otherwise.
func (db *DB) SaveArtifact(ctx context.Context, v *domain.SubmissionVersion, slot string, changes ...domain.Change) error {
	a := v.Artifacts[slot]
	if a == nil {
		return fmt.Errorf("save artifact: version %d has no file in slot %s", v.Number, slot)
	}
	tx := db.Tx()
	if a.Revision == 0 {
		tx.check(submissionPK(v.ModelID, v.Kind), versionSK(v.Number), v.Revision)
	}
	tx.artifact(v, a, a.Revision)
	tx.history(submissionPK(v.ModelID, v.Kind), changes...)
	return tx.Commit(ctx, fmt.Sprintf("%s of the %s submission of model %s", slot, v.Kind, v.ModelID))
}

func (tx *Tx) artifact(v *domain.SubmissionVersion, a *domain.Artifact, rev int) {
	data, err := marshalJSON(a)
	tx.add(item{PK: submissionPK(v.ModelID, v.Kind), SK: slotSK(v.Number, a.Slot), Data: data}, rev, err)
	tx.onCommit(func() { a.Revision = rev + 1 })
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
