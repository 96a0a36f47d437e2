package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reconcile "github.com/facepay/platform/functions/reconcile/handler"
	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/store"
)

// peek returns the bodies of the messages waiting in the template's queue, leaving them there.
func peek(t *testing.T, c *cloud.Cloud, queue string) []cloud.InvocationRecord {
	t.Helper()
	out, err := c.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(c.Queues[queue]), MaxNumberOfMessages: 10,
	})
	require.NoError(t, err)
	var recs []cloud.InvocationRecord
	for _, m := range out.Messages {
		// Visible again at once (a zero VisibilityTimeout on receive is "the queue's default").
		_, err := c.SQS.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(c.Queues[queue]), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		require.NoError(t, err)
		var r cloud.InvocationRecord
		require.NoError(t, json.Unmarshal([]byte(aws.ToString(m.Body)), &r))
		recs = append(recs, r)
	}
	return recs
}

func deckStatus(t *testing.T, v *cloudtest.Client, appID string) any {
	t.Helper()
	atts, _ := v.Do("GET", "/applications/"+appID, nil).Body["attachments"].(map[string]any)
	deck, _ := atts["deck"].(map[string]any)
	return deck["status"]
}

// uploadWithFailingNotification opens an application, asks for a business licence upload it
// never sends (its ticket is dropped once its URL expired an hour ago), and uploads the deck
// with the next three process-upload runs set to fail. It returns the application's id.
func uploadWithFailingNotification(t *testing.T, c *cloud.Cloud, v *cloudtest.Client) string {
	t.Helper()
	r := v.Do("POST", "/applications", map[string]any{
		"partnerType": "device_vendor", "company": map[string]any{"name": "Vendor One Ltd"},
		"agreementAccepted": true, "survey": map[string]string{"plannedModels": "2", "annualVolume": "5000"},
	})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	appID := r.Body["id"].(string)

	r = v.Do("PUT", "/applications/"+appID+"/attachments/business_licence", map[string]any{
		"fileName": "licence.pdf", "contentType": "application/pdf", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF),
	})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))

	require.NoError(t, c.FailNext("ProcessUploadFunction", 3))
	r = v.Do("PUT", "/applications/"+appID+"/attachments/deck", map[string]any{
		"fileName": "deck.pdf", "contentType": "application/pdf", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF),
	})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), minimalPDF)
	require.Equal(t, http.StatusOK, status, body)
	return appID
}

// S3 invokes process-upload asynchronously: a failing notification is retried twice (one and
// then two minutes later, on the virtual clock), then lands in FailedEventsQueue with the event
// and the error; the replay re-delivers it by the same path and the upload is received.
func TestFailures_UploadNotificationRetriedDeadLetteredAndReplayed(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	v := cloudtest.As(t, c, vendor(1))
	appID := uploadWithFailingNotification(t, c, v)
	c.WaitNotifications()

	assert.Equal(t, "pending", deckStatus(t, v, appID), "the first attempt failed")
	assert.Empty(t, peek(t, c, "FailedEventsQueue"), "retries are still to come")
	c.Clock.Advance(time.Minute) // second attempt
	assert.Empty(t, peek(t, c, "FailedEventsQueue"))
	c.Clock.Advance(2 * time.Minute) // third and last attempt
	recs := peek(t, c, "FailedEventsQueue")
	require.Len(t, recs, 1, "after three failed attempts the event is in the failure queue")
	rec := recs[0]
	assert.Equal(t, "RetriesExhausted", rec.RequestContext.Condition)
	assert.Equal(t, 3, rec.RequestContext.ApproximateInvokeCount)
	assert.Contains(t, rec.RequestContext.FunctionARN, ":function:ProcessUploadFunction")
	assert.Contains(t, string(rec.RequestPayload), `"eventName":"ObjectCreated:Put"`, "the original S3 event, as AWS sends it")
	assert.Contains(t, string(rec.ResponsePayload), "InjectedFault")
	assert.Equal(t, "pending", deckStatus(t, v, appID))

	rep, err := c.Replay(context.Background(), "FailedEventsQueue")
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Replayed)
	assert.Equal(t, map[string]int{"ProcessUploadFunction": 1}, rep.ByFunction)
	c.WaitNotifications()
	assert.Equal(t, "received", deckStatus(t, v, appID), "the replayed event settles the upload")
	assert.Empty(t, peek(t, c, "FailedEventsQueue"), "a replayed message leaves the queue")

	rep, err = c.Replay(context.Background(), "FailedEventsQueue")
	require.NoError(t, err)
	assert.Zero(t, rep.Replayed, "an empty queue replays nothing")
}

