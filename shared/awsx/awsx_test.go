package awsx

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadSettings(t *testing.T) {
	env := map[string]string{"AWS_REGION": "ap-east-1", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "S3_USE_PATH_STYLE": "true"}
	get := func(k string) string { return env[k] }
	s, err := LoadSettings(get)
	require.NoError(t, err)
	assert.Equal(t, "ap-east-1", s.Region)
	assert.True(t, s.S3PathStyle)
	assert.Empty(t, s.DynamoDBURL, "no override means the service's own endpoint")

	c, err := New(context.Background(), s)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9000", *c.S3.Options().BaseEndpoint)
	assert.True(t, c.S3.Options().UsePathStyle)
	assert.Nil(t, c.DynamoDB.Options().BaseEndpoint)

	env["S3_USE_PATH_STYLE"] = "sometimes"
	_, err = LoadSettings(get)
	assert.Error(t, err)
	delete(env, "AWS_REGION")
	_, err = LoadSettings(get)
	assert.EqualError(t, err, "AWS_REGION is not set")
}

// A CA bundle from the environment (AWS_CA_BUNDLE) still configures the client: the SDK adds
// it to its own client type only, so the race workaround must wrap it afterwards.
func TestNewHonoursACABundle(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "testdata/ca.pem")
	c, err := New(context.Background(), Settings{Region: "us-east-1", AccessKeyID: "x", SecretAccessKey: "y"})
	require.NoError(t, err)
	_, wrapped := c.DynamoDB.Options().HTTPClient.(closeSafeBodies)
	assert.True(t, wrapped)
}
