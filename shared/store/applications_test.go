package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

func TestApplication_CreateReadDuplicate(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	a := draftApp("app_1", "org-a", domain.PartnerDeviceVendor, t0)
	a.Survey = map[string]string{"plannedModels": "2"}

	require.NoError(t, db.CreateApplication(ctx, a, change(t0, "created")))
	assert.Equal(t, 1, a.Version, "create advances the version")
	got, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	assert.Equal(t, a, got)

	dup := draftApp("app_1", "org-b", domain.PartnerMerchant, t0.Add(time.Minute))
	err = db.CreateApplication(ctx, dup, change(t0.Add(time.Minute), "created"))
	assert.Equal(t, domain.Conflict, domain.KindOf(err))
	assert.Equal(t, "conflict", domain.CodeOf(err))
	assert.Equal(t, 0, dup.Version)

	got, err = db.Application(ctx, "app_1")
	require.NoError(t, err)
	assert.Equal(t, "org-a", got.Org, "the first create stands")
	hist, err := db.ApplicationHistory(ctx, "app_1")
	require.NoError(t, err)
	assert.Len(t, hist, 1, "the refused create wrote no history")
}

func TestApplication_NotFound(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	for _, id := range []string{"app_missing", "", "app#1", "app/1", "app 1", string(make([]byte, 101))} {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			_, err := db.Application(ctx, id)
			assert.Equal(t, domain.NotFound, domain.KindOf(err))
			assert.Equal(t, "application_not_found", domain.CodeOf(err))
		})
	}
}

func TestApplication_SaveWithStaleVersion(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	require.NoError(t, db.CreateApplication(ctx, draftApp("app_1", "org-a", domain.PartnerDeployer, t0), change(t0, "created")))

	first, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	second, err := db.Application(ctx, "app_1")
	require.NoError(t, err)

	first.Company.Name = "First"
	require.NoError(t, db.SaveApplication(ctx, first, change(t0.Add(time.Minute), "edited")))
	assert.Equal(t, 2, first.Version)

	second.Company.Name = "Second"
	err = db.SaveApplication(ctx, second, change(t0.Add(2*time.Minute), "edited"), change(t0.Add(3*time.Minute), "submitted"))
	assert.Equal(t, domain.Conflict, domain.KindOf(err))
	assert.Equal(t, "conflict", domain.CodeOf(err))
	assert.Equal(t, 1, second.Version, "a refused save leaves the version")

	got, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	assert.Equal(t, "First", got.Company.Name)
	assert.Equal(t, 2, got.Version)
	hist, err := db.ApplicationHistory(ctx, "app_1")
	require.NoError(t, err)
	assert.Equal(t, []string{"created", "edited"}, actions(hist), "nothing of the refused save was written")

	// Saving a never-created application is a conflict too (version 0 means "must not exist",
	// any other version "must have that version").
	ghost := draftApp("app_ghost", "org-a", domain.PartnerDeployer, t0)
	ghost.Version = 3
	assert.Equal(t, "conflict", codeOf(db.SaveApplication(ctx, ghost, change(t0, "edited"))))
	_, err = db.Application(ctx, "app_ghost")
	assert.Equal(t, "application_not_found", domain.CodeOf(err))
}

func TestApplication_HistoryOldestFirst(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	a := draftApp("app_1", "org-a", domain.PartnerDeviceVendor, t0)
	require.NoError(t, db.CreateApplication(ctx, a, domain.Change{At: t0, By: "alice", Action: "created", To: "draft"}))
	// Two entries of one save, and two entries of the same instant keep their order.
	require.NoError(t, db.SaveApplication(ctx, a, change(t0.Add(time.Minute), "edited"), change(t0.Add(2*time.Minute), "attachment_requested")))
	require.NoError(t, db.SaveApplication(ctx, a, change(t0.Add(3*time.Minute), "submitted"), change(t0.Add(3*time.Minute), "withdrawn")))
	// Another entity's history is separate.
	require.NoError(t, db.CreateApplication(ctx, draftApp("app_2", "org-a", domain.PartnerDeviceVendor, t0), change(t0, "other")))

	hist, err := db.ApplicationHistory(ctx, "app_1")
	require.NoError(t, err)
	assert.Equal(t, []string{"created", "edited", "attachment_requested", "submitted", "withdrawn"}, actions(hist))
	assert.Equal(t, domain.Change{At: t0, By: "alice", Action: "created", To: "draft"}, hist[0])

	hist, err = db.ApplicationHistory(ctx, "app_missing")
	require.NoError(t, err)
	assert.Empty(t, hist)
}

func TestApplicationsOf_NewestFirstPaged(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("app_%d", i)
		require.NoError(t, db.CreateApplication(ctx, draftApp(id, "org-a", domain.PartnerMerchant, t0.Add(time.Duration(i)*time.Minute)), change(t0, "created")))
	}
	require.NoError(t, db.CreateApplication(ctx, draftApp("app_b", "org-b", domain.PartnerMerchant, t0.Add(time.Hour)), change(t0, "created")))
	require.NoError(t, db.CreateModel(ctx, newModel("mdl_a", "org-a", t0.Add(time.Hour)), change(t0, "registered")))

	ids, pages := allPages(t, func(a domain.Application) string { return a.ID }, func(cursor string) (store.Page[domain.Application], error) {
		p, err := db.ApplicationsOf(ctx, "org-a", cursor, 2)
		if err == nil {
			assert.LessOrEqual(t, len(p.Items), 2)
		}
		return p, err
	})
	assert.Equal(t, []string{"app_5", "app_4", "app_3", "app_2", "app_1"}, ids)
	assert.Equal(t, 3, pages)

	p, err := db.ApplicationsOf(ctx, "org-nobody", "", 2)
	require.NoError(t, err)
	assert.Empty(t, p.Items)
	assert.Empty(t, p.Next)
}

