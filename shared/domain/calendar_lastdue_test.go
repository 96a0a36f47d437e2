package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The weekly calendar's last due release, which the reconciliation sweep re-runs when missed.
func TestWeeklyCalendarLastDue(t *testing.T) {
	weekly, err := ReleaseCalendarOf(CalendarWeekly)
	if err != nil {
		t.Fatal(err)
	}
	sh := businessZone
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, sh)
	for _, tt := range []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"the release instant itself", monday, monday},
		{"a second before it", monday.Add(-time.Second), monday.AddDate(0, 0, -7)},
		{"Monday 08:59 in Shanghai is Monday 00:59 UTC", time.Date(2026, 11, 30, 0, 59, 0, 0, time.UTC), monday.AddDate(0, 0, -7)},
		{"Sunday 23:00 UTC is already Monday 07:00 in Shanghai", time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC), monday.AddDate(0, 0, -7)},
		{"Tuesday", time.Date(2026, 12, 1, 10, 0, 0, 0, sh), monday},
		{"Sunday night", time.Date(2026, 12, 6, 23, 59, 0, 0, sh), monday},
		{"across a year", time.Date(2027, 1, 2, 12, 0, 0, 0, sh), time.Date(2026, 12, 28, 9, 0, 0, 0, sh)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := weekly.LastDue(tt.at)
			assert.True(t, got.Equal(tt.want), "got %s, want %s", got, tt.want)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}
