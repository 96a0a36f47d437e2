package infra_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lambdaTransient are the Lambda service errors a Task retries (AWS's recommended set).
var lambdaTransient = []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}

type aslState struct {
	Type               string         `json:"Type"`
	Resource           string         `json:"Resource"`
	TimeoutSeconds     *int           `json:"TimeoutSeconds"`
	TimeoutSecondsPath string         `json:"TimeoutSecondsPath"`
	Retry              []aslRetrier   `json:"Retry"`
	Catch              []aslCatcher   `json:"Catch"`
	Branches           []aslMachine   `json:"Branches"`
	Iterator           *aslMachine    `json:"Iterator"`
	ItemProcessor      *aslMachine    `json:"ItemProcessor"`
	Parameters         map[string]any `json:"Parameters"`
}

type aslRetrier struct {
	ErrorEquals []string `json:"ErrorEquals"`
}

type aslCatcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	Next        string   `json:"Next"`
}

type aslMachine struct {
	StartAt string              `json:"StartAt"`
	States  map[string]aslState `json:"States"`
}

// walk calls f for every state of m, nested ones included.
func walk(m aslMachine, f func(name string, s aslState)) {
	for name, s := range m.States {
		f(name, s)
		for _, b := range s.Branches {
			walk(b, f)
		}
		for _, sub := range []*aslMachine{s.Iterator, s.ItemProcessor} {
			if sub != nil {
				walk(*sub, f)
			}
		}
	}
}

// Every callback task of every state machine is bounded (TimeoutSeconds or TimeoutSecondsPath)
// and catches States.Timeout; every Lambda task retries Lambda's transient errors.
func TestStateMachineTasksAreBoundedAndRetried(t *testing.T) {
	files, err := filepath.Glob("../statemachines/*.asl.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var m aslMachine
		require.NoError(t, json.Unmarshal(raw, &m), f)
		callbacks, lambdas := 0, 0
		walk(m, func(name string, s aslState) {
			if s.Type != "Task" {
				return
			}
			switch s.Resource {
			case "arn:aws:states:::lambda:invoke.waitForTaskToken":
				callbacks++
				assert.True(t, s.TimeoutSeconds != nil || s.TimeoutSecondsPath != "", "%s: callback task %s has no timeout", f, name)
				assert.True(t, slices.ContainsFunc(s.Catch, func(c aslCatcher) bool { return slices.Contains(c.ErrorEquals, "States.Timeout") }),
					"%s: callback task %s does not catch States.Timeout", f, name)
				fallthrough
			case "arn:aws:states:::lambda:invoke":
				lambdas++
				var retried []string
				for _, r := range s.Retry {
					retried = append(retried, r.ErrorEquals...)
				}
				assert.Subset(t, retried, lambdaTransient, "%s: Lambda task %s does not retry Lambda's transient errors", f, name)
			}
		})
		t.Logf("%s: %d Lambda tasks, %d of them callbacks", filepath.Base(f), lambdas, callbacks)
	}
}
