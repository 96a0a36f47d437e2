package store_test

// TestMain (enginestest.Main) is declared once for the package, in submissions_test.go.

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/store/storetest"
)

// t0 has whole seconds; fixtures space their times by minutes.
var t0 = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

func draftApp(id, org string, t domain.PartnerType, created time.Time) *domain.Application {
	return &domain.Application{
		ID: id, Org: org, PartnerType: t, Status: domain.AppDraft,
		Company: domain.Company{Name: "Acme " + id}, Attachments: map[string]*domain.Attachment{},
		CreatedBy: "alice", CreatedAt: created, UpdatedAt: created,
	}
}

// submittedApp is an application under review.
func submittedApp(id, org string, t domain.PartnerType, submitted time.Time) *domain.Application {
	a := draftApp(id, org, t, submitted.Add(-time.Hour))
	a.Status, a.SubmittedAt, a.Round = domain.AppSubmitted, &submitted, 1
	return a
}

// held is a reviewer's held-decision history entry.
func held(d *domain.Decision) domain.Change {
	return domain.Change{At: d.DecidedAt, By: d.Reviewer, ByReviewer: true, Held: true, Action: "decided"}
}

func change(at time.Time, action string) domain.Change {
	return domain.Change{At: at, By: "alice", Action: action}
}

func actions(changes []domain.Change) []string {
	out := []string{}
	for _, c := range changes {
		out = append(out, c.Action)
	}
	return out
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return domain.CodeOf(err)
}

// allPages reads every page of a listing and returns the ids in order and the number of pages.
func allPages[T any](t *testing.T, id func(T) string, page func(cursor string) (store.Page[T], error)) ([]string, int) {
	t.Helper()
	var ids []string
	cursor, pages := "", 0
	for {
		p, err := page(cursor)
		require.NoError(t, err)
		pages++
		for _, it := range p.Items {
			ids = append(ids, id(it))
		}
		if p.Next == "" {
			return ids, pages
		}
		require.Less(t, pages, 20, "listing does not end")
		cursor = p.Next
	}
}

