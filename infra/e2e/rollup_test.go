package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/rollup/rolluptest"
	"github.com/facepay/platform/shared/store"
)

// The daily rollup end to end on the virtual clock: a generated day of 36 objects is dropped
// into S3; at 02:00 the next day (Asia/Shanghai) the schedule starts the state machine, whose
// distributed Map aggregates every object (ResultWriter to S3) and whose merge writes the
// figures; they equal figures computed here, independently, from the raw records. The
// schedule firing again gives identical figures; re-running the day after it changed
// replaces exactly that day's figures.
func TestDailyRollupEndToEnd(t *testing.T) {
	evening := time.Date(2026, 11, 27, 22, 0, 0, 0, shanghai)
	c := cloudtest.Start(t, evening)
	ctx := context.Background()
	const date = "2026-11-27"
	bucket := bucketName(t, c, "TransactionsBucket")
	figures := store.NewFigures(c.DynamoDB, tableName(t, c, "FiguresTable"))

	objects := map[string][]byte{} // key → gzip NDJSON
	cfg := rollup.GenConfig{Date: date, Devices: 120, Rows: 6000, Objects: 36, Seed: 42}
	require.NoError(t, rollup.Generate(cfg, func(name string) (io.WriteCloser, error) {
		return &dropped{key: rollup.DayPrefix(date) + name, objects: objects}, nil
	}))
	for key, body := range objects {
		_, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader(body)})
		require.NoError(t, err)
	}
	// Another day's object must not count.
	other := objects[rollup.DayPrefix(date)+rollup.ObjectName(0)]
	_, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(rollup.DayPrefix("2026-11-26") + "x.ndjson.gz"), Body: bytes.NewReader(other)})
	require.NoError(t, err)
	want, err := rolluptest.Reference(date, slices.Collect(maps.Values(objects))...)
	require.NoError(t, err)
	require.Greater(t, len(want), 100, "most devices trade that day")

	// T+1: the schedule fires at 02:00 on the 28th.
	c.Clock.AdvanceTo(time.Date(2026, 11, 28, 2, 0, 30, 0, shanghai))
	runs := waitRollups(t, c, 1)
	assert.Equal(t, "daily-2026-11-27-20261127T180000Z", aws.ToString(runs[0].Name))
	assertFigures(t, figures, date, want)
	manifests := listKeys(t, c, bucket, "rollup/work/dt="+date+"/"+aws.ToString(runs[0].Name)+"/map/")
	assert.Len(t, filterSuffix(manifests, "/manifest.json"), 1, "the Map's ResultWriter wrote its manifest")

	// A reviewer reads a device's daily series through the API; partners have no such route.
	var busiest string
	for sn, f := range want {
		if busiest == "" || f.SuccessCount > want[busiest].SuccessCount {
			busiest = sn
		}
	}
	reviewer := cloudtest.As(t, c, cloud.Identity{Subject: "rita", Role: "reviewer"})
	r := reviewer.Do("GET", "/admin/devices/"+busiest+"/figures", nil)
	require.Equal(t, 200, r.Status, string(r.Raw))
	var series struct {
		From, To      string
		Items         []rollup.Figures
		OverLimitDays []string
	}
	require.NoError(t, json.Unmarshal(r.Raw, &series))
	assert.Equal(t, "2026-10-29", series.From, "default: the 30 days up to yesterday")
	assert.Equal(t, []rollup.Figures{want[busiest]}, series.Items)
	if want[busiest].OverLimitCount > 0 {
		assert.Equal(t, []string{date}, series.OverLimitDays)
	}
	vendor := cloudtest.As(t, c, cloud.Identity{Subject: "v", Org: "acme", Role: "vendor", AccountType: "service_provider"})
	assert.Equal(t, 403, vendor.Do("GET", "/admin/devices/"+busiest+"/figures", nil).Status)
	assert.Equal(t, "invalid_sn", reviewer.Do("GET", "/admin/devices/not-an-sn/figures", nil).Code())
	assert.Equal(t, "invalid_date_range", reviewer.Do("GET", "/admin/devices/"+busiest+"/figures?from=2026-11-28&to=2026-11-01", nil).Code())

	// The schedule firing again (another delivery, a manual fire) gives identical figures.
	require.NoError(t, c.FireSchedule(ctx, "DailyRollup"))
	waitRollups(t, c, 2)
	assertFigures(t, figures, date, want)

	// The day changes (the payment core re-drops it without its last 6 objects): re-running the
	// day replaces exactly that day's figures; devices no longer there lose theirs.
	var kept [][]byte
	for i := range 36 {
		key := rollup.DayPrefix(date) + rollup.ObjectName(i)
		if i >= 30 {
			_, err := c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
			require.NoError(t, err)
			continue
		}
		kept = append(kept, objects[key])
	}
	want2, err := rolluptest.Reference(date, kept...)
	require.NoError(t, err)
	c.Clock.Advance(time.Hour)
	out, err := c.Invoke(ctx, functionName(t, c, "StartRollupFunction"), []byte(`{"date":"2026-11-27"}`))
	require.NoError(t, err, string(out))
	waitRollups(t, c, 3)
	assertFigures(t, figures, date, want2)
	gone := 0
	for sn := range want {
		if _, ok := want2[sn]; ok {
			continue
		}
		series, err := figures.DeviceSeries(ctx, sn, date, date)
		require.NoError(t, err)
		assert.Empty(t, series, "%s had figures only from the dropped objects", sn)
		gone++
	}
	t.Logf("%d devices' figures removed by the re-run", gone)
}

