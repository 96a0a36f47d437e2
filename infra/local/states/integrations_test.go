package states

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// TestDistributedMapResultWriter runs a distributed Map over 40 objects listed in pages of 7,
// at most 4 children at a time, with a ResultWriter: the results land in S3 as AWS writes
// them (manifest.json and SUCCEEDED_n/FAILED_n files of execution records) and the Map's
// result is the manifest's location.
func TestDistributedMapResultWriter(t *testing.T) {
	url := motoEndpoint(t)
	motoMu.Lock()
	defer motoMu.Unlock()
	s3c := motoS3(url)
	ctx := context.Background()
	bucket := fmt.Sprintf("states-rw-%d", time.Now().UnixNano())
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	for i := range 40 {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
			Key: aws.String(fmt.Sprintf("in/day/obj-%02d", i)), Body: strings.NewReader("x")})
		require.NoError(t, err)
	}
	env := newEnv(t, func(o *Options) { o.S3 = s3c; o.S3ListPageSize = 7 })
	def := `{"StartAt":"Each","States":{"Each":{"Type":"Map","MaxConcurrency":4,"ToleratedFailureCount":1,
	  "ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket.$":"$.bucket","Prefix":"in/day/"}},
	  "ItemSelector":{"key.$":"$$.Map.Item.Value.Key","fail.$":"States.StringToJson(States.Format('{}', $$.Map.Item.Index))"},
	  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Choose","States":{
	    "Choose":{"Type":"Choice","Choices":[{"Variable":"$.fail","NumericEquals":13,"Next":"Fails"}],"Default":"Works"},
	    "Fails":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"gauge","Payload":{"key.$":"$.key","fail":true}},"End":true},
	    "Works":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"gauge","Payload":{"key.$":"$.key"}},"OutputPath":"$.Payload","End":true}}},
	  "ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket.$":"$.bucket","Prefix":"results/run"}},
	  "ResultPath":"$.map","End":true}}}`
	x := env.start(t, env.create(t, "rw", def), fmt.Sprintf(`{"bucket":%q}`, bucket))
	d := env.finish(t, x, time.Second, 10)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, d.Status, "%s %s", aws.ToString(d.Error), aws.ToString(d.Cause))

	var out struct {
		Map struct {
			MapRunArn           string
			ResultWriterDetails struct{ Bucket, Key string }
		} `json:"map"`
	}
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(d.Output)), &out))
	assert.Regexp(t, `^arn:aws:states:us-east-1:000000000000:mapRun:rw/Each:[0-9a-f-]{36}$`, out.Map.MapRunArn)
	runID := out.Map.MapRunArn[strings.LastIndexByte(out.Map.MapRunArn, ':')+1:]
	assert.Equal(t, bucket, out.Map.ResultWriterDetails.Bucket)
	assert.Equal(t, "results/run/"+runID+"/manifest.json", out.Map.ResultWriterDetails.Key)

	get := func(key string) []byte {
		o, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		require.NoError(t, err, key)
		defer o.Body.Close()
		b, err := io.ReadAll(o.Body)
		require.NoError(t, err)
		return b
	}
	var manifest struct {
		DestinationBucket string
		MapRunArn         string
		ResultFiles       map[string][]struct {
			Key  string
			Size int
		}
	}
	require.NoError(t, json.Unmarshal(get(out.Map.ResultWriterDetails.Key), &manifest))
	assert.Equal(t, bucket, manifest.DestinationBucket)
	assert.Equal(t, out.Map.MapRunArn, manifest.MapRunArn)
	require.Len(t, manifest.ResultFiles["SUCCEEDED"], 1)
	require.Len(t, manifest.ResultFiles["FAILED"], 1)
	assert.Empty(t, manifest.ResultFiles["PENDING"])
	assert.Equal(t, "results/run/"+runID+"/SUCCEEDED_0.json", manifest.ResultFiles["SUCCEEDED"][0].Key)

	type record struct {
		ExecutionArn, Name, StateMachineArn, Status, Input, Output, Error, Cause, StartDate, StopDate string
	}
	var succeeded []record
	body := get(manifest.ResultFiles["SUCCEEDED"][0].Key)
	assert.Len(t, body, manifest.ResultFiles["SUCCEEDED"][0].Size)
	require.NoError(t, json.Unmarshal(body, &succeeded))
	require.Len(t, succeeded, 39)
	keys := map[string]bool{}
	for _, r := range succeeded {
		assert.Equal(t, "SUCCEEDED", r.Status)
		assert.NotEmpty(t, r.StartDate)
		var in, o struct {
			Key string `json:"key"`
			OK  bool   `json:"ok"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.Input), &in), "Input is the child's input as a JSON string")
		require.NoError(t, json.Unmarshal([]byte(r.Output), &o), "Output is the child's output as a JSON string")
		assert.Equal(t, in.Key, o.Key)
		assert.True(t, o.OK)
		keys[o.Key] = true
	}
	assert.Len(t, keys, 39, "every object but the failed one, once: the listing crossed its pages")
	var failed []record
	require.NoError(t, json.Unmarshal(get(manifest.ResultFiles["FAILED"][0].Key), &failed))
	require.Len(t, failed, 1)
	assert.Equal(t, "FAILED", failed[0].Status)
	assert.Equal(t, "Refused", failed[0].Error)
	assert.Contains(t, failed[0].Input, "in/day/obj-13")

	env.lambda.mu.Lock()
	assert.LessOrEqual(t, env.lambda.maxInFlight, 4, "MaxConcurrency")
	assert.Greater(t, env.lambda.maxInFlight, 1, "children ran in parallel")
	env.lambda.mu.Unlock()
}

// TestResultWriterDefinitions checks the ResultWriter fields the executor accepts or refuses.
func TestResultWriterDefinitions(t *testing.T) {
	env := newEnv(t)
	mapDef := func(mode, rw string) string {
		return `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"` + mode +
			`"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"ResultWriter":` + rw + `,"End":true}}}`
	}
	for name, def := range map[string]string{
		"inline map":         mapDef("INLINE", `{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b","Prefix":"p"}}`),
		"resource alone":     mapDef("DISTRIBUTED", `{"Resource":"arn:aws:states:::s3:putObject"}`),
		"other resource":     mapDef("DISTRIBUTED", `{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b"}}`),
		"empty":              mapDef("DISTRIBUTED", `{}`),
		"bad transformation": mapDef("DISTRIBUTED", `{"WriterConfig":{"Transformation":"SQUASH"}}`),
	} {
		_, err := env.exec.CreateStateMachine("bad", def, "")
		assert.Error(t, err, name)
	}
	// WriterConfig alone: FLATTEN returns the children's arrays flattened, nothing exported.
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},
	  "StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"pair.$":"States.Array($, $)"},"OutputPath":"$.pair","End":true}}},
	  "ResultWriter":{"WriterConfig":{"Transformation":"FLATTEN","OutputType":"JSON"}},"End":true}}}`
	x := env.start(t, env.create(t, "flat", def), `{"items":[1,2,3]}`)
	d := env.finish(t, x, time.Second, 10)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, d.Status, "%s %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	assert.JSONEq(t, `[1,1,2,2,3,3]`, aws.ToString(d.Output))
}

// TestItemReaderStreamsObjects reads JSON, JSON Lines and CSV item files through the
// streaming decoder, stopping at MaxItems.
func TestItemReaderStreamsObjects(t *testing.T) {
	for _, tc := range []struct {
		typ, body string
		max       int64
		want      string
	}{
		{"JSON", `[{"a":1},{"a":2},{"a":3}]`, 0, `[{"a":1},{"a":2},{"a":3}]`},
		{"JSON", `[{"a":1},{"a":2},{"a":3}, not json`, 2, `[{"a":1},{"a":2}]`},
		{"JSONL", "{\"a\":1}\n\n{\"a\":2}\n", 0, `[{"a":1},{"a":2}]`},
		{"CSV", "k,v\nx,1\ny,2\n", 0, `[{"k":"x","v":"1"},{"k":"y","v":"2"}]`},
	} {
		items, err := readObjectItems(strings.NewReader(tc.body), tc.typ, tc.max)
		require.NoError(t, err, tc.typ)
		assert.JSONEq(t, tc.want, toJSON(items), tc.typ)
	}
	for typ, body := range map[string]string{"JSON": `{"a":1}`, "JSONL": "{\"a\":1}\nnope\n", "CSV": ""} {
		_, err := readObjectItems(strings.NewReader(body), typ, 0)
		assert.Error(t, err, typ)
	}
}
