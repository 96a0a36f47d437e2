package states

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var motoCreds = credentials.NewStaticCredentialsProvider("x", "x", "")

func motoDynamoDB(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: motoCreds,
		HTTPClient: sdkHTTPClient()})
}

func motoS3(url string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: motoCreds, UsePathStyle: true,
		HTTPClient: sdkHTTPClient()})
}

// TestDynamoDBIntegrations runs putItem, getItem, updateItem and deleteItem tasks against
// moto_server's DynamoDB.
func TestDynamoDBIntegrations(t *testing.T) {
	url := motoEndpoint(t)
	motoMu.Lock()
	defer motoMu.Unlock()
	db := motoDynamoDB(url)
	ctx := context.Background()
	table := fmt.Sprintf("states-%d", time.Now().UnixNano())
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}) })

	env := newEnv(t, func(o *Options) { o.DynamoDB = db })
	def := strings.ReplaceAll(`{"StartAt":"Put","States":{
	 "Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"TABLE",
	   "Item":{"pk":{"S.$":"$.id"},"count":{"N":"1"},"tags":{"SS":["a","b"]},"doc":{"M":{"ok":{"BOOL":true}}}},
	   "ConditionExpression":"attribute_not_exists(pk)"},"ResultPath":null,"Next":"Update"},
	 "Update":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem","Parameters":{"TableName":"TABLE",
	   "Key":{"pk":{"S.$":"$.id"}},"UpdateExpression":"SET #c = #c + :one","ExpressionAttributeNames":{"#c":"count"},
	   "ExpressionAttributeValues":{":one":{"N":"1"}},"ReturnValues":"UPDATED_NEW"},
	   "ResultSelector":{"count.$":"$.Attributes.count.N"},"ResultPath":"$.updated","Next":"Get"},
	 "Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","Parameters":{"TableName":"TABLE","Key":{"pk":{"S.$":"$.id"}}},
	   "ResultSelector":{"item.$":"$.Item"},"ResultPath":"$.got","Next":"PutAgain"},
	 "PutAgain":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"TABLE",
	   "Item":{"pk":{"S.$":"$.id"}},"ConditionExpression":"attribute_not_exists(pk)"},
	   "Catch":[{"ErrorEquals":["DynamoDB.ConditionalCheckFailedException"],"ResultPath":"$.conflict","Next":"Delete"}],"Next":"Delete"},
	 "Delete":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:deleteItem","Parameters":{"TableName":"TABLE","Key":{"pk":{"S.$":"$.id"}}},
	   "ResultPath":null,"End":true}}}`, "TABLE", table)
	x := env.start(t, env.create(t, "ddb", def), `{"id":"item-1"}`)
	d := env.finish(t, x, time.Second, 10)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, d.Status, "%s %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	out := aws.ToString(d.Output)
	assert.Contains(t, out, `"updated":{"count":"2"}`)
	assert.Contains(t, out, `"pk":{"S":"item-1"}`)
	assert.Contains(t, out, `"doc":{"M":{"ok":{"BOOL":true}}}`)
	assert.Contains(t, out, `"Error":"DynamoDB.ConditionalCheckFailedException"`)
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "item-1"}}})
	require.NoError(t, err)
	assert.Empty(t, got.Item, "deleteItem removed it")
	assert.Contains(t, eventTypes(env.history(t, x)), "TaskSucceeded")
}

// TestDistributedMapOverS3 runs a distributed Map whose ItemReader lists an S3 prefix
// (moto_server's S3), processing each object in-process.
func TestDistributedMapOverS3(t *testing.T) {
	url := motoEndpoint(t)
	motoMu.Lock()
	defer motoMu.Unlock()
	s3c := motoS3(url)
	ctx := context.Background()
	bucket := fmt.Sprintf("states-%d", time.Now().UnixNano())
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	for _, k := range []string{"exports/2026-01-05/a.gz", "exports/2026-01-05/b.gz", "exports/2026-01-05/c.gz", "other/x"} {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader("data-" + k)})
		require.NoError(t, err)
	}
	env := newEnv(t, func(o *Options) { o.S3 = s3c })
	def := `{"StartAt":"Each","States":{"Each":{"Type":"Map","MaxConcurrency":2,
	  "ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket.$":"$.bucket","Prefix.$":"$.prefix"}},
	  "ItemSelector":{"key.$":"$$.Map.Item.Value.Key","size.$":"$$.Map.Item.Value.Size","day.$":"$.prefix"},
	  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Roll","States":{
	    "Roll":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}},
	  "End":true}}}`
	x := env.start(t, env.create(t, "dmap", def), fmt.Sprintf(`{"bucket":%q,"prefix":"exports/2026-01-05/"}`, bucket))
	d := env.finish(t, x, time.Second, 10)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, d.Status, "%s %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	assert.JSONEq(t, `[
	  {"key":"exports/2026-01-05/a.gz","size":28,"day":"exports/2026-01-05/"},
	  {"key":"exports/2026-01-05/b.gz","size":28,"day":"exports/2026-01-05/"},
	  {"key":"exports/2026-01-05/c.gz","size":28,"day":"exports/2026-01-05/"}]`, aws.ToString(d.Output))
	types := eventTypes(env.history(t, x))
	assert.Contains(t, types, "MapRunStarted")
	assert.Contains(t, types, "MapRunSucceeded")

	// a missing bucket fails the reader with States.ItemReaderFailed
	x = env.start(t, env.create(t, "dmap", def), `{"bucket":"no-such-bucket","prefix":"x"}`)
	d = env.finish(t, x, time.Second, 10)
	assert.Equal(t, sfntypes.ExecutionStatusFailed, d.Status)
	assert.Equal(t, "States.ItemReaderFailed", aws.ToString(d.Error))
}
