// Package handler is the target of the certification pipeline's tasks. A callback task
// (waitForTaskToken) hands it the step's task token, which it keeps in the table keyed by model
// and step, so the API call that completes the step (a reviewer's decision, a vendor's
// declaration) can resume the execution; the token never reaches a client. A record task
// ("step": "record") writes what the workflow decided into the model's pipeline record: the
// stage, a track's status, the inspection, with history, so other capabilities read the stage
// with one GetItem.
package handler

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

// Event is the Payload the state machine's tasks send: a callback (taskToken set) or a record
// step (step "record").
type Event struct {
	Step      string `json:"step"`
	ModelID   string `json:"modelId"`
	VendorOrg string `json:"vendorOrg"`
	Run       int    `json:"run,omitempty"`
	TaskToken string `json:"taskToken,omitempty"`
	domain.PipelineRecord
}

// StepRecord is the step of the workflow's record tasks.
const StepRecord = "record"

// Result is what a task answers. A record step entering DVT answers, for each DVT track,
// whether its submission is approved already (a restarted model keeps its approvals), so the
// state machine's Choice skips that track's wait; every other step answers nothing.
type Result struct {
	Approved map[domain.Track]bool `json:"approved,omitempty"`
	// FactoryChecked answers the PVT declaration's record step: whether a device of the model
	// passed the factory check while the model was in PVT (MP entry requires it; the ASL's
	// PVTComplete? and MayEnterMP? Choices read it).
	FactoryChecked *bool `json:"factoryChecked,omitempty"`
}

// InvalidEvent is returned for an event the pipeline should never send; its type name is what
// a Catch in ASL would match.
type InvalidEvent struct{ Reason string }

func (e *InvalidEvent) Error() string { return "invalid pipeline task event: " + e.Reason }

type pipelineStore interface {
	PutTaskToken(ctx context.Context, t store.TaskToken) error
	Pipeline(ctx context.Context, id string) (*domain.Pipeline, error)
	SavePipeline(ctx context.Context, p *domain.Pipeline, changes ...domain.Change) error
	Submission(ctx context.Context, modelID, vendorOrg string, kind domain.SubmissionKind) (*domain.Submission, error)
	HasPVTPass(ctx context.Context, modelID string) (bool, error)
}

type handler struct {
	db  pipelineStore
	now func() time.Time
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
	h := &handler{db: store.New(store.NewClient(c), env["TABLE_NAME"]), now: d.Now}
	return h.handle, nil
}

var stepName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	e.PipelineRecord.Run = e.Run
	switch {
	case !stepName.MatchString(e.Step):
		return Result{}, &InvalidEvent{Reason: fmt.Sprintf("step %q", e.Step)}
	case e.ModelID == "":
		return Result{}, &InvalidEvent{Reason: "no modelId"}
	case e.Step == StepRecord:
		if err := h.record(ctx, e); err != nil {
			return Result{}, err
		}
		if e.PVTDeclared {
			ok, err := h.db.HasPVTPass(ctx, e.ModelID)
			if err != nil {
				return Result{}, err
			}
			return Result{FactoryChecked: &ok}, nil
		}
		if e.Stage != domain.StageDVT {
			return Result{}, nil
		}
		return h.approvedTracks(ctx, e)
	case e.TaskToken == "":
		return Result{}, &InvalidEvent{Reason: "no taskToken"}
	}
	return Result{}, h.db.PutTaskToken(ctx, store.TaskToken{ModelID: e.ModelID, Step: e.Step, Token: e.TaskToken, Since: h.now(), Run: e.Run})
}

// approvedTracks answers, for every DVT track, whether its submission's current version is approved.
func (h *handler) approvedTracks(ctx context.Context, e Event) (Result, error) {
	res := Result{Approved: map[domain.Track]bool{}}
	for _, t := range []domain.Track{domain.TrackSoftware, domain.TrackHardware, domain.TrackCertification} {
		sub, err := h.db.Submission(ctx, e.ModelID, e.VendorOrg, t.SubmissionOf())
		if err != nil {
			return Result{}, err
		}
		cur := sub.Current()
		res.Approved[t] = cur != nil && cur.Status == domain.VersionApproved
	}
	return res, nil
}

// record applies the record step to the model's pipeline. Parallel branches record at the
// same moment: a lost race is read again and reapplied (Apply is idempotent).
func (h *handler) record(ctx context.Context, e Event) error {
	r := e.PipelineRecord
	if r.Status == domain.TrackExpired {
		if kind := r.Track.SubmissionOf(); kind != "" {
			sub, err := h.db.Submission(ctx, e.ModelID, e.VendorOrg, kind)
			if err != nil {
				return err
			}
			for _, v := range sub.Versions {
				r.Submitted = r.Submitted || v.SubmittedAt != nil
			}
		}
	}
	var err error
	for range 5 {
		p, gerr := h.db.Pipeline(ctx, e.ModelID)
		switch {
		case domain.KindOf(gerr) == domain.NotFound:
			p = &domain.Pipeline{ModelID: e.ModelID, VendorOrg: e.VendorOrg, Stage: domain.StageRegistered}
		case gerr != nil:
			return gerr
		}
		changes := p.Apply(r, h.now())
		if len(changes) == 0 {
			return nil
		}
		if err = h.db.SavePipeline(ctx, p, changes...); domain.KindOf(err) != domain.Conflict {
			return err
		}
	}
	return err
}
