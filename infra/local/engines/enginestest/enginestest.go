// Package enginestest gives tests in other packages the local engines: a
// moto_server for DynamoDB and a versitygw for S3, each shared by every test
// in the test binary, and SDK clients pointed at them.
//
// An engine is reused from the environment when `make test` (or a developer)
// has started one (see the Env* constants); otherwise the first test that
// asks starts it, and Main stops it when the tests end. A test fails, never
// skips, when an engine cannot start.
//
//	func TestMain(m *testing.M) { enginestest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		db := enginestest.DynamoDB(t)
//		...
//	}
package enginestest

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/facepay/platform/infra/local/engines"
	"github.com/facepay/platform/shared/awsx"
)

// Environment variables naming engines to reuse instead of starting new ones.
const (
	EnvMotoEndpoint = "FACEPAY_MOTO_ENDPOINT" // e.g. http://127.0.0.1:5000
	EnvS3Endpoint   = "FACEPAY_S3_ENDPOINT"   // e.g. http://127.0.0.1:7070
	EnvS3AccessKey  = "FACEPAY_S3_ACCESS_KEY" // defaults to engines.DefaultS3AccessKey
	EnvS3SecretKey  = "FACEPAY_S3_SECRET_KEY" // defaults to engines.DefaultS3SecretKey
	EnvS3Region     = "FACEPAY_S3_REGION"     // defaults to engines.DefaultS3Region
)

// region is the region of the DynamoDB clients; moto accepts any.
const region = engines.DefaultS3Region

// S3Engine is where an S3 engine listens and how to sign requests for it.
// Clients must use path-style addressing.
type S3Engine struct {
	Endpoint             string // base URL, e.g. http://127.0.0.1:7070
	AccessKey, SecretKey string // static credentials to sign with
	Region               string // region to sign for
}

var (
	mu      sync.Mutex
	moto    *engines.Moto
	versity *engines.Versity

	motoEndpoint = sync.OnceValues(func() (string, error) {
		if ep := os.Getenv(EnvMotoEndpoint); ep != "" {
			return ep, nil
		}
		m, err := engines.StartMoto(context.Background(), engines.MotoOptions{})
		if err != nil {
			return "", err
		}
		mu.Lock()
		moto = m
		mu.Unlock()
		return m.Endpoint, nil
	})

	s3Engine = sync.OnceValues(func() (S3Engine, error) {
		if ep := os.Getenv(EnvS3Endpoint); ep != "" {
			return S3Engine{
				Endpoint:  ep,
				AccessKey: envOr(EnvS3AccessKey, engines.DefaultS3AccessKey),
				SecretKey: envOr(EnvS3SecretKey, engines.DefaultS3SecretKey),
				Region:    envOr(EnvS3Region, engines.DefaultS3Region),
			}, nil
		}
		v, err := engines.StartVersity(context.Background(), engines.VersityOptions{})
		if err != nil {
			return S3Engine{}, err
		}
		mu.Lock()
		versity = v
		mu.Unlock()
		return S3Engine{Endpoint: v.Endpoint, AccessKey: v.AccessKey, SecretKey: v.SecretKey, Region: v.Region}, nil
	})
)

// Main runs the tests, stops the engines this process started, and exits
// with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the engines this process started. Main calls it; engines a
// test binary leaves running die with it anyway (see package engines).
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	_ = moto.Stop()
	_ = versity.Stop()
}

// Moto returns the endpoint of the shared moto_server, starting it on first
// use. It fails t when the engine cannot start.
func Moto(t testing.TB) string {
	t.Helper()
	ep, err := motoEndpoint()
	if err != nil {
		t.Fatalf("local DynamoDB engine: %v", err)
	}
	return ep
}

// DynamoDB returns a client for the shared moto_server with static
// credentials, starting the engine on first use.
func DynamoDB(t testing.TB) *dynamodb.Client {
	t.Helper()
	return dynamodb.New(dynamodb.Options{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(Moto(t)),
		HTTPClient:   awsx.HTTPClient(),
	})
}

// Requests counts what a client of CountingDynamoDB sent, by operation (one per call: SDK
// retries are not counted), so tests can state a store method's request cost.
type Requests struct{ ops sync.Map }

// Count returns how many op requests were sent since the last Take.
func (r *Requests) Count(op string) int64 {
	if v, ok := r.ops.Load(op); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// Take returns the counts since the last Take (operations sent at least once) and starts
// counting from zero.
func (r *Requests) Take() map[string]int64 {
	out := map[string]int64{}
	r.ops.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Swap(0); n > 0 {
			out[k.(string)] = n
		}
		return true
	})
	return out
}

// CountingDynamoDB returns a client of the shared moto_server that counts its requests.
func CountingDynamoDB(t testing.TB) (*dynamodb.Client, *Requests) {
	t.Helper()
	r := &Requests{}
	client := dynamodb.New(DynamoDB(t).Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				v, _ := r.ops.LoadOrStore(middleware.GetOperationName(ctx), new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		})
	})
	return client, r
}

// Versity returns the shared S3 engine (a versitygw without webhook),
// starting it on first use. It fails t when the engine cannot start.
func Versity(t testing.TB) S3Engine {
	t.Helper()
	e, err := s3Engine()
	if err != nil {
		t.Fatalf("local S3 engine: %v", err)
	}
	return e
}

// S3 returns a path-style client for the shared S3 engine, signed with its
// credentials, starting the engine on first use.
func S3(t testing.TB) *s3.Client {
	t.Helper()
	e := Versity(t)
	return s3.New(s3.Options{
		Region:       e.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(e.AccessKey, e.SecretKey, ""),
		BaseEndpoint: aws.String(e.Endpoint),
		UsePathStyle: true,
		HTTPClient:   awsx.HTTPClient(),
	})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
