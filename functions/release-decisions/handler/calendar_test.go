package handler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// A reviewer may revise a held decision any number of times before the release: the release
// publishes only the last form, once, and the applicant never reads the earlier ones.
func TestRelease_RevisedDecisionIsReleasedInItsLastFormOnly(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	seedApp(t, db, "app_revised", "org-r", domain.PartnerSoftwareProvider, decision(true, cutoff.Add(-3*time.Hour)))
	seedModel(t, db, "mdl_revised", "org-v0", cutoff.Add(-72*time.Hour), decision(false, cutoff.Add(-4*time.Hour)))
	rita := domain.Caller{Subject: "rita", Role: domain.RoleReviewer}

	a, err := db.Application(ctx, "app_revised")
	require.NoError(t, err)
	ch, err := a.Decide(rita, false, "The licence names another company.", cutoff.Add(-2*time.Hour))
	require.NoError(t, err)
	require.NoError(t, db.HoldApplicationDecision(ctx, a, ch))
	a, err = db.Application(ctx, "app_revised")
	require.NoError(t, err)
	ch, err = a.Decide(rita, false, "The licence has expired.", cutoff.Add(-time.Hour))
	require.NoError(t, err)
	require.NoError(t, db.HoldApplicationDecision(ctx, a, ch))

	m, err := db.Model(ctx, "mdl_revised")
	require.NoError(t, err)
	ch, err = m.Decide(rita, true, "", cutoff.Add(-time.Hour))
	require.NoError(t, err)
	require.NoError(t, db.HoldModelDecision(ctx, m, ch))

	res, err := newHandler(db, &fakePipelines{}).handle(ctx, loadEvent(t, "weekly-release.json"))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Applications)
	assert.Equal(t, 1, res.Models)

	a, err = db.Application(ctx, "app_revised")
	require.NoError(t, err)
	assert.Equal(t, domain.AppRejected, a.Status)
	require.NotNil(t, a.Outcome)
	assert.Equal(t, "The licence has expired.", a.Outcome.Reason, "the last revision")
	msgs, err := db.Messages(ctx, "org-r", "", 10)
	require.NoError(t, err)
	require.Len(t, msgs.Items, 1, "one message, for the last form")
	assert.Contains(t, msgs.Items[0].Body, "The licence has expired.")
	assert.Equal(t, []string{"submitted", "released"}, ownerActions(t)(db.ApplicationHistory(ctx, "app_revised")))
	hist, err := db.ApplicationHistory(ctx, "app_revised")
	require.NoError(t, err)
	assert.Equal(t, "released", hist[len(hist)-1].Action)
	assert.Equal(t, "The licence has expired.", hist[len(hist)-1].Reason)

	m, err = db.Model(ctx, "mdl_revised")
	require.NoError(t, err)
	assert.Equal(t, domain.ModelApproved, m.Status, "a rejection revised into an approval is released as the approval")
	assert.Equal(t, "00", m.ModelCode)

	// A second run publishes nothing again.
	res, err = newHandler(db, &fakePipelines{}).handle(ctx, loadEvent(t, "weekly-release.json"))
	require.NoError(t, err)
	assert.Zero(t, res.Applications+res.Models)
}

// Each calendar runs only on its own schedule; a run that names no calendar (a reconciliation
// of a missed release) publishes, per calendar, what was due at its last release.
func TestRelease_CalendarsAreData(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	mon := cutoff // Monday 09:00 Asia/Shanghai
	seedApp(t, db, "app_sunday", "org-a", domain.PartnerDeployer, decision(true, mon.Add(-24*time.Hour)))
	seedApp(t, db, "app_tuesday", "org-b", domain.PartnerDeployer, decision(true, mon.Add(26*time.Hour)))

	// The Pay Score acceptance calendar's run (a Tuesday) does not publish onboarding decisions.
	res, err := newHandler(db, &fakePipelines{}).handle(ctx, loadEvent(t, "payscore-acceptance-release.json"))
	require.NoError(t, err)
	assert.Zero(t, res.Applications)

	// A reconciliation on the Friday: the weekly calendar's last release was Monday 09:00, so
	// Sunday's decision is published and Tuesday's waits for the next Monday.
	res, err = newHandler(db, &fakePipelines{}).handle(ctx, loadEvent(t, "reconciliation.json"))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Applications)
	a, err := db.Application(ctx, "app_sunday")
	require.NoError(t, err)
	assert.Equal(t, domain.AppApproved, a.Status)
	a, err = db.Application(ctx, "app_tuesday")
	require.NoError(t, err)
	assert.Equal(t, domain.AppSubmitted, a.Status)
	assert.NotNil(t, a.Decision, "still held")

	_, err = newHandler(db, &fakePipelines{}).handle(ctx, loadEvent(t, "weekly-release.json", func(e *Event) { e.Calendar = "fortnightly" }))
	assert.Equal(t, "unknown_calendar", domain.CodeOf(err))
}