// A held decision is an item of its own: deciding and revising leave the application item as
// it was (data, version, updatedAt), so the applicant's listing is byte for byte the same; the
// reviewers' queue carries it; the release retires it, and only the revision it read.
func TestApplication_HeldDecisionIsItsOwnItem(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	a := submittedApp("app_1", "org-a", domain.PartnerDeviceVendor, t0)
	received := t0.Add(-time.Minute)
	a.Attachments["deck"] = &domain.Attachment{Slot: "deck", UploadID: "up_1", FileName: "deck.pdf", ContentType: "application/pdf",
		Size: 10, SHA256: "ab", Key: "applications/org-a/app_1/deck/up_1", VersionID: "v1",
		Status: domain.AttachmentReceived, RequestedAt: t0.Add(-2 * time.Minute), ReceivedAt: &received}
	require.NoError(t, db.CreateApplication(ctx, a, change(t0, "created")))
	listing := func() string {
		page, err := db.ApplicationsOf(ctx, "org-a", "", 10)
		require.NoError(t, err)
		body, err := json.Marshal(page)
		require.NoError(t, err)
		return string(body)
	}
	before := listing()

	a.Decision = &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: t0.Add(time.Hour)}
	require.NoError(t, db.HoldApplicationDecision(ctx, a, held(a.Decision)))
	got, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	assert.Equal(t, 1, got.Version, "deciding does not write the application")
	assert.Equal(t, a.UpdatedAt, got.UpdatedAt)
	assert.Equal(t, 1, got.Decision.Revision)
	assert.Equal(t, "applications/org-a/app_1/deck/up_1", got.Attachments["deck"].Key)

	// A revision from a stale read is refused; from a fresh one it replaces the decision.
	stale := *got
	stale.Decision = &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: t0.Add(2 * time.Hour)}
	assert.Equal(t, "conflict", codeOf(db.HoldApplicationDecision(ctx, &stale, held(stale.Decision))), "a second first decision")
	revised := &domain.Decision{Approve: false, Reason: "secret-reviewer-note", Reviewer: "rita", DecidedAt: t0.Add(3 * time.Hour), Revision: got.Decision.Revision}
	got.Decision = revised
	require.NoError(t, db.HoldApplicationDecision(ctx, got, held(revised)))
	assert.Equal(t, 2, revised.Revision)
	assert.Equal(t, before, listing(), "the applicant's listing does not move")
	assert.NotContains(t, before, "secret-reviewer-note")

	q, err := db.ApplicationQueue(ctx, domain.PartnerDeviceVendor, store.QueueFilter{State: store.QueueDecided})
	require.NoError(t, err)
	require.Len(t, q.Items, 1)
	assert.Equal(t, revised, q.Items[0].Decision, "reviewers read it in their queue")
	q, err = db.ApplicationQueue(ctx, domain.PartnerDeviceVendor, store.QueueFilter{State: store.QueuePending})
	require.NoError(t, err)
	assert.Empty(t, q.Items)

	// A release that read the first decision cannot publish it once it was revised.
	old, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	old.Decision.Revision = 1
	_, err = old.Release("00", t0.Add(4*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "conflict", codeOf(db.SaveApplication(ctx, old, change(t0.Add(4*time.Hour), "released"))))

	rel, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	_, err = rel.Release("", t0.Add(5*time.Hour))
	require.NoError(t, err)
	require.NoError(t, db.SaveApplication(ctx, rel, change(t0.Add(5*time.Hour), "released")))
	assert.Equal(t, 2, rel.Version)

	// The released decision's item is gone: the next round starts with no held decision and
	// may take a first decision again.
	accepted := true
	_, err = rel.Edit(domain.Caller{Subject: "alice"}, domain.ApplicationDraft{Survey: map[string]string{"plan": "v2"}, AgreementAccepted: &accepted}, t0.Add(6*time.Hour))
	require.NoError(t, err)
	_, err = rel.Submit(domain.Caller{Subject: "alice", AccountType: domain.AccountServiceProvider}, t0.Add(6*time.Hour))
	require.NoError(t, err)
	require.NoError(t, db.SaveApplication(ctx, rel, change(t0.Add(6*time.Hour), "submitted")))
	again, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	assert.Nil(t, again.Decision)
	again.Decision = &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: t0.Add(7 * time.Hour)}
	require.NoError(t, db.HoldApplicationDecision(ctx, again, held(again.Decision)))
}

// Withdrawing retires the held decision with the application's review.
func TestApplication_WithdrawRetiresTheHeldDecision(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	a := submittedApp("app_1", "org-a", domain.PartnerMerchant, t0)
	require.NoError(t, db.CreateApplication(ctx, a, change(t0, "created")))
	a.Decision = &domain.Decision{Approve: true, Reviewer: "rita", DecidedAt: t0.Add(time.Hour)}
	require.NoError(t, db.HoldApplicationDecision(ctx, a, held(a.Decision)))
	got, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	_, err = got.Withdraw(domain.Caller{Subject: "alice"}, "", t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.NoError(t, db.SaveApplication(ctx, got, change(t0.Add(2*time.Hour), "withdrawn")))
	q, err := db.ApplicationQueue(ctx, domain.PartnerMerchant, store.QueueFilter{State: store.QueueDecided})
	require.NoError(t, err)
	assert.Empty(t, q.Items)
	again, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	assert.Nil(t, again.Decision)
}
