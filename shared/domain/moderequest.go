package domain

import (
	"slices"
	"strings"
	"time"
)

// Software-mode change requests (DOMAIN.md "The factory check": the software mode is fixed by
// the factory check; changing it later needs a request to the platform). The vendor asks for
// one device with a reason; a reviewer approves or rejects it through the admin API.
//
// The decision takes effect at once, not at a release: DOMAIN.md holds decisions for the
// Monday release only for partner applications and model registrations (sections 1 and 2)
// and Pay Score go-live for Tuesdays and Thursdays; a device already produced waits on the
// line or in the field for this answer, like the pre-check and spot-check decisions that are
// also published when made. *(Our choice:)* one device per request — the rule speaks of a
// device's mode, and a line that switched a batch sends one request per SN — and at most one
// pending request per device.

// ModeRequestStatus is where a software-mode change request stands.
type ModeRequestStatus string

// Request statuses.
const (
	ModeRequestPending  ModeRequestStatus = "pending"
	ModeRequestApproved ModeRequestStatus = "approved"
	ModeRequestRejected ModeRequestStatus = "rejected"
)

// Device history action of an approved request.
const ActionSoftwareModeChanged = "software_mode_changed"

// ModeChangeRequest is a vendor's request to change a device's locked software mode.
type ModeChangeRequest struct {
	ID          string            `json:"id"`
	SN          string            `json:"sn"`
	VendorOrg   string            `json:"vendorOrg"`
	ModelID     string            `json:"modelId"`
	From        SoftwareMode      `json:"from"`
	To          SoftwareMode      `json:"to"`
	Reason      string            `json:"reason"`
	Status      ModeRequestStatus `json:"status"`
	RequestedBy string            `json:"requestedBy"`
	RequestedAt time.Time         `json:"requestedAt"`
	Decision    *Decision         `json:"decision,omitempty"`
	History     []Change          `json:"history"`
	Version     int               `json:"-"`
}

// RequestModeChange opens request id to change device d (of model m) to software mode to, on
// behalf of vendor c, and marks d as waiting for it. Error codes: device_not_found (NotFound,
// another vendor's device), software_mode_not_locked (Conflict: before its first passing check
// a device's mode is the one its check reports), same_software_mode (Invalid),
// unsupported_software_mode (Invalid: the model does not support it), reason_required,
// reason_too_long (Invalid), mode_change_pending (Conflict: one request at a time).
func RequestModeChange(d *Device, m *Model, to SoftwareMode, reason, id string, c Caller, now time.Time) (*ModeChangeRequest, error) {
	if d == nil || !c.Owns(d.VendorOrg) {
		return nil, Errorf(NotFound, "device_not_found", "device does not exist")
	}
	if d.FirstPassedAt == nil {
		return nil, Errorf(Conflict, "software_mode_not_locked",
			"device %s has not passed a factory check: its software mode is the one its check reports", d.SN)
	}
	if to == d.SoftwareMode {
		return nil, Errorf(Invalid, "same_software_mode", "device %s already runs %s mode", d.SN, to)
	}
	if !slices.Contains(m.SoftwareModes, to) {
		return nil, Errorf(Invalid, "unsupported_software_mode", "model %s does not support software mode %s", m.Name, to)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, Errorf(Invalid, "reason_required", "say why the device's software mode must change")
	}
	if len(reason) > 500 {
		return nil, Errorf(Invalid, "reason_too_long", "the reason is longer than 500 characters")
	}
	if d.PendingModeRequest != "" {
		return nil, Errorf(Conflict, "mode_change_pending", "request %s for device %s is waiting for a reviewer; wait for its decision", d.PendingModeRequest, d.SN)
	}
	d.PendingModeRequest = id
	return &ModeChangeRequest{ID: id, SN: d.SN, VendorOrg: d.VendorOrg, ModelID: d.ModelID, From: d.SoftwareMode, To: to,
		Reason: reason, Status: ModeRequestPending, RequestedBy: c.Subject, RequestedAt: now,
		History: []Change{{At: now, By: c.Subject, Action: "requested", From: string(d.SoftwareMode), To: string(to), Reason: reason}}}, nil
}

// Retry reports whether a vendor's request for to with reason is r again (a retried call): r is
// still pending with the same mode and reason.
func (r *ModeChangeRequest) Retry(to SoftwareMode, reason string) bool {
	return r.Status == ModeRequestPending && r.To == to && r.Reason == strings.TrimSpace(reason)
}

// Decide records reviewer's decision on r for device d of model m at now, and applies an
// approval to d: its software mode becomes r.To. It returns the device's history entry (nil on
// rejection: the device does not change but for its pending mark). Error codes: forbidden_role
// (Forbidden), already_decided (Conflict: decided otherwise before; the same decision again is
// the caller's retry, see Same), reason_required / reason_too_long (Invalid),
// unsupported_software_mode (Conflict: the model no longer supports the mode).
func (r *ModeChangeRequest) Decide(reviewer Caller, approve bool, reason string, d *Device, m *Model, now time.Time) (*Change, error) {
	if err := reviewer.Require(RoleReviewer); err != nil {
		return nil, err
	}
	if r.Status != ModeRequestPending {
		return nil, Errorf(Conflict, "already_decided", "request %s was %s on %s", r.ID, r.Status, r.Decision.DecidedAt.UTC().Format(time.RFC3339))
	}
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return nil, Errorf(Invalid, "reason_required", "a rejection needs a reason the vendor can act on")
	}
	if len(reason) > 2000 {
		return nil, Errorf(Invalid, "reason_too_long", "the reason is longer than 2000 characters")
	}
	if approve && !slices.Contains(m.SoftwareModes, r.To) {
		return nil, Errorf(Conflict, "unsupported_software_mode", "model %s no longer supports software mode %s", m.Name, r.To)
	}
	at := now
	r.Decision = &Decision{Approve: approve, Reason: reason, Reviewer: reviewer.Subject, DecidedAt: now, ReleasedAt: &at}
	r.Status = ModeRequestRejected
	if approve {
		r.Status = ModeRequestApproved
	}
	r.History = append(r.History, Change{At: now, By: reviewer.Subject, ByReviewer: true, Action: "decided", From: string(ModeRequestPending), To: string(r.Status), Reason: reason})
	if d.PendingModeRequest == r.ID {
		d.PendingModeRequest = ""
	}
	if !approve {
		return nil, nil
	}
	ch := &Change{At: now, By: reviewer.Subject, ByReviewer: true, Action: ActionSoftwareModeChanged, From: string(d.SoftwareMode), To: string(r.To),
		Reason: "request " + r.ID + ": " + r.Reason}
	d.SoftwareMode = r.To
	return ch, nil
}

// Same reports whether approve/reason is the decision r already carries (a retried call).
func (r *ModeChangeRequest) Same(approve bool, reason string) bool {
	return r.Status != ModeRequestPending && r.Decision.Same(approve, reason)
}

// ForOwner is r as its vendor reads it: the decision and history without the reviewer's name.
func (r *ModeChangeRequest) ForOwner() *ModeChangeRequest {
	o := *r
	o.Decision = r.Decision.ForOwner()
	o.History = OwnerHistory(r.History)
	return &o
}
