package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/store"
)

func feeRecord(t *testing.T, v int, provider string, m fee.Month, policy int, at time.Time) fee.StatementRecord {
	t.Helper()
	h := fee.Header{Provider: provider, Month: m, Version: v, PolicyVersion: policy, Scheme: "default", TotalFen: int64(100 * v),
		Devices: 1, Fingerprint: fmt.Sprintf("%064d", v), ComputedAt: at}
	return fee.StatementRecord{Header: h, JSONKey: fee.FileKey(h, "json"), CSVKey: fee.FileKey(h, "csv")}
}

// Policy versions are numbered 1..n; a version is edited only while no statement used it: the
// statement's transaction marks it, and the edit's condition refuses it from then on.
func TestFeePolicyVersionsAndTheUsedCondition(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	p1 := &fee.PolicyRecord{Policy: fee.DefaultPolicy("2026-01"), CreatedBy: "rev", CreatedAt: t0}
	require.NoError(t, db.CreateFeePolicy(ctx, p1, &store.Claim{Scope: "scope-1", Fingerprint: "fp", At: t0}))
	assert.Equal(t, 1, p1.Policy.Version)
	claim, err := db.ClaimOf(ctx, "scope-1")
	require.NoError(t, err)
	assert.Equal(t, "1", claim.EntityID)
	assert.True(t, errors.Is(db.CreateFeePolicy(ctx, &fee.PolicyRecord{Policy: fee.DefaultPolicy("2026-01")}, &store.Claim{Scope: "scope-1"}), domain.ErrConflict),
		"a claimed key creates nothing")
	p2 := &fee.PolicyRecord{Policy: fee.ComparablePolicy("2027-01"), CreatedAt: t0}
	require.NoError(t, db.CreateFeePolicy(ctx, p2, nil))
	assert.Equal(t, 2, p2.Policy.Version)

	// Unused: edits land, checking the revision read.
	p1.Policy.Description = "edited"
	require.NoError(t, db.UpdateFeePolicy(ctx, p1))
	assert.Equal(t, 2, p1.Revision)
	stale := *p1
	stale.Revision = 1
	assert.True(t, errors.Is(db.UpdateFeePolicy(ctx, &stale), domain.ErrConflict), "an edit of a stale read loses")

	// A statement computed with a stale revision of the policy is refused and marks nothing.
	assert.True(t, errors.Is(db.SaveFeeStatement(ctx, feeRecord(t, 1, "A", "2026-10", 1, t0), 1), domain.ErrConflict))
	got, err := db.FeePolicy(ctx, 1)
	require.NoError(t, err)
	assert.Nil(t, got.UsedAt)
	_, err = db.LatestFeeStatement(ctx, "A", "2026-10")
	assert.Equal(t, "fee_statement_not_found", domain.CodeOf(err))

	// Used by a statement: never edited again.
	require.NoError(t, db.SaveFeeStatement(ctx, feeRecord(t, 1, "A", "2026-10", 1, t0), 2))
	got, err = db.FeePolicy(ctx, 1)
	require.NoError(t, err)
	require.NotNil(t, got.UsedAt)
	assert.True(t, got.UsedAt.Equal(t0))
	got.Policy.Description = "too late"
	err = db.UpdateFeePolicy(ctx, &got)
	assert.Equal(t, "fee_policy_in_use", domain.CodeOf(err))
	again, err := db.FeePolicy(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "edited", again.Policy.Description)

	// A second statement keeps the first use's time.
	require.NoError(t, db.SaveFeeStatement(ctx, feeRecord(t, 1, "B", "2026-10", 1, t0.Add(time.Hour)), 2))
	again, err = db.FeePolicy(ctx, 1)
	require.NoError(t, err)
	assert.True(t, again.UsedAt.Equal(t0))

	all, err := db.FeePolicies(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, "comparable", all[1].Policy.Scheme)
	_, err = db.FeePolicy(ctx, 9)
	assert.Equal(t, "fee_policy_not_found", domain.CodeOf(err))
}

// Statement versions: one item per version, never overwritten; the latest, a given version,
// a provider's listing and a month's listing (every provider, for reviewers).
func TestFeeStatementVersions(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	p := &fee.PolicyRecord{Policy: fee.DefaultPolicy("2026-01"), CreatedAt: t0}
	require.NoError(t, db.CreateFeePolicy(ctx, p, nil))
	for _, r := range []fee.StatementRecord{
		feeRecord(t, 1, "A", "2026-09", 1, t0), feeRecord(t, 1, "A", "2026-10", 1, t0),
		feeRecord(t, 2, "A", "2026-10", 1, t0.Add(time.Hour)), feeRecord(t, 1, "B", "2026-10", 1, t0),
	} {
		require.NoError(t, db.SaveFeeStatement(ctx, r, 1))
	}
	assert.True(t, errors.Is(db.SaveFeeStatement(ctx, feeRecord(t, 2, "A", "2026-10", 1, t0), 1), domain.ErrConflict),
		"a version is written once")

	latest, err := db.LatestFeeStatement(ctx, "A", "2026-10")
	require.NoError(t, err)
	assert.Equal(t, 2, latest.Version)
	assert.Equal(t, int64(200), latest.TotalFen)
	v1, err := db.FeeStatement(ctx, "A", "2026-10", 1)
	require.NoError(t, err)
	assert.Equal(t, "fee-statements/A/2026-10/v0001-0000000000000000.json", v1.JSONKey)
	versions, err := db.FeeStatementVersions(ctx, "A", "2026-10")
	require.NoError(t, err)
	assert.Len(t, versions, 2)

	mine, err := db.FeeStatementsOf(ctx, "A", "", 10)
	require.NoError(t, err)
	require.Len(t, mine.Items, 3)
	assert.Equal(t, fee.Month("2026-10"), mine.Items[0].Month, "newest month first")
	for _, r := range mine.Items {
		assert.Equal(t, "A", r.Provider, "a provider's listing holds only its own")
	}
	month, err := db.FeeStatementsOfMonth(ctx, "2026-10")
	require.NoError(t, err)
	require.Len(t, month, 2)
	assert.Equal(t, []int{2, 1}, []int{month[0].Version, month[1].Version})
	page, err := db.FeeStatementsForMonth(ctx, "2026-10", "", 10)
	require.NoError(t, err)
	assert.Len(t, page.Items, 3)
}

