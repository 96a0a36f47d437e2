package handler

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each run publishes DecisionsReleased per entity (the dashboard's "decisions released").
func TestRelease_PublishesWhatItReleasedAsMetrics(t *testing.T) {
	var out bytes.Buffer
	h := &handler{metrics: &out}
	h.count(context.Background(), runAt, Result{Applications: 3, Models: 2, PipelinesStarted: 1})

	got := map[string]float64{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), sc.Text())
		aws := rec["_aws"].(map[string]any)
		m := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
		assert.Equal(t, "FacePay", m["Namespace"])
		got[rec["Entity"].(string)] = rec["DecisionsReleased"].(float64)
	}
	assert.Equal(t, map[string]float64{"application": 3, "model": 2, "pipeline": 1}, got)
}
