package domain

import (
	"reflect"
	"slices"
	"strings"
	"time"
)

// PartnerType is the kind of partner an application asks to become.
type PartnerType string

// The four partner types of DOMAIN.md section 1.
const (
	PartnerDeviceVendor     PartnerType = "device_vendor"
	PartnerSoftwareProvider PartnerType = "software_provider"
	PartnerDeployer         PartnerType = "deployer"
	PartnerMerchant         PartnerType = "merchant"
)

// PartnerTypes lists the partner types in a fixed order (queues, releases, sweeps).
var PartnerTypes = []PartnerType{PartnerDeviceVendor, PartnerSoftwareProvider, PartnerDeployer, PartnerMerchant}

var partnerRoles = map[PartnerType]Role{
	PartnerDeviceVendor:     RoleVendor,
	PartnerSoftwareProvider: RoleSoftwareProvider,
	PartnerDeployer:         RoleDeployer,
	PartnerMerchant:         RoleMerchant,
}

// ParsePartnerType returns an Invalid error (code "unknown_partner_type") for anything else.
func ParsePartnerType(s string) (PartnerType, error) {
	t := PartnerType(s)
	if _, ok := partnerRoles[t]; !ok {
		return "", Errorf(Invalid, "unknown_partner_type",
			"partnerType %q is not one of device_vendor, software_provider, deployer, merchant", s)
	}
	return t, nil
}

// Role is the caller role that applies as (and later acts as) this partner type.
func (t PartnerType) Role() Role { return partnerRoles[t] }

// AccountServiceProvider is the payment account type a device vendor must already hold.
const AccountServiceProvider = "service_provider"

// ApplicationStatus is where an application is in its life.
type ApplicationStatus string

// Application statuses. Reviewers' decisions are held (Decision) while the status stays
// Submitted; the Monday release turns them into Approved or Rejected.
const (
	AppDraft     ApplicationStatus = "draft"
	AppSubmitted ApplicationStatus = "under_review"
	AppApproved  ApplicationStatus = "approved"
	AppRejected  ApplicationStatus = "rejected"
	AppWithdrawn ApplicationStatus = "withdrawn"
)

// Company is the applicant's company details.
type Company struct {
	Name               string `json:"name" maxLength:"200"`
	RegistrationNumber string `json:"registrationNumber,omitempty" maxLength:"100"`
	ContactName        string `json:"contactName,omitempty" maxLength:"100"`
	ContactEmail       string `json:"contactEmail,omitempty" maxLength:"254"`
	ContactPhone       string `json:"contactPhone,omitempty" maxLength:"50"`
}

// AttachmentStatus is the state of one uploaded file.
type AttachmentStatus string

// Attachment statuses.
const (
	AttachmentPending  AttachmentStatus = "pending"  // an upload URL was issued, nothing arrived yet
	AttachmentReceived AttachmentStatus = "received" // the bytes arrived and are what the name claims
	AttachmentRejected AttachmentStatus = "rejected" // the bytes arrived but were refused (Reason)
)

// MaxAttachmentSize bounds application attachments (decks, licences): 50 MiB (our choice).
// It is checked on the declared size when an upload is asked for and on the object's real
// size when it arrives.
const MaxAttachmentSize = 50 << 20

// Attachment is a file attached to an application, in a named slot ("deck", "business_licence").
type Attachment struct {
	Slot        string           `json:"slot"`
	UploadID    string           `json:"uploadId"`
	FileName    string           `json:"fileName"`
	ContentType string           `json:"contentType"`
	Size        int64            `json:"size"`
	SHA256      string           `json:"sha256"` // hex
	Key         string           `json:"-"`
	VersionID   string           `json:"versionId,omitempty"`
	Status      AttachmentStatus `json:"status"`
	Reason      string           `json:"reason,omitempty"`
	RequestedAt time.Time        `json:"requestedAt"`
	ReceivedAt  *time.Time       `json:"receivedAt,omitempty"`
}

// AttachmentSlots lists, per partner type, the slots an application may carry.
// The device vendor's deck is required at submission (see Application.Submit).
var AttachmentSlots = map[PartnerType][]string{
	PartnerDeviceVendor:     {"deck", "business_licence", "qualification"},
	PartnerSoftwareProvider: {"business_licence", "qualification", "product_brochure"},
	PartnerDeployer:         {"business_licence", "qualification", "deployment_plan"},
	PartnerMerchant:         {"business_licence", "store_photo"},
}

