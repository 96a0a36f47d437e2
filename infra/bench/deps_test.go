package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A function links only the SDK clients it uses and none of config.LoadDefaultConfig's
// machinery (shared-config parsing, SSO, STS, IMDS): what a binary links, it loads and
// initialises at every cold start. shared/awsx builds the configuration from the environment.
func TestFunctionsLinkOnlyTheClientsTheyUse(t *testing.T) {
	clients := map[string][]string{ // function → the service clients it uses
		"applications":       {"dynamodb", "s3"},
		"clear-test-devices": {"dynamodb"},
		"devices":            {"dynamodb", "s3"}, // s3 presigns export links; and Lambda Invoke (Event) of export-devices, through shared/invoke
		"factory-authorizer": {"dynamodb"},
		"pipeline":           {"dynamodb", "s3", "sfn"}, // s3: presigned uploads of spot-check reports
		"evidence":           {"dynamodb", "s3", "sfn"},
		"fee":                {"dynamodb", "s3"}, // s3 only presigns links to statement files
		"models":             {"dynamodb"},
		"pay-score":          {"dynamodb", "s3", "sfn"},
		"pay-score-task":     {"dynamodb", "sfn"},
		"pipeline-task":      {"dynamodb"},
		"process-upload":     {"dynamodb", "s3"}, // and Lambda Invoke, signed by shared/invoke without the client
		"prescreen-workbook": {},                 // reads through a presigned GET
		"reconcile":          {"dynamodb", "s3"}, // and Lambda Invoke (Event and RequestResponse), through shared/invoke
		"release-decisions":  {"dynamodb", "sfn"},
		"review":             {"dynamodb", "s3"},
		"review-sla":         {"dynamodb"},
		"bindings":           {"dynamodb", "s3"},
		"import-bindings":    {"dynamodb", "s3"},
		"rollup":             {"dynamodb", "s3"},
		"figures":            {"dynamodb"},
		"start-rollup":       {"sfn"},
		"fee-statements":     {"dynamodb", "s3"},
		"export-devices":     {"dynamodb", "s3"},
	}
	dirs, err := filepath.Glob("../../functions/*/main.go")
	require.NoError(t, err)
	require.Len(t, dirs, len(clients), "a new function: say which clients it uses")
	const sdk = "github.com/aws/aws-sdk-go-v2/"
	for _, main := range dirs {
		name := filepath.Base(filepath.Dir(main))
		out, err := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", "./"+filepath.Dir(main)).Output()
		require.NoError(t, err, name)
		linked := map[string]bool{}
		for _, pkg := range strings.Fields(string(out)) {
			if svc, ok := strings.CutPrefix(pkg, sdk+"service/"); ok && !strings.Contains(svc, "/") {
				linked[svc] = true
			}
			for _, banned := range []string{"config", "credentials/ssocreds", "credentials/stscreds", "feature/ec2/imds", "internal/ini"} {
				assert.NotEqual(t, sdk+banned, pkg, "%s links %s", name, banned)
			}
		}
		for _, c := range clients[name] {
			assert.True(t, linked[c], "%s uses the %s client", name, c)
			delete(linked, c)
		}
		delete(linked, "dynamodbstreams") // attributevalue's stream types, no client
		assert.Empty(t, linked, "%s links service clients it does not use", name)
	}
}
