// Package cloud is the local cloud: the whole platform on one machine with no AWS account.
// It reads template.yaml and infra/openapi.yaml, starts the engines (moto_server for DynamoDB,
// versitygw for S3) as child processes, creates the template's tables and buckets, hosts every
// function in-process, and serves the HTTP API (with a JWT authorizer), bucket notifications,
// schedules on a virtual clock, and the Step Functions API.
package cloud

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/facepay/platform/infra/local/clock"
	"github.com/facepay/platform/infra/local/engines"
	"github.com/facepay/platform/infra/local/template"
	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/lambdafn"
)

// Options configures Start.
type Options struct {
	Dir              string       // project root holding template.yaml and infra/openapi.yaml
	Addr             string       // gateway address; "127.0.0.1:0" picks a free port
	SFNAddr          string       // Step Functions API address; "127.0.0.1:0" picks a free port
	StateDir         string       // keeps the signing key and S3 data across runs; "" = temporary
	DynamoDBEndpoint string       // use this DynamoDB (e.g. DynamoDB Local) instead of starting moto_server
	MotoPort         int          // moto_server's port (DynamoDB, SQS); 0 picks a free one
	S3Port           int          // versitygw's port; 0 picks a free one
	Clock            *clock.Clock // nil: a clock that follows the wall clock
	Params           map[string]string
	Log              io.Writer // engine output; nil discards it
}

// Stack is the local stack's identity.
var Stack = template.Stack{Name: "facepay-local", Region: "us-east-1", AccountID: "000000000000"}

// Cloud is a running local cloud.
type Cloud struct {
	URL              string // the HTTP API, e.g. http://127.0.0.1:3000
	SFNURL           string // the Step Functions API
	DynamoDBEndpoint string
	S3Endpoint       string
	SQSEndpoint      string // moto_server's SQS: the template's failure queues
	Clock            *clock.Clock
	Auth             *Authority
	Template         *template.Template
	Contract         *Contract // infra/openapi.yaml, enforced on requests; tests check responses against it
	DynamoDB         *dynamodb.Client
	S3               *s3.Client
	SQS              *sqs.Client
	Queues           map[string]string // logical id → queue URL

	creds     aws.Credentials
	host      *host
	async     *async
	sched     *scheduler
	notifier  *notifier
	sfn       stepFunctions
	servers   []*http.Server
	listeners []net.Listener
	stoppers  []func() error
	ownsClock bool
}

