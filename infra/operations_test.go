package infra_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/facepay/platform/shared/store"
)

// rawResources reads template.yaml's Resources as plain values; short-form intrinsics keep
// their scalar (a !Sub string stays a string), which is all these checks need.
func rawResources(t *testing.T) map[string]map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../template.yaml")
	require.NoError(t, err)
	var doc struct {
		Resources map[string]map[string]any `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	return doc.Resources
}

// Nothing asynchronous is dropped in AWS: every function that S3 or a schedule invokes has an
// OnFailure destination that is one of the template's queues, and every schedule has a
// dead-letter queue of the template.
func TestEveryAsynchronousSourceHasAFailureDestination(t *testing.T) {
	tpl, _ := load(t)
	queues := map[string]bool{}
	for _, q := range tpl.Queues {
		queues[q.ARN] = true
	}
	require.NotEmpty(t, queues, "the template declares no queue")
	for _, f := range tpl.Functions {
		if len(f.Notifications) == 0 && len(f.Schedules) == 0 {
			continue
		}
		assert.True(t, queues[f.Async.OnFailure], "%s is invoked asynchronously but its EventInvokeConfig has no OnFailure queue of the template (%q)", f.LogicalID, f.Async.OnFailure)
		assert.Equal(t, 2, f.Async.MaximumRetryAttempts, "%s: Lambda's two retries", f.LogicalID)
		for _, s := range f.Schedules {
			assert.True(t, queues[s.DeadLetter], "schedule %s has no DeadLetterConfig queue of the template", s.Event)
		}
	}
	for id, res := range rawResources(t) {
		if res["Type"] != "AWS::SQS::Queue" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		assert.Equal(t, true, props["SqsManagedSseEnabled"], "%s is encrypted", id)
		assert.Equal(t, 1209600, props["MessageRetentionPeriod"], "%s keeps messages 14 days", id)
	}
}

// Every function has a log group with a retention, named as Lambda names it, and so do the
// API's access logs and the state machine's logs: nothing is kept forever by default.
func TestEveryFunctionHasALogGroupWithRetention(t *testing.T) {
	res := rawResources(t)
	retained := map[string]bool{} // LogGroupName → has RetentionInDays
	for id, r := range res {
		if r["Type"] != "AWS::Logs::LogGroup" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		assert.NotNil(t, props["RetentionInDays"], "log group %s has no retention", id)
		if name, ok := props["LogGroupName"].(string); ok {
			retained[name] = props["RetentionInDays"] != nil
		}
	}
	for id, r := range res {
		if r["Type"] != "AWS::Serverless::Function" {
			continue
		}
		assert.True(t, retained["/aws/lambda/${"+id+"}"], "function %s has no log group /aws/lambda/${%s} with retention", id, id)
	}
}

// Functions and state machines are traced; alarms cover the failure queues, function errors and
// throttles, pipeline failures and overdue reviews, and all notify the alarm topic.
func TestTracingAndAlarms(t *testing.T) {
	res := rawResources(t)
	raw, err := os.ReadFile("../template.yaml")
	require.NoError(t, err)
	var doc struct {
		Globals struct {
			Function map[string]any `yaml:"Function"`
		} `yaml:"Globals"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	assert.Equal(t, "Active", doc.Globals.Function["Tracing"], "functions are traced (Globals)")
	alarms := 0
	for id, r := range res {
		props, _ := r["Properties"].(map[string]any)
		switch r["Type"] {
		case "AWS::Serverless::StateMachine":
			assert.Equal(t, map[string]any{"Enabled": true}, props["Tracing"], "%s is traced", id)
		case "AWS::CloudWatch::Alarm":
			alarms++
			assert.NotEmpty(t, props["AlarmActions"], "alarm %s notifies someone", id)
		}
	}
	for _, id := range []string{"FailedEventsAlarm", "ScheduleDeadLetterAlarm", "FunctionErrorsAlarm", "FunctionThrottlesAlarm", "PipelineFailuresAlarm", "OverdueReviewsAlarm"} {
		assert.Contains(t, res, id)
	}
	// The function alarms sum every function, in groups: a metric-math alarm takes at most 10
	// metrics (a CloudWatch hard limit), so FunctionErrorsAlarm, FunctionErrorsAlarm2, ... each
	// watch some functions, and together every function exactly once.
	functions := map[string]bool{}
	for id, r := range res {
		if r["Type"] == "AWS::Serverless::Function" {
			functions[id] = true
		}
	}
	for _, metric := range []string{"Errors", "Throttles"} {
		watched := map[string]int{}
		for id, r := range res {
			if r["Type"] != "AWS::CloudWatch::Alarm" || !strings.HasPrefix(id, "Function"+metric+"Alarm") {
				continue
			}
			for _, fn := range alarmFunctions(t, r) {
				watched[fn]++
			}
		}
		for fn := range functions {
			assert.Equal(t, 1, watched[fn], "%s: one Function%sAlarm watches it", fn, metric)
		}
	}
	for id, r := range res {
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		metrics, _ := props["Metrics"].([]any)
		stats := 0
		for _, m := range metrics {
			if mm, _ := m.(map[string]any); mm["MetricStat"] != nil {
				stats++
			}
		}
		assert.LessOrEqual(t, stats, 10, "%s: a metric-math alarm takes at most 10 metrics", id)
	}
}

// alarmFunctions lists the functions (by logical id) whose metrics an alarm's metric math reads.
func alarmFunctions(t *testing.T, r map[string]any) []string {
	t.Helper()
	props, _ := r["Properties"].(map[string]any)
	metrics, _ := props["Metrics"].([]any)
	var out []string
	for _, m := range metrics {
		mm, _ := m.(map[string]any)
		stat, _ := mm["MetricStat"].(map[string]any)
		metric, _ := stat["Metric"].(map[string]any)
		dims, _ := metric["Dimensions"].([]any)
		for _, d := range dims {
			dd, _ := d.(map[string]any)
			if dd["Name"] == "FunctionName" {
				out = append(out, refOf(dd["Value"]))
			}
		}
	}
	return out
}

// refOf is the logical id a `!Ref X` names (yaml.v3 reads the tagged scalar as its text).
func refOf(v any) string {
	s, _ := v.(string)
	return s
}

// OverdueReviewsAlarm watches every queue the review-SLA sweep counts: every held-decision
// queue (store.ReviewQueues, by name) and the evidence queue. A new reviewable entity's queue
// fails this until the alarm has it.
func TestOverdueReviewsAlarmWatchesEveryReviewQueue(t *testing.T) {
	alarm := rawResources(t)["OverdueReviewsAlarm"]
	require.NotNil(t, alarm)
	watched := map[string]bool{}
	for _, m := range alarm["Properties"].(map[string]any)["Metrics"].([]any) {
		stat, ok := m.(map[string]any)["MetricStat"].(map[string]any)
		if !ok {
			continue
		}
		metric := stat["Metric"].(map[string]any)
		require.Equal(t, "OverdueReviews", metric["MetricName"])
		for _, d := range metric["Dimensions"].([]any) {
			watched[d.(map[string]any)["Value"].(string)] = true
		}
	}
	want := []string{"evidence"}
	for _, q := range store.ReviewQueues() {
		want = append(want, q.Name)
	}
	for _, name := range want {
		assert.True(t, watched[name], "OverdueReviewsAlarm does not watch queue %s", name)
	}
	assert.Len(t, watched, len(want), "and nothing else")
}
