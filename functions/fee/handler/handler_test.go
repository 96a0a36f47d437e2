package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
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
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/store/storetest"
)

func TestMain(m *testing.M) { enginestest.Main(m) }

// now is 2026-11-24 10:00 in Shanghai.
var now = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

type env struct {
	h       *handler
	db      *store.DB
	objects *blob.Store
}

// newEnv is the handler on the real engines: the table on moto_server, files on versitygw.
func newEnv(t *testing.T) env {
	t.Helper()
	client := enginestest.S3(t)
	bucket := fmt.Sprintf("fee-handler-%d", time.Now().UnixNano())
	_, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	db := storetest.NewDB(t)
	objects := blob.New(client, bucket)
	for org, number := range map[string]string{"dep-a": provA, "dep-b": provB} {
		require.NoError(t, db.Tx().CreateDeployer(domain.Deployer{Org: org, Number: number}).Commit(context.Background(), "deployer"))
	}
	h := &handler{db: db, files: objects, now: func() time.Time { return now }}
	h.signups = &signups{binding: fakeBinding{}, db: db, providers: db, now: h.now}
	return env{h: h, db: db, objects: objects}
}

// The approved deployment providers: organisation dep-a is provider provA, dep-b is provB.
const (
	provA = "DP00000001"
	provB = "DP00000002"
)

type result struct {
	status int
	body   map[string]any
	raw    string
}

func (r result) code() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (e env) do(t *testing.T, sample string, mutators ...func(*httpapi.Request)) result {
	t.Helper()
	req := eventstest.Load(t, "fee/"+sample, mutators...)
	resp, err := e.h.router().Handle(context.Background(), req)
	require.NoError(t, err)
	var body map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &body)
	return result{resp.StatusCode, body, resp.Body}
}

func as(role, org string) func(*httpapi.Request) {
	return func(r *httpapi.Request) {
		eventstest.WithClaim("role", role)(r)
		eventstest.WithClaim("org", org)(r)
	}
}

func body(v any) func(*httpapi.Request) {
	b, _ := json.Marshal(v)
	return eventstest.WithBody(string(b))
}

func key(k string) func(*httpapi.Request) {
	return func(r *httpapi.Request) { r.Headers["idempotency-key"] = k }
}

func TestCreatePolicy(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "create-fee-policy.json", key("k1"))
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, 1.0, r.body["policy"].(map[string]any)["version"])
	assert.Equal(t, "rita", r.body["createdBy"])

	again := e.do(t, "create-fee-policy.json", key("k1"))
	assert.Equal(t, http.StatusOK, again.status, "a retry answers the first version")
	assert.Equal(t, 1.0, again.body["policy"].(map[string]any)["version"])

	comparable := fee.ComparablePolicy("2027-01")
	reused := e.do(t, "create-fee-policy.json", key("k1"), body(comparable))
	assert.Equal(t, http.StatusUnprocessableEntity, reused.status)
	assert.Equal(t, "idempotency_key_reused", reused.code())

	plain := e.do(t, "create-fee-policy.json")
	assert.Equal(t, http.StatusOK, plain.status, "equal to the latest version: that version")
	assert.Equal(t, 1.0, plain.body["policy"].(map[string]any)["version"])

	second := e.do(t, "create-fee-policy.json", body(comparable))
	require.Equal(t, http.StatusCreated, second.status, second.raw)
	assert.Equal(t, 2.0, second.body["policy"].(map[string]any)["version"])

	bad := map[string]func(*httpapi.Request){
		"retroactive":       body(fee.DefaultPolicy("2026-10")),
		"no rounding":       body(func() fee.Policy { p := fee.DefaultPolicy("2027-01"); p.Amount.Rounding = ""; return p }()),
		"float coefficient": body(func() fee.Policy { p := fee.DefaultPolicy("2027-01"); p.Amount.Coefficient = "3.5e-1"; return p }()),
		"unknown field":     eventstest.WithBody(`{"scheme":"x","bonus":1}`),
		"month cap above total": body(func() fee.Policy {
			p := fee.DefaultPolicy("2027-01")
			p.Caps.PerDeviceMonthFen = 200000
			return p
		}()),
	}
	codes := map[string]string{"retroactive": "fee_policy_retroactive", "no rounding": "invalid_fee_policy",
		"float coefficient": "invalid_fee_policy", "unknown field": "invalid_json", "month cap above total": "invalid_fee_policy"}
	for name, m := range bad {
		r := e.do(t, "create-fee-policy.json", m)
		assert.Equal(t, http.StatusBadRequest, r.status, name)
		assert.Equal(t, codes[name], r.code(), name)
	}
	denied := e.do(t, "create-fee-policy.json", as("deployer", "dep-a"), body(fee.DefaultPolicy("2028-01")))
	assert.Equal(t, http.StatusForbidden, denied.status)
	assert.Equal(t, "forbidden_role", denied.code())
	all, err := e.db.FeePolicies(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 2, "nothing else was created")
}