// Start brings the local cloud up. On error everything started so far is stopped.
func Start(ctx context.Context, opts Options) (_ *Cloud, err error) {
	c := &Cloud{Clock: opts.Clock}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if c.Clock == nil {
		c.Clock, c.ownsClock = clock.NewFollowing(100*time.Millisecond), true
	}
	stack := Stack
	stack.Params = map[string]string{}
	for k, v := range opts.Params {
		stack.Params[k] = v
	}
	if stack.Params["CursorKey"] == "" {
		// The secret that seals page cursors: one per local cloud, shared by every function.
		stack.Params["CursorKey"] = randomHex(32)
	}
	if c.Template, err = template.Load(filepath.Join(opts.Dir, "template.yaml"), stack); err != nil {
		return nil, err
	}
	ops, err := template.LoadOpenAPI(filepath.Join(opts.Dir, "infra", "openapi.yaml"))
	if err != nil {
		return nil, err
	}
	if c.Contract, err = LoadContract(ctx, filepath.Join(opts.Dir, "infra", "openapi.yaml")); err != nil {
		return nil, err
	}
	if len(c.Template.APIs) != 1 {
		return nil, fmt.Errorf("template declares %d HTTP APIs; the local cloud serves exactly one", len(c.Template.APIs))
	}
	api := c.Template.APIs[0]
	keyFile := ""
	if opts.StateDir != "" {
		keyFile = filepath.Join(opts.StateDir, "jwt-signing-key.pem")
	}
	if c.Auth, err = NewAuthority(keyFile, api.Issuer, first(api.Audience)); err != nil {
		return nil, err
	}

	// Listen first: a taken port fails the start before any engine runs, versitygw needs the
	// webhook's URL, and functions need the Step Functions API's URL in their environment.
	gwLn, err := c.listen(orDefault(opts.Addr, "127.0.0.1:0"))
	if err != nil {
		return nil, err
	}
	sfnLn, err := c.listen(orDefault(opts.SFNAddr, "127.0.0.1:0"))
	if err != nil {
		return nil, err
	}
	hookLn, err := c.listen("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.URL, c.SFNURL = "http://"+gwLn.Addr().String(), "http://"+sfnLn.Addr().String()
	c.DynamoDBEndpoint = opts.DynamoDBEndpoint
	// moto_server serves DynamoDB and the template's SQS queues; with an external DynamoDB it
	// still serves the queues.
	if c.DynamoDBEndpoint == "" || len(c.Template.Queues) > 0 {
		moto, err := engines.StartMoto(ctx, engines.MotoOptions{Port: opts.MotoPort, Log: opts.Log})
		if err != nil {
			return nil, err
		}
		c.stoppers = append(c.stoppers, moto.Stop)
		c.SQSEndpoint = moto.Endpoint
		if c.DynamoDBEndpoint == "" {
			c.DynamoDBEndpoint = moto.Endpoint
		}
	}
	dataDir := ""
	if opts.StateDir != "" {
		// versitygw wants absolute paths: relative ones make it think the versions folder
		// sits inside the data folder.
		if dataDir, err = filepath.Abs(filepath.Join(opts.StateDir, "s3")); err != nil {
			return nil, err
		}
	}
	vgw, err := engines.StartVersity(ctx, engines.VersityOptions{
		WebhookURL: "http://" + hookLn.Addr().String() + "/", DataDir: dataDir, Region: Stack.Region, Port: opts.S3Port, Log: opts.Log,
	})
	if err != nil {
		return nil, err
	}
	c.stoppers = append(c.stoppers, vgw.Stop)
	c.S3Endpoint = vgw.Endpoint
	c.creds = aws.Credentials{AccessKeyID: vgw.AccessKey, SecretAccessKey: vgw.SecretKey, Source: "local"}
	c.DynamoDB, c.S3, c.SQS = c.clients()
	if err := c.createResources(ctx); err != nil {
		return nil, err
	}

	if c.host, err = newHost(c.Template, c.deps); err != nil {
		return nil, err
	}
	if c.sfn, err = newStepFunctions(ctx, c); err != nil {
		return nil, err
	}
	c.async = &async{host: c.host, clock: c.Clock, sqs: c.SQS, queues: map[string]string{}}
	for _, q := range c.Template.Queues {
		c.async.queues[q.ARN] = c.Queues[q.LogicalID]
	}
	// The AWS API endpoint: Step Functions (JSON protocol on /) and Lambda's Invoke.
	awsAPI := http.NewServeMux()
	awsAPI.Handle("/2015-03-31/functions/", c.lambdaAPI())
	awsAPI.Handle("/", c.sfn)
	c.serve(sfnLn, awsAPI)
	if err := c.host.start(ctx); err != nil {
		return nil, err
	}
	c.notifier = newNotifier(c.Template, c.async, c.S3, Stack.Region)
	c.serve(hookLn, c.notifier)
	if c.sched, err = newScheduler(c.Template, c.Clock, c.async, func(name string) string {
		return fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s", Stack.Region, Stack.AccountID, name)
	}); err != nil {
		return nil, err
	}
	c.sched.start()

	mux := http.NewServeMux()
	mux.Handle("/_local/", c.admin())
	mux.Handle("/", newGateway(c.Template, ops, c.Contract, c.Auth, c.host))
	c.serve(gwLn, mux)
	return c, nil
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// listen opens a listener that Stop closes, served or not, so a failed start leaks nothing.
func (c *Cloud) listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	c.listeners = append(c.listeners, ln)
	return ln, nil
}

func (c *Cloud) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	c.servers = append(c.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("local server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// Stop shuts everything down: servers, schedules, executor, engines. It is safe to call twice.
func (c *Cloud) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, s := range c.servers {
		_ = s.Shutdown(ctx)
	}
	c.servers = nil
	for _, ln := range c.listeners {
		_ = ln.Close() // already closed when it was served
	}
	c.listeners = nil
	if c.sched != nil {
		c.sched.stop()
	}
	if c.async != nil {
		c.async.wg.Wait()
	}
	if c.sfn != nil {
		c.sfn.Close()
		c.sfn = nil
	}
	for i := len(c.stoppers) - 1; i >= 0; i-- {
		if err := c.stoppers[i](); err != nil {
			slog.Warn("engine stop", "err", err)
		}
	}
	c.stoppers = nil
	if c.ownsClock && c.Clock != nil {
		c.Clock.Close()
	}
}

// deps is what a function gets at cold start: its environment (FunctionEnv) and the virtual clock.
func (c *Cloud) deps(f template.Function) lambdafn.Deps {
	env := c.FunctionEnv(f)
	return lambdafn.Deps{Getenv: func(k string) string { return env[k] }, Now: c.Clock.Now}
}

// FunctionEnv is a function's environment here: the variables the template gives it, with the
// settings that point its SDK clients at the local engines (which the template declares empty,
// so SAM CLI's --env-vars may set them) and the local credentials. The in-process host and the
// SAM CLI environment file (SAMEnv) both use it.
func (c *Cloud) FunctionEnv(f template.Function) map[string]string {
	env := map[string]string{}
	for k, v := range f.Env {
		env[k] = v
	}
	for k, v := range map[string]string{
		"AWS_REGION":                Stack.Region,
		"AWS_ACCESS_KEY_ID":         c.creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     c.creds.SecretAccessKey,
		"AWS_ENDPOINT_URL_DYNAMODB": c.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_S3":       c.S3Endpoint,
		"AWS_ENDPOINT_URL_SFN":      c.SFNURL,
		"AWS_ENDPOINT_URL_LAMBDA":   c.SFNURL, // the local Lambda Invoke API shares the address
		"S3_USE_PATH_STYLE":         "true",
		"AWS_LAMBDA_FUNCTION_NAME":  f.Name,
	} {
		env[k] = v
	}
	return env
}

// SAMEnv is the environment file for SAM CLI (sam local invoke/start-api --env-vars): per
// function logical id, its FunctionEnv. SAM CLI passes only the variables the template declares
// and takes credentials and region from the caller's shell, so those are in it for reference.
func (c *Cloud) SAMEnv() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, f := range c.Template.Functions {
		out[f.LogicalID] = c.FunctionEnv(f)
	}
	return out
}

func (c *Cloud) clients() (*dynamodb.Client, *s3.Client, *sqs.Client) {
	creds := credentials.StaticCredentialsProvider{Value: c.creds}
	cfg := aws.Config{Region: Stack.Region, Credentials: creds, HTTPClient: awsx.HTTPClient()}
	var q *sqs.Client
	if c.SQSEndpoint != "" {
		q = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(c.SQSEndpoint) })
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(c.DynamoDBEndpoint) }),
		s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(c.S3Endpoint); o.UsePathStyle = true }), q
}

