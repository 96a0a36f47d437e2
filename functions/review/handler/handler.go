// Package handler serves the reviewers' admin API: the review queues of partner applications
// and models, each item with short-lived download links to its files, and decisions. A
// decision is held, and may be revised, until the weekly release publishes it.
package handler

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

type reviewStore interface {
	Application(ctx context.Context, id string) (*domain.Application, error)
	HoldApplicationDecision(ctx context.Context, a *domain.Application, ch domain.Change) error
	ApplicationHistory(ctx context.Context, id string) ([]domain.Change, error)
	ApplicationQueue(ctx context.Context, t domain.PartnerType, f store.QueueFilter) (store.Page[domain.Application], error)
	Model(ctx context.Context, id string) (*domain.Model, error)
	HoldModelDecision(ctx context.Context, m *domain.Model, ch domain.Change) error
	ModelHistory(ctx context.Context, id string) ([]domain.Change, error)
	ModelQueue(ctx context.Context, f store.QueueFilter) (store.Page[domain.Model], error)
}

// payScoreReviews is the store as the Pay Score review routes use it (payscore.go).
type payScoreReviews interface {
	PayScore(ctx context.Context, id string) (*domain.PayScoreApplication, error)
	HoldPayScoreDecision(ctx context.Context, p *domain.PayScoreApplication, ch domain.Change) error
	PayScoreHistory(ctx context.Context, id string) ([]domain.Change, error)
	PayScoreQueue(ctx context.Context, q store.ReviewQueue, f store.QueueFilter) (store.Page[domain.PayScoreApplication], error)
}

type downloads interface {
	PresignDownload(ctx context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error)
}

type handler struct {
	db       reviewStore
	payscore payScoreReviews
	files    downloads
	now      func() time.Time
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME", "CURSOR_KEY")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	table, bucket := env["TABLE_NAME"], env["BUCKET_NAME"]
	db := store.New(store.NewClient(c), table, store.WithCursorKey(env["CURSOR_KEY"]))
	h := &handler{db: db, payscore: db, files: blob.New(blob.NewClient(c), bucket), now: d.Now}
	return h.router().Handle, nil
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"GET /admin/applications":                         h.reviewer(h.applicationQueue),
		"GET /admin/applications/{id}":                    h.reviewer(h.application),
		"POST /admin/applications/{id}/decision":          h.reviewer(h.decideApplication),
		"GET /admin/models":                               h.reviewer(h.modelQueue),
		"GET /admin/models/{id}":                          h.reviewer(h.model),
		"POST /admin/models/{id}/decision":                h.reviewer(h.decideModel),
		"GET /admin/payscore/applications":                h.reviewer(h.payScoreQueue),
		"GET /admin/payscore/applications/{id}":           h.reviewer(h.payScore),
		"POST /admin/payscore/applications/{id}/decision": h.reviewer(h.decidePayScore),
	}
}

// reviewer admits only the reviewer role: every route of the admin API goes through it.
func (h *handler) reviewer(r httpapi.Route) httpapi.Route {
	return func(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
		if err := c.Require(domain.RoleReviewer); err != nil {
			return httpapi.Response{}, err
		}
		return r(ctx, c, req)
	}
}

// queueFilter reads status (pending|decided, default pending), minAgeDays, limit and cursor.
func (h *handler) queueFilter(req httpapi.Request) (store.QueueFilter, error) {
	f := store.QueueFilter{State: httpapi.Query(req, "status", store.QueuePending), Cursor: httpapi.Query(req, "cursor", "")}
	if f.State != store.QueuePending && f.State != store.QueueDecided {
		return f, domain.Errorf(domain.Invalid, "invalid_status", "status must be pending or decided")
	}
	if v, ok := req.QueryStringParameters["minAgeDays"]; ok {
		days, err := strconv.Atoi(v)
		if err != nil || days < 0 || days > 3650 {
			return f, domain.Errorf(domain.Invalid, "invalid_age", "minAgeDays must be a whole number of days")
		}
		f.SubmittedUntil = h.now().Add(-time.Duration(days) * 24 * time.Hour)
	}
	var err error
	f.Limit, err = httpapi.Limit(req, 50)
	return f, err
}

