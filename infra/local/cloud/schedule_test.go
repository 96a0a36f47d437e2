package cloud

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSchedule(t *testing.T) {
	wed := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		expr, tz string
		after    time.Time
		want     time.Time
	}{
		// Monday 09:00 in Shanghai is Monday 01:00 UTC.
		{"cron(0 9 ? * MON *)", "Asia/Shanghai", wed, time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)},
		{"cron(0 9 ? * MON *)", "Asia/Shanghai", time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)},
		// 02:30 Shanghai daily is 18:30 UTC the day before.
		{"cron(30 2 * * ? *)", "Asia/Shanghai", wed, time.Date(2026, 11, 25, 18, 30, 0, 0, time.UTC)},
		{"cron(0 12 * * ? *)", "", wed, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)},
		{"rate(6 hours)", "", wed, wed.Add(6 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := parseSchedule(tt.expr, tt.tz)
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.Next(tt.after))
		})
	}
	for _, bad := range []string{"cron(0 9 ? * 2 *)", "cron(0 9 * *)", "cron(0 9 ? * MON 2027)", "rate(0 days)", "every monday"} {
		_, err := parseSchedule(bad, "UTC")
		assert.Error(t, err, bad)
	}
}