// A failure that a retry absorbs reaches no queue.
func TestFailures_ARetryThatSucceedsLeavesNothingBehind(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	require.NoError(t, c.FailNext("ReviewSlaFunction", 1))
	require.Error(t, c.FireSchedule(context.Background(), "DailyReviewSla"), "the first attempt fails")
	c.Clock.Advance(time.Minute)
	c.Clock.Advance(10 * time.Minute)
	assert.Empty(t, peek(t, c, "FailedEventsQueue"))
}

// The scheduler invokes its function asynchronously too: a scheduled run whose function keeps
// failing lands in the failure queue with the schedule's input, and replaying runs it.
func TestFailures_ScheduledRunThatFailsLandsInTheQueueAndReplays(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	require.NoError(t, c.FailNext("ReviewSlaFunction", 3))
	require.Error(t, c.FireSchedule(context.Background(), "DailyReviewSla"))
	c.Clock.Advance(3 * time.Minute)
	recs := peek(t, c, "FailedEventsQueue")
	require.Len(t, recs, 1)
	assert.Contains(t, recs[0].RequestContext.FunctionARN, ":function:ReviewSlaFunction")
	assert.Contains(t, string(recs[0].RequestPayload), `"scheduledTime"`)

	// The operators' command, as README documents it for AWS, pointed at the local endpoints
	// by the SDK's standard variables.
	bin := filepath.Join(t.TempDir(), "ops")
	build := exec.Command("go", "build", "-o", bin, "./infra/ops")
	build.Dir = cloudtest.Root()
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	cmd := exec.Command(bin, "replay", "-queue-url", c.Queues["FailedEventsQueue"])
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_SQS="+c.SQSEndpoint, "AWS_ENDPOINT_URL_LAMBDA="+c.SFNURL,
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	var rep struct {
		Replayed   int
		ByFunction map[string]int
	}
	require.NoError(t, json.Unmarshal(out, &rep), string(out))
	assert.Equal(t, map[string]int{"ReviewSlaFunction": 1}, rep.ByFunction)
	c.WaitNotifications()
	assert.Empty(t, peek(t, c, "FailedEventsQueue"), "the replayed run succeeded")
}