// reviewItem is what a reviewer sees of an entity: all of it, the held decision, the history
// as stored (held decisions and reviewers' names included) and, for a model, its pipeline's
// execution ARN.
type reviewItem[T any] struct {
	Item      T                        `json:"item"`
	Decision  *domain.Decision         `json:"decision,omitempty"`
	Downloads map[string]blob.Download `json:"downloads,omitempty"`
	History   []domain.Change          `json:"history,omitempty"`
}

func (h *handler) applicationQueue(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	t, err := domain.ParsePartnerType(httpapi.Query(req, "partnerType", string(domain.PartnerDeviceVendor)))
	if err != nil {
		return httpapi.Response{}, err
	}
	f, err := h.queueFilter(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.ApplicationQueue(ctx, t, f)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := store.Page[reviewItem[domain.Application]]{Next: page.Next, Items: []reviewItem[domain.Application]{}}
	for _, a := range page.Items {
		out.Items = append(out.Items, reviewItem[domain.Application]{Item: a, Decision: a.Decision})
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

func (h *handler) application(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	a, err := h.db.Application(ctx, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	hist, err := h.db.ApplicationHistory(ctx, a.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	downloads, err := h.downloads(ctx, a.Attachments)
	if err != nil {
		return httpapi.Response{}, err
	}
	item := reviewItem[*domain.Application]{Item: a, Decision: a.Decision, History: hist, Downloads: downloads}
	return httpapi.JSON(http.StatusOK, item), nil
}

// downloads presigns a download of every received attachment, so a reviewer opens the files
// the applicant sent.
func (h *handler) downloads(ctx context.Context, attachments map[string]*domain.Attachment) (map[string]blob.Download, error) {
	out := map[string]blob.Download{}
	for _, s := range slices.Sorted(maps.Keys(attachments)) {
		att := attachments[s]
		if att.Status != domain.AttachmentReceived {
			continue
		}
		d, err := h.files.PresignDownload(ctx, att.Key, att.VersionID, att.FileName, h.now())
		if err != nil {
			return nil, err
		}
		out[s] = d
	}
	return out, nil
}

type decisionRequest struct {
	Decision string `json:"decision" maxLength:"10"` // approve | reject
	Reason   string `json:"reason" maxLength:"2000"`
}

func decodeDecision(req httpapi.Request) (approve bool, reason string, err error) {
	var body decisionRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return false, "", err
	}
	approve, err = domain.ParseVerdict(body.Decision)
	return approve, body.Reason, err
}

func (h *handler) decideApplication(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	approve, reason, err := decodeDecision(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	a, err := decideHeld(ctx, h, c, req.PathParameters["id"], approve, reason, h.db.Application, h.db.HoldApplicationDecision)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, reviewItem[*domain.Application]{Item: a, Decision: a.Decision}), nil
}

// decideHeld is every held-decision route (domain.Reviewable): load the entity named by the
// path, record the reviewer's decision or revision, store it held. A decision that loses a
// race reloads: an identical one then finds it held and answers as the winner did.
func decideHeld[E domain.Reviewable](ctx context.Context, h *handler, c domain.Caller, id string, approve bool, reason string,
	load func(context.Context, string) (E, error), hold func(context.Context, E, domain.Change) error) (E, error) {
	var e E
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		var err error
		if e, err = load(ctx, id); err != nil {
			return err
		}
		if e.HeldDecision().Same(approve, reason) && e.UnderReview() {
			return nil
		}
		ch, err := e.Decide(c, approve, reason, h.now())
		if err != nil {
			return err
		}
		return hold(ctx, e, ch)
	})
	return e, err
}

func (h *handler) modelQueue(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	f, err := h.queueFilter(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.ModelQueue(ctx, f)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := store.Page[reviewItem[domain.Model]]{Next: page.Next, Items: []reviewItem[domain.Model]{}}
	for _, m := range page.Items {
		out.Items = append(out.Items, reviewItem[domain.Model]{Item: m, Decision: m.Decision})
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

func (h *handler) model(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.db.Model(ctx, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	hist, err := h.db.ModelHistory(ctx, m.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, reviewItem[*domain.Model]{Item: m, Decision: m.Decision, History: hist}), nil
}

func (h *handler) decideModel(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	approve, reason, err := decodeDecision(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	m, err := decideHeld(ctx, h, c, req.PathParameters["id"], approve, reason, h.db.Model, h.db.HoldModelDecision)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, reviewItem[*domain.Model]{Item: m, Decision: m.Decision}), nil
}