type dropped struct {
	bytes.Buffer
	key     string
	objects map[string][]byte
}

func (d *dropped) Close() error { d.objects[d.key] = d.Bytes(); return nil }

func functionName(t *testing.T, c *cloud.Cloud, logicalID string) string {
	t.Helper()
	for _, f := range c.Template.Functions {
		if f.LogicalID == logicalID {
			return f.Name
		}
	}
	t.Fatalf("no function %s", logicalID)
	return ""
}

// waitRollups waits until the rollup state machine has n executions, all ended, and returns
// them newest first. Any that did not succeed fails the test.
func waitRollups(t *testing.T, c *cloud.Cloud, n int) []sfntypes.ExecutionListItem {
	t.Helper()
	var arn string
	for _, sm := range c.Template.StateMachines {
		if sm.LogicalID == "RollupStateMachine" {
			arn = sm.ARN
		}
	}
	client := sfnClient(c)
	deadline := time.Now().Add(90 * time.Second)
	for {
		c.Clock.Settle()
		out, err := client.ListExecutions(context.Background(), &sfn.ListExecutionsInput{StateMachineArn: &arn})
		require.NoError(t, err)
		running := 0
		for _, x := range out.Executions {
			if x.Status == sfntypes.ExecutionStatusRunning {
				running++
			}
		}
		if len(out.Executions) >= n && running == 0 {
			require.Len(t, out.Executions, n)
			for _, x := range out.Executions {
				if x.Status != sfntypes.ExecutionStatusSucceeded {
					d, _ := client.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
					t.Fatalf("rollup %s: %s %s %s", aws.ToString(x.Name), x.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
				}
			}
			return out.Executions
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d rollups: %d executions, %d running", n, len(out.Executions), running)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sfnClient(c *cloud.Cloud) *sfn.Client {
	return sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.SFNURL), HTTPClient: awsx.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", "")})
}

// executionOutput returns the top-level fields of x's output, each as its JSON text.
func executionOutput(t *testing.T, c *cloud.Cloud, x sfntypes.ExecutionListItem) map[string]string {
	t.Helper()
	d, err := sfnClient(c).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
	require.NoError(t, err)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(d.Output)), &fields), aws.ToString(d.Output))
	out := map[string]string{}
	for k, v := range fields {
		out[k] = string(v)
	}
	return out
}

func assertFigures(t *testing.T, figures *store.Figures, date string, want map[string]rollup.Figures) {
	t.Helper()
	for sn, w := range want {
		got, err := figures.DeviceSeries(context.Background(), sn, date, date)
		require.NoError(t, err)
		require.Len(t, got, 1, sn)
		if !assert.Equal(t, w, got[0], sn) {
			return
		}
	}
}

func listKeys(t *testing.T, c *cloud.Cloud, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(c.S3, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		require.NoError(t, err)
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func filterSuffix(keys []string, suffix string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasSuffix(k, suffix) {
			out = append(out, k)
		}
	}
	return out
}
