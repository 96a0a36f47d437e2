package domain

import (
	"fmt"
	"time"
)

// ReviewSLA is how long a review may wait for a reviewer's decision, counted from when the
// item entered its review queue: calendar days (DOMAIN.md section 3: "review within one week",
// which the platform holds every weekly-released review to) or Chinese working days (Pay Score
// go-live acceptance: "1–3 working days"), due at the end of the last one (00:00 Asia/Shanghai
// of the day after it).
type ReviewSLA struct {
	Days        int // calendar days, or
	WorkingDays int // working days (WorkingDays)
}

// Week is the one-week review promise.
var Week = ReviewSLA{Days: 7}

// Due is when a review queued at since is overdue. It returns Conflict ("working_days_unknown")
// when the working days leave the years workdays.json covers.
func (s ReviewSLA) Due(since time.Time) (time.Time, error) {
	if s.WorkingDays == 0 {
		return since.Add(time.Duration(s.Days) * 24 * time.Hour), nil
	}
	last, err := WorkingDays.AddWorkingDays(since, s.WorkingDays)
	if err != nil {
		return time.Time{}, err
	}
	return last.AddDate(0, 0, 1).UTC(), nil
}

// QueuedBefore is a bound on what may be overdue at t: nothing queued after it is (a review
// sweep lists only what was queued at or before it, then checks each one's Due). n working
// days span more than n×24 hours, so the bound never leaves an overdue item out.
func (s ReviewSLA) QueuedBefore(t time.Time) time.Time {
	if s.WorkingDays == 0 {
		return t.Add(-time.Duration(s.Days) * 24 * time.Hour)
	}
	return t.Add(-time.Duration(s.WorkingDays) * 24 * time.Hour)
}

// String says the promise in words ("one week", "3 working days").
func (s ReviewSLA) String() string {
	switch {
	case s.WorkingDays > 0:
		return fmt.Sprintf("%d working days", s.WorkingDays)
	case s.Days == 7:
		return "one week"
	}
	return fmt.Sprintf("%d days", s.Days)
}