func TestEditPolicyOnlyWhileUnused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	require.Equal(t, http.StatusCreated, e.do(t, "create-fee-policy.json").status)
	edited := fee.DefaultPolicy("2027-02")
	r := e.do(t, "edit-fee-policy.json", body(edited))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "2027-02", r.body["policy"].(map[string]any)["effectiveFrom"])
	assert.Equal(t, 2.0, r.body["revision"])
	assert.Equal(t, http.StatusOK, e.do(t, "edit-fee-policy.json", body(edited)).status, "the same edit again")

	assert.Equal(t, "fee_policy_not_found", e.do(t, "edit-fee-policy.json", body(edited), eventstest.WithPath("version", "7")).code())
	assert.Equal(t, "fee_policy_not_found", e.do(t, "edit-fee-policy.json", body(edited), eventstest.WithPath("version", "x#y")).code())
	assert.Equal(t, http.StatusForbidden, e.do(t, "edit-fee-policy.json", body(edited), as("deployer", "dep-a")).status)

	// A statement uses version 1 (revision 2): no edit from then on.
	h := fee.Header{Provider: provA, Month: "2027-02", Version: 1, PolicyVersion: 1, Fingerprint: strings.Repeat("a", 64), ComputedAt: now}
	require.NoError(t, e.db.SaveFeeStatement(ctx, fee.StatementRecord{Header: h, JSONKey: fee.FileKey(h, "json"), CSVKey: fee.FileKey(h, "csv")}, 2))
	r = e.do(t, "edit-fee-policy.json", body(fee.DefaultPolicy("2027-03")))
	assert.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, "fee_policy_in_use", r.code())
	p, err := e.db.FeePolicy(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, fee.Month("2027-02"), p.Policy.EffectiveFrom)

	// Providers read the versions, not who made them.
	list := e.do(t, "list-fee-policies.json")
	require.Equal(t, http.StatusOK, list.status)
	item := list.body["items"].([]any)[0].(map[string]any)
	assert.Equal(t, true, item["used"])
	assert.NotContains(t, list.raw, "rita")
	assert.Contains(t, e.do(t, "list-fee-policies.json", as("reviewer", "")).raw, "rita")
	assert.Equal(t, http.StatusForbidden, e.do(t, "list-fee-policies.json", as("vendor", "v1")).status)
}

// statements stores a statement version for provider and month, files included, as the
// monthly run does.
func (e env) statement(t *testing.T, provider string, m fee.Month, version int, total int64) {
	t.Helper()
	ctx := context.Background()
	if all, _ := e.db.FeePolicies(ctx); len(all) == 0 {
		require.NoError(t, e.db.CreateFeePolicy(ctx, &fee.PolicyRecord{Policy: fee.DefaultPolicy("2026-01")}, nil))
	}
	s := fee.Statement{Provider: provider, Month: m, PolicyVersion: 1, Policy: fee.DefaultPolicy("2026-01"), Version: version,
		Lines: []fee.Line{{SN: "00A000000012345X7Q2M9ZK", AmountFen: total, CapEffects: []string{}}}, TotalFen: total, Devices: 1, ComputedAt: now}
	s.Fingerprint = fee.FingerprintOf(s)
	rec := fee.StatementRecord{Header: fee.HeaderOf(s)}
	rec.JSONKey, rec.CSVKey = fee.FileKey(rec.Header, "json"), fee.FileKey(rec.Header, "csv")
	js, err := fee.JSON(s)
	require.NoError(t, err)
	cs, err := fee.CSV(s)
	require.NoError(t, err)
	rec.JSONVersion, err = e.objects.PutObject(ctx, rec.JSONKey, "application/json", js)
	require.NoError(t, err)
	rec.CSVVersion, err = e.objects.PutObject(ctx, rec.CSVKey, "text/csv", cs)
	require.NoError(t, err)
	require.NoError(t, e.db.SaveFeeStatement(ctx, rec, 1))
}

