// Package handler serves vendors' model registration: an approved vendor registers a model
// (sent to review at once), reads it and its history, and resubmits it after a rejection.
// Decisions are released on Mondays; approval assigns the model code and starts the model's
// certification pipeline.
package handler

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

type modelStore interface {
	Vendor(ctx context.Context, org string) (domain.Vendor, error)
	CreateModel(ctx context.Context, m *domain.Model, c domain.Change, claims ...store.Claim) error
	ClaimOf(ctx context.Context, scope string) (store.Claim, error)
	ResubmitModel(ctx context.Context, m *domain.Model, previousName string, changes ...domain.Change) error
	Model(ctx context.Context, id string) (*domain.Model, error)
	ModelHistory(ctx context.Context, id string) ([]domain.Change, error)
	ModelsOf(ctx context.Context, org, cursor string, limit int) (store.Page[domain.Model], error)
}

type handler struct {
	db    modelStore
	now   func() time.Time
	newID func() string
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("TABLE_NAME", "CURSOR_KEY")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	table := env["TABLE_NAME"]
	h := &handler{db: store.New(store.NewClient(c), table, store.WithCursorKey(env["CURSOR_KEY"])), now: d.Now, newID: func() string { return ids.New("mdl") }}
	return h.router().Handle, nil
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"POST /models":               h.register,
		"GET /models":                h.list,
		"GET /models/{id}":           h.get,
		"POST /models/{id}/resubmit": h.resubmit,
		"GET /models/{id}/history":   h.history,
	}
}

// register records a model for review. Only an approved vendor (one with a vendor code) may
// register; with an Idempotency-Key a retry returns the model the first call made.
func (h *handler) register(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	var in domain.ModelSpecInput
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	spec, err := in.Parse()
	if err != nil {
		return httpapi.Response{}, err
	}
	idem, err := httpapi.IdempotencyOf(req, c, "registerModel", in)
	if err != nil {
		return httpapi.Response{}, err
	}
	v, err := h.db.Vendor(ctx, c.Org)
	if domain.KindOf(err) == domain.NotFound {
		return httpapi.Response{}, domain.Errorf(domain.Forbidden, "vendor_not_approved",
			"only an approved device vendor can register models; %s has no vendor code yet", c.Org)
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	id := h.newID()
	var claims []store.Claim
	if idem.Key != "" {
		id = ids.Derived("mdl", idem.Scope)
		claims = append(claims, store.Claim{Scope: idem.Scope, Fingerprint: idem.Fingerprint, EntityID: id, At: h.now()})
	}
	m, ch := domain.RegisterModel(id, c, v, spec, h.now())
	if err := h.db.CreateModel(ctx, m, ch, claims...); err != nil {
		if idem.Key != "" && errors.Is(err, domain.ErrConflict) {
			// A repeat: the same request gets the model the first made, another one 422.
			// Without a claim the conflict was something else (a name already taken) and stands.
			cl, cerr := h.db.ClaimOf(ctx, idem.Scope)
			switch {
			case domain.KindOf(cerr) == domain.NotFound:
			case cerr != nil:
				return httpapi.Response{}, cerr
			case cl.Fingerprint != idem.Fingerprint:
				return httpapi.Response{}, domain.ErrIdempotencyKeyReused.Withf("Idempotency-Key %q was used with a different request; use a new key", idem.Key)
			default:
				prev, err := h.owned(ctx, c, cl.EntityID)
				if err != nil {
					return httpapi.Response{}, err
				}
				return httpapi.JSON(http.StatusOK, prev.ForOwner()), nil
			}
		}
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusCreated, m.ForOwner()), nil
}

func (h *handler) list(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	limit, err := httpapi.Limit(req, 50)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.ModelsOf(ctx, c.Org, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := store.Page[*domain.Model]{Next: page.Next, Items: make([]*domain.Model, len(page.Items))}
	for i := range page.Items {
		out.Items[i] = page.Items[i].ForOwner()
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// owned loads a model of the caller's organisation; another vendor's model is "not found".
func (h *handler) owned(ctx context.Context, c domain.Caller, id string) (*domain.Model, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return nil, err
	}
	m, err := h.db.Model(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Owns(m.VendorOrg) {
		return nil, domain.Errorf(domain.NotFound, "model_not_found", "model %s does not exist", id)
	}
	return m, nil
}

func (h *handler) get(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.owned(ctx, c, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, m.ForOwner()), nil
}

func (h *handler) history(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.owned(ctx, c, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	hist, err := h.db.ModelHistory(ctx, m.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": domain.OwnerHistory(hist)}), nil
}

// resubmit changes a rejected model and sends it back to review; repeating it is harmless.
func (h *handler) resubmit(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var in domain.ModelSpecInput
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	spec, err := in.Parse()
	if err != nil {
		return httpapi.Response{}, err
	}
	var m *domain.Model
	err = store.Retry(ctx, store.RetryAttempts, func() error { // a loser of a race reloads and finds it done
		if m, err = h.owned(ctx, c, req.PathParameters["id"]); err != nil {
			return err
		}
		if m.Status == domain.ModelUnderReview && m.Round > 1 {
			return nil // a retried resubmit
		}
		previousName := m.Name
		ch, err := m.Resubmit(c, spec, h.now())
		if err != nil {
			return err
		}
		return h.db.ResubmitModel(ctx, m, previousName, ch)
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, m.ForOwner()), nil
}
