package workflow

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTrackTimeoutDays(t *testing.T) {
	for in, want := range map[string]int{"": 180, "30": 30, "3650": 3650} {
		got, err := TrackTimeoutDays(func(string) string { return in })
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"0", "-1", "3651", "180d", "1.5"} {
		_, err := TrackTimeoutDays(func(string) string { return bad })
		assert.Error(t, err, bad)
	}
}
