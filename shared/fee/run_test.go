package fee_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines/enginestest"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/store/storetest"
)

func TestMain(m *testing.M) { enginestest.Main(m) }

// figures and bindings stand in for the rollup's and the binding's stores, which the run
// reads only through fee.Source (source); the stores' own source is tested in shared/store.
type figures map[string]map[fee.Date]int64

type bindings map[string][]fee.Confirmation

type source struct {
	f figures
	b bindings
}

func (s source) Providers(context.Context) ([]string, error) {
	var out []string
	for _, cs := range s.b {
		for _, c := range cs {
			out = append(out, c.Provider)
		}
	}
	return out, nil
}

func (s source) ProviderMonth(_ context.Context, provider string, m fee.Month, v fee.ValidPayment) (map[string]fee.DeviceMonth, error) {
	if v.MinAmountFen != 200 || len(v.Methods) != 1 || v.Methods[0] != "FACE" {
		return nil, domain.Errorf(domain.Invalid, "figures_criteria", "these figures count FACE payments of 200 fen and more")
	}
	first, _ := time.ParseInLocation("2006-01", string(m), fee.BusinessZone)
	end := first.AddDate(0, 1, 0)
	out := map[string]fee.DeviceMonth{}
	for sn, cs := range s.b {
		for _, c := range cs {
			if c.Provider == provider && c.From.Before(end) && (c.Until.IsZero() || c.Until.After(first)) {
				units := map[fee.Date]int64{}
				for d, n := range s.f[sn] {
					if d.Month() == m {
						units[d] = n
					}
				}
				out[sn] = fee.DeviceMonth{Confirmations: cs, Units: units}
			}
		}
	}
	return out, nil
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, fee.BusinessZone)
	if err != nil {
		panic(err)
	}
	return t
}

func days(from, to string, n int64) map[fee.Date]int64 {
	out := map[fee.Date]int64{}
	for d := at(from + " 00:00"); !d.After(at(to + " 00:00")); d = d.AddDate(0, 0, 1) {
		out[fee.DateOf(d)] = n
	}
	return out
}

func newObjects(t *testing.T) *blob.Store {
	t.Helper()
	client := enginestest.S3(t)
	bucket := fmt.Sprintf("fee-%d", time.Now().UnixNano())
	_, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	return blob.New(client, bucket)
}

