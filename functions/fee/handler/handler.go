// Package handler serves the technical service fee (DOMAIN.md "Technical service fee"):
// reviewers create and edit policy versions (a version a statement used is never edited);
// deployment providers read their own monthly statements, reviewers everyone's, each as a
// header with short-lived links to its JSON and CSV files; providers sign their confirmed
// devices up (signups.go). A provider is known by its number (the one vendors fill in and
// bindings carry), looked up from the caller's organisation: a caller names no provider.
package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

// feeStore is the fee part of the store.
type feeStore interface {
	FeePolicies(ctx context.Context) ([]fee.PolicyRecord, error)
	FeePolicy(ctx context.Context, v int) (fee.PolicyRecord, error)
	CreateFeePolicy(ctx context.Context, r *fee.PolicyRecord, c *store.Claim) error
	UpdateFeePolicy(ctx context.Context, r *fee.PolicyRecord) error
	ClaimOf(ctx context.Context, scope string) (store.Claim, error)
	LatestFeeStatement(ctx context.Context, provider string, m fee.Month) (fee.StatementRecord, error)
	FeeStatement(ctx context.Context, provider string, m fee.Month, v int) (fee.StatementRecord, error)
	FeeStatementsOf(ctx context.Context, provider, cursor string, limit int) (store.Page[fee.StatementRecord], error)
	FeeStatementsForMonth(ctx context.Context, m fee.Month, cursor string, limit int) (store.Page[fee.StatementRecord], error)
	Deployer(ctx context.Context, org string) (domain.Deployer, error)
}

var _ feeStore = (*store.DB)(nil)

// links signs downloads of statement files.
type links interface {
	PresignDownload(ctx context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error)
}

type handler struct {
	db      feeStore
	files   links
	now     func() time.Time
	signups *signups
}

// New builds the function from its environment (TABLE_NAME, BUCKET_NAME, CURSOR_KEY).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME", "CURSOR_KEY")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	db := store.New(store.NewClient(c), env["TABLE_NAME"], store.WithCursorKey(env["CURSOR_KEY"]))
	h := &handler{db: db, files: blob.New(blob.NewClient(c), env["BUCKET_NAME"]), now: d.Now}
	h.signups = &signups{binding: store.FeeSource{DB: db}, db: db, providers: db, now: d.Now}
	return h.router().Handle, nil
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"POST /admin/fee/policies":                     h.createPolicy,
		"PUT /admin/fee/policies/{version}":            h.editPolicy,
		"GET /fee/policies":                            h.listPolicies,
		"GET /fee/statements":                          h.listStatements,
		"GET /fee/statements/{month}":                  h.statement,
		"GET /admin/fee/statements":                    h.listMonth,
		"GET /admin/fee/statements/{provider}/{month}": h.reviewStatement,
		"POST /fee/signups":                            h.signups.signUp,
		"GET /fee/signups":                             h.signups.list,
	}
}

