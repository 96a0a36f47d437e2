package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// SubmissionKind is one of the evidence sets a model submits during the prototype stage
// (DOMAIN.md section 3). The kinds run in parallel, each with its own versions.
type SubmissionKind string

// The submission kinds. The onboarding deck belongs to the partner application, not here.
const (
	SubmissionSoftware     SubmissionKind = "software"     // software pre-check files 1-4 per mode
	SubmissionHardware     SubmissionKind = "hardware"     // test-case workbook and one zip per category
	SubmissionCertificates SubmissionKind = "certificates" // 3C, SRRC, CTA
)

// SubmissionKinds lists the kinds in a stable order.
func SubmissionKinds() []SubmissionKind {
	return []SubmissionKind{SubmissionSoftware, SubmissionHardware, SubmissionCertificates}
}

// ParseSubmissionKind returns NotFound ("unknown_submission_kind") for anything else: the kind
// is a path segment, so an unknown one names no resource.
func ParseSubmissionKind(s string) (SubmissionKind, error) {
	k := SubmissionKind(s)
	if !slices.Contains(SubmissionKinds(), k) {
		return "", Errorf(NotFound, "unknown_submission_kind", "submission kind %q is not one of software, hardware, certificates", s)
	}
	return k, nil
}

// VersionStatus is where one version of a submission is.
type VersionStatus string

// Version statuses. A version is open while the vendor uploads; submitting freezes it;
// a reviewer's decision takes effect at once (our choice: pre-check reviews are not held
// for the Monday release). A rejected version stays readable; the next upload opens a new one.
const (
	VersionOpen      VersionStatus = "open"
	VersionSubmitted VersionStatus = "under_review"
	VersionApproved  VersionStatus = "approved"
	VersionRejected  VersionStatus = "rejected"
)

// ArtifactStatus is the state of one uploaded evidence file.
type ArtifactStatus string

// Artifact statuses (as for application attachments).
const (
	ArtifactPending  ArtifactStatus = "pending"
	ArtifactReceived ArtifactStatus = "received"
	ArtifactRejected ArtifactStatus = "rejected"
)

// PrescreenFinding is one problem (or flag) the machine pre-screening found in a spreadsheet.
type PrescreenFinding struct {
	Code    string `json:"code"`
	Sheet   string `json:"sheet,omitempty"`
	Row     int    `json:"row,omitempty"`
	Item    string `json:"item,omitempty"`
	Message string `json:"message"`
}

// PrescreenResult is the outcome of pre-screening a spreadsheet, shown to vendor and reviewer:
// findings refuse the file, flags point the reviewer at entries worth a look.
type PrescreenResult struct {
	Passed   bool               `json:"passed"`
	Findings []PrescreenFinding `json:"findings"`
	Flags    []PrescreenFinding `json:"flags"`
}

// Acceptable reports whether the pre-screening lets the file into a submission.
func (p *PrescreenResult) Acceptable() bool { return p == nil || p.Passed }

// ArchiveListing is what an uploaded zip holds, shown to the reviewer: the entry count, the
// total unpacked size in bytes and the first entries.
type ArchiveListing struct {
	Entries  int            `json:"entries"`
	Unpacked int64          `json:"unpacked"`
	Files    []ArchiveEntry `json:"files"`
}

// ArchiveEntry is one entry of an uploaded zip (Size uncompressed, in bytes).
type ArchiveEntry struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// Artifact is one file uploaded to one slot of a submission version.
type Artifact struct {
	Slot        string           `json:"slot"` // evidence slot ID, e.g. "software/2/sdk"
	UploadID    string           `json:"uploadId"`
	FileName    string           `json:"fileName"`
	ContentType string           `json:"contentType"`
	Size        int64            `json:"size"`
	SHA256      string           `json:"sha256"` // hex, declared by the vendor and checked on arrival
	VersionID   string           `json:"versionId,omitempty"`
	Status      ArtifactStatus   `json:"status"`
	ReasonCode  string           `json:"reasonCode,omitempty"`
	Reason      string           `json:"reason,omitempty"`
	Prescreen   *PrescreenResult `json:"prescreen,omitempty"`
	Listing     *ArchiveListing  `json:"listing,omitempty"` // a zip's contents
	// Certificate is a certificate's number and dates as the vendor declared them with the
	// upload; Confirmed once a reviewer approved the version (with corrections, if any).
	Certificate *CertificateDetails `json:"certificate,omitempty"`
	Revision    int                 `json:"-"` // the store's optimistic-concurrency version of this file
	RequestedBy string              `json:"requestedBy"`
	RequestedAt time.Time           `json:"requestedAt"`
	ReceivedAt  *time.Time          `json:"receivedAt,omitempty"`
}