func TestInvalidCursor(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, cursor string
	}{
		{"not base64", "not a cursor!"},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte(`{"pk":"x"}`)) + "="},
		{"not json", b64("pk=APP#1")},
		{"json array", b64(`["pk"]`)},
		{"empty object", b64(`{}`)},
		{"non-string values", b64(`{"pk":1}`)},
		{"too many keys", b64(`{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.ApplicationsOf(ctx, "org-a", tt.cursor, 2)
			assert.Equal(t, domain.Invalid, domain.KindOf(err), "%v", err)
			assert.Equal(t, "invalid_cursor", domain.CodeOf(err))
			_, err = db.ModelsOf(ctx, "org-a", tt.cursor, 2)
			assert.Equal(t, "invalid_cursor", domain.CodeOf(err))
			_, err = db.Messages(ctx, "org-a", tt.cursor, 2)
			assert.Equal(t, "invalid_cursor", domain.CodeOf(err))
			_, err = db.ApplicationQueue(ctx, domain.PartnerDeviceVendor, store.QueueFilter{State: store.QueuePending, Cursor: tt.cursor})
			assert.Equal(t, "invalid_cursor", domain.CodeOf(err))
			_, err = db.ModelQueue(ctx, store.QueueFilter{State: store.QueuePending, Cursor: tt.cursor})
			assert.Equal(t, "invalid_cursor", domain.CodeOf(err))
		})
	}
}

func TestTx_AllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	a := draftApp("app_1", "org-a", domain.PartnerDeviceVendor, t0)
	require.NoError(t, db.CreateApplication(ctx, a, change(t0, "created")))
	vendor := domain.Vendor{Org: "org-a", Code: "00", Name: "Acme", ApplicationID: "app_1", ApprovedAt: t0}
	require.NoError(t, db.Tx().CreateVendor(vendor).Commit(ctx, "vendor"))

	// One failing precondition (the vendor exists) cancels the application's save, its
	// history, the code claim and the message.
	alloc, err := db.NextCode(ctx, "VENDOR")
	require.NoError(t, err)
	a.Company.Name = "Changed"
	err = db.Tx().TakeCode(alloc).SaveApplication(a, change(t0.Add(time.Minute), "edited")).
		PutMessage(domain.Message{ID: "msg_1", Org: "org-a", At: t0, Subject: "s"}).
		CreateVendor(vendor).Commit(ctx, "release")
	assert.Equal(t, domain.Conflict, domain.KindOf(err))
	assert.Equal(t, "conflict", domain.CodeOf(err))
	assert.Equal(t, 1, a.Version, "the version advances only on commit")

	got, err := db.Application(ctx, "app_1")
	require.NoError(t, err)
	assert.Equal(t, "Acme app_1", got.Company.Name)
	assert.Equal(t, 1, got.Version)
	hist, err := db.ApplicationHistory(ctx, "app_1")
	require.NoError(t, err)
	assert.Equal(t, []string{"created"}, actions(hist))
	next, err := db.NextCode(ctx, "VENDOR")
	require.NoError(t, err)
	assert.Equal(t, alloc.Code, next.Code, "the code was not taken")
	msgs, err := db.Messages(ctx, "org-a", "", 10)
	require.NoError(t, err)
	assert.Empty(t, msgs.Items)
}

func TestMessages_NewestFirst(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	tx := db.Tx()
	for i := 1; i <= 3; i++ {
		tx.PutMessage(domain.Message{ID: fmt.Sprintf("msg_%d", i), Org: "org-a", At: t0.Add(time.Duration(i) * time.Minute),
			Subject: "s", Body: "b", Entity: "application", EntityID: "app_1"})
	}
	tx.PutMessage(domain.Message{ID: "msg_other", Org: "org-b", At: t0.Add(time.Hour)})
	require.NoError(t, tx.Commit(ctx, "messages"))
	// An application of the same organisation is listed under ORG#org-a too, in gsi1 only.
	require.NoError(t, db.CreateApplication(ctx, draftApp("app_1", "org-a", domain.PartnerMerchant, t0), change(t0, "created")))

	ids, pages := allPages(t, func(m domain.Message) string { return m.ID }, func(cursor string) (store.Page[domain.Message], error) {
		return db.Messages(ctx, "org-a", cursor, 2)
	})
	assert.Equal(t, []string{"msg_3", "msg_2", "msg_1"}, ids)
	assert.Equal(t, 2, pages)

	p, err := db.Messages(ctx, "org-a", "", 0)
	require.NoError(t, err)
	require.Len(t, p.Items, 3, "limit 0 means the default")
	assert.Equal(t, domain.Message{ID: "msg_3", Org: "org-a", At: t0.Add(3 * time.Minute), Subject: "s", Body: "b",
		Entity: "application", EntityID: "app_1"}, p.Items[0])
	assert.Empty(t, p.Next)
}

func TestVendor(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)

	_, err := db.Vendor(ctx, "org-a")
	assert.Equal(t, domain.NotFound, domain.KindOf(err))
	assert.Equal(t, "vendor_not_approved", domain.CodeOf(err))

	v := domain.Vendor{Org: "org-a", Code: "07", Name: "Acme", ApplicationID: "app_1", ApprovedAt: t0}
	require.NoError(t, db.Tx().CreateVendor(v).Commit(ctx, "vendor"))
	got, err := db.Vendor(ctx, "org-a")
	require.NoError(t, err)
	assert.Equal(t, v, got)

	err = db.Tx().CreateVendor(domain.Vendor{Org: "org-a", Code: "08"}).Commit(ctx, "vendor")
	assert.Equal(t, "conflict", codeOf(err), "an organisation is approved once")
	got, err = db.Vendor(ctx, "org-a")
	require.NoError(t, err)
	assert.Equal(t, "07", got.Code)

	_, err = db.Vendor(ctx, "org-b")
	assert.Equal(t, "vendor_not_approved", domain.CodeOf(err))
}

// newTable is a table of its own on the local engine (shared/store/storetest).
func newTable(t *testing.T) *store.DB { return storetest.NewDB(t) }
