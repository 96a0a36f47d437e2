package domain

import "time"

// LastReleaseDue is the latest weekly release time at or before t: Monday 09:00 in the
// business week's time zone (Asia/Shanghai), the WeeklyRelease schedule of template.yaml.
// The reconciliation sweep asks it which release should already have published a decision.
func LastReleaseDue(t time.Time) time.Time {
	local := t.In(businessZone)
	daysSinceMonday := (int(local.Weekday()) + 6) % 7
	due := time.Date(local.Year(), local.Month(), local.Day()-daysSinceMonday, 9, 0, 0, 0, businessZone)
	if due.After(t) {
		due = due.AddDate(0, 0, -7)
	}
	return due.UTC()
}
