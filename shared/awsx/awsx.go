// Package awsx builds the AWS SDK configuration a function's clients share, once, at cold
// start, from what Lambda puts in the function's environment: the region and the execution
// role's credentials. It does not use config.LoadDefaultConfig: its credential chain (shared
// files, SSO, STS, IMDS, container and process credentials) and its shared-config parsing
// are machinery a Lambda function never needs but links and initialises at every cold start.
//
// Endpoint overrides are plain settings (the SDK's own AWS_ENDPOINT_URL_<SERVICE> names),
// empty in production and pointed at the local engines by the local cloud, so the same code
// path runs in both places. Each shared package builds the one client it needs from these
// Settings (store.NewClient, blob.NewClient, workflow.NewClient), so a function links only the
// service clients it uses. awsx itself imports no service client.
package awsx

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Settings are the AWS-related settings of a function, read from its environment.
type Settings struct {
	Region          string // AWS_REGION (set by Lambda)
	AccessKeyID     string // AWS_ACCESS_KEY_ID (set by Lambda: the execution role's; the local cloud sets dummies)
	SecretAccessKey string // AWS_SECRET_ACCESS_KEY
	SessionToken    string // AWS_SESSION_TOKEN
	DynamoDBURL     string // AWS_ENDPOINT_URL_DYNAMODB: empty in production
	S3URL           string // AWS_ENDPOINT_URL_S3
	SFNURL          string // AWS_ENDPOINT_URL_SFN
	LambdaURL       string // AWS_ENDPOINT_URL_LAMBDA
	S3PathStyle     bool   // S3_USE_PATH_STYLE: local S3 engines serve path-style only
}

// LoadSettings reads Settings through getenv. It fails on a missing region or credentials
// (Lambda always sets them) and on a malformed flag.
func LoadSettings(getenv func(string) string) (Settings, error) {
	s := Settings{
		Region:          getenv("AWS_REGION"),
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		DynamoDBURL:     getenv("AWS_ENDPOINT_URL_DYNAMODB"),
		S3URL:           getenv("AWS_ENDPOINT_URL_S3"),
		SFNURL:          getenv("AWS_ENDPOINT_URL_SFN"),
		LambdaURL:       getenv("AWS_ENDPOINT_URL_LAMBDA"),
	}
	if s.Region == "" {
		return s, fmt.Errorf("AWS_REGION is not set")
	}
	if s.AccessKeyID == "" || s.SecretAccessKey == "" {
		return s, fmt.Errorf("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets the execution role's)")
	}
	if v := getenv("S3_USE_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("S3_USE_PATH_STYLE=%q: %w", v, err)
		}
		s.S3PathStyle = b
	}
	return s, nil
}

// Config is the configuration for a client of the service whose endpoint override is
// endpoint ("" for the service's own endpoint, as in production): the region, the
// credentials from the environment, the platform's HTTP client; retries are the SDK's
// standard ones.
func (s Settings) Config(endpoint string) aws.Config {
	cfg := aws.Config{
		Region:      s.Region,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, s.SessionToken),
		HTTPClient:  HTTPClient(),
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return cfg
}
