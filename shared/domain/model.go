package domain

import (
	"slices"
	"strings"
	"time"
)

// ModelStatus is where a model's registration is.
type ModelStatus string

// Model statuses. Like applications, decisions are held until the Monday release.
const (
	ModelUnderReview ModelStatus = "under_review"
	ModelApproved    ModelStatus = "approved"
	ModelRejected    ModelStatus = "rejected"
)

// Vendor is an approved device vendor: the release creates it with its vendor code.
type Vendor struct {
	Org           string    `json:"org"`
	Code          string    `json:"code"`
	Name          string    `json:"name"`
	ApplicationID string    `json:"applicationId"`
	ApprovedAt    time.Time `json:"approvedAt"`
}

// ModelSpec is what a vendor registers.
type ModelSpec struct {
	Name          string         `json:"name"`
	DeviceType    DeviceType     `json:"deviceType"`
	OS            OS             `json:"os"`
	SoftwareModes []SoftwareMode `json:"softwareModes"`
	Connectivity  []Connectivity `json:"connectivity"`
	CameraModel   string         `json:"cameraModel"`
}

// ModelSpecInput is a ModelSpec as the API receives it (plain strings, validated by Parse).
type ModelSpecInput struct {
	Name          string   `json:"name" maxLength:"100"`
	DeviceType    string   `json:"deviceType" maxLength:"50"`
	OS            string   `json:"os" maxLength:"20"`
	SoftwareModes []string `json:"softwareModes" maxLength:"20" maxItems:"2"`
	Connectivity  []string `json:"connectivity" maxLength:"20" maxItems:"3"`
	CameraModel   string   `json:"cameraModel" maxLength:"100"`
}

// Parse validates the input. Error codes: invalid_model_name (empty, too long, or a character
// that cannot go inside the bracketed evidence file names: [ ] / \ or a control character),
// unknown_device_type, unknown_os, missing_software_mode, unknown_software_mode,
// unknown_connectivity, missing_camera_model.
func (in ModelSpecInput) Parse() (ModelSpec, error) {
	s := ModelSpec{Name: strings.TrimSpace(in.Name), CameraModel: strings.TrimSpace(in.CameraModel),
		Connectivity: []Connectivity{}} // none is an empty list, never null (infra/openapi.yaml)
	if s.Name == "" || len(s.Name) > 100 {
		return s, Errorf(Invalid, "invalid_model_name", "name must be 1 to 100 characters")
	}
	if err := CheckFileNamePart("invalid_model_name", "name", s.Name); err != nil {
		return s, err
	}
	var err error
	if s.DeviceType, err = ParseDeviceType(in.DeviceType); err != nil {
		return s, err
	}
	if s.OS, err = ParseOS(in.OS); err != nil {
		return s, err
	}
	if len(in.SoftwareModes) == 0 {
		return s, Errorf(Invalid, "missing_software_mode", "softwareModes needs sdk, app or both")
	}
	for _, m := range in.SoftwareModes {
		mode, err := ParseSoftwareMode(m)
		if err != nil {
			return s, err
		}
		if !slices.Contains(s.SoftwareModes, mode) {
			s.SoftwareModes = append(s.SoftwareModes, mode)
		}
	}
	for _, c := range in.Connectivity {
		conn, err := ParseConnectivity(c)
		if err != nil {
			return s, err
		}
		if !slices.Contains(s.Connectivity, conn) {
			s.Connectivity = append(s.Connectivity, conn)
		}
	}
	if s.CameraModel == "" || len(s.CameraModel) > 100 {
		return s, Errorf(Invalid, "missing_camera_model", "cameraModel must be 1 to 100 characters")
	}
	return s, nil
}

// Model is a registered device model.
type Model struct {
	ID         string `json:"id"`
	VendorOrg  string `json:"vendorOrg"`
	VendorCode string `json:"vendorCode"`
	ModelSpec
	Status      ModelStatus `json:"status"`
	Round       int         `json:"round"`
	Decision    *Decision   `json:"-"` // held, in its own item; see Application.Decision
	Outcome     *Decision   `json:"outcome,omitempty"`
	ModelCode   string      `json:"modelCode,omitempty"`
	Pipeline    string      `json:"pipelineExecutionArn,omitempty"` // reviewers only (ForOwner drops it)
	CreatedBy   string      `json:"createdBy"`
	CreatedAt   time.Time   `json:"createdAt"`
	UpdatedAt   time.Time   `json:"updatedAt"`
	SubmittedAt time.Time   `json:"submittedAt"`
	Version     int         `json:"version"`
}

// RegisterModel registers spec for vendor v and sends it to review at once.
func RegisterModel(id string, c Caller, v Vendor, spec ModelSpec, now time.Time) (*Model, Change) {
	m := &Model{ID: id, VendorOrg: v.Org, VendorCode: v.Code, ModelSpec: spec, Status: ModelUnderReview, Round: 1,
		CreatedBy: c.Subject, CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
	return m, Change{At: now, By: c.Subject, Action: "registered", To: string(ModelUnderReview)}
}

// Resubmit changes a rejected model and sends it back to review. It returns Conflict
// ("not_editable") unless the model was rejected.
func (m *Model) Resubmit(c Caller, spec ModelSpec, now time.Time) (Change, error) {
	if m.Status != ModelRejected {
		return Change{}, Errorf(Conflict, "not_editable", "model %s is %s; only a rejected model can be changed and resubmitted",
			m.ID, strings.ReplaceAll(string(m.Status), "_", " "))
	}
	m.ModelSpec, m.Status, m.Outcome = spec, ModelUnderReview, nil
	m.Round++
	m.SubmittedAt, m.UpdatedAt = now, now
	return Change{At: now, By: c.Subject, Action: "resubmitted", From: string(ModelRejected), To: string(ModelUnderReview)}, nil
}

// HeldDecision is the decision held for the release (Reviewable).
func (m *Model) HeldDecision() *Decision { return m.Decision }

// UnderReview reports whether the model waits for a reviewer's decision (Reviewable).
func (m *Model) UnderReview() bool { return m.Status == ModelUnderReview }

// Decide records reviewer's held decision on the model (see Application.Decide).
func (m *Model) Decide(reviewer Caller, approve bool, reason string, now time.Time) (Change, error) {
	if m.Status != ModelUnderReview {
		return Change{}, notDecidable("model", m.ID, string(m.Status), m.Outcome)
	}
	return decide(&m.Decision, reviewer, approve, reason, now)
}

// ForOwner is m as its vendor may read it: no held decision, the released outcome without the
// reviewer's identity, and no internals (the pipeline's execution ARN).
func (m *Model) ForOwner() *Model {
	o := *m
	o.Decision, o.Outcome, o.Pipeline = nil, m.Outcome.ForOwner(), ""
	return &o
}

// Release publishes the held decision; approval assigns modelCode and opens the prototype stage.
// m.Decision stays as read, for the store to retire.
func (m *Model) Release(modelCode string, now time.Time) (Change, error) {
	if m.Status != ModelUnderReview || m.Decision == nil {
		return Change{}, Errorf(Conflict, "nothing_to_release", "model %s holds no decision", m.ID)
	}
	out := *m.Decision
	out.ReleasedAt, out.Revision = &now, 0
	m.Status, m.Outcome, m.UpdatedAt = ModelRejected, &out, now
	if out.Approve {
		m.Status, m.ModelCode = ModelApproved, modelCode
	}
	return Change{At: now, By: "weekly-release", Action: "released", From: string(ModelUnderReview), To: string(m.Status), Reason: out.Reason}, nil
}