// The local Lambda Invoke API answers the official AWS CLI: a synchronous invoke runs the
// function, an unknown function is ResourceNotFoundException.
func TestFailures_LambdaInvokeThroughTheAWSCLI(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	out := filepath.Join(t.TempDir(), "out.json")
	aws := func(args ...string) ([]byte, error) {
		cmd := exec.Command("aws", append([]string{"lambda", "invoke", "--endpoint-url", c.SFNURL}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1")
		return cmd.CombinedOutput()
	}
	res, err := aws("--function-name", "ReviewSlaFunction", "--payload", `{"scheduledTime":"2026-11-24T02:00:00Z"}`, out)
	require.NoError(t, err, string(res))
	assert.Contains(t, string(res), `"StatusCode": 200`)
	result, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(result), `"overdue"`, "the function's own result")

	res, err = aws("--function-name", "NoSuchFunction", out)
	require.Error(t, err)
	assert.Contains(t, string(res), "ResourceNotFoundException")
}

// sweep runs the reconciliation sweep as an operator's run does ({}: as of now) and returns
// what it reports.
func sweep(t *testing.T, c *cloud.Cloud) reconcile.Result {
	t.Helper()
	out, err := c.Invoke(context.Background(), "ReconcileFunction", []byte("{}"))
	require.NoError(t, err)
	var res reconcile.Result
	require.NoError(t, json.Unmarshal(out, &res), string(out))
	return res
}

// historyActions returns how many times each action appears in the owner's history of appID.
func historyActions(t *testing.T, v *cloudtest.Client, appID string) map[string]int {
	t.Helper()
	r := v.Do("GET", "/applications/"+appID+"/history", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	out := map[string]int{}
	items, _ := r.Body["items"].([]any)
	for _, it := range items {
		out[it.(map[string]any)["action"].(string)]++
	}
	return out
}

// An upload whose notification failed three times waits in the failure queue, its record
// pending. The sweep leaves it alone for an hour, then settles it by the same path; the late
// original (the queue replayed right after) races it, and the upload is settled exactly once.
// A second sweep finds nothing to do.
func TestFailures_SweepSettlesALostUploadExactlyOnce(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	v := cloudtest.As(t, c, vendor(1))
	appID := uploadWithFailingNotification(t, c, v)
	cloudtest.Eventually(t, "the notification's first attempt", func() bool { return c.FaultsLeft("ProcessUploadFunction") == 2 })
	c.WaitNotifications()
	c.Clock.Advance(time.Minute)
	c.Clock.Advance(3 * time.Minute) // the retries, one and then two minutes after each failure
	require.Len(t, peek(t, c, "FailedEventsQueue"), 1, "three failed attempts: the event is in the failure queue")

	// The daily sweep (10:30) comes 30 minutes after the upload: too early to call it lost.
	c.Clock.AdvanceTo(tuesday.Add(40 * time.Minute))
	c.WaitNotifications()
	assert.Equal(t, "pending", deckStatus(t, v, appID))

	c.Clock.AdvanceTo(tuesday.Add(61 * time.Minute))
	// The sweep returns once Lambda accepted its event; the replayed original follows at once,
	// so the two process-upload runs overlap.
	res := sweep(t, c)
	rep, err := c.Replay(context.Background(), "FailedEventsQueue")
	c.WaitNotifications()
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Replayed, "the late original event")
	assert.Equal(t, 2, res.Uploads.Checked)
	assert.Zero(t, res.Uploads.Abandoned, "the unused URL expired only 46 minutes ago")
	require.Len(t, res.Uploads.Redriven, 1, "the sweep re-drove the upload")
	assert.Contains(t, res.Uploads.Redriven[0], "applications/vendor-1/"+appID+"/deck/")
	assert.Equal(t, store.UploadTicketShards+len(store.ReviewQueues()), res.Requests.Query, "one query per ticket shard and per decided queue page")
	assert.Equal(t, 2, res.Requests.HeadObject)

	assert.Equal(t, "received", deckStatus(t, v, appID))
	assert.Equal(t, 1, historyActions(t, v, appID)["attachment_received"], "settled exactly once")
	assert.Empty(t, peek(t, c, "FailedEventsQueue"), "neither event failed")

	c.Clock.AdvanceTo(tuesday.Add(80 * time.Minute))
	again := sweep(t, c)
	assert.Equal(t, 1, again.Uploads.Checked, "the settled upload's ticket is gone")
	assert.Equal(t, 1, again.Uploads.Abandoned, "the upload that never came")
	assert.Empty(t, again.Uploads.Redriven)
	assert.Empty(t, again.Releases)
	assert.Equal(t, 1, historyActions(t, v, appID)["attachment_received"])

	last := sweep(t, c)
	assert.Zero(t, last.Uploads.Checked, "nothing is left to look at")
	assert.Zero(t, last.Requests.HeadObject)
}

// The Monday release fails past Lambda's retries; the daily sweep, an hour and a half later,
// sees decisions that release should have published and runs it with its own scheduled time.
// Run again (on demand, with the operators' command), the sweep finds nothing; replaying the
// failed release publishes nothing twice.
func TestFailures_SweepRunsAMissedRelease(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	appID := apply(t, c, vendor(1))
	require.Equal(t, http.StatusOK, decide(t, c, "applications", appID, "approve", "").Status)
	v := cloudtest.As(t, c, vendor(1))

	// Past Thursday's Pay Score acceptance release (the same function): the failures are for
	// Monday's.
	c.Clock.AdvanceTo(monday.Add(-time.Hour))
	require.NoError(t, c.FailNext("ReleaseDecisionsFunction", 3))
	c.Clock.AdvanceTo(monday.Add(5 * time.Minute))
	recs := peek(t, c, "FailedEventsQueue")
	require.Len(t, recs, 1, "the release failed three times")
	assert.Contains(t, recs[0].RequestContext.FunctionARN, ":function:ReleaseDecisionsFunction")
	assert.Equal(t, "under_review", v.Do("GET", "/applications/"+appID, nil).Body["status"])

	c.Clock.AdvanceTo(monday.Add(90 * time.Minute)) // the daily sweep at 10:30
	got := v.Do("GET", "/applications/"+appID, nil)
	assert.Equal(t, "approved", got.Body["status"], "the sweep ran the missed release")
	code := got.Body["vendorCode"]
	assert.NotEmpty(t, code)
	require.Len(t, v.Do("GET", "/messages", nil).Body["items"], 1)

	// The operators' command, as README documents it, against the local Lambda endpoint.
	bin := filepath.Join(t.TempDir(), "ops")
	build := exec.Command("go", "build", "-o", bin, "./infra/ops")
	build.Dir = cloudtest.Root()
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	cmd := exec.Command(bin, "reconcile", "-function", "ReconcileFunction")
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_LAMBDA="+c.SFNURL,
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err = cmd.Output()
	require.NoError(t, err, string(out))
	var res reconcile.Result
	require.NoError(t, json.Unmarshal(out, &res), string(out))
	assert.Empty(t, res.Releases, "nothing is left for the missed release")
	assert.Empty(t, res.Uploads.Redriven)

	rep, err := c.Replay(context.Background(), "FailedEventsQueue")
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Replayed)
	c.WaitNotifications()
	got = v.Do("GET", "/applications/"+appID, nil)
	assert.Equal(t, code, got.Body["vendorCode"], "the replayed release changes nothing")
	assert.Len(t, v.Do("GET", "/messages", nil).Body["items"], 1, "and sends nothing twice")
	assert.Empty(t, peek(t, c, "FailedEventsQueue"))
}
