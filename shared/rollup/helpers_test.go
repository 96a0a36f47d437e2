package rollup_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/facepay/platform/shared/rollup"
)

func jsonUnmarshalStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func timeParse(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

// figures is m.Figures for partials the test knows are well-formed.
func figures(tb testing.TB, m *rollup.Merger) []rollup.Figures {
	tb.Helper()
	f, err := m.Figures()
	if err != nil {
		tb.Fatal(err)
	}
	return f
}