// createResources makes the template's tables and buckets (existing ones are kept).
func (c *Cloud) createResources(ctx context.Context) error {
	for _, t := range c.Template.Tables {
		in, err := TableInput(t)
		if err != nil {
			return err
		}
		_, err = c.DynamoDB.CreateTable(ctx, in)
		var inUse *ddbtypes.ResourceInUseException
		if errors.As(err, &inUse) {
			continue
		}
		if err != nil {
			return fmt.Errorf("create table %s: %w", t.Name, err)
		}
		if ttl, ok := t.Properties["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
			_, err := c.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &t.Name,
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(fmt.Sprint(ttl["AttributeName"])), Enabled: aws.Bool(true)}})
			if err != nil {
				slog.Warn("table TTL not enabled locally", "table", t.Name, "err", err)
			}
		}
	}
	c.Queues = map[string]string{}
	for _, q := range c.Template.Queues {
		// CreateQueue with the same name and attributes returns the existing queue.
		out, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.Name)})
		if err != nil {
			return fmt.Errorf("create queue %s: %w", q.Name, err)
		}
		c.Queues[q.LogicalID] = aws.ToString(out.QueueUrl)
	}
	for _, b := range c.Template.Buckets {
		_, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.Name})
		var owned *s3types.BucketAlreadyOwnedByYou
		if err != nil && !errors.As(err, &owned) {
			return fmt.Errorf("create bucket %s: %w", b.Name, err)
		}
		if b.Versioned {
			if _, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &b.Name,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
				return fmt.Errorf("bucket %s versioning: %w", b.Name, err)
			}
		}
	}
	return nil
}

// TableInput turns a template table into the CreateTable call that makes it.
func TableInput(t template.Table) (*dynamodb.CreateTableInput, error) {
	var p struct {
		AttributeDefinitions   []ddbtypes.AttributeDefinition
		KeySchema              []ddbtypes.KeySchemaElement
		GlobalSecondaryIndexes []ddbtypes.GlobalSecondaryIndex
		BillingMode            ddbtypes.BillingMode
	}
	b, err := json.Marshal(t.Properties)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("table %s: %w", t.LogicalID, err)
	}
	return &dynamodb.CreateTableInput{
		TableName: aws.String(t.Name), AttributeDefinitions: p.AttributeDefinitions, KeySchema: p.KeySchema,
		GlobalSecondaryIndexes: p.GlobalSecondaryIndexes, BillingMode: p.BillingMode,
	}, nil
}

// Token mints a bearer token for id, valid for 12 hours.
func (c *Cloud) Token(id Identity) (string, error) { return c.Auth.Token(id, 12*time.Hour) }

// FireSchedule runs the named schedule now.
func (c *Cloud) FireSchedule(ctx context.Context, name string) error {
	return c.sched.FireNow(ctx, name)
}

// Invoke runs a function directly (tests).
func (c *Cloud) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	return c.host.Invoke(ctx, function, payload)
}

// WaitNotifications blocks until the first attempt of every asynchronous invocation started
// so far (bucket notifications, Invoke with InvocationType Event) has finished. Retries run later,
// on the clock.
func (c *Cloud) WaitNotifications() { c.async.wg.Wait() }

// FailNext makes the next n invocations of function (name or ARN) fail with an InjectedFault
// error before its handler runs: the way to see retries and failure destinations locally.
func (c *Cloud) FailNext(function string, n int) error { return c.host.failNext(function, n) }

// FaultsLeft is how many of the failures FailNext injected into function are still to come:
// a test's way to know an invocation it cannot otherwise observe (a bucket notification,
// which versitygw posts after the upload returns) has happened.
func (c *Cloud) FaultsLeft(function string) int { return c.host.faultsLeft(function) }

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
