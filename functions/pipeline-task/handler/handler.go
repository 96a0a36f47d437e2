// Package handler receives a pipeline step's task token and keeps it in the table, keyed by
// model and step, so the API call that completes the step (a reviewer's decision, a vendor's
// submission) can resume the execution. The token never reaches a client.
package handler

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

// Event is the Payload the state machine's callback tasks send.
type Event struct {
	Step      string `json:"step"`
	ModelID   string `json:"modelId"`
	VendorOrg string `json:"vendorOrg"`
	TaskToken string `json:"taskToken"`
}

// InvalidEvent is returned for an event the pipeline should never send; its type name is what
// a Catch in ASL would match.
type InvalidEvent struct{ Reason string }

func (e *InvalidEvent) Error() string { return "invalid pipeline task event: " + e.Reason }

type tokenStore interface {
	PutTaskToken(ctx context.Context, t store.TaskToken) error
}

type handler struct {
	tokens tokenStore
	now    func() time.Time
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, Event) (struct{}, error), error) {
	env, err := d.Require("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	table := env["TABLE_NAME"]
	h := &handler{tokens: store.New(store.NewClient(c), table), now: d.Now}
	return h.handle, nil
}

var stepName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (h *handler) handle(ctx context.Context, e Event) (struct{}, error) {
	switch {
	case !stepName.MatchString(e.Step):
		return struct{}{}, &InvalidEvent{Reason: fmt.Sprintf("step %q", e.Step)}
	case e.ModelID == "":
		return struct{}{}, &InvalidEvent{Reason: "no modelId"}
	case e.TaskToken == "":
		return struct{}{}, &InvalidEvent{Reason: "no taskToken"}
	}
	return struct{}{}, h.tokens.PutTaskToken(ctx, store.TaskToken{ModelID: e.ModelID, Step: e.Step, Token: e.TaskToken, Since: h.now()})
}
