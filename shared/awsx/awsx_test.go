package awsx

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadSettings(t *testing.T) {
	env := map[string]string{"AWS_REGION": "ap-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "token", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "S3_USE_PATH_STYLE": "true"}
	get := func(k string) string { return env[k] }
	s, err := LoadSettings(get)
	require.NoError(t, err)
	assert.Equal(t, "ap-east-1", s.Region)
	assert.True(t, s.S3PathStyle)
	assert.Empty(t, s.DynamoDBURL, "no override means the service's own endpoint")

	env["S3_USE_PATH_STYLE"] = "sometimes"
	_, err = LoadSettings(get)
	assert.Error(t, err)
	delete(env, "AWS_SECRET_ACCESS_KEY")
	_, err = LoadSettings(get)
	assert.ErrorContains(t, err, "AWS_SECRET_ACCESS_KEY")
	delete(env, "AWS_REGION")
	_, err = LoadSettings(get)
	assert.EqualError(t, err, "AWS_REGION is not set")
}

// The configuration carries what Lambda provides and nothing from the machine: the region,
// the role's credentials from the environment (session token included), the endpoint override.
func TestConfig(t *testing.T) {
	s := Settings{Region: "ap-east-1", AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token"}
	cfg := s.Config("")
	assert.Equal(t, "ap-east-1", cfg.Region)
	assert.Nil(t, cfg.BaseEndpoint)
	creds, err := cfg.Credentials.Retrieve(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "AKID", creds.AccessKeyID)
	assert.Equal(t, "secret", creds.SecretAccessKey)
	assert.Equal(t, "token", creds.SessionToken)
	_, wrapped := cfg.HTTPClient.(closeSafeBodies)
	assert.True(t, wrapped, "the platform's HTTP client")

	assert.Equal(t, "http://127.0.0.1:8000", *s.Config("http://127.0.0.1:8000").BaseEndpoint)
}
