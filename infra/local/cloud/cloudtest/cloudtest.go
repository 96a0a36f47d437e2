// Package cloudtest starts the local cloud for end-to-end tests and speaks to it as a client
// would: bearer tokens, JSON over HTTP, presigned uploads with plain net/http.
package cloudtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/clock"
	"github.com/facepay/platform/infra/local/cloud"
)

// Root is the project root (where template.yaml is).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// Start brings up a local cloud whose virtual clock stands at start, and stops it when the
// test ends. It fails, never skips, when an engine cannot start.
func Start(t testing.TB, start time.Time) *cloud.Cloud {
	t.Helper()
	var log io.Writer
	if os.Getenv("FACEPAY_ENGINE_LOGS") != "" {
		log = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := cloud.Start(ctx, cloud.Options{Dir: Root(), Addr: "127.0.0.1:0", SFNAddr: "127.0.0.1:0", Clock: clock.New(start), Log: log})
	require.NoError(t, err, "start the local cloud")
	t.Cleanup(c.Stop)
	return c
}

// Client calls the local cloud's HTTP API as one identity.
type Client struct {
	t        testing.TB
	base     string
	token    string
	contract *cloud.Contract
}

// As returns a client for id ("" token when id.Role is empty: an anonymous caller).
func As(t testing.TB, c *cloud.Cloud, id cloud.Identity) *Client {
	t.Helper()
	cl := &Client{t: t, base: c.URL, contract: c.Contract}
	if id.Role != "" {
		tok, err := c.Token(id)
		require.NoError(t, err)
		cl.token = tok
	}
	return cl
}

// WithToken returns a client sending token verbatim.
func WithToken(t testing.TB, c *cloud.Cloud, token string) *Client {
	return &Client{t: t, base: c.URL, token: token, contract: c.Contract}
}

// Response is a decoded API response.
type Response struct {
	Status int
	Body   map[string]any
	Raw    []byte
}

// Code is the error code of an error response ("" otherwise).
func (r Response) Code() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// Do sends method path with body (marshalled to JSON unless nil) and extra headers.
func (cl *Client) Do(method, path string, body any, headers ...string) Response {
	cl.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(cl.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, cl.base+path, rd)
	require.NoError(cl.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(cl.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(cl.t, err)
	r := Response{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	cl.checkContract(req, resp, r)
	return r
}

// checkContract fails the test when a response of the functions does not match the OpenAPI
// document: an undocumented status, or a body off its schema. The gateway's own answers
// (401 {"message":"Unauthorized"}, unknown routes, oversized bodies) are AWS's, not the
// document's, and are not checked.
func (cl *Client) checkContract(req *http.Request, resp *http.Response, r Response) {
	cl.t.Helper()
	if _, gateway := r.Body["message"]; gateway || cl.contract == nil {
		return
	}
	if f := os.Getenv("FACEPAY_RECORD_ERROR_CODES"); f != "" { // a maintainer's aid for x-error-codes
		if op, code := cl.contract.ErrorCodeOf(req, r.Raw); code != "" {
			if out, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				_, _ = fmt.Fprintf(out, "%s\t%s\n", op, code)
				_ = out.Close()
			}
		}
	}
	if err := cl.contract.ValidateResponse(context.Background(), req, resp.StatusCode, resp.Header, r.Raw); err != nil {
		cl.t.Errorf("%s %s answered %d off the OpenAPI document: %v\nbody: %.500s", req.Method, req.URL.Path, resp.StatusCode, err, r.Raw)
	}
}

// SHA256 is the hex SHA-256 of data, as the upload requests declare it.
func SHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Put sends data to a presigned upload ({"url","method","headers"}) with plain HTTP and returns
// the status and body.
func Put(t testing.TB, upload map[string]any, data []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(upload["method"].(string), upload["url"].(string), bytes.NewReader(data))
	require.NoError(t, err)
	for k, v := range upload["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Eventually polls f until it returns true (notifications are asynchronous, as in AWS).
func Eventually(t testing.TB, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