// Decision is a reviewer's decision on an application or model. It is held until the
// weekly release publishes it; until then the reviewer may revise it. Applicants read it only
// once released, through ForOwner (no Reviewer).
type Decision struct {
	Approve    bool       `json:"approve"`
	Reason     string     `json:"reason,omitempty"`
	Reviewer   string     `json:"reviewer,omitempty"`
	DecidedAt  time.Time  `json:"decidedAt"`
	ReleasedAt *time.Time `json:"releasedAt,omitempty"`
	// LicenceScopes are what a Pay Score reviewer read on the business licence, kept with the
	// held decision (never shown to the applicant).
	LicenceScopes []string `json:"licenceScopes,omitempty"`
	// Revision is the store's version of a held decision's own item (0: not stored yet); the
	// store checks it so that a release never publishes a decision revised meanwhile.
	Revision int `json:"-"`
}

// Application is a partner's request to join the platform.
type Application struct {
	ID                string                 `json:"id"`
	Org               string                 `json:"org"`
	PartnerType       PartnerType            `json:"partnerType"`
	Status            ApplicationStatus      `json:"status"`
	Company           Company                `json:"company"`
	AgreementAccepted bool                   `json:"agreementAccepted"`
	Survey            map[string]string      `json:"survey,omitempty"`
	Attachments       map[string]*Attachment `json:"attachments"`
	AccountType       string                 `json:"accountType,omitempty"` // the applicant's payment account type (token claim account_type)
	Round             int                    `json:"round"`                 // 1 for the first submission, +1 per resubmission
	// Decision is the held decision, kept in its own item (not on the entity, whose version
	// does not move when a reviewer decides) and loaded only while the application is under
	// review. After Release or Withdraw it still holds what was read, so the store retires it.
	Decision    *Decision  `json:"-"`
	Outcome     *Decision  `json:"outcome,omitempty"`
	VendorCode  string     `json:"vendorCode,omitempty"`
	CreatedBy   string     `json:"createdBy"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	SubmittedAt *time.Time `json:"submittedAt,omitempty"`
	Version     int        `json:"version"`
}

// Change is one entry of an entity's append-only history: who did what, when and why.
// Owners read it through OwnerHistory.
type Change struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Reason string    `json:"reason,omitempty"`
	// ByReviewer marks a change made by a reviewer: the owner sees that a reviewer acted, not who.
	ByReviewer bool `json:"byReviewer,omitempty"`
	// Held marks a reviewer's held decision or its revision: only reviewers read it.
	Held bool `json:"held,omitempty"`
}

// ApplicationDraft is what an applicant fills in; every field is optional while drafting.
// The maxLength/maxItems tags are the request limits shared/httpapi.Decode enforces.
type ApplicationDraft struct {
	Company           *Company          `json:"company,omitempty"`
	AgreementAccepted *bool             `json:"agreementAccepted,omitempty"`
	Survey            map[string]string `json:"survey,omitempty" maxLength:"2000" maxItems:"100"`
}

// NewApplication starts a draft application by c. It returns Forbidden errors when c's role
// does not apply as that partner type ("wrong_role") and when a device vendor's account is not
// a service provider account ("wrong_account_type": such an application could never be
// approved), and the Invalid errors of Edit.
func NewApplication(id string, c Caller, t PartnerType, d ApplicationDraft, now time.Time) (*Application, Change, error) {
	if t.Role() != c.Role {
		return nil, Change{}, Errorf(Forbidden, "wrong_role", "a %s applies as %s, not %s", c.Role, roleToPartner(c.Role), t)
	}
	if err := checkAccountType(t, c); err != nil {
		return nil, Change{}, err
	}
	a := &Application{
		ID: id, Org: c.Org, PartnerType: t, Status: AppDraft, AccountType: c.AccountType,
		Attachments: map[string]*Attachment{}, CreatedBy: c.Subject, CreatedAt: now, UpdatedAt: now,
	}
	if err := a.apply(d); err != nil {
		return nil, Change{}, err
	}
	return a, Change{At: now, By: c.Subject, Action: "created", To: string(AppDraft)}, nil
}

// checkAccountType refuses a device-vendor application from an account that is not a payment
// service provider account (DOMAIN.md section 1).
func checkAccountType(t PartnerType, c Caller) error {
	if t == PartnerDeviceVendor && c.AccountType != AccountServiceProvider {
		return Errorf(Forbidden, "wrong_account_type",
			"a device service provider must hold a payment service provider account; this account is %q", c.AccountType)
	}
	return nil
}

func roleToPartner(r Role) string {
	for t, role := range partnerRoles {
		if role == r {
			return string(t)
		}
	}
	return "no partner type"
}

// Edit changes a draft (or a rejected application being reworked). An edit that changes
// nothing returns a zero Change, so a retried edit records nothing. It returns Conflict
// ("not_editable") once the application is submitted, approved or withdrawn, and Invalid
// ("invalid_company", "invalid_company_name", "invalid_survey") for bad details.
func (a *Application) Edit(c Caller, d ApplicationDraft, now time.Time) (Change, error) {
	if err := a.editable("edit"); err != nil {
		return Change{}, err
	}
	before := Application{Company: a.Company, AgreementAccepted: a.AgreementAccepted, Survey: a.Survey}
	if err := a.apply(d); err != nil {
		return Change{}, err
	}
	if reflect.DeepEqual(before, Application{Company: a.Company, AgreementAccepted: a.AgreementAccepted, Survey: a.Survey}) {
		return Change{}, nil // nothing changed (a retried edit): nothing to record
	}
	a.UpdatedAt = now
	return Change{At: now, By: c.Subject, Action: "edited"}, nil
}

func (a *Application) editable(what string) error {
	if a.Status != AppDraft && a.Status != AppRejected {
		return Errorf(Conflict, "not_editable", "cannot %s application %s: it is %s", what, a.ID, a.visibleStatus())
	}
	return nil
}

func (a *Application) apply(d ApplicationDraft) error {
	if d.Company != nil {
		c := *d.Company
		c.Name = strings.TrimSpace(c.Name)
		if len(c.Name) > 200 {
			return Errorf(Invalid, "invalid_company", "company.name is longer than 200 characters")
		}
		if err := CheckFileNamePart("invalid_company_name", "company.name", c.Name); err != nil {
			return err
		}
		a.Company = c
	}
	if d.AgreementAccepted != nil {
		a.AgreementAccepted = *d.AgreementAccepted
	}
	if d.Survey != nil {
		if len(d.Survey) > 100 {
			return Errorf(Invalid, "invalid_survey", "the survey has more than 100 answers")
		}
		a.Survey = d.Survey
	}
	return nil
}

// RequestAttachment records that an upload for slot was issued. Re-requesting a slot replaces
// its pending or earlier upload (the bucket keeps every version). It returns Invalid
// ("unknown_slot") for a slot the partner type does not have and Conflict ("not_editable")
// after submission.
func (a *Application) RequestAttachment(c Caller, att Attachment, now time.Time) (Change, error) {
	if err := a.editable("attach files to"); err != nil {
		return Change{}, err
	}
	if !slices.Contains(AttachmentSlots[a.PartnerType], att.Slot) {
		return Change{}, Errorf(Invalid, "unknown_slot", "slot %q is not one of %s for a %s application",
			att.Slot, strings.Join(AttachmentSlots[a.PartnerType], ", "), a.PartnerType)
	}
	att.Status, att.RequestedAt = AttachmentPending, now
	a.Attachments[att.Slot] = &att
	a.UpdatedAt = now
	return Change{At: now, By: c.Subject, Action: "attachment_requested", To: att.Slot + ": " + att.FileName}, nil
}

// AttachmentOf is the slot's attachment, nil without one (process-upload).
func (a *Application) AttachmentOf(slot string) *Attachment { return a.Attachments[slot] }

// OwnerOrg is the owning organisation (process-upload checks the key's).
func (a *Application) OwnerOrg() string { return a.Org }

// ErrStaleUpload is returned by ReceiveAttachment when the object is not the slot's current
// upload (a redelivered or superseded notification); callers ignore it.
var ErrStaleUpload = Errorf(Conflict, "stale_upload", "the upload is not the slot's current upload")

// ReceiveAttachment marks the slot's current upload received (reason == "") or rejected.
// A notification for another upload, or for one already settled, returns ErrStaleUpload and
// changes nothing, which makes redelivery harmless.
func (a *Application) ReceiveAttachment(slot, uploadID, versionID string, size int64, reason string, now time.Time) (Change, error) {
	att, ok := a.Attachments[slot]
	if !ok || att.UploadID != uploadID || att.Status != AttachmentPending {
		return Change{}, ErrStaleUpload
	}
	att.VersionID, att.Size, att.ReceivedAt = versionID, size, &now
	att.Status = AttachmentReceived
	if reason != "" {
		att.Status, att.Reason = AttachmentRejected, reason
	}
	a.UpdatedAt = now
	return Change{At: now, By: "platform", Action: "attachment_" + string(att.Status), To: slot, Reason: reason}, nil
}

// Submit sends the application to review. A device vendor's application needs the agreement
// accepted, the deck received and the survey answered, and the applicant must hold a service
// provider account. Error codes: not_editable, wrong_account_type, missing_company,
// agreement_not_accepted, missing_deck, missing_survey, attachment_pending.
func (a *Application) Submit(c Caller, now time.Time) (Change, error) {
	if err := a.editable("submit"); err != nil {
		return Change{}, err
	}
	if a.Company.Name == "" {
		return Change{}, Errorf(Invalid, "missing_company", "company.name is required before submitting")
	}
	for slot, att := range a.Attachments {
		if att.Status == AttachmentPending {
			return Change{}, Errorf(Conflict, "attachment_pending", "the %s upload has not arrived yet", slot)
		}
	}
	if err := checkAccountType(a.PartnerType, c); err != nil {
		return Change{}, err
	}
	a.AccountType = c.AccountType
	if a.PartnerType == PartnerDeviceVendor {
		if !a.AgreementAccepted {
			return Change{}, Errorf(Invalid, "agreement_not_accepted", "the cooperation agreement must be accepted")
		}
		if d := a.Attachments["deck"]; d == nil || d.Status != AttachmentReceived {
			return Change{}, Errorf(Invalid, "missing_deck", "the deck (PPT, PPTX or PDF) must be attached and received")
		}
		if len(a.Survey) == 0 {
			return Change{}, Errorf(Invalid, "missing_survey", "the vendor survey must be answered")
		}
	}
	from := a.Status
	a.Status, a.SubmittedAt, a.UpdatedAt = AppSubmitted, &now, now
	a.Decision, a.Outcome = nil, nil
	a.Round++
	return Change{At: now, By: c.Subject, Action: "submitted", From: string(from), To: string(AppSubmitted)}, nil
}

// Withdraw takes a draft or submitted application out of review for good.
// It returns Conflict ("not_withdrawable") once decided and released.
func (a *Application) Withdraw(c Caller, reason string, now time.Time) (Change, error) {
	if a.Status != AppDraft && a.Status != AppSubmitted {
		return Change{}, Errorf(Conflict, "not_withdrawable", "application %s is %s and cannot be withdrawn", a.ID, a.Status)
	}
	from := a.Status
	a.Status, a.UpdatedAt = AppWithdrawn, now
	return Change{At: now, By: c.Subject, Action: "withdrawn", From: string(from), To: string(AppWithdrawn), Reason: reason}, nil
}

// ForOwner is a as its applicant may read it: no held decision, and the released outcome
// without the reviewer's identity.
func (a *Application) ForOwner() *Application {
	o := *a
	o.Decision, o.Outcome = nil, a.Outcome.ForOwner()
	return &o
}

// visibleStatus is the status as the applicant sees it.
func (a *Application) visibleStatus() string {
	return strings.ReplaceAll(string(a.Status), "_", " ")
}

// HeldDecision is the decision held for the release (Reviewable).
func (a *Application) HeldDecision() *Decision { return a.Decision }

// UnderReview reports whether the application waits for a reviewer's decision (Reviewable).
func (a *Application) UnderReview() bool { return a.Status == AppSubmitted }

// Decide records reviewer's held decision; it may be revised until the weekly release.
// Error codes: not_under_review, already_released (Conflict), reason_required (Invalid).
func (a *Application) Decide(reviewer Caller, approve bool, reason string, now time.Time) (Change, error) {
	if a.Status != AppSubmitted {
		return Change{}, notDecidable("application", a.ID, string(a.Status), a.Outcome)
	}
	return decide(&a.Decision, reviewer, approve, reason, now)
}

// Release publishes the held decision: the applicant now sees the outcome. An approved device
// vendor receives vendorCode. a.Decision stays as read, for the store to retire. It returns
// Conflict ("nothing_to_release") without a held decision.
func (a *Application) Release(vendorCode string, now time.Time) (Change, error) {
	if a.Status != AppSubmitted || a.Decision == nil {
		return Change{}, Errorf(Conflict, "nothing_to_release", "application %s holds no decision", a.ID)
	}
	out := *a.Decision
	out.ReleasedAt, out.Revision = &now, 0
	from := a.Status
	a.Status, a.Outcome, a.UpdatedAt = AppRejected, &out, now
	if out.Approve {
		a.Status = AppApproved
		if a.PartnerType == PartnerDeviceVendor {
			a.VendorCode = vendorCode
		}
	}
	return Change{At: now, By: "weekly-release", Action: "released", From: string(from), To: string(a.Status), Reason: out.Reason}, nil
}
