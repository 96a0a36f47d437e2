package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReleaseCalendars(t *testing.T) {
	weekly, err := ReleaseCalendarOf(CalendarWeekly)
	require.NoError(t, err)
	acc, err := ReleaseCalendarOf(CalendarPayScoreAcceptance)
	require.NoError(t, err)
	assert.Equal(t, "cron(0 9 ? * MON *)", weekly.Cron())
	assert.Equal(t, "cron(0 9 ? * TUE,THU *)", acc.Cron())

	mon := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC) // Monday 09:00 in Shanghai
	tue, thu := mon.AddDate(0, 0, 1), mon.AddDate(0, 0, 3)
	fri := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC) // Friday 14:00 in Shanghai

	assert.Equal(t, mon, weekly.LastDue(mon), "a release instant is its own last due release")
	assert.Equal(t, mon.AddDate(0, 0, -7), weekly.LastDue(mon.Add(-time.Second)))
	assert.Equal(t, mon, weekly.LastDue(fri))
	assert.Equal(t, mon.AddDate(0, 0, 7), weekly.Next(mon), "a decision taken at the release instant waits for the next")
	assert.Equal(t, mon.AddDate(0, 0, 7), weekly.Next(fri))

	assert.Equal(t, thu, acc.LastDue(fri))
	assert.Equal(t, tue.AddDate(0, 0, 7), acc.Next(fri), "acceptance uploaded on a Friday is decided on the next Tuesday")
	assert.Equal(t, thu, acc.Next(tue))
	assert.Equal(t, thu.AddDate(0, 0, -7), acc.LastDue(mon), "on a Monday the last acceptance release was the Thursday before")

	got, err := LastDueRelease(CalendarPayScoreAcceptance, fri)
	require.NoError(t, err)
	assert.Equal(t, thu, got)
	_, err = LastDueRelease("fortnightly", fri)
	assert.Equal(t, "unknown_calendar", CodeOf(err))
}

func TestLoadReleaseCalendarsRefusesBrokenData(t *testing.T) {
	for name, doc := range map[string]string{
		"no days":     `{"releases":[{"name":"a","days":[],"at":"09:00","zone":"Asia/Shanghai"}]}`,
		"bad weekday": `{"releases":[{"name":"a","days":["Mon"],"at":"09:00","zone":"Asia/Shanghai"}]}`,
		"bad time":    `{"releases":[{"name":"a","days":["Monday"],"at":"9am","zone":"Asia/Shanghai"}]}`,
		"bad zone":    `{"releases":[{"name":"a","days":["Monday"],"at":"09:00","zone":"Mars/Olympus"}]}`,
		"repeated":    `{"releases":[{"name":"a","days":["Monday"],"at":"09:00","zone":"UTC"},{"name":"a","days":["Friday"],"at":"09:00","zone":"UTC"}]}`,
	} {
		_, err := LoadReleaseCalendars([]byte(doc))
		assert.Error(t, err, name)
	}
}