func fetch(t *testing.T, link any) string {
	t.Helper()
	url := link.(map[string]any)["url"].(string)
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b)
}

// A provider reads its own statements, JSON and CSV through the links; never another's.
func TestProvidersReadOnlyTheirOwnStatements(t *testing.T) {
	e := newEnv(t)
	e.statement(t, provA, "2026-09", 1, 1000)
	e.statement(t, provA, "2026-10", 1, 2000)
	e.statement(t, provA, "2026-10", 2, 2500)
	e.statement(t, provB, "2026-10", 1, 7000)
	e.statement(t, provB, "2026-08", 1, 100)

	a, b := as("deployer", "dep-a"), as("deployer", "dep-b")
	r := e.do(t, "get-fee-statement.json", a)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, 2.0, r.body["version"])
	assert.Equal(t, 2500.0, r.body["totalFen"])
	files := r.body["files"].(map[string]any)
	var doc fee.Statement
	require.NoError(t, json.Unmarshal([]byte(fetch(t, files["json"])), &doc))
	assert.Equal(t, provA, doc.Provider)
	assert.Equal(t, int64(2500), doc.TotalFen)
	assert.Contains(t, fetch(t, files["csv"]), provA+",2026-10,2,1,TOTAL")
	assert.Equal(t, "fee-statement-"+provA+"-2026-10-v2.csv", files["csv"].(map[string]any)["fileName"])

	v1 := e.do(t, "get-fee-statement.json", a, eventstest.WithQuery("version", "1"))
	assert.Equal(t, 2000.0, v1.body["totalFen"])
	assert.Equal(t, "invalid_version", e.do(t, "get-fee-statement.json", a, eventstest.WithQuery("version", "x")).code())

	// dep-b has no September: dep-a's September is not found for it.
	notMine := e.do(t, "get-fee-statement.json", b, eventstest.WithPath("month", "2026-09"))
	assert.Equal(t, http.StatusNotFound, notMine.status)
	assert.Equal(t, "fee_statement_not_found", notMine.code())
	assert.Equal(t, 7000.0, e.do(t, "get-fee-statement.json", b).body["totalFen"], "its own October")
	assert.Equal(t, http.StatusNotFound, e.do(t, "get-fee-statement.json", a, eventstest.WithPath("month", "2026-13")).status)

	list := e.do(t, "list-fee-statements.json", a)
	require.Equal(t, http.StatusOK, list.status)
	items := list.body["items"].([]any)
	require.Len(t, items, 3)
	for _, it := range items {
		assert.Equal(t, provA, it.(map[string]any)["provider"])
	}
	assert.NotContains(t, list.raw, provB)
	assert.NotContains(t, list.raw, "jsonKey", "object keys stay internal")

	// Other roles and the reviewers' routes.
	assert.Equal(t, http.StatusForbidden, e.do(t, "get-fee-statement.json", as("vendor", "dep-a")).status)
	assert.Equal(t, http.StatusForbidden, e.do(t, "list-fee-statements.json", as("merchant", "dep-a")).status)
	unapproved := e.do(t, "list-fee-statements.json", as("deployer", "dep-c"))
	assert.Equal(t, http.StatusNotFound, unapproved.status, "an organisation not approved as a provider has no statements")
	assert.Equal(t, "deployer_not_approved", unapproved.code())
	assert.Equal(t, http.StatusForbidden, e.do(t, "review-fee-statement.json", a).status)
	assert.Equal(t, http.StatusForbidden, e.do(t, "list-month-fee-statements.json", a).status)
	rev := e.do(t, "review-fee-statement.json", eventstest.WithPath("provider", provB))
	require.Equal(t, http.StatusOK, rev.status, rev.raw)
	assert.Equal(t, 7000.0, rev.body["totalFen"])
	month := e.do(t, "list-month-fee-statements.json")
	require.Equal(t, http.StatusOK, month.status)
	assert.Len(t, month.body["items"].([]any), 3, "October: dep-a v1, v2 and dep-b v1")
	assert.Equal(t, "invalid_month", e.do(t, "list-month-fee-statements.json", eventstest.WithQuery("month", "10/2026")).code())
	assert.Equal(t, http.StatusNotFound, e.do(t, "review-fee-statement.json", eventstest.WithPath("provider", "a#b")).status)
}