// SubmissionVersion is one round of a submission: the files as they were when submitted and
// the reviewer's decision on them. A decided version is never changed again.
type SubmissionVersion struct {
	ModelID     string               `json:"modelId"`
	VendorOrg   string               `json:"vendorOrg"`
	Kind        SubmissionKind       `json:"kind"`
	Number      int                  `json:"version"` // 1, 2, ...
	Status      VersionStatus        `json:"status"`
	Artifacts   map[string]*Artifact `json:"artifacts"` // by slot ID
	Outcome     *Decision            `json:"outcome,omitempty"`
	CreatedAt   time.Time            `json:"createdAt"`
	UpdatedAt   time.Time            `json:"updatedAt"`
	SubmittedBy string               `json:"submittedBy,omitempty"`
	SubmittedAt *time.Time           `json:"submittedAt,omitempty"`
	Revision    int                  `json:"revision"` // the store's optimistic-concurrency version
}

// Submission is a model's evidence of one kind: every version, oldest first.
type Submission struct {
	ModelID   string               `json:"modelId"`
	VendorOrg string               `json:"vendorOrg"`
	Kind      SubmissionKind       `json:"kind"`
	Versions  []*SubmissionVersion `json:"versions"`
}

// Current is the latest version, nil before the first upload.
func (s *Submission) Current() *SubmissionVersion {
	if len(s.Versions) == 0 {
		return nil
	}
	return s.Versions[len(s.Versions)-1]
}

// Version returns version n. It returns NotFound ("version_not_found").
func (s *Submission) Version(n int) (*SubmissionVersion, error) {
	if n < 1 || n > len(s.Versions) || s.Versions[n-1].Number != n {
		return nil, Errorf(NotFound, "version_not_found", "the %s submission of model %s has no version %d", s.Kind, s.ModelID, n)
	}
	return s.Versions[n-1], nil
}

// RequestUpload records that an upload URL was issued for a.Slot and returns the version the
// file goes into. The first upload opens version 1; the first upload after a rejection opens
// the next version, carrying over the files the vendor received before (our choice: only the
// files to fix need uploading again; the earlier version keeps its own record). Re-requesting
// a slot of an open version replaces its file (the bucket keeps every object).
// It returns Conflict "submission_under_review" or "submission_approved" when the current
// version is frozen.
func (s *Submission) RequestUpload(c Caller, a Artifact, now time.Time) (*SubmissionVersion, Change, error) {
	v := s.Current()
	switch {
	case v == nil || v.Status == VersionRejected:
		next := &SubmissionVersion{ModelID: s.ModelID, VendorOrg: s.VendorOrg, Kind: s.Kind, Number: 1, Status: VersionOpen,
			Artifacts: map[string]*Artifact{}, CreatedAt: now, UpdatedAt: now}
		if v != nil {
			next.Number = v.Number + 1
			for slot, prev := range v.Artifacts {
				if prev.Status == ArtifactReceived {
					cp := *prev
					next.Artifacts[slot] = &cp
				}
			}
		}
		s.Versions = append(s.Versions, next)
		v = next
	case v.Status == VersionSubmitted:
		return nil, Change{}, Errorf(Conflict, "submission_under_review",
			"version %d of the %s submission is under review; upload again after the decision", v.Number, s.Kind)
	case v.Status == VersionApproved && s.Kind == SubmissionCertificates:
		// A renewal: certificates expire, and the renewed one goes into the next version with
		// the other certificates carried over; its approval records the new validity.
		next := &SubmissionVersion{ModelID: s.ModelID, VendorOrg: s.VendorOrg, Kind: s.Kind, Number: v.Number + 1, Status: VersionOpen,
			Artifacts: map[string]*Artifact{}, CreatedAt: now, UpdatedAt: now}
		for slot, prev := range v.Artifacts {
			if prev.Status == ArtifactReceived {
				cp := *prev
				next.Artifacts[slot] = &cp
			}
		}
		s.Versions = append(s.Versions, next)
		v = next
	case v.Status == VersionApproved:
		return nil, Change{}, Errorf(Conflict, "submission_approved", "the %s submission was approved (version %d)", s.Kind, v.Number)
	}
	a.Status, a.RequestedBy, a.RequestedAt = ArtifactPending, c.Subject, now
	a.Revision = 0
	if prev := v.Artifacts[a.Slot]; prev != nil {
		a.Revision = prev.Revision // the slot's stored file is replaced, not created
	}
	a.VersionID, a.ReasonCode, a.Reason, a.Prescreen, a.Listing, a.ReceivedAt = "", "", "", nil, nil, nil
	v.Artifacts[a.Slot] = &a
	v.UpdatedAt = now
	return v, Change{At: now, By: c.Subject, Action: "upload_requested", To: fmt.Sprintf("v%d %s: %s", v.Number, a.Slot, a.FileName)}, nil
}

