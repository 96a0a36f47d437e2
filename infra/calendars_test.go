package infra_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// The release calendars are data (shared/domain/calendars.json); EventBridge needs a cron per
// calendar. Each calendar has exactly one schedule on ReleaseDecisionsFunction, whose cron and
// time zone are the calendar's and whose input names it; no release schedule names anything else.
func TestReleaseSchedulesAreTheCalendars(t *testing.T) {
	tpl, _ := load(t)
	seen := map[string]int{}
	for _, f := range tpl.Functions {
		if f.LogicalID != "ReleaseDecisionsFunction" {
			continue
		}
		for _, s := range f.Schedules {
			var in struct {
				ScheduledTime string `json:"scheduledTime"`
				Calendar      string `json:"calendar"`
			}
			require.NoError(t, json.Unmarshal([]byte(s.Input), &in), s.Event)
			assert.Equal(t, "<aws.scheduler.scheduled-time>", in.ScheduledTime, s.Event)
			c, err := domain.ReleaseCalendarOf(in.Calendar)
			require.NoError(t, err, "%s names calendar %q", s.Event, in.Calendar)
			assert.Equal(t, c.Cron(), s.Expression, "%s: the cron of calendar %s", s.Event, c.Name)
			assert.Equal(t, c.Zone, s.Timezone, s.Event)
			seen[c.Name]++
		}
	}
	for name := range domain.ReleaseCalendars {
		assert.Equal(t, 1, seen[name], "calendar %s needs exactly one release schedule", name)
	}
}
