package domain

import (
	_ "embed" // calendars.json
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A release calendar says when held decisions are published: a reviewer decides any day,
// the applicant sees the outcome at the calendar's next release. Calendars are data
// (calendars.json); every reviewable entity names the calendar it is released on, and the
// template's release schedules are checked against the data (infra/template_test.go).

// Release calendar names.
const (
	CalendarWeekly             = "weekly"              // Monday 09:00: onboarding, models, Pay Score applications
	CalendarPayScoreAcceptance = "payscore_acceptance" // Tuesday and Thursday 09:00: Pay Score go-live acceptance
)

// ReleaseCalendar is one calendar: the weekdays and the time of day (in Zone) of its releases.
type ReleaseCalendar struct {
	Name         string         `json:"name"`
	What         string         `json:"what"`
	Days         []string       `json:"days"` // English weekday names
	At           string         `json:"at"`   // HH:MM
	Zone         string         `json:"zone"` // IANA name
	days         []time.Weekday // parsed
	hour, minute int
	loc          *time.Location
}

//go:embed calendars.json
var calendarsJSON []byte

// ReleaseCalendars are the calendars of calendars.json, by name.
var ReleaseCalendars = mustLoadCalendars(calendarsJSON)

func mustLoadCalendars(b []byte) map[string]*ReleaseCalendar {
	cals, err := LoadReleaseCalendars(b)
	if err != nil {
		panic(err) // the embedded document is checked by the package's tests
	}
	return cals
}

func parseWeekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if d.String() == s {
			return d, true
		}
	}
	return 0, false
}

// LoadReleaseCalendars parses a calendars document, refusing a calendar without days, with an
// unknown weekday, a bad time, an unknown zone or a name used twice.
func LoadReleaseCalendars(b []byte) (map[string]*ReleaseCalendar, error) {
	var doc struct {
		Releases []*ReleaseCalendar `json:"releases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("release calendars: %w", err)
	}
	out := map[string]*ReleaseCalendar{}
	for _, c := range doc.Releases {
		if c.Name == "" || out[c.Name] != nil {
			return nil, fmt.Errorf("release calendar %q: missing or repeated name", c.Name)
		}
		if len(c.Days) == 0 {
			return nil, fmt.Errorf("release calendar %s: no days", c.Name)
		}
		for _, d := range c.Days {
			wd, ok := parseWeekday(d)
			if !ok {
				return nil, fmt.Errorf("release calendar %s: %q is not a weekday", c.Name, d)
			}
			c.days = append(c.days, wd)
		}
		t, err := time.Parse("15:04", c.At)
		if err != nil {
			return nil, fmt.Errorf("release calendar %s: at %q: %w", c.Name, c.At, err)
		}
		c.hour, c.minute = t.Hour(), t.Minute()
		if c.loc, err = time.LoadLocation(c.Zone); err != nil {
			if c.Zone != "Asia/Shanghai" {
				return nil, fmt.Errorf("release calendar %s: zone %q: %w", c.Name, c.Zone, err)
			}
			c.loc = businessZone // no zone database: China keeps UTC+8 all year
		}
		out[c.Name] = c
	}
	return out, nil
}

// ReleaseCalendarOf returns the calendar called name. It returns Invalid ("unknown_calendar").
func ReleaseCalendarOf(name string) (*ReleaseCalendar, error) {
	c, ok := ReleaseCalendars[name]
	if !ok {
		return nil, Errorf(Invalid, "unknown_calendar", "no release calendar is called %q", name)
	}
	return c, nil
}

// LastDue is the latest release of c at or before t: what a release run at t must have
// published by then. A run that was missed is caught up by running the release for it.
func (c *ReleaseCalendar) LastDue(t time.Time) time.Time {
	local := t.In(c.loc)
	for back := 0; back <= 7; back++ {
		day := local.AddDate(0, 0, -back)
		at := time.Date(day.Year(), day.Month(), day.Day(), c.hour, c.minute, 0, 0, c.loc)
		if slices.Contains(c.days, at.Weekday()) && !at.After(t) {
			return at.UTC()
		}
	}
	panic("release calendar " + c.Name + " has no release in a week") // LoadReleaseCalendars refuses that
}

// Next is the first release of c strictly after t: when a decision taken at t is published.
func (c *ReleaseCalendar) Next(t time.Time) time.Time {
	local := t.In(c.loc)
	for ahead := 0; ahead <= 7; ahead++ {
		day := local.AddDate(0, 0, ahead)
		at := time.Date(day.Year(), day.Month(), day.Day(), c.hour, c.minute, 0, 0, c.loc)
		if slices.Contains(c.days, at.Weekday()) && at.After(t) {
			return at.UTC()
		}
	}
	panic("release calendar " + c.Name + " has no release in a week")
}

// Cron is the calendar as an EventBridge Scheduler cron expression in its Zone, e.g.
// "cron(0 9 ? * MON *)": what the template's release schedule must say.
func (c *ReleaseCalendar) Cron() string {
	names := make([]string, len(c.days))
	for i, d := range c.days {
		names[i] = strings.ToUpper(d.String()[:3])
	}
	return fmt.Sprintf("cron(%d %d ? * %s *)", c.minute, c.hour, strings.Join(names, ","))
}

// Location is the calendar's time zone.
func (c *ReleaseCalendar) Location() *time.Location { return c.loc }

// LastDueRelease is the latest release of the calendar called name at or before t (for the
// reconciliation of missed releases: invoking the release with that scheduledTime publishes
// what it should have). It returns Invalid ("unknown_calendar").
func LastDueRelease(name string, t time.Time) (time.Time, error) {
	c, err := ReleaseCalendarOf(name)
	if err != nil {
		return time.Time{}, err
	}
	return c.LastDue(t), nil
}
