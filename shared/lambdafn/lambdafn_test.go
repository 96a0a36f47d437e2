package lambdafn

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequireNamesEveryMissingSetting(t *testing.T) {
	env := map[string]string{"TABLE_NAME": "t"}
	d := Deps{Getenv: func(k string) string { return env[k] }}
	got, err := d.Require("TABLE_NAME")
	require.NoError(t, err)
	assert.Equal(t, "t", got["TABLE_NAME"])
	_, err = d.Require("TABLE_NAME", "BUCKET_NAME", "STATE_MACHINE_ARN")
	assert.EqualError(t, err, "missing settings: BUCKET_NAME, STATE_MACHINE_ARN")
}

func TestScheduledTime(t *testing.T) {
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	got, err := ScheduledTime("", now)
	require.NoError(t, err)
	assert.Equal(t, now, got, "no scheduledTime: now")
	got, err = ScheduledTime("2026-11-23T01:00:00Z", now)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC), got, "a late run acts as of its schedule")
	_, err = ScheduledTime("monday", now)
	assert.ErrorContains(t, err, `scheduledTime "monday"`)
}
