// Package awsx builds the AWS SDK clients a function needs, once, at cold start, from the
// function's environment. Endpoint overrides are plain settings (the SDK's own
// AWS_ENDPOINT_URL_<SERVICE> names), empty in production and pointed at the local engines by
// the local cloud, so the same code path runs in both places.
package awsx

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Settings are the AWS-related settings of a function, read from its environment.
type Settings struct {
	Region          string // AWS_REGION (set by Lambda)
	AccessKeyID     string // AWS_ACCESS_KEY_ID (set by Lambda; the local cloud sets dummies)
	SecretAccessKey string // AWS_SECRET_ACCESS_KEY
	SessionToken    string // AWS_SESSION_TOKEN
	DynamoDBURL     string // AWS_ENDPOINT_URL_DYNAMODB: empty in production
	S3URL           string // AWS_ENDPOINT_URL_S3
	SFNURL          string // AWS_ENDPOINT_URL_SFN
	S3PathStyle     bool   // S3_USE_PATH_STYLE: local S3 engines serve path-style only
}

// LoadSettings reads Settings through getenv. It fails on a missing region or a malformed flag.
func LoadSettings(getenv func(string) string) (Settings, error) {
	s := Settings{
		Region:          getenv("AWS_REGION"),
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		DynamoDBURL:     getenv("AWS_ENDPOINT_URL_DYNAMODB"),
		S3URL:           getenv("AWS_ENDPOINT_URL_S3"),
		SFNURL:          getenv("AWS_ENDPOINT_URL_SFN"),
	}
	if s.Region == "" {
		return s, fmt.Errorf("AWS_REGION is not set")
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

// FromEnv reads the settings through getenv and builds the clients.
func FromEnv(ctx context.Context, getenv func(string) string) (*Clients, error) {
	s, err := LoadSettings(getenv)
	if err != nil {
		return nil, err
	}
	return New(ctx, s)
}

// Clients are the SDK clients shared by a function's handler for its lifetime.
type Clients struct {
	DynamoDB *dynamodb.Client
	S3       *s3.Client
	SFN      *sfn.Client
}

// New builds the clients described by s. Credentials come from s when given (Lambda puts the
// role's credentials in the environment), otherwise from the SDK's default chain.
func New(ctx context.Context, s Settings) (*Clients, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(s.Region)}
	if s.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, s.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	// Wrapped after loading: the SDK configures a custom CA bundle (AWS_CA_BUNDLE) only on its
	// own client type.
	cfg.HTTPClient = WithHTTPClient(cfg.HTTPClient)
	return &Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = endpoint(s.DynamoDBURL) }),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = endpoint(s.S3URL)
			o.UsePathStyle = s.S3PathStyle
		}),
		SFN: sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = endpoint(s.SFNURL) }),
	}, nil
}

func endpoint(url string) *string {
	if url == "" {
		return nil
	}
	return aws.String(url)
}
