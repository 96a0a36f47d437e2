package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Upload tickets are the reconciliation sweep's sparse index of uploads that may not have
// settled: pk=UPTICKET#<YYYY-MM-DD>#<shard> sk=<object key>, written when a presigned upload
// is issued (before its URL is handed out) and deleted when process-upload settles the upload.
// The day is the UTC date the upload was first requested (the record's RequestedAt), so
// process-upload, which reads the record anyway, can name the ticket without a lookup; the
// shard (a hash of the key, UploadTicketShards of them) spreads one day's writes over as many
// partitions. A ticket expires (DynamoDB TTL) UploadTicketLife after the request.
//
// The sweep queries the partitions of the last UploadTicketLife+1 days, every shard, and never
// scans: (days × shards) Query requests, 0.5 read unit each when a partition holds under 4 KB,
// whatever the table's size. Each ticket costs one PutItem when its URL is issued (again at a
// re-issue) and one DeleteItem when it settles.
const (
	UploadTicketShards = 4
	UploadTicketLife   = 7 * 24 * time.Hour
	// UploadReusableFor bounds how long after its request a pending upload's URL may be issued
	// again for the same upload (a retried request): later requests get a new upload, so every
	// URL a ticket stands for expires well inside the ticket's life and the sweep's window.
	UploadReusableFor = 24 * time.Hour
)

// UploadTicket is an issued presigned upload.
type UploadTicket struct {
	Key         string    // the object key the URL signs
	RequestedAt time.Time // when the upload was first requested (picks the ticket's day)
	IssuedAt    time.Time // when its latest URL was issued
}

type ticketItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	RequestedAt string `dynamodbav:"requestedAt"`
	IssuedAt    string `dynamodbav:"issuedAt"`
	TTL         int64  `dynamodbav:"ttl"`
}

func ticketPK(day time.Time, shard int) string {
	return fmt.Sprintf("UPTICKET#%s#%d", day.UTC().Format(time.DateOnly), shard)
}

func ticketShard(key string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % UploadTicketShards)
}

// PutUploadTicket records that a URL for t.Key was issued at t.IssuedAt. It creates the ticket,
// or moves an existing one's IssuedAt forward (condition: the stored IssuedAt is not later, so a
// slow retry never makes a ticket look older than its newest URL; losing that race is no error).
func (db *DB) PutUploadTicket(ctx context.Context, t UploadTicket) error {
	av, err := attributevalue.MarshalMap(ticketItem{
		PK: ticketPK(t.RequestedAt, ticketShard(t.Key)), SK: t.Key,
		RequestedAt: t.RequestedAt.UTC().Format(time.RFC3339Nano), IssuedAt: ts(t.IssuedAt),
		TTL: t.RequestedAt.Add(UploadTicketLife).Unix(),
	})
	if err != nil {
		return fmt.Errorf("marshal upload ticket %s: %w", t.Key, err)
	}
	_, err = db.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &db.table, Item: av,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR issuedAt <= :issued"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":issued": av["issuedAt"]},
	})
	if errors.As(err, new(*types.ConditionalCheckFailedException)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("put upload ticket %s: %w", t.Key, err)
	}
	return nil
}

// DeleteUploadTicket removes the ticket of the upload at objectKey requested at requestedAt. It
// states no precondition: once the upload settled, no state of the ticket is worth keeping,
// and deleting a missing one is a no-op (a redelivered settlement).
func (db *DB) DeleteUploadTicket(ctx context.Context, objectKey string, requestedAt time.Time) error {
	if _, err := db.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &db.table, Key: key(ticketPK(requestedAt, ticketShard(objectKey)), objectKey),
	}); err != nil {
		return fmt.Errorf("delete upload ticket %s: %w", objectKey, err)
	}
	return nil
}

// UploadTicketScan is what a read of the tickets cost.
type UploadTicketScan struct {
	Partitions int `json:"partitions"` // day × shard partitions read
	Queries    int `json:"queries"`    // Query requests (a partition over 1 MB takes more than one)
}

// UploadTicketsIssuedBefore calls f with every live ticket whose latest URL was issued at or
// before cutoff, reading the partitions of the UploadTicketLife+1 days up to now (each shard;
// an expired ticket DynamoDB has not removed yet is skipped). f may delete the ticket it gets.
func (db *DB) UploadTicketsIssuedBefore(ctx context.Context, now, cutoff time.Time, f func(UploadTicket) error) (UploadTicketScan, error) {
	var cost UploadTicketScan
	days := int(UploadTicketLife / (24 * time.Hour))
	for d := days; d >= 0; d-- {
		day := now.UTC().AddDate(0, 0, -d)
		for shard := range UploadTicketShards {
			cost.Partitions++
			in := &dynamodb.QueryInput{
				TableName:              &db.table,
				KeyConditionExpression: aws.String("pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": &types.AttributeValueMemberS{Value: ticketPK(day, shard)},
				},
			}
			for {
				out, err := db.client.Query(ctx, in)
				cost.Queries++
				if err != nil {
					return cost, fmt.Errorf("query upload tickets %s: %w", ticketPK(day, shard), err)
				}
				for _, av := range out.Items {
					var it ticketItem
					if err := attributevalue.UnmarshalMap(av, &it); err != nil {
						return cost, fmt.Errorf("unmarshal upload ticket: %w", err)
					}
					t, err := it.ticket()
					if err != nil {
						return cost, err
					}
					if it.TTL <= now.Unix() || t.IssuedAt.After(cutoff) {
						continue
					}
					if err := f(t); err != nil {
						return cost, err
					}
				}
				if len(out.LastEvaluatedKey) == 0 {
					break
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
		}
	}
	return cost, nil
}

func (it ticketItem) ticket() (UploadTicket, error) {
	req, err := time.Parse(time.RFC3339Nano, it.RequestedAt)
	if err != nil {
		return UploadTicket{}, fmt.Errorf("upload ticket %s: requestedAt: %w", it.SK, err)
	}
	issued, err := time.Parse(time.RFC3339Nano, it.IssuedAt)
	if err != nil {
		return UploadTicket{}, fmt.Errorf("upload ticket %s: issuedAt: %w", it.SK, err)
	}
	return UploadTicket{Key: it.SK, RequestedAt: req, IssuedAt: issued}, nil
}
