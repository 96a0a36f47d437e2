package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's pipeline diagram is what this tool draws from the ASL today. After changing the
// ASL: go run ./infra/aslgraph
func TestReadmeHoldsTheCurrentDiagram(t *testing.T) {
	asl, err := os.ReadFile("../../statemachines/certification.asl.json")
	require.NoError(t, err)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	diagram, err := Mermaid(asl)
	require.NoError(t, err)
	want, err := Replace(string(readme), diagram)
	require.NoError(t, err)
	assert.True(t, want == string(readme), "README.md's pipeline diagram is stale: run go run ./infra/aslgraph")
}

// Every state appears, with its edges: the drawing loses nothing of the machine.
func TestMermaidDrawsEveryStateAndEdge(t *testing.T) {
	asl := []byte(`{"StartAt":"A","States":{
	  "A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"Payload":{"step":"pvt"}},
	       "Catch":[{"ErrorEquals":["States.Timeout"],"Next":"X"}],"Next":"Ok?"},
	  "Ok?":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.a.passed","BooleanEquals":true},{"Variable":"$.b","StringEquals":"none"}],"Next":"P"}],"Default":"A"},
	  "P":{"Type":"Parallel","Branches":[{"StartAt":"B1","States":{"B1":{"Type":"Succeed"}}}],"Next":"Done"},
	  "X":{"Type":"Fail"},"Done":{"Type":"Succeed"}}}`)
	got, err := Mermaid(asl)
	require.NoError(t, err)
	for _, want := range []string{
		`start((start)) --> A`, `A(["A: waits for pvt"])`, `Ok_{"Ok?"}`, `Ok_ -->|"passed and b = none"| P`, `Ok_ -->|otherwise| A`,
		`A -.->|"States.Timeout"| X`, `subgraph P ["P (parallel)"]`, `B1(("B1"))`, `P --> Done`, `X[["X (fail)"]]`,
	} {
		assert.True(t, strings.Contains(got, want), "missing %q in\n%s", want, got)
	}
	_, err = Mermaid([]byte(`{`))
	assert.Error(t, err)
}
