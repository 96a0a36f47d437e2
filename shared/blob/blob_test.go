package blob

import (
	"context"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

func TestContentDispositionKeepsTheOriginalName(t *testing.T) {
	name := "[3C证书]-[Demo \"Devices\" Ltd][K1].pdf"
	cd := ContentDisposition(name)
	disp, params, err := mime.ParseMediaType(cd)
	require.NoError(t, err)
	assert.Equal(t, "attachment", disp)
	assert.Equal(t, name, params["filename"], "RFC 2231/6266 filename* carries the exact UTF-8 name")
	assert.True(t, strings.Contains(cd, `filename="[3C__]-[Demo _Devices_ Ltd][K1].pdf"`), "an ASCII fallback for old clients: %s", cd)
}

func testStore() *Store {
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:9"), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	return New(c, "bucket")
}

func TestPresignUploadSignsTypeAndChecksum(t *testing.T) {
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	up, err := testStore().PresignUpload(context.Background(), "applications/o/a/deck/up_1", "application/pdf", strings.Repeat("ab", 32), now)
	require.NoError(t, err)
	assert.Equal(t, "PUT", up.Method)
	assert.Contains(t, up.URL, "X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-checksum-sha256")
	assert.Equal(t, "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=", up.Headers["x-amz-checksum-sha256"], "base64 of the declared digest")
	assert.Equal(t, now.Add(UploadTTL), up.ExpiresAt)

	for _, bad := range []string{"", "xyz", strings.Repeat("a", 63), strings.Repeat("g", 64)} {
		_, err := testStore().PresignUpload(context.Background(), "k", "application/pdf", bad, now)
		assert.Equal(t, "invalid_sha256", domain.CodeOf(err), bad)
	}
}
