package awsx

import (
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// HTTPClient is the HTTP client every SDK client of the platform uses: the SDK's default
// client with request bodies that expose only Read and Close.
//
// Why: smithy-go (v1.28.9 and earlier) wraps each request body in a reader whose WriteTo
// returns io.EOF once the body is closed, and closes the body as soon as the response headers
// arrive. net/http's transport drains the body with io.Copy (which prefers WriteTo) after
// sending it; when the response is faster than that drain (a local engine on a busy machine),
// the drain sees io.EOF as a write error and closes the connection while the response is
// still being read ("use of closed network connection"). The SDK then retries, and a retried
// conditional write that had succeeded comes back as a Conflict. Hiding WriteTo makes the
// drain use Read, which ends cleanly. smithy-go's main branch fixes WriteTo; drop this once a
// release has it. infra/local/states has the test that forces the race.
func HTTPClient() aws.HTTPClient { return closeSafeBodies{awshttp.NewBuildableClient()} }

type closeSafeBodies struct{ next aws.HTTPClient }

// readCloserOnly hides every method of the body but Read and Close.
type readCloserOnly struct{ io.ReadCloser }

func (c closeSafeBodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.WithContext(r.Context()) // a shallow copy: the SDK keeps (and closes) its body
		r.Body = readCloserOnly{r.Body}
	}
	return c.next.Do(r)
}

// WithHTTPClient returns c (nil: the SDK's default client) wrapped the same way.
func WithHTTPClient(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	return closeSafeBodies{c}
}
