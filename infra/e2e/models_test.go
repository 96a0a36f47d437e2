package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

// approvedVendor takes vendor n through application and the Monday release.
func approvedVendor(t *testing.T, c *cloud.Cloud, n int) (cloud.Identity, string) {
	t.Helper()
	id := vendor(n)
	appID := apply(t, c, id)
	require.Equal(t, http.StatusOK, decide(t, c, "applications", appID, "approve", "").Status)
	require.NoError(t, c.FireSchedule(context.Background(), "WeeklyRelease"))
	code := cloudtest.As(t, c, id).Do("GET", "/applications/"+appID, nil).Body["vendorCode"].(string)
	return id, code
}

var k1 = map[string]any{"name": "K1 Pro", "deviceType": "desktop_dual_screen", "os": "android",
	"softwareModes": []string{"sdk", "app"}, "connectivity": []string{"wifi", "4g"}, "cameraModel": "FC-200"}

func TestModels_RegistrationReleaseAndPipeline(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	id, vendorCode := approvedVendor(t, c, 1)
	v := cloudtest.As(t, c, id)

	r := v.Do("POST", "/models", k1, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	modelID := r.Body["id"].(string)
	assert.Equal(t, "under_review", r.Body["status"])
	assert.Equal(t, vendorCode, r.Body["vendorCode"])
	again := v.Do("POST", "/models", k1, "Idempotency-Key", "k1")
	assert.Equal(t, http.StatusOK, again.Status, "a retried registration returns the first")
	assert.Equal(t, modelID, again.Body["id"])

	other := cloudtest.As(t, c, vendor(2))
	assert.Equal(t, http.StatusNotFound, other.Do("GET", "/models/"+modelID, nil).Status)

	r2 := v.Do("POST", "/models", map[string]any{"name": "K2", "deviceType": "vending_machine", "os": "linux",
		"softwareModes": []string{"app"}, "cameraModel": "FC-100"})
	require.Equal(t, http.StatusCreated, r2.Status)
	model2 := r2.Body["id"].(string)

	c.Clock.AdvanceTo(tuesday.Add(24 * time.Hour)) // Wednesday
	require.Equal(t, http.StatusOK, decide(t, c, "models", modelID, "approve", "").Status)
	require.Equal(t, http.StatusOK, decide(t, c, "models", model2, "reject", "Camera model FC-100 is not certified.").Status)
	assert.Equal(t, "under_review", v.Do("GET", "/models/"+modelID, nil).Body["status"])

	c.Clock.AdvanceTo(monday.Add(time.Minute))
	got := v.Do("GET", "/models/"+modelID, nil)
	require.Equal(t, "approved", got.Body["status"], string(got.Raw))
	assert.True(t, domain.ValidCode(got.Body["modelCode"].(string)))
	assert.NotContains(t, got.Body, "pipelineExecutionArn", "the vendor sees no execution ARN")
	arn := pipelineARN(t, c, modelID)
	require.NotEmpty(t, arn, "the release starts the model's pipeline")

	// The pipeline waits on its first callback task; the token is kept server-side.
	client := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.SFNURL), HTTPClient: awsx.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", "")})
	desc, err := client.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	require.NoError(t, err)
	assert.Equal(t, "RUNNING", string(desc.Status))
	db := store.New(c.DynamoDB, tableName(t, c, "Table"))
	c.Clock.Settle()
	tok, err := db.TaskTokenOf(context.Background(), modelID, "software_precheck")
	require.NoError(t, err)
	assert.NotEmpty(t, tok.Token)
	assert.NotContains(t, string(got.Raw), tok.Token, "the token never reaches a client")

	rejected := v.Do("GET", "/models/"+model2, nil)
	assert.Equal(t, "rejected", rejected.Body["status"])
	assert.Nil(t, rejected.Body["modelCode"])
	r = v.Do("POST", "/models/"+model2+"/resubmit", map[string]any{"name": "K2", "deviceType": "vending_machine", "os": "linux",
		"softwareModes": []string{"app"}, "cameraModel": "FC-300"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "under_review", r.Body["status"])
	require.Equal(t, http.StatusOK, decide(t, c, "models", model2, "approve", "").Status)
	c.Clock.AdvanceTo(monday.Add(7*24*time.Hour + time.Minute))
	m2 := v.Do("GET", "/models/"+model2, nil)
	assert.Equal(t, "approved", m2.Body["status"])
	assert.NotEqual(t, got.Body["modelCode"], m2.Body["modelCode"], "model codes are unique within the vendor")

	r = v.Do("POST", "/models/"+modelID+"/resubmit", k1)
	assert.Equal(t, "not_editable", r.Code())
}

// pipelineARN is the execution ARN of model id's pipeline, as reviewers read it ("" before
// it starts); vendors never see it.
func pipelineARN(t *testing.T, c *cloud.Cloud, id string) string {
	t.Helper()
	r := cloudtest.As(t, c, reviewer).Do("GET", "/admin/models/"+id, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	arn, _ := r.Body["item"].(map[string]any)["pipelineExecutionArn"].(string)
	return arn
}

// executionStatus reads an execution's status through the Step Functions API.
func executionStatus(t *testing.T, c *cloud.Cloud, arn string) string {
	t.Helper()
	client := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.SFNURL), HTTPClient: awsx.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", "")})
	c.Clock.Settle()
	out, err := client.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	require.NoError(t, err)
	return string(out.Status)
}
