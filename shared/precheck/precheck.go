// Package precheck is the glue between a model's submissions (shared/domain) and the evidence
// library (shared/evidence): which slots a model's submission of a kind has and requires, the
// slot IDs' path-safe form, the object keys of uploads, and the pre-screening result in domain
// terms. domain cannot import evidence (evidence imports domain), so the rules that need both
// live here; the evidence function and process-upload both use them.
package precheck

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
)

var slotKinds = map[domain.SubmissionKind]evidence.SlotKind{
	domain.SubmissionSoftware:     evidence.KindSoftware,
	domain.SubmissionHardware:     evidence.KindHardware,
	domain.SubmissionCertificates: evidence.KindCertificate,
}

// PathForm is slot ID id as one URL path segment: "/" becomes "." ("software/2/sdk" →
// "software.2.sdk"). Slot IDs never contain ".".
func PathForm(id string) string { return strings.ReplaceAll(id, "/", ".") }

// SlotID is the slot ID of a path-form segment (the inverse of PathForm).
func SlotID(pathForm string) string { return strings.ReplaceAll(pathForm, ".", "/") }

// Slot returns the slot id of m's submission of kind. It accepts the slot ID or its path form.
// Error codes (Invalid): unknown_slot, slot_not_applicable (another kind's slot, a software
// mode the model does not support, a certificate its connectivity does not call for, a
// category its standard lacks).
func Slot(m *domain.Model, kind domain.SubmissionKind, id string) (evidence.Slot, error) {
	id = SlotID(id)
	s, err := evidence.ParseSlotID(id, m.DeviceType)
	if err != nil {
		return evidence.Slot{}, err
	}
	notApplicable := func(why string, args ...any) error {
		return domain.Errorf(domain.Invalid, "slot_not_applicable", "slot %s: %s", id, fmt.Sprintf(why, args...))
	}
	switch {
	case s.Kind != slotKinds[kind]:
		return evidence.Slot{}, notApplicable("it is not part of the %s submission", kind)
	case s.Mode != "" && !slices.Contains(m.SoftwareModes, s.Mode):
		return evidence.Slot{}, notApplicable("model %s does not support %s mode", m.Name, s.Mode.Label())
	case s.Kind == evidence.KindCertificate && !slices.Contains(domain.RequiredCertificates(m.Connectivity), s.Certificate):
		return evidence.Slot{}, notApplicable("model %s's connectivity does not call for %s", m.Name, s.Certificate.Label())
	}
	return s, nil
}

// Required returns the slots m's submission of kind must fill before it can be submitted
// (evidence.RequiredSlots: software files per mode, the workbook and one zip per required
// category, the certificates the connectivity calls for).
func Required(m *domain.Model, kind domain.SubmissionKind) ([]evidence.Slot, error) {
	req, _, err := Slots(m, kind)
	return req, err
}

// Slots returns the required slots of m's submission of kind (see Required) and the optional
// ones (hardware categories the standard allows without requiring).
func Slots(m *domain.Model, kind domain.SubmissionKind) (required, optional []evidence.Slot, err error) {
	r, err := evidence.RequiredSlots(m.DeviceType, m.SoftwareModes, m.Connectivity)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range r.All() {
		if s.Kind == slotKinds[kind] {
			required = append(required, s)
		}
	}
	for _, s := range r.Optional {
		if s.Kind == slotKinds[kind] {
			optional = append(optional, s)
		}
	}
	return required, optional, nil
}

// CheckComplete checks, before submitting v, what the slots alone cannot say: a hardware
// submission holds a received zip for every category its standard requires
// (evidence.MissingCategories). It returns Invalid ("missing_category") naming them.
func CheckComplete(m *domain.Model, v *domain.SubmissionVersion) error {
	if v == nil || v.Kind != domain.SubmissionHardware {
		return nil
	}
	std := m.DeviceType.Standard()
	var received []evidence.Category
	for id, a := range v.Artifacts {
		if s, err := evidence.ParseSlotID(id, m.DeviceType); err == nil && s.Category != "" && a.Status == domain.ArtifactReceived {
			received = append(received, s.Category)
		}
	}
	if missing := evidence.MissingCategories(std, received); len(missing) > 0 {
		names := make([]string, len(missing))
		for i, c := range missing {
			names[i] = string(c) + " (" + c.SheetName() + ")"
		}
		return domain.Errorf(domain.Invalid, "missing_category",
			"the %s standard requires one zip per category; missing: %s", std, strings.Join(names, ", "))
	}
	return nil
}

// RequiredIDs returns the IDs of slots.
func RequiredIDs(slots []evidence.Slot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.ID()
	}
	return out
}

// Result converts a pre-screening outcome to its domain form.
func Result(p evidence.Prescreen) *domain.PrescreenResult {
	conv := func(fs []evidence.Finding) []domain.PrescreenFinding {
		out := make([]domain.PrescreenFinding, len(fs))
		for i, f := range fs {
			out[i] = domain.PrescreenFinding{Code: f.Code, Sheet: f.Sheet, Row: f.Row, Item: f.Item, Message: f.Message}
		}
		return out
	}
	return &domain.PrescreenResult{Passed: p.Passed, Findings: conv(p.Findings), Flags: conv(p.Flags)}
}

// Listing converts a zip's listing to its domain form.
func Listing(l evidence.ZipListing) *domain.ArchiveListing {
	out := &domain.ArchiveListing{Entries: l.Entries, Unpacked: l.Unpacked, Files: make([]domain.ArchiveEntry, len(l.Files))}
	for i, f := range l.Files {
		out.Files[i] = domain.ArchiveEntry{Name: f.Name, Size: f.Size}
	}
	return out
}

// Screened reports whether uploads to s are pre-screened (the spreadsheets).
func Screened(s evidence.Slot) bool {
	return s.Kind == evidence.KindSoftware && (s.Number == evidence.SoftwareCameraChecklist || s.Number == evidence.SoftwareResults) ||
		s.Kind == evidence.KindHardware && s.Category == ""
}

// KeyPrefix is the prefix of every evidence upload (the template's EvidenceUpload filter).
const KeyPrefix = "evidence/"

// Key is where an evidence upload lands:
//
//	evidence/<vendor org>/<model id>/<kind>/v<version>/<slot path form>/<upload id>
//
// so the object-created notification alone identifies the record, and every upload has its
// own key (nothing is overwritten).
func Key(org, modelID string, kind domain.SubmissionKind, version int, slotID, uploadID string) string {
	return path.Join("evidence", org, modelID, string(kind), "v"+strconv.Itoa(version), PathForm(slotID), uploadID)
}

// KeyParts is what an evidence key names.
type KeyParts struct {
	Org      string
	ModelID  string
	Kind     domain.SubmissionKind
	Version  int
	SlotID   string
	UploadID string
}

// ParseKey reads an evidence key; ok is false for anything Key does not make.
func ParseKey(key string) (KeyParts, bool) {
	p := strings.Split(key, "/")
	if len(p) != 7 || p[0] != "evidence" || !strings.HasPrefix(p[4], "v") {
		return KeyParts{}, false
	}
	n, err := strconv.Atoi(p[4][1:])
	if err != nil || n < 1 {
		return KeyParts{}, false
	}
	kind, err := domain.ParseSubmissionKind(p[3])
	if err != nil {
		return KeyParts{}, false
	}
	for _, s := range p {
		if s == "" {
			return KeyParts{}, false
		}
	}
	return KeyParts{Org: p[1], ModelID: p[2], Kind: kind, Version: n, SlotID: SlotID(p[5]), UploadID: p[6]}, true
}
