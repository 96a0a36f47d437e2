package domain

import (
	_ "embed" // workdays.json
	"encoding/json"
	"fmt"
	"time"
)

// Chinese working days: Monday to Friday, except public holidays, plus the weekend days the
// State Council makes working days to bridge a holiday (调休). Both lists are data
// (workdays.json), one entry per year; a date in a year the data does not cover is refused
// rather than guessed.

//go:embed workdays.json
var workdaysJSON []byte

// WorkCalendar says which dates are working days.
type WorkCalendar struct {
	years    map[int]bool
	holidays map[string]bool
	workdays map[string]bool
	loc      *time.Location
}

// WorkingDays is the calendar of workdays.json.
var WorkingDays = func() *WorkCalendar {
	c, err := LoadWorkCalendar(workdaysJSON)
	if err != nil {
		panic(err) // the embedded document is checked by the package's tests
	}
	return c
}()

// LoadWorkCalendar parses a working-days document. It refuses a date outside its year, a date
// listed twice or a make-up working day that is no weekend day.
func LoadWorkCalendar(b []byte) (*WorkCalendar, error) {
	var doc struct {
		Years []struct {
			Year     int      `json:"year"`
			Holidays []string `json:"holidays"`
			Workdays []string `json:"workdays"`
		} `json:"years"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("working days: %w", err)
	}
	c := &WorkCalendar{years: map[int]bool{}, holidays: map[string]bool{}, workdays: map[string]bool{}, loc: businessZone}
	for _, y := range doc.Years {
		if c.years[y.Year] {
			return nil, fmt.Errorf("working days: year %d listed twice", y.Year)
		}
		c.years[y.Year] = true
		for _, list := range []struct {
			dates   []string
			into    map[string]bool
			weekend bool
		}{{y.Holidays, c.holidays, false}, {y.Workdays, c.workdays, true}} {
			for _, s := range list.dates {
				d, err := time.Parse(time.DateOnly, s)
				if err != nil || d.Year() != y.Year {
					return nil, fmt.Errorf("working days %d: %q is not a date of that year", y.Year, s)
				}
				if c.holidays[s] || c.workdays[s] {
					return nil, fmt.Errorf("working days %d: %s listed twice", y.Year, s)
				}
				if list.weekend && !isWeekend(d) {
					return nil, fmt.Errorf("working days %d: make-up working day %s is not a weekend day", y.Year, s)
				}
				list.into[s] = true
			}
		}
	}
	return c, nil
}

func isWeekend(d time.Time) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }

// IsWorkingDay reports whether the date of t (in Asia/Shanghai) is a working day. It returns
// Conflict ("working_days_unknown") for a year the data does not cover.
func (c *WorkCalendar) IsWorkingDay(t time.Time) (bool, error) {
	d := t.In(c.loc)
	if !c.years[d.Year()] {
		return false, Errorf(Conflict, "working_days_unknown", "the working-day calendar does not cover %d yet", d.Year())
	}
	s := d.Format(time.DateOnly)
	switch {
	case c.workdays[s]:
		return true, nil
	case c.holidays[s]:
		return false, nil
	}
	return !isWeekend(d), nil
}

// AddWorkingDays is the date (00:00 Asia/Shanghai) of the n-th working day after the date of
// t. It returns Conflict ("working_days_unknown") when the count leaves the covered years.
func (c *WorkCalendar) AddWorkingDays(t time.Time, n int) (time.Time, error) {
	d := t.In(c.loc)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.loc)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		ok, err := c.IsWorkingDay(day)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			n--
		}
	}
	return day, nil
}
