// Package metrics writes CloudWatch metrics in the Embedded Metric Format: one JSON log line
// that CloudWatch Logs turns into metrics, with no API call on the function's path.
package metrics

import (
	"encoding/json"
	"io"
	"time"
)

// Namespace is the platform's CloudWatch namespace.
const Namespace = "FacePay"

// Count writes one EMF record to w with the metric name=value (unit Count) under dimensions.
func Count(w io.Writer, at time.Time, name string, value int, dimensions map[string]string) error {
	keys := make([]string, 0, len(dimensions))
	rec := map[string]any{}
	for k, v := range dimensions {
		keys = append(keys, k)
		rec[k] = v
	}
	rec[name] = value
	rec["_aws"] = map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    []any{map[string]string{"Name": name, "Unit": "Count"}},
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
