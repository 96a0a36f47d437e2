package enginestest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines/enginestest"
)

func TestMain(m *testing.M) { enginestest.Main(m) }

func TestDynamoDB_SharedEngine(t *testing.T) {
	first := enginestest.Moto(t)
	assert.Equal(t, first, enginestest.Moto(t), "one engine per test process")
	_, err := enginestest.DynamoDB(t).ListTables(context.Background(), &dynamodb.ListTablesInput{})
	require.NoError(t, err)
}

func TestS3_PutGet(t *testing.T) {
	ctx := context.Background()
	client := enginestest.S3(t)
	bucket := fmt.Sprintf("enginestest-%d", time.Now().UnixNano())
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("v")})
	require.NoError(t, err)
	_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	require.NoError(t, err)
}
