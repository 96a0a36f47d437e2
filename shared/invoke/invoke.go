// Package invoke calls another Lambda function with a JSON event (Lambda's Invoke API):
// synchronously (RequestResponse, Call), decoding its JSON result, or asynchronously (Event).
//
// It signs the one REST call with the SDK's own SigV4 signer instead of linking the SDK's
// Lambda client: that client's generated code would take process-upload, the only caller, over
// its binary-size target (measured: 10.2 MB arm64 with it, against 10 MB), and Invoke is a
// single POST. Endpoint, region and credentials come from awsx.Settings like every client's.
package invoke

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/facepay/platform/shared/awsx"
)

// maxResult bounds what is read of a function's answer: Lambda's own limit for a synchronous
// response is 6 MB.
const maxResult = 6 << 20

// Client invokes functions.
type Client struct {
	cfg      aws.Config
	endpoint string
	signer   *v4.Signer
}

// NewClient returns a client for Lambda in s's region, or at s.LambdaURL when it is set.
func NewClient(s awsx.Settings) *Client {
	endpoint := s.LambdaURL
	if endpoint == "" {
		endpoint = "https://lambda." + s.Region + ".amazonaws.com"
	}
	return &Client{cfg: s.Config(""), endpoint: strings.TrimSuffix(endpoint, "/"), signer: v4.NewSigner()}
}

// FunctionError is the error a function's handler returned, as Lambda reports it.
type FunctionError struct {
	Function string
	Type     string `json:"errorType"`
	Message  string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function %s failed: %s: %s", e.Function, e.Type, e.Message)
}

// Call invokes function (name or ARN) with event and decodes its result into out. A handler
// error is a *FunctionError; anything else (throttling, a missing function, the network) is a
// plain error, to be retried by the caller's own retry (S3's asynchronous invoke here).
func (c *Client) Call(ctx context.Context, function string, event, out any) error {
	resp, err := c.post(ctx, function, "RequestResponse", event)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	res, err := io.ReadAll(io.LimitReader(resp.Body, maxResult+1))
	if err != nil {
		return fmt.Errorf("invoke %s: read result: %w", function, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("invoke %s: %s %s: %s", function, resp.Status, resp.Header.Get("X-Amzn-ErrorType"), truncate(res))
	}
	if resp.Header.Get("X-Amz-Function-Error") != "" {
		fe := &FunctionError{Function: function}
		if err := json.Unmarshal(res, fe); err != nil {
			fe.Type, fe.Message = "Unknown", truncate(res)
		}
		return fe
	}
	if len(res) > maxResult {
		return fmt.Errorf("invoke %s: result larger than %d bytes", function, maxResult)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(res, out); err != nil {
		return fmt.Errorf("invoke %s: decode result: %w", function, err)
	}
	return nil
}

// Event queues event for function (name or ARN) asynchronously (InvocationType Event) and
// returns once Lambda accepted it (202). The function then runs with Lambda's asynchronous
// retries and its OnFailure destination, exactly as when S3 or a schedule invokes it.
func (c *Client) Event(ctx context.Context, function string, event any) error {
	resp, err := c.post(ctx, function, "Event", event)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	res, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("invoke %s asynchronously: %s %s: %s", function, resp.Status, resp.Header.Get("X-Amzn-ErrorType"), truncate(res))
	}
	return nil
}

// post sends one signed Invoke request of the invocation type.
func (c *Client) post(ctx context.Context, function, invocationType string, event any) (*http.Response, error) {
	body, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: encode event: %w", function, err)
	}
	u := c.endpoint + "/2015-03-31/functions/" + url.PathEscape(function) + "/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", function, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", invocationType)
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: credentials: %w", function, err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", c.cfg.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("invoke %s: sign: %w", function, err)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", function, err)
	}
	return resp, nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}
