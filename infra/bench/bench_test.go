package main

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testTemplate = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  LogLevel: {Type: String, Default: info}
  Stage: {Type: String}
Globals:
  Function:
    Runtime: provided.al2023
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        LOG_LEVEL: !Ref LogLevel
        REGION: !Ref AWS::Region
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Uploads:
    Type: AWS::S3::Bucket
  Pipeline:
    Type: AWS::Serverless::StateMachine
  CreateRequestFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/create-request/
      Environment:
        Variables:
          LOG_LEVEL: debug
          STATE_MACHINE_ARN: !GetAtt Pipeline.Arn
          BUCKET_NAME: {Ref: Uploads}
          PREFIX: !Sub "${AWS::StackName}-${Stage}-x"
          TABLE_ARN: {"Fn::GetAtt": [Table, Arn]}
          OTHER_ARN: !ImportValue shared-arn
          COUNT: 3
  NotifyApproverFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./functions/notify-approver
  InlineFunction:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: "x"
`

func TestTemplateEnv(t *testing.T) {
	got, err := templateEnv([]byte(testTemplate))
	require.NoError(t, err)
	require.Len(t, got, 2, "functions without a CodeUri folder are skipped")

	create := got["create-request"]
	assert.Equal(t, "CreateRequestFunction", create.LogicalID)
	assert.Equal(t, map[string]string{
		"TABLE_NAME":        "local-table",
		"LOG_LEVEL":         "debug", // the function's own value wins over Globals
		"REGION":            "us-east-1",
		"STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:local-pipeline",
		"BUCKET_NAME":       "local-uploads",
		"PREFIX":            "local-local-stage-x",
		"TABLE_ARN":         "arn:aws:dynamodb:us-east-1:123456789012:table/local-table",
		"OTHER_ARN":         "arn:aws:cloudformation:us-east-1:123456789012:local-other-arn",
		"COUNT":             "3",
	}, create.Vars)

	assert.Equal(t, map[string]string{
		"TABLE_NAME": "local-table",
		"LOG_LEVEL":  "info", // a parameter's Default
		"REGION":     "us-east-1",
	}, got["notify-approver"].Vars)
}

func TestTemplateEnv_Invalid(t *testing.T) {
	_, err := templateEnv([]byte("- a list"))
	assert.Error(t, err)
	_, err = templateEnv([]byte("Globals: {}"))
	assert.Error(t, err, "no Resources")
}

func TestSummarise(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name        string
		in          []time.Duration
		median, p90 time.Duration
	}{
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond},
		{"even count averages the middle two", ms(4, 1, 3, 2), 2500 * time.Microsecond, 4 * time.Millisecond},
		{"ten: p90 is the 9th", ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 5500 * time.Microsecond, 9 * time.Millisecond},
		// 21 runs, unsorted: the median is the 11th value, p90 the 19th (⌈18.9⌉).
		{"21 runs", ms(21, 1, 20, 2, 19, 3, 18, 4, 17, 5, 16, 6, 15, 7, 14, 8, 13, 9, 12, 10, 11), 11 * time.Millisecond, 19 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := summarise(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.median, got.Median, "median")
			assert.Equal(t, tt.p90, got.P90, "p90")
		})
	}
	_, err := summarise(nil)
	assert.Error(t, err)
}

func TestEnvFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.local.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"Parameters": {"LOG_LEVEL": "warn"}, "CreateRequestFunction": {"TABLE_NAME": "t", "LIMIT": 5}}`), 0o644))
	got, err := envFile(path)
	require.NoError(t, err)
	assert.Equal(t, map[string]map[string]string{
		"Parameters":            {"LOG_LEVEL": "warn"},
		"CreateRequestFunction": {"TABLE_NAME": "t", "LIMIT": "5"},
	}, got)

	got, err = envFile(filepath.Join(t.TempDir(), "missing.json"))
	require.NoError(t, err, "a missing file is no error")
	assert.Nil(t, got)
}

// TestInitTime builds the baseline function and checks that the Runtime API
// stub sees its first poll, and that a function exiting or hanging at init is
// reported with its stderr.
func TestInitTime(t *testing.T) {
	dir, err := packageDir(baselinePkg)
	require.NoError(t, err)
	bins, err := buildAll(dir, []string{"."}, runtime.GOARCH, t.TempDir())
	require.NoError(t, err)
	api, err := newRuntimeAPI()
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })

	for range 3 {
		d, err := api.initTime(bins["baseline"], baseEnv(nil), pollTimeout)
		require.NoError(t, err)
		assert.Positive(t, d)
	}

	script := filepath.Join(t.TempDir(), "bootstrap")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho 'TABLE_NAME is not set' >&2\nexit 1\n"), 0o755))
	_, err = api.initTime(script, baseEnv(nil), pollTimeout)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TABLE_NAME is not set")

	hang := filepath.Join(t.TempDir(), "bootstrap")
	require.NoError(t, os.WriteFile(hang, []byte("#!/bin/sh\necho 'stuck at init' >&2\nexec sleep 10\n"), 0o755))
	_, err = api.initTime(hang, baseEnv(nil), 300*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no first poll")
	assert.Contains(t, err.Error(), "stuck at init")
}