// The monthly run on the real engines (DynamoDB on moto_server, statement files on versitygw):
// five months of a device that reaches the total cap, a device moved between providers, a
// late day that makes a new version with its changes, a rerun that changes nothing, a policy
// pinned to the month it stated.
func TestRunOnTheEngines(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	objects := newObjects(t)
	pol := &fee.PolicyRecord{Policy: fee.DefaultPolicy("2026-01"), CreatedAt: at("2026-01-01 00:00")}
	require.NoError(t, db.CreateFeePolicy(ctx, pol, nil))

	b := bindings{
		"CAPPED": {{Provider: "A", From: at("2026-05-10 10:00")}},
		"MOVED": {{Provider: "A", From: at("2026-06-01 09:00"), Until: at("2026-10-16 10:00")},
			{Provider: "B", From: at("2026-10-16 15:00")}},
		"BUSY": {{Provider: "B", From: at("2026-09-03 10:00")}},
	}
	f := figures{
		"CAPPED": days("2026-06-01", "2026-10-31", 30), // 1500 fen a day: every month meets the 30000 cap
		"MOVED":  days("2026-10-01", "2026-10-31", 4),
		"BUSY":   days("2026-10-01", "2026-10-30", 2), // Oct 31 arrives late
	}
	for _, e := range []fee.Enrolment{
		{Provider: "A", SN: "CAPPED", Date: "2026-05-10", ConfirmedFrom: b["CAPPED"][0].From},
		{Provider: "A", SN: "MOVED", Date: "2026-06-01", ConfirmedFrom: b["MOVED"][0].From},
		{Provider: "B", SN: "MOVED", Date: "2026-10-17", ConfirmedFrom: b["MOVED"][1].From},
		{Provider: "B", SN: "BUSY", Date: "2026-09-04", ConfirmedFrom: b["BUSY"][0].From},
	} {
		require.NoError(t, db.CreateFeeEnrolment(ctx, e))
	}
	run := fee.Runner{Source: source{f, b}, Store: db, Objects: objects}
	now := at("2026-11-01 00:05")

	out, err := run.Run(ctx, now, "2026-10", "2026-06", "2026-07", "2026-08", "2026-09")
	require.NoError(t, err)
	totals := map[string]fee.Fen{}
	for _, o := range out {
		assert.True(t, o.New)
		assert.Equal(t, 1, o.Version)
		totals[string(o.Month)+"/"+o.Provider] = o.TotalFen
	}
	// CAPPED: 30000 in June, July, August; 10000 in September (the 100000 total); 0 in October.
	// MOVED: 15 days × 4 × 50 with A (Oct 1–15) and with B (Oct 17–31). BUSY: 30 × 2 × 50.
	assert.Equal(t, map[string]fee.Fen{"2026-06/A": 30000, "2026-07/A": 30000, "2026-08/A": 30000, "2026-09/A": 10000,
		"2026-09/B": 0, "2026-10/A": 3000, "2026-10/B": 3000 + 3000}, totals)

	octA := readStatement(t, objects, db, "A", "2026-10")
	capped := lineOf(t, octA, "CAPPED")
	assert.Equal(t, fee.ReasonTotalCapReached, capped.Reason)
	assert.Equal(t, fee.Fen(100000), capped.EarnedBeforeFen)
	sep := readStatement(t, objects, db, "A", "2026-09")
	assert.Equal(t, []string{"monthly_cap", "total_cap"}, lineOf(t, sep, "CAPPED").CapEffects) // 45000 → 30000 → 10000
	assert.Equal(t, fee.Fen(20000), lineOf(t, sep, "CAPPED").TotalCapCutFen)
	assert.Equal(t, fee.ReasonOutsideWindow, lineOf(t, readStatement(t, objects, db, "B", "2026-09"), "BUSY").Reason,
		"confirmed in September: its window starts in October")

	// Running again changes nothing.
	again, err := run.Run(ctx, now.Add(time.Hour), "2026-10")
	require.NoError(t, err)
	for _, o := range again {
		assert.False(t, o.New, o.Provider)
		assert.Equal(t, 1, o.Version)
	}

	// The policy that stated these months is never edited; a new version, in force from
	// October, does not rewrite October: its statements keep version 1 of the policy.
	used, err := db.FeePolicy(ctx, 1)
	require.NoError(t, err)
	used.Policy.Description = "changed"
	assert.Equal(t, "fee_policy_in_use", domain.CodeOf(db.UpdateFeePolicy(ctx, &used)))
	require.NoError(t, db.CreateFeePolicy(ctx, &fee.PolicyRecord{Policy: fee.ComparablePolicy("2026-10")}, nil))

	// October 31 arrives late for BUSY: B's statement gets version 2, saying what changed; A's stays.
	f["BUSY"]["2026-10-31"] = 6
	late, err := run.Run(ctx, now.Add(48*time.Hour), "2026-10")
	require.NoError(t, err)
	require.Len(t, late, 2)
	assert.Equal(t, fee.Outcome{Provider: "A", Month: "2026-10", Version: 1, New: false, TotalFen: 3000}, late[0])
	assert.Equal(t, fee.Outcome{Provider: "B", Month: "2026-10", Version: 2, New: true, TotalFen: 6000 + 300}, late[1])
	octB := readStatement(t, objects, db, "B", "2026-10")
	assert.Equal(t, 1, octB.PolicyVersion, "a stated month keeps its policy")
	assert.Equal(t, &fee.Previous{Version: 1, TotalFen: 6000, Fingerprint: octB.Previous.Fingerprint}, octB.Previous)
	assert.Equal(t, []fee.Change{{SN: "BUSY", Kind: fee.ChangeChanged, AmountBeforeFen: 3000, AmountAfterFen: 3300,
		Days: []fee.DayChange{{Date: "2026-10-31", UnitsBefore: 0, UnitsAfter: 6, StatusBefore: fee.DayCounted, StatusAfter: fee.DayCounted}}}},
		octB.Changes)
	v1, err := db.FeeStatement(ctx, "B", "2026-10", 1)
	require.NoError(t, err)
	assert.Equal(t, fee.Fen(6000), v1.TotalFen, "version 1 is kept as it was")

	// November is computed with the version in force then: the comparable scheme.
	nov, err := run.Run(ctx, at("2026-12-01 00:05"), fee.MonthsDue(at("2026-12-01 00:05"))...)
	require.NoError(t, err)
	for _, o := range nov {
		if o.Month == "2026-11" {
			h, err := db.LatestFeeStatement(ctx, o.Provider, "2026-11")
			require.NoError(t, err)
			assert.Equal(t, 2, h.PolicyVersion)
			assert.Equal(t, "comparable", h.Scheme)
		}
	}

	// The CSV file: one row per device, then the total.
	h, err := db.LatestFeeStatement(ctx, "B", "2026-10")
	require.NoError(t, err)
	raw, err := objects.ReadObject(ctx, h.CSVKey, h.CSVVersion)
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+2+1)
	assert.Equal(t, []string{"B", "2026-10", "2", "1", "BUSY"}, rows[1][:5])
	assert.Equal(t, []string{"B", "2026-10", "2", "1", "TOTAL"}, rows[3][:5])
	assert.Contains(t, rows[3], "63.00")
}