// Sign-ups: one per device, provider and confirmation; listed by device and by provider.
func TestFeeEnrolments(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	from := time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)
	e := fee.Enrolment{Provider: "A", SN: "SN1", Date: "2026-11-23", ConfirmedFrom: from, SignedBy: "u", At: t0}
	require.NoError(t, db.CreateFeeEnrolment(ctx, e))
	assert.True(t, errors.Is(db.CreateFeeEnrolment(ctx, e), domain.ErrConflict), "one per confirmation")
	require.NoError(t, db.CreateFeeEnrolment(ctx, fee.Enrolment{Provider: "A", SN: "SN2", Date: "2026-11-24", ConfirmedFrom: from, At: t0}))
	require.NoError(t, db.CreateFeeEnrolment(ctx, fee.Enrolment{Provider: "B", SN: "SN1", Date: "2026-11-25", ConfirmedFrom: from.Add(time.Hour), At: t0}))

	of, err := db.FeeEnrolmentsOf(ctx, "SN1")
	require.NoError(t, err)
	require.Len(t, of, 2)
	assert.Equal(t, e, of[0])
	byA, err := db.FeeEnrolmentsByProvider(ctx, "A", "", 10)
	require.NoError(t, err)
	assert.Len(t, byA.Items, 2)
	many, err := db.FeeEnrolments(ctx, []string{"SN1", "SN2", "SN3"})
	require.NoError(t, err)
	assert.Len(t, many["SN1"], 2)
	assert.Len(t, many["SN2"], 1)
	assert.Empty(t, many["SN3"])

	// The monthly run's read: provider A's sign-ups from its index, and every sign-up of a
	// device that had another provider (SN1 had B).
	run, err := db.FeeSignUps(ctx, "A", []string{"SN1"})
	require.NoError(t, err)
	assert.Len(t, run["SN1"], 2, "SN1 had B too: its partition")
	assert.Len(t, run["SN2"], 1)
	onlyA, err := db.FeeSignUps(ctx, "A", nil)
	require.NoError(t, err)
	require.Len(t, onlyA["SN1"], 1, "A's index holds A's sign-ups only")
	assert.Equal(t, "A", onlyA["SN1"][0].Provider)
}

// Earnings: what a device earned before a month sums every provider's earlier months; a later
// version replaces a month's figure and forgets devices it no longer lists.
func TestFeeEarnings(t *testing.T) {
	ctx := context.Background()
	db := newTable(t)
	line := func(sn string, amount int64) fee.Line { return fee.Line{SN: sn, AmountFen: amount} }
	require.NoError(t, db.RecordFeeEarnings(ctx, fee.Statement{Provider: "A", Month: "2026-09", Version: 1,
		Lines: []fee.Line{line("SN1", 1000), line("SN2", 50)}}))
	require.NoError(t, db.RecordFeeEarnings(ctx, fee.Statement{Provider: "B", Month: "2026-09", Version: 1,
		Lines: []fee.Line{line("SN1", 300)}}))
	require.NoError(t, db.RecordFeeEarnings(ctx, fee.Statement{Provider: "A", Month: "2026-10", Version: 1,
		Lines: []fee.Line{line("SN1", 7)}}))
	before, err := db.FeeEarnedBefore(ctx, "2026-10", []string{"SN1", "SN2", "SN3"})
	require.NoError(t, err)
	assert.Equal(t, map[string]fee.Fen{"SN1": 1300, "SN2": 50, "SN3": 0}, before)

	require.NoError(t, db.RecordFeeEarnings(ctx, fee.Statement{Provider: "A", Month: "2026-09", Version: 2,
		Lines: []fee.Line{line("SN1", 900)}, Changes: []fee.Change{{SN: "SN2", Kind: fee.ChangeRemoved}}}))
	before, err = db.FeeEarnedBefore(ctx, "2026-11", []string{"SN1", "SN2"})
	require.NoError(t, err)
	assert.Equal(t, map[string]fee.Fen{"SN1": 1207, "SN2": 0}, before)

	// Many devices: batches of 25.
	var lines []fee.Line
	for i := range 60 {
		lines = append(lines, line(fmt.Sprintf("M%03d", i), int64(i)))
	}
	require.NoError(t, db.RecordFeeEarnings(ctx, fee.Statement{Provider: "A", Month: "2026-10", Version: 1, Lines: lines}))
	before, err = db.FeeEarnedBefore(ctx, "2026-11", []string{"M059", "M000"})
	require.NoError(t, err)
	assert.Equal(t, fee.Fen(59), before["M059"])
}
