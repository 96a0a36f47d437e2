package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	cleartestdevices "github.com/facepay/platform/functions/clear-test-devices/handler"
	exportdevices "github.com/facepay/platform/functions/export-devices/handler"
	feestatements "github.com/facepay/platform/functions/fee-statements/handler"
	payscoretask "github.com/facepay/platform/functions/pay-score-task/handler"
	pipelinetask "github.com/facepay/platform/functions/pipeline-task/handler"
	reconcile "github.com/facepay/platform/functions/reconcile/handler"
	releasedecisions "github.com/facepay/platform/functions/release-decisions/handler"
	reviewsla "github.com/facepay/platform/functions/review-sla/handler"
	rollupfn "github.com/facepay/platform/functions/rollup/handler"
	startrollup "github.com/facepay/platform/functions/start-rollup/handler"
	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/rollup"
)

// eventType is the event each function receives, as `sam local invoke -e` hands it over.
func eventType(t *testing.T, codeURI string, hasRoutes bool) any {
	t.Helper()
	switch {
	case hasRoutes:
		return &events.APIGatewayV2HTTPRequest{}
	case codeURI == "functions/process-upload", codeURI == "functions/import-bindings":
		return &events.S3Event{}
	case codeURI == "functions/release-decisions":
		return &releasedecisions.Event{}
	case codeURI == "functions/review-sla":
		return &reviewsla.Event{}
	case codeURI == "functions/pipeline-task":
		return &pipelinetask.Event{}
	case codeURI == "functions/pay-score-task":
		return &payscoretask.Event{}
	case codeURI == "functions/clear-test-devices":
		return &cleartestdevices.Event{}
	case codeURI == "functions/reconcile":
		return &reconcile.Event{}
	case codeURI == "functions/prescreen-workbook":
		return &evidence.PrescreenRequest{}
	case codeURI == "functions/rollup":
		return &rollupfn.Event{}
	case codeURI == "functions/start-rollup":
		return &startrollup.Event{}
	case codeURI == "functions/fee-statements":
		return &feestatements.Event{}
	case codeURI == "functions/export-devices":
		return &exportdevices.Event{}
	case codeURI == "functions/factory-authorizer":
		return &events.APIGatewayV2CustomAuthorizerV2Request{}
	}
	t.Fatalf("%s: no event type known; add it here", codeURI)
	return nil
}

// Every sample in events/ is a valid event for `sam local invoke`: it decodes strictly (no
// field the event type lacks) into its function's event type, and the function, run with it on
// the local engines, answers without a platform error.
func TestEventSamplesAreValidInvocations(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	for _, f := range c.Template.Functions {
		samples, err := filepath.Glob(filepath.Join(cloudtest.Root(), "events", filepath.Base(f.CodeURI), "*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, samples, f.LogicalID)
		for _, s := range samples {
			t.Run(filepath.Base(f.CodeURI)+"/"+filepath.Base(s), func(t *testing.T) {
				raw, err := os.ReadFile(s)
				require.NoError(t, err)
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.DisallowUnknownFields()
				require.NoError(t, dec.Decode(eventType(t, f.CodeURI, len(f.Routes) > 0)), "strict decode")

				if f.CodeURI == "functions/prescreen-workbook" {
					raw = withObject(t, c, raw) // it reads the object the request names
				}
				if f.CodeURI == "functions/rollup" {
					withTransactions(t, c, raw) // it aggregates the object the event names
				}
				out, err := c.Invoke(context.Background(), f.Name, raw)
				require.NoError(t, err, "the function runs with the sample")
				if len(f.Routes) > 0 {
					var resp events.APIGatewayV2HTTPResponse
					require.NoError(t, json.Unmarshal(out, &resp))
					assert.Less(t, resp.StatusCode, 500, "%s", resp.Body)
				}
			})
		}
	}
}

// withObject stores a real hardware workbook at the key a pre-screening request names and
// returns the request with a presigned GET of it, as process-upload sends.
func withObject(t *testing.T, c *cloud.Cloud, raw []byte) []byte {
	t.Helper()
	var req evidence.PrescreenRequest
	require.NoError(t, json.Unmarshal(raw, &req))
	data, err := os.ReadFile(filepath.Join(cloudtest.Root(), "shared/evidence/evidencetest/testdata/hardware-all-pass.xls"))
	require.NoError(t, err)
	put, err := c.S3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucketName(t, c, "ArtifactsBucket")), Key: aws.String(req.Key), Body: bytes.NewReader(data)})
	require.NoError(t, err)
	get, err := s3.NewPresignClient(c.S3).PresignGetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String(bucketName(t, c, "ArtifactsBucket")), Key: aws.String(req.Key), VersionId: put.VersionId})
	require.NoError(t, err)
	req.URL = get.URL
	out, err := json.Marshal(req)
	require.NoError(t, err)
	return out
}

func bucketName(t *testing.T, c *cloud.Cloud, logicalID string) string {
	t.Helper()
	for _, b := range c.Template.Buckets {
		if b.LogicalID == logicalID {
			return b.Name
		}
	}
	t.Fatalf("no bucket %s in the template", logicalID)
	return ""
}

// withTransactions drops a small generated object where the rollup sample looks.
func withTransactions(t *testing.T, c *cloud.Cloud, raw []byte) {
	t.Helper()
	var e rollupfn.Event
	require.NoError(t, json.Unmarshal(raw, &e))
	var obj bytes.Buffer
	require.NoError(t, rollup.Generate(rollup.GenConfig{Date: e.Date, Devices: 20, Rows: 500, Objects: 1, Seed: 1},
		func(string) (io.WriteCloser, error) { return nopCloser{&obj}, nil }))
	_, err := c.S3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucketName(t, c, "TransactionsBucket")), Key: aws.String(e.Key), Body: bytes.NewReader(obj.Bytes())})
	require.NoError(t, err)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func tableName(t *testing.T, c *cloud.Cloud, logicalID string) string {
	t.Helper()
	for _, tb := range c.Template.Tables {
		if tb.LogicalID == logicalID {
			return tb.Name
		}
	}
	t.Fatalf("no table %s in the template", logicalID)
	return ""
}
