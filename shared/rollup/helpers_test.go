package rollup_test

import (
	"bytes"
	"encoding/json"
	"time"
)

func jsonUnmarshalStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func timeParse(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }
