// Package handler is the target of the Pay Score workflow's tasks
// (statemachines/payscore.asl.json). A callback task (taskToken set) hands it the step's
// token, which it keeps in the table, keyed by application and step, for the API call or the
// release that completes the step; the token never reaches a client. When the application has
// already passed the step (the merchant signed before the workflow reached the wait), it
// completes the step itself. The other steps are the workflow's timers: begin (where the
// submitted application is), start_review (next week's review has come: under review if the
// phone is verified, else deferred again), service_ready (the service ID's due date),
// expire (a callback timed out). Every step is idempotent under Lambda's retries.
package handler

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/workflow"
)

// Event is the Payload the state machine's tasks send.
type Event struct {
	Step          string `json:"step"`
	ApplicationID string `json:"applicationId"`
	TaskToken     string `json:"taskToken,omitempty"`
	Reason        string `json:"reason,omitempty"` // expire: why
}

// Result is where the application is, for the workflow's Choice and Wait states.
type Result struct {
	Status        domain.PayScoreStatus `json:"status"`
	DeferredUntil string                `json:"deferredUntil"` // RFC 3339, "" when not deferred
}

// InvalidEvent is an event the workflow should never send.
type InvalidEvent struct{ Reason string }

func (e *InvalidEvent) Error() string { return "invalid Pay Score task event: " + e.Reason }

type payScoreStore interface {
	PayScore(ctx context.Context, id string) (*domain.PayScoreApplication, error)
	SavePayScore(ctx context.Context, p *domain.PayScoreApplication, changes ...domain.Change) error
	PutPayScoreToken(ctx context.Context, t store.PayScoreToken) error
	PayScoreTokenOf(ctx context.Context, id, step string) (store.PayScoreToken, error)
}

type resumer interface {
	ResumePayScore(ctx context.Context, a *domain.PayScoreApplication, step string, tokenOf func(ctx context.Context, id, step string) (string, error)) error
}

type handler struct {
	db       payScoreStore
	workflow resumer
	now      func() time.Time
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, Event) (Result, error), error) {
	env, err := d.Require("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	// Completing a task needs only its token, not the state machine's ARN.
	h := &handler{db: store.New(store.NewClient(c), env["TABLE_NAME"]), workflow: workflow.New(workflow.NewClient(c), ""), now: d.Now}
	return h.handle, nil
}

var callbackSteps = []string{domain.StepReview, domain.StepAgreement, domain.StepAcceptance, domain.StepAcceptanceDecision}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	if e.ApplicationID == "" {
		return Result{}, &InvalidEvent{Reason: "no applicationId"}
	}
	switch e.Step {
	case "begin":
		p, err := h.db.PayScore(ctx, e.ApplicationID)
		if err != nil {
			return Result{}, err
		}
		return result(p), nil
	case "start_review":
		return h.change(ctx, e.ApplicationID, func(p *domain.PayScoreApplication) domain.Change { return p.StartReview(h.now()) })
	case "service_ready":
		return h.change(ctx, e.ApplicationID, func(p *domain.PayScoreApplication) domain.Change { return p.ServiceReady(h.now()) })
	case "expire":
		return h.change(ctx, e.ApplicationID, func(p *domain.PayScoreApplication) domain.Change { return p.Expire(e.Reason, h.now()) })
	}
	if !slices.Contains(callbackSteps, e.Step) {
		return Result{}, &InvalidEvent{Reason: fmt.Sprintf("step %q", e.Step)}
	}
	if e.TaskToken == "" {
		return Result{}, &InvalidEvent{Reason: "no taskToken"}
	}
	if err := h.db.PutPayScoreToken(ctx, store.PayScoreToken{ApplicationID: e.ApplicationID, Step: e.Step, Token: e.TaskToken}); err != nil {
		return Result{}, err
	}
	// Passed already (the API or the release came first): complete the wait now.
	p, err := h.db.PayScore(ctx, e.ApplicationID)
	if domain.KindOf(err) == domain.NotFound {
		return Result{}, nil // the token is kept; nothing has passed the step
	}
	if err != nil {
		return Result{}, err
	}
	return result(p), h.workflow.ResumePayScore(ctx, p, e.Step, h.tokenOf)
}

func (h *handler) tokenOf(ctx context.Context, id, step string) (string, error) {
	t, err := h.db.PayScoreTokenOf(ctx, id, step)
	return t.Token, err
}

// change applies f to the application and saves what it changed; a lost race reloads.
func (h *handler) change(ctx context.Context, id string, f func(*domain.PayScoreApplication) domain.Change) (Result, error) {
	var p *domain.PayScoreApplication
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		var err error
		if p, err = h.db.PayScore(ctx, id); err != nil {
			return err
		}
		if ch := f(p); ch.Action != "" {
			return h.db.SavePayScore(ctx, p, ch)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return result(p), nil
}

func result(p *domain.PayScoreApplication) Result {
	r := Result{Status: p.Status}
	if p.DeferredUntil != nil {
		r.DeferredUntil = p.DeferredUntil.UTC().Format(time.RFC3339)
	}
	return r
}