// createPolicy: a reviewer creates the next policy version. With an Idempotency-Key a retry
// answers the version the first call made (200); without one, a policy equal to the latest
// version is that version (200), so a plain retry creates nothing either.
func (h *handler) createPolicy(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var in fee.Policy
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	in.Version = 0
	idem, err := httpapi.IdempotencyOf(req, c, "createFeePolicy", in)
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	now := h.now()
	if err := fee.CheckNewPolicy(in, now); err != nil {
		return httpapi.Response{}, err
	}
	var out fee.PolicyRecord
	created := false
	err = store.Retry(ctx, store.RetryAttempts, func() error {
		if idem.Key != "" {
			cl, err := h.db.ClaimOf(ctx, idem.Scope)
			switch {
			case err == nil && cl.Fingerprint != idem.Fingerprint:
				return domain.ErrIdempotencyKeyReused.Withf("Idempotency-Key %q was used with a different request; use a new key", idem.Key)
			case err == nil:
				v, _ := strconv.Atoi(cl.EntityID)
				out, err = h.db.FeePolicy(ctx, v)
				return err
			case domain.KindOf(err) != domain.NotFound:
				return err
			}
		} else if latest, err := h.latestPolicy(ctx); err != nil {
			return err
		} else if latest != nil && samePolicy(latest.Policy, in) {
			out = *latest
			return nil
		}
		r := fee.PolicyRecord{Policy: in, CreatedBy: c.Subject, CreatedAt: now.UTC()}
		var claim *store.Claim
		if idem.Key != "" {
			claim = &store.Claim{Scope: idem.Scope, Fingerprint: idem.Fingerprint, At: now.UTC()}
		}
		if err := h.db.CreateFeePolicy(ctx, &r, claim); err != nil {
			return err
		}
		out, created = r, true
		return nil
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	if created {
		return httpapi.JSON(http.StatusCreated, out), nil
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

func (h *handler) latestPolicy(ctx context.Context) (*fee.PolicyRecord, error) {
	all, err := h.db.FeePolicies(ctx)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return &all[len(all)-1], nil
}

func samePolicy(a, b fee.Policy) bool {
	a.Version, b.Version = 0, 0
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// editPolicy: a reviewer replaces a version no statement has used yet (409 fee_policy_in_use
// once one has). The same content again changes nothing.
func (h *handler) editPolicy(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var in fee.Policy
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	v, err := strconv.Atoi(req.PathParameters["version"])
	if err != nil || v < 1 {
		return httpapi.Response{}, domain.Errorf(domain.NotFound, "fee_policy_not_found", "fee policy version %q does not exist", req.PathParameters["version"])
	}
	in.Version = v
	if err := fee.CheckNewPolicy(in, h.now()); err != nil {
		return httpapi.Response{}, err
	}
	var out fee.PolicyRecord
	err = store.Retry(ctx, store.RetryAttempts, func() error {
		r, err := h.db.FeePolicy(ctx, v)
		if err != nil {
			return err
		}
		if samePolicy(r.Policy, in) {
			out = r
			return nil
		}
		if r.UsedAt != nil {
			return domain.Errorf(domain.Conflict, "fee_policy_in_use", "fee policy version %d was used by a statement and is never edited; create a new version", v)
		}
		r.Policy = in
		if err := h.db.UpdateFeePolicy(ctx, &r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// PolicyView is a policy version as providers read it: who created it stays internal.
type PolicyView struct {
	Policy fee.Policy `json:"policy"`
	Used   bool       `json:"used"`
}

// listPolicies: every version, oldest first, for deployers and reviewers (reviewers also see
// who created each and when it was first used).
func (h *handler) listPolicies(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleDeployer, domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	all, err := h.db.FeePolicies(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	if c.Role == domain.RoleReviewer {
		if all == nil {
			all = []fee.PolicyRecord{}
		}
		return httpapi.JSON(http.StatusOK, map[string]any{"items": all}), nil
	}
	out := make([]PolicyView, len(all))
	for i, r := range all {
		out[i] = PolicyView{Policy: r.Policy, Used: r.UsedAt != nil}
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": out}), nil
}

// StatementView is a statement version with links to its files.
type StatementView struct {
	fee.Header
	Files map[string]blob.Download `json:"files"`
}

// listStatements: the caller's own statement versions, newest month first.
func (h *handler) listStatements(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	provider, err := providerOf(ctx, h.db, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	limit, err := httpapi.Limit(req, 50)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.FeeStatementsOf(ctx, provider, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, headers(page)), nil
}

func headers(p store.Page[fee.StatementRecord]) store.Page[fee.Header] {
	out := store.Page[fee.Header]{Next: p.Next, Items: make([]fee.Header, len(p.Items))}
	for i, r := range p.Items {
		out.Items[i] = r.Header
	}
	return out
}

// statement: the caller's statement for a month (the latest version, or ?version=n).
func (h *handler) statement(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	provider, err := providerOf(ctx, h.db, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	return h.read(ctx, provider, req)
}

type deployers interface {
	Deployer(ctx context.Context, org string) (domain.Deployer, error)
}

// providerOf is the calling deployment provider's number: statements, bindings and sign-ups
// are keyed by it. A deployer whose organisation was not approved as a provider has none
// (404 deployer_not_approved).
func providerOf(ctx context.Context, db deployers, c domain.Caller) (string, error) {
	if err := c.Require(domain.RoleDeployer); err != nil {
		return "", err
	}
	d, err := db.Deployer(ctx, c.Org)
	if err != nil {
		return "", err
	}
	return d.Number, nil
}

// reviewStatement: a reviewer reads any provider's statement for a month.
func (h *handler) reviewStatement(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	return h.read(ctx, req.PathParameters["provider"], req)
}

func (h *handler) read(ctx context.Context, provider string, req httpapi.Request) (httpapi.Response, error) {
	m := fee.Month(req.PathParameters["month"])
	notFound := domain.Errorf(domain.NotFound, "fee_statement_not_found", "no statement for %s", m)
	if m.Validate("month") != nil || !keySafe(provider) {
		return httpapi.Response{}, notFound
	}
	var r fee.StatementRecord
	var err error
	if v := httpapi.Query(req, "version", ""); v != "" {
		n, cerr := strconv.Atoi(v)
		if cerr != nil || n < 1 || n > 9999 {
			return httpapi.Response{}, domain.Errorf(domain.Invalid, "invalid_version", "version must be a statement version number")
		}
		r, err = h.db.FeeStatement(ctx, provider, m, n)
	} else {
		r, err = h.db.LatestFeeStatement(ctx, provider, m)
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	now := h.now()
	view := StatementView{Header: r.Header, Files: map[string]blob.Download{}}
	for ext, f := range map[string][2]string{"json": {r.JSONKey, r.JSONVersion}, "csv": {r.CSVKey, r.CSVVersion}} {
		name := "fee-statement-" + r.Provider + "-" + string(r.Month) + "-v" + strconv.Itoa(r.Version) + "." + ext
		if view.Files[ext], err = h.files.PresignDownload(ctx, f[0], f[1], name, now); err != nil {
			return httpapi.Response{}, err
		}
	}
	return httpapi.JSON(http.StatusOK, view), nil
}

// keySafe refuses names (organisations, SNs) that could not be one: printable ASCII without
// '#' or '/', at most 100 characters, so no name reaches a key it does not own.
func keySafe(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if r == '#' || r == '/' || r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// listMonth: every provider's statement versions for ?month=YYYY-MM (default: last month, the
// one the schedule stated most recently), by provider (reviewers).
func (h *handler) listMonth(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	m := fee.Month(httpapi.Query(req, "month", string(fee.MonthOf(h.now()).AddMonths(-1))))
	if err := m.Validate("month"); err != nil {
		return httpapi.Response{}, err
	}
	limit, err := httpapi.Limit(req, 50)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.FeeStatementsForMonth(ctx, m, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, headers(page)), nil
}
