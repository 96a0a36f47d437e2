package handler

import (
	"context"
	"net/http"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/store"
)

// Pay Score applications plug into the same held decisions: two queues (the application
// review, released on Mondays; the go-live acceptance, released on Tuesdays and Thursdays),
// the same decide helper. With the application review the reviewer records the business
// licence's scope; an approval whose recorded scope does not cover the scenario is refused
// (licence_scope_mismatch).

// payScoreQueue lists ?stage=application (default) or acceptance, ?status=pending|decided.
func (h *handler) payScoreQueue(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	q := store.PayScoreReviewQueue
	switch httpapi.Query(req, "stage", "application") {
	case "application":
	case "acceptance":
		q = store.PayScoreAcceptanceQueue
	default:
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "invalid_stage", "stage must be application or acceptance")
	}
	f, err := h.queueFilter(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.payscore.PayScoreQueue(ctx, q, f)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := store.Page[reviewItem[domain.PayScoreApplication]]{Next: page.Next, Items: []reviewItem[domain.PayScoreApplication]{}}
	for _, p := range page.Items {
		out.Items = append(out.Items, reviewItem[domain.PayScoreApplication]{Item: p, Decision: p.Decision})
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

func (h *handler) payScore(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	p, err := h.payscore.PayScore(ctx, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	hist, err := h.payscore.PayScoreHistory(ctx, p.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	downloads, err := h.downloads(ctx, p.Attachments)
	if err != nil {
		return httpapi.Response{}, err
	}
	item := reviewItem[*domain.PayScoreApplication]{Item: p, Decision: p.Decision, History: hist, Downloads: downloads}
	return httpapi.JSON(http.StatusOK, item), nil
}

type payScoreDecisionRequest struct {
	Decision      string   `json:"decision" maxLength:"10"` // approve | reject
	Reason        string   `json:"reason" maxLength:"2000"`
	LicenceScopes []string `json:"licenceScopes" maxLength:"40" maxItems:"4"` // the application review: what the licence covers
}

func (h *handler) decidePayScore(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var body payScoreDecisionRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	approve, err := domain.ParseVerdict(body.Decision)
	if err != nil {
		return httpapi.Response{}, err
	}
	load := func(ctx context.Context, id string) (*domain.PayScoreApplication, error) {
		p, err := h.payscore.PayScore(ctx, id)
		if err != nil {
			return nil, err
		}
		if p.Status == domain.PayScoreUnderReview {
			if err := p.RecordLicenceScopes(body.LicenceScopes); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	p, err := decideHeld(ctx, h, c, req.PathParameters["id"], approve, body.Reason, load, h.payscore.HoldPayScoreDecision)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, reviewItem[*domain.PayScoreApplication]{Item: p, Decision: p.Decision}), nil
}
