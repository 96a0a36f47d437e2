// Package handler serves a model's certification pipeline: the timeline (stage, tracks, what
// the platform waits for and from whom), free test cameras and vendor test devices in DVT, the PVT steps — a reviewer invites a third-party
// inspection, the vendor records the shipment, the reviewer records the lab's result and lifts
// a restriction, the vendor declares PVT done — and the restart of an expired model. Every
// step only completes the callback the state machine waits on; the gates are the ASL's, and
// the workflow's own record steps write the stage.
package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/workflow"
)

type pipelineStore interface {
	Model(ctx context.Context, id string) (*domain.Model, error)
	Pipeline(ctx context.Context, id string) (*domain.Pipeline, error)
	Submission(ctx context.Context, modelID, vendorOrg string, kind domain.SubmissionKind) (*domain.Submission, error)
	TaskTokenOf(ctx context.Context, modelID, step string) (store.TaskToken, error)
	MarkTaskTokenCompleted(ctx context.Context, modelID, step, token, fingerprint string) error
}

// pipelines starts runs and completes the callbacks of the certification state machine.
type pipelines interface {
	Start(ctx context.Context, name string, input any) (string, error)
	Resume(ctx context.Context, token string, output any) error
	Stop(ctx context.Context, name, cause string) error
}

type handler struct {
	db        pipelineStore
	cameras   testCameraStore
	devices   testDeviceStore
	spots     spotCheckStore
	reports   reports
	pipelines pipelines
	now       func() time.Time
	trackDays int
}

// New builds the function from its environment (TABLE_NAME, STATE_MACHINE_ARN, optional
// PIPELINE_TRACK_TIMEOUT_DAYS).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("TABLE_NAME", "STATE_MACHINE_ARN", "BUCKET_NAME", "CURSOR_KEY")
	if err != nil {
		return nil, err
	}
	days, err := workflow.TrackTimeoutDays(d.Getenv)
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	db := store.New(store.NewClient(c), env["TABLE_NAME"], store.WithCursorKey(env["CURSOR_KEY"]))
	h := &handler{db: db, cameras: db, devices: db, spots: db, reports: blob.New(blob.NewClient(c), env["BUCKET_NAME"]),
		pipelines: workflow.New(workflow.NewClient(c), env["STATE_MACHINE_ARN"]),
		now:       d.Now, trackDays: days}
	return h.router().Handle, nil
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"GET /models/{id}/timeline":                                 h.timeline,
		"POST /models/{id}/inspection/shipment":                     h.recordShipment,
		"POST /models/{id}/pvt/declaration":                         h.declarePVTDone,
		"POST /models/{id}/restart":                                 h.restart,
		"POST /admin/models/{id}/inspection":                        h.inviteInspection,
		"POST /admin/models/{id}/inspection/result":                 h.recordInspectionResult,
		"POST /admin/models/{id}/restriction/lift":                  h.liftRestriction,
		"POST /models/{id}/test-cameras":                            h.requestTestCameras,
		"GET /models/{id}/test-cameras":                             h.listTestCameras,
		"POST /admin/models/{id}/test-cameras/{requestId}/shipment": h.shipTestCameras,
		"POST /models/{id}/test-devices":                            h.registerTestDevice,
		"GET /models/{id}/test-devices":                             h.listTestDevices,
		"POST /models/{id}/test-devices/{sn}/clear":                 h.clearTestDevice,
		"POST /models/{id}/withdraw":                                h.withdraw,
		"POST /admin/models/{id}/spot-checks":                       h.recordSpotCheck,
		"GET /models/{id}/spot-checks":                              h.listSpotChecks,
		"POST /models/{id}/spot-checks/{checkId}/response":          h.respondToOrder,
		"POST /admin/models/{id}/spot-checks/{checkId}/close":       h.closeOrder,
		"GET /admin/alerts":                                         h.listAlerts,
	}
}

