package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReviewSLA(t *testing.T) {
	since := time.Date(2026, 9, 4, 2, 0, 0, 0, time.UTC) // Friday 10:00 Shanghai
	due, err := Week.Due(since)
	require.NoError(t, err)
	assert.Equal(t, since.Add(7*24*time.Hour), due)
	assert.Equal(t, since.Add(-7*24*time.Hour), Week.QueuedBefore(since))
	assert.Equal(t, "one week", Week.String())

	three := ReviewSLA{WorkingDays: 3}
	due, err = three.Due(since)
	require.NoError(t, err)
	// Mon 7, Tue 8, Wed 9 September: due at the end of Wednesday (Thursday 00:00 Shanghai).
	assert.Equal(t, time.Date(2026, 9, 9, 16, 0, 0, 0, time.UTC), due)
	assert.Equal(t, "3 working days", three.String())

	// Across Mid-Autumn (25–27 September 2026) and the make-up Sunday 20 September.
	due, err = three.Due(time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)) // Thursday
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), due, "Mon 28, Tue 29, Wed 30")
	due, err = three.Due(time.Date(2026, 9, 18, 2, 0, 0, 0, time.UTC)) // Friday
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 9, 22, 16, 0, 0, 0, time.UTC), due, "Sun 20 (make-up), Mon 21, Tue 22")

	_, err = three.Due(time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC))
	assert.Equal(t, "working_days_unknown", CodeOf(err))
}

// The bound a sweep queries with never leaves out an item that is overdue.
func TestReviewSLA_QueuedBeforeIsABound(t *testing.T) {
	three := ReviewSLA{WorkingDays: 3}
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for since := start; since.Before(start.AddDate(0, 2, 0)); since = since.Add(7 * time.Hour) {
		due, err := three.Due(since)
		require.NoError(t, err)
		assert.False(t, since.After(three.QueuedBefore(due)), "queued %s, due %s", since, due)
	}
}