// Arrival is what the upload check found for an arrived file. ReasonCode is "" when the file
// is accepted.
type Arrival struct {
	UploadID   string
	VersionID  string
	Size       int64
	ReasonCode string
	Reason     string
	Prescreen  *PrescreenResult
	Listing    *ArchiveListing
}

// Receive marks the slot's pending upload received or rejected. A notification for another
// upload, or one already settled, or for a version no longer open, returns ErrStaleUpload and
// changes nothing: redelivery is harmless.
func (v *SubmissionVersion) Receive(slot string, in Arrival, now time.Time) (Change, error) {
	a := v.Artifacts[slot]
	if v.Status != VersionOpen || a == nil || a.UploadID != in.UploadID || a.Status != ArtifactPending {
		return Change{}, ErrStaleUpload
	}
	a.VersionID, a.Size, a.Prescreen, a.Listing, a.ReceivedAt = in.VersionID, in.Size, in.Prescreen, in.Listing, &now
	a.Status = ArtifactReceived
	if in.ReasonCode != "" {
		a.Status, a.ReasonCode, a.Reason = ArtifactRejected, in.ReasonCode, in.Reason
	}
	v.UpdatedAt = now
	return Change{At: now, By: "platform", Action: "upload_" + string(a.Status), To: fmt.Sprintf("v%d %s", v.Number, slot),
		Reason: strings.TrimSpace(in.ReasonCode + " " + in.Reason)}, nil
}

// Submit sends the open version to review. required lists the slot IDs the model must fill
// for this kind. Error codes: nothing_to_submit (Conflict, no open version), upload_pending
// (Conflict, a file has not arrived), missing_files (Invalid, a required slot is not received),
// prescreen_failed (Invalid, a received spreadsheet failed pre-screening).
func (v *SubmissionVersion) Submit(c Caller, required []string, now time.Time) (Change, error) {
	if v == nil {
		return Change{}, Errorf(Conflict, "nothing_to_submit", "nothing was uploaded yet; upload the files first")
	}
	if v.Status != VersionOpen {
		return Change{}, Errorf(Conflict, "nothing_to_submit", "version %d is %s; upload a file to open the next version",
			v.Number, strings.ReplaceAll(string(v.Status), "_", " "))
	}
	for _, slot := range sortedSlots(v.Artifacts) {
		if v.Artifacts[slot].Status == ArtifactPending {
			return Change{}, Errorf(Conflict, "upload_pending", "the %s upload has not arrived yet", slot)
		}
	}
	var missing []string
	for _, slot := range required {
		if a := v.Artifacts[slot]; a == nil || a.Status != ArtifactReceived {
			missing = append(missing, slot)
		}
	}
	if len(missing) > 0 {
		return Change{}, Errorf(Invalid, "missing_files", "these files are required and not received: %s", strings.Join(missing, ", "))
	}
	for _, slot := range sortedSlots(v.Artifacts) {
		if a := v.Artifacts[slot]; a.Status == ArtifactReceived && !a.Prescreen.Acceptable() {
			return Change{}, Errorf(Invalid, "prescreen_failed", "%s did not pass pre-screening; upload a corrected file", slot)
		}
	}
	v.Status, v.SubmittedBy, v.SubmittedAt, v.UpdatedAt = VersionSubmitted, c.Subject, &now, now
	return Change{At: now, By: c.Subject, Action: "submitted", From: string(VersionOpen), To: fmt.Sprintf("v%d %s", v.Number, VersionSubmitted)}, nil
}