// model loads the model in the path: a vendor's own (another's is "not found", so ids cannot
// be probed), or any for a reviewer. roles are the roles the route serves.
func (h *handler) model(ctx context.Context, c domain.Caller, req httpapi.Request, roles ...domain.Role) (*domain.Model, error) {
	if err := c.Require(roles...); err != nil {
		return nil, err
	}
	m, err := h.db.Model(ctx, req.PathParameters["id"])
	if err != nil {
		return nil, err
	}
	if c.Role != domain.RoleReviewer && !c.Owns(m.VendorOrg) {
		return nil, domain.Errorf(domain.NotFound, "model_not_found", "model %s does not exist", m.ID)
	}
	return m, nil
}

// pipeline returns the model's pipeline record, nil before the pipeline's first step.
func (h *handler) pipeline(ctx context.Context, id string) (*domain.Pipeline, error) {
	p, err := h.db.Pipeline(ctx, id)
	if domain.KindOf(err) == domain.NotFound {
		return nil, nil
	}
	return p, err
}

// stage is where model id is in its pipeline: registered while it has none.
func (h *handler) stage(ctx context.Context, id string) (domain.Stage, error) {
	p, err := h.pipeline(ctx, id)
	if err != nil || p == nil {
		return domain.StageRegistered, err
	}
	return p.Stage, nil
}

// timeline answers where the model is: the stage, every track, what the platform waits for.
func (h *handler) timeline(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleVendor, domain.RoleReviewer)
	if err != nil {
		return httpapi.Response{}, err
	}
	p, err := h.pipeline(ctx, m.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	subs := map[domain.SubmissionKind]*domain.Submission{}
	for _, k := range domain.SubmissionKinds() {
		if subs[k], err = h.db.Submission(ctx, m.ID, m.VendorOrg, k); err != nil {
			return httpapi.Response{}, err
		}
	}
	tl := domain.BuildTimeline(m, p, subs)
	if p != nil {
		ok, reason := p.PaymentStanding(h.now())
		tl.Payments = &domain.PaymentsView{Allowed: ok, Reason: reason}
	}
	return httpapi.JSON(http.StatusOK, tl), nil
}

// Completed is the answer to a step: the workflow continues on its own (202), and the
// timeline shows the outcome.
type Completed struct {
	ModelID string               `json:"modelId"`
	Step    string               `json:"step"`
	Event   domain.PipelineEvent `json:"event"`
}

