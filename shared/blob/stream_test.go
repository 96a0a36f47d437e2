package blob_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines/enginestest"
	"github.com/facepay/platform/shared/blob"
)

// An object of unknown size streams to S3 in parts of PartSize (the last smaller), holding one
// part in memory; what arrives is byte for byte what was written. A small object is one put.
func TestStreamWriter(t *testing.T) {
	ctx := context.Background()
	client := enginestest.S3(t)
	bucket := fmt.Sprintf("stream-%d", time.Now().UnixNano())
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	s := blob.New(client, bucket)

	var want bytes.Buffer
	w := s.NewStreamWriter(ctx, "device-exports/o/big.csv", "text/csv")
	line := []byte("0AA1B0000000001X7Q2M9ZK,mdl_1,passed,sdk,CAM00001,2026-12-01T02:00:00Z,false,false,,,false,\n")
	for want.Len() < 2*blob.PartSize+blob.PartSize/2 {
		_, err := w.Write(line)
		require.NoError(t, err)
		want.Write(line)
	}
	_, err = w.Close()
	require.NoError(t, err)
	assert.Equal(t, 3, w.PartsWritten, "two full parts and the rest")
	got, err := s.ReadObject(ctx, "device-exports/o/big.csv", "")
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want.Bytes(), got), "the object is what was written (%d bytes, got %d)", want.Len(), len(got))

	small := s.NewStreamWriter(ctx, "device-exports/o/small.csv", "text/csv")
	_, err = small.Write([]byte("sn\n"))
	require.NoError(t, err)
	_, err = small.Close()
	require.NoError(t, err)
	assert.Zero(t, small.PartsWritten, "one PutObject, no multipart upload")
	got, err = s.ReadObject(ctx, "device-exports/o/small.csv", "")
	require.NoError(t, err)
	assert.Equal(t, "sn\n", string(got))
}
