package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/store"
)

// feeFigures and feeBindings stand in for issue 13's figures and bindings: the monthly run
// reads only fee.FigureSource and fee.ConfirmationSource.
type feeFigures map[string]map[fee.Date]int64

func (f feeFigures) FeeUnits(_ context.Context, m fee.Month, _ fee.ValidPayment) (map[string]map[fee.Date]int64, error) {
	return f, nil
}

type feeBindings map[string][]fee.Confirmation

func (b feeBindings) ConfirmedDuring(context.Context, fee.Month) (map[string][]fee.Confirmation, error) {
	return b, nil
}

func (b feeBindings) ConfirmationsOf(_ context.Context, sn string) ([]fee.Confirmation, error) {
	return b[sn], nil
}

func deployer(org string) cloud.Identity {
	return cloud.Identity{Subject: "ops-" + org, Org: org, Role: "deployer"}
}

// Through the gateway: a reviewer creates the policy; November's statements are computed on
// the table and bucket the functions use; each provider reads its own (JSON and CSV through
// the links, checked by S3), never the other's; a used policy version is not edited.
func TestFee_PolicyStatementsAndTheirReaders(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	ctx := context.Background()
	rev := cloudtest.As(t, c, reviewer)
	a, b := cloudtest.As(t, c, deployer("dep-a")), cloudtest.As(t, c, deployer("dep-b"))

	policy := fee.DefaultPolicy("2026-11")
	r := rev.Do("POST", "/admin/fee/policies", policy, "Idempotency-Key", "fee-policy-1")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	assert.Equal(t, http.StatusOK, rev.Do("POST", "/admin/fee/policies", policy, "Idempotency-Key", "fee-policy-1").Status)
	assert.Equal(t, "forbidden_role", a.Do("POST", "/admin/fee/policies", policy).Code())
	assert.Equal(t, "fee_policy_retroactive", rev.Do("POST", "/admin/fee/policies", fee.DefaultPolicy("2026-10")).Code())

	// November, computed as the schedule will on December 1 (once issue 13's sources exist).
	in := func(s string) time.Time { t, _ := time.ParseInLocation("2006-01-02", s, shanghai); return t }
	binding := feeBindings{
		"00A000000000000001AAAAA": {{Provider: "dep-a", From: in("2026-10-05")}},
		"00A000000000000002AAAAA": {{Provider: "dep-b", From: in("2026-10-05")}},
	}
	units := feeFigures{
		"00A000000000000001AAAAA": {"2026-11-02": 4, "2026-11-03": 6},
		"00A000000000000002AAAAA": {"2026-11-02": 1},
	}
	db := store.New(c.DynamoDB, mainTable(t, c))
	for sn, cs := range binding {
		require.NoError(t, db.CreateFeeEnrolment(ctx, fee.Enrolment{Provider: cs[0].Provider, SN: sn, Date: "2026-10-05", ConfirmedFrom: cs[0].From}))
	}
	run := fee.Runner{Figures: units, Confirmations: binding, Store: db, Objects: blob.New(c.S3, c.Template.Buckets[0].Name)}
	_, err := run.Run(ctx, in("2026-12-01"), "2026-11")
	require.NoError(t, err)

	got := a.Do("GET", "/fee/statements/2026-11", nil)
	require.Equal(t, http.StatusOK, got.Status, string(got.Raw))
	assert.Equal(t, 500.0, got.Body["totalFen"], "(4 + 6) × 50 fen")
	files := got.Body["files"].(map[string]any)
	csv := download(t, files["csv"])
	assert.Contains(t, csv, "dep-a,2026-11,1,1,00A000000000000001AAAAA")
	assert.NotContains(t, csv, "00A000000000000002AAAAA")
	assert.Contains(t, download(t, files["json"]), `"provider": "dep-a"`)

	assert.Equal(t, 50.0, b.Do("GET", "/fee/statements/2026-11", nil).Body["totalFen"], "dep-b reads its own")
	list := b.Do("GET", "/fee/statements", nil)
	require.Equal(t, http.StatusOK, list.Status)
	assert.NotContains(t, string(list.Raw), "dep-a")
	assert.Equal(t, "forbidden_role", b.Do("GET", "/admin/fee/statements/dep-a/2026-11", nil).Code())
	assert.Equal(t, "fee_statement_not_found", cloudtest.As(t, c, deployer("dep-c")).Do("GET", "/fee/statements/2026-11", nil).Code())

	month := rev.Do("GET", "/admin/fee/statements?month=2026-11", nil)
	require.Equal(t, http.StatusOK, month.Status)
	assert.Len(t, month.Body["items"], 2)
	assert.Equal(t, 500.0, rev.Do("GET", "/admin/fee/statements/dep-a/2026-11", nil).Body["totalFen"])

	edit := rev.Do("PUT", "/admin/fee/policies/1", fee.DefaultPolicy("2026-12"))
	assert.Equal(t, http.StatusConflict, edit.Status)
	assert.Equal(t, "fee_policy_in_use", edit.Code())
	pols := a.Do("GET", "/fee/policies", nil)
	require.Equal(t, http.StatusOK, pols.Status)
	assert.Equal(t, true, pols.Body["items"].([]any)[0].(map[string]any)["used"])
}

func download(t *testing.T, link any) string {
	t.Helper()
	resp, err := http.Get(link.(map[string]any)["url"].(string))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return strings.TrimSpace(string(body))
}