// complete resumes the callback waiting on (model, step) with ev. The same request again
// gets the same answer; a step the pipeline does not wait on is Conflict (code).
func (h *handler) complete(ctx context.Context, m *domain.Model, step string, ev domain.PipelineEvent, code, what string) (httpapi.Response, error) {
	fp := fingerprint(step, ev)
	notWaiting := domain.Errorf(domain.Conflict, code, "model %s is not waiting for %s", m.ID, what)
	tok, err := h.db.TaskTokenOf(ctx, m.ID, step)
	if domain.KindOf(err) == domain.NotFound {
		return httpapi.Response{}, notWaiting
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	err = h.pipelines.Resume(ctx, tok.Token, ev)
	switch {
	case errors.Is(err, domain.ErrNotWaiting) && tok.CompletedWith == fp:
		// A repeat: the first call completed the step.
	case errors.Is(err, domain.ErrNotWaiting):
		return httpapi.Response{}, notWaiting
	case err != nil:
		return httpapi.Response{}, err
	default:
		if err := h.db.MarkTaskTokenCompleted(ctx, m.ID, step, tok.Token, fp); err != nil {
			return httpapi.Response{}, err
		}
	}
	ev.At = time.Time{}
	return httpapi.JSON(http.StatusAccepted, Completed{ModelID: m.ID, Step: step, Event: ev}), nil
}

// fingerprint identifies a request by what it asks, not when.
func fingerprint(step string, ev domain.PipelineEvent) string {
	ev.At = time.Time{}
	b, _ := json.Marshal(ev)
	sum := sha256.Sum256(append([]byte(step+"\n"), b...))
	return hex.EncodeToString(sum[:])
}

type invitation struct {
	Lab      string    `json:"lab"`
	Devices  int       `json:"devices"`
	Deadline time.Time `json:"deadline"`
}

// inviteInspection: a reviewer invites a third-party inspection in PVT.
func (h *handler) inviteInspection(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleReviewer)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in invitation
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	ev, err := domain.NewInspectionInvitation(in.Lab, in.Devices, in.Deadline, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	return h.complete(ctx, m, string(domain.TrackPVT), ev, "not_in_pvt", "an inspection invitation (PVT, no inspection under way)")
}

type shipment struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"trackingNumber"`
}

// recordShipment: the vendor records that the devices went to the lab.
func (h *handler) recordShipment(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleVendor)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in shipment
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	ev, err := domain.NewShipment(in.Carrier, in.TrackingNumber, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	return h.complete(ctx, m, domain.StepInspectionShipment, ev, "no_inspection_invited", "a shipment (no inspection invited)")
}

type result struct {
	Result   string `json:"result"`
	Report   string `json:"report"`
	Feedback string `json:"feedback"`
}

// recordInspectionResult: a reviewer records the lab's result; a failure restricts the model.
func (h *handler) recordInspectionResult(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleReviewer)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in result
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	ev, err := domain.NewInspectionResult(in.Result, in.Report, in.Feedback, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	return h.complete(ctx, m, domain.StepInspectionResult, ev, "no_inspection_shipped", "an inspection result (no devices shipped)")
}

type lift struct {
	Reason string `json:"reason"`
}

// liftRestriction: a reviewer lifts the restriction after a passed re-inspection.
func (h *handler) liftRestriction(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleReviewer)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in lift
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	if len(in.Reason) > 2000 {
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "reason_too_long", "reason must be at most 2000 characters")
	}
	return h.complete(ctx, m, domain.StepLiftRestriction, domain.PipelineEvent{Reason: in.Reason, At: h.now()},
		"not_liftable", "a lifted restriction (restricted, with a passed re-inspection)")
}

type declaration struct {
	CamerasPurchased     bool `json:"camerasPurchased"`
	FactoryChecksRunning bool `json:"factoryChecksRunning"`
}

// declarePVTDone: the vendor declares PVT done: cameras bought from the camera maker, the
// factory check running on the line.
func (h *handler) declarePVTDone(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleVendor)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in declaration
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	if !in.CamerasPurchased || !in.FactoryChecksRunning {
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "pvt_not_ready",
			"PVT is done once the cameras are bought from the camera maker and every device runs the factory check")
	}
	return h.complete(ctx, m, string(domain.TrackPVT), domain.PipelineEvent{Action: domain.ActionDeclarePVTDone, At: h.now()},
		"not_in_pvt", "a PVT declaration (PVT, no inspection under way)")
}

// Restarted is the answer to a restart.
type Restarted struct {
	ModelID string `json:"modelId"`
	Run     int    `json:"run"`
}

// restart starts a new run of an expired model's pipeline. Conflict ("not_expired") otherwise.
func (h *handler) restart(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	m, err := h.model(ctx, c, req, domain.RoleVendor)
	if err != nil {
		return httpapi.Response{}, err
	}
	p, err := h.pipeline(ctx, m.ID)
	if err != nil {
		return httpapi.Response{}, err
	}
	if p == nil {
		return httpapi.Response{}, domain.Errorf(domain.Conflict, "not_expired", "model %s has no pipeline to restart", m.ID)
	}
	if err := p.CanRestart(); err != nil {
		return httpapi.Response{}, err
	}
	run := p.Run + 1
	// Same name and input for a repeat while the new run has not recorded itself yet: Step
	// Functions answers with the same execution.
	if _, err := h.pipelines.Start(ctx, domain.ExecutionName(m.ID, run), domain.NewPipelineInput(m, run, h.trackDays)); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusAccepted, Restarted{ModelID: m.ID, Run: run}), nil
}