// Decide records reviewer's decision on a submitted version; it takes effect at once.
// Error codes: not_under_review (Conflict), reason_required, reason_too_long (Invalid).
func (v *SubmissionVersion) Decide(reviewer Caller, approve bool, reason string, now time.Time) (Change, error) {
	if v.Status != VersionSubmitted {
		return Change{}, Errorf(Conflict, "not_under_review", "version %d of the %s submission is %s, not under review",
			v.Number, v.Kind, strings.ReplaceAll(string(v.Status), "_", " "))
	}
	var held *Decision
	if _, err := decide(&held, reviewer, approve, reason, now); err != nil {
		return Change{}, err
	}
	held.ReleasedAt = &now
	v.Outcome, v.UpdatedAt = held, now
	v.Status = VersionRejected
	if approve {
		v.Status = VersionApproved
	}
	return Change{At: now, By: reviewer.Subject, ByReviewer: true, Action: "decided", From: string(VersionSubmitted),
		To: fmt.Sprintf("v%d %s", v.Number, v.Status), Reason: held.Reason}, nil
}

// ForOwner is v as its vendor may read it: the outcome without the reviewer's identity.
func (v *SubmissionVersion) ForOwner() *SubmissionVersion {
	if v == nil {
		return nil
	}
	o := *v
	o.Outcome = v.Outcome.ForOwner()
	return &o
}

func sortedSlots(m map[string]*Artifact) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// certificateSlotPrefix is how a certificate's slot ID starts ("certificate/3c").
const certificateSlotPrefix = "certificate/"

// ConfirmCertificates is the reviewer's confirmation of the certificates of version v before
// approving it: each certificate file's details as declared with its upload, or as the reviewer
// corrected them. Error codes (Invalid): certificate_details_required (a certificate with no
// details from either), invalid_certificate_details (bad details, or a correction for a
// certificate the version does not hold).
func (v *SubmissionVersion) ConfirmCertificates(corrections map[Certificate]CertificateDetails) error {
	if v.Kind != SubmissionCertificates {
		if len(corrections) > 0 {
			return Errorf(Invalid, "invalid_certificate_details", "only a certificates submission carries certificate details")
		}
		return nil
	}
	for c := range corrections {
		if a := v.Artifacts[certificateSlotPrefix+string(c)]; a == nil || a.Status != ArtifactReceived {
			return Errorf(Invalid, "invalid_certificate_details", "version %d holds no %s certificate to correct", v.Number, c.Label())
		}
	}
	for _, slot := range sortedSlots(v.Artifacts) {
		a := v.Artifacts[slot]
		if !strings.HasPrefix(slot, certificateSlotPrefix) || a.Status != ArtifactReceived {
			continue
		}
		d := a.Certificate
		if fix, ok := corrections[Certificate(strings.TrimPrefix(slot, certificateSlotPrefix))]; ok {
			d = &fix
		}
		if d == nil {
			return Errorf(Invalid, "certificate_details_required",
				"the %s certificate has no number and dates: give them in the decision's certificates (%s)", slot, strings.TrimPrefix(slot, certificateSlotPrefix))
		}
		if err := d.Check(); err != nil {
			return err
		}
		cp := *d
		cp.Confirmed = true
		a.Certificate = &cp
	}
	return nil
}

// CertificateValidity is the validity of each confirmed certificate of v (an approved
// certificates version).
func (v *SubmissionVersion) CertificateValidity() map[Certificate]CertificateValidity {
	out := map[Certificate]CertificateValidity{}
	for slot, a := range v.Artifacts {
		if strings.HasPrefix(slot, certificateSlotPrefix) && a.Certificate != nil && a.Certificate.Confirmed {
			out[Certificate(strings.TrimPrefix(slot, certificateSlotPrefix))] = a.Certificate.Validity()
		}
	}
	return out
}