// A day rolled up after its month was stated restates that month and every stated month after
// it (their total caps count its earnings); months without statements are the monthly run's.
func TestRestateAfterALateDay(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	objects := newObjects(t)
	require.NoError(t, db.CreateFeePolicy(ctx, &fee.PolicyRecord{Policy: fee.DefaultPolicy("2026-01"), CreatedAt: at("2026-01-01 00:00")}, nil))
	b := bindings{"X": {{Provider: "A", From: at("2026-06-01 09:00")}}} // its window opens in July
	f := figures{"X": days("2026-07-01", "2026-08-31", 30)}             // 1500 fen a day: 30000 (the monthly cap) in July and August
	for d, n := range days("2026-09-01", "2026-09-29", 10) {            // September 30 is late
		f["X"][d] = n
	}
	for d, n := range days("2026-10-01", "2026-10-31", 30) {
		f["X"][d] = n
	}
	require.NoError(t, db.CreateFeeEnrolment(ctx, fee.Enrolment{Provider: "A", SN: "X", Date: "2026-06-01", ConfirmedFrom: b["X"][0].From}))
	run := fee.Runner{Source: source{f, b}, Store: db, Objects: objects}
	now := at("2026-11-05 10:00")
	_, err := run.Run(ctx, now, "2026-07", "2026-08", "2026-09", "2026-10")
	require.NoError(t, err)
	// September 29 × 500 = 14500; October 30000 cut to the 25500 left of the 100000 total.
	assert.Equal(t, fee.Fen(14500), lineOf(t, readStatement(t, objects, db, "A", "2026-09"), "X").AmountFen)
	assert.Equal(t, fee.Fen(25500), lineOf(t, readStatement(t, objects, db, "A", "2026-10"), "X").AmountFen)

	f["X"]["2026-09-30"] = 40
	months, out, err := run.Restate(ctx, now.Add(time.Hour), "2026-09-30")
	require.NoError(t, err)
	assert.Equal(t, []fee.Month{"2026-09", "2026-10"}, months)
	assert.Equal(t, []fee.Outcome{
		{Provider: "A", Month: "2026-09", Version: 2, New: true, TotalFen: 16500},
		{Provider: "A", Month: "2026-10", Version: 2, New: true, TotalFen: 23500},
	}, out, "September gains 2000; October's total cap leaves 2000 less")

	// Again: nothing changes. A day of a month with no statements restates the stated ones
	// after it, identically; a day of a month not over restates nothing.
	months, out, err = run.Restate(ctx, now.Add(2*time.Hour), "2026-09-30")
	require.NoError(t, err)
	assert.Equal(t, []fee.Month{"2026-09", "2026-10"}, months)
	for _, o := range out {
		assert.False(t, o.New, "%s unchanged", o.Month)
	}
	months, out, err = run.Restate(ctx, now.Add(2*time.Hour), "2026-06-15")
	require.NoError(t, err)
	assert.Equal(t, []fee.Month{"2026-07", "2026-08", "2026-09", "2026-10"}, months)
	for _, o := range out {
		assert.False(t, o.New, "%s unchanged", o.Month)
	}
	months, out, err = run.Restate(ctx, now.Add(2*time.Hour), "2026-11-04")
	require.NoError(t, err)
	assert.Empty(t, months)
	assert.Empty(t, out)
	_, _, err = run.Restate(ctx, now, "2026-09-31")
	assert.Equal(t, domain.Invalid, domain.KindOf(err))
}

func readStatement(t *testing.T, objects *blob.Store, db *store.DB, provider string, m fee.Month) fee.Statement {
	t.Helper()
	h, err := db.LatestFeeStatement(context.Background(), provider, m)
	require.NoError(t, err)
	raw, err := objects.ReadObject(context.Background(), h.JSONKey, h.JSONVersion)
	require.NoError(t, err)
	var s fee.Statement
	require.NoError(t, json.Unmarshal(raw, &s))
	assert.Equal(t, h.Header, fee.HeaderOf(s), "header and file agree")
	return s
}

func lineOf(t *testing.T, s fee.Statement, sn string) fee.Line {
	t.Helper()
	for _, l := range s.Lines {
		if l.SN == sn {
			return l
		}
	}
	require.Failf(t, "no line", "%s/%s has no line for %s", s.Provider, s.Month, sn)
	return fee.Line{}
}
