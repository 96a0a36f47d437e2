package evidence

import (
	"fmt"
	"mime"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/facepay/platform/shared/domain"
)

// SlotKind is the group a slot belongs to.
type SlotKind string

// The slot kinds.
const (
	KindSoftware    SlotKind = "software"    // software pre-check files 1-4
	KindHardware    SlotKind = "hardware"    // hardware pre-check workbook and category zips
	KindCertificate SlotKind = "certificate" // national certification (3C, SRRC, CTA)
	KindDeck        SlotKind = "deck"        // the vendor application's onboarding deck
)

// The software pre-check file numbers of DOMAIN.md section 3.
const (
	SoftwareCameraChecklist = 1 // [1摄像头测试Checklist], .xls/.xlsx
	SoftwareResults         = 2 // [2软件预检测结果], .xls/.xlsx, per mode
	SoftwareVideo           = 3 // [3设备流程视频], .mp4 ≤ 10 MiB, per mode
	SoftwareManual          = 4 // [4设备安装&操作手册], .pdf
)

var softwareTitles = map[int]string{
	SoftwareCameraChecklist: "摄像头测试Checklist",
	SoftwareResults:         "软件预检测结果",
	SoftwareVideo:           "设备流程视频",
	SoftwareManual:          "设备安装&操作手册",
}

// Size limits, in MiB (2^20 bytes). DOMAIN.md fixes only the video's "at most 10 MB"; we
// read it as 10 MiB (10,485,760 bytes), the larger reading and the one the vendor's own file
// manager shows as "10 MB" (Windows counts in 2^20), so no file shown as 10 MB is refused.
// The slot view, the messages and the check all say MiB. The others are our choice: zips
// carry test reports and photos, decks carry slides with pictures, everything else is a
// document.
const (
	MiB          = 1 << 20
	MaxVideoSize = 10 * MiB // DOMAIN.md: the device flow video is at most 10 MB, read as MiB
	MaxZipSize   = 50 * MiB // our choice: a hardware category's reports and photos
	MaxDeckSize  = 50 * MiB // our choice: the onboarding deck
	MaxFileSize  = 20 * MiB // our choice: workbooks, manuals, certificates
)

// Slot is one place a submission puts one file. Its ID is stable and URL-safe.
//
//	software/1, software/2/sdk, software/3/app, software/4      software pre-check
//	hardware/workbook, hardware/<category key>                 hardware pre-check
//	certificate/3c, certificate/srrc, certificate/cta           national certification
//	deck                                                        onboarding deck (any name)
//
// Hardware slots also carry the standard (it decides the workbook's title and the zips'
// numbers) but the standard is not part of the ID: it follows from the model's device type.
type Slot struct {
	Kind        SlotKind            `json:"kind"`
	Number      int                 `json:"number,omitempty"`      // the <n> of the file title; 0 for certificates and the deck
	Mode        domain.SoftwareMode `json:"mode,omitempty"`        // software 2 and 3
	Standard    domain.TestStandard `json:"standard,omitempty"`    // hardware
	Category    domain.TestCategory `json:"category,omitempty"`    // hardware zips; "" for the workbook
	Certificate domain.Certificate  `json:"certificate,omitempty"` // certificates
}

// SoftwareSlot returns software pre-check file n (1-4); mode matters only for files 2 and 3.
func SoftwareSlot(n int, mode domain.SoftwareMode) Slot {
	s := Slot{Kind: KindSoftware, Number: n}
	if n == SoftwareResults || n == SoftwareVideo {
		s.Mode = mode
	}
	return s
}

// WorkbookSlot returns the hardware test-case workbook slot of a standard.
func WorkbookSlot(std domain.TestStandard) Slot {
	return Slot{Kind: KindHardware, Number: 1, Standard: std}
}

// CategorySlot returns the evidence zip slot of category c under standard std. The slot,
// not the file name, says which category a zip is for: its name is
// [<n><title>]-[<vendor>][<model>].zip with the vendor's own number and title (the
// programme's example is [2温升测试]). Number and Title are only the example ExpectedFileName
// shows: zips numbered from 2 in the order of std.Categories() (the workbook is 1), titled
// with the category's sheet name.
func CategorySlot(std domain.TestStandard, c domain.TestCategory) Slot {
	n := slices.Index(std.Categories(), c)
	if n < 0 {
		return Slot{Kind: KindHardware, Standard: std, Category: c}
	}
	return Slot{Kind: KindHardware, Number: n + 2, Standard: std, Category: c}
}

// CertificateSlot returns the slot of certificate c.
func CertificateSlot(c domain.Certificate) Slot {
	return Slot{Kind: KindCertificate, Certificate: c}
}

// DeckSlot returns the onboarding deck slot.
func DeckSlot() Slot { return Slot{Kind: KindDeck} }

// ID is the slot's stable URL-safe identifier (see Slot).
func (s Slot) ID() string {
	switch s.Kind {
	case KindSoftware:
		if s.Mode != "" {
			return fmt.Sprintf("software/%d/%s", s.Number, s.Mode)
		}
		return fmt.Sprintf("software/%d", s.Number)
	case KindHardware:
		if s.Category == "" {
			return "hardware/workbook"
		}
		return "hardware/" + string(s.Category)
	case KindCertificate:
		return "certificate/" + string(s.Certificate)
	case KindDeck:
		return "deck"
	}
	return ""
}

// String returns the slot ID.
func (s Slot) String() string { return s.ID() }

// ParseSlotID returns the slot identified by id for a model of the given device type (the
// device type picks the standard of hardware slots; other slots ignore it). It returns an
// Invalid error with code "unknown_slot" for an ID that names no slot, "unknown_device_type"
// for a hardware slot without a valid device type, and "slot_not_applicable" for a category
// the device type's standard does not have.
func ParseSlotID(id string, deviceType domain.DeviceType) (Slot, error) {
	bad := domain.Errorf(domain.Invalid, "unknown_slot", "%q is not an evidence slot", id)
	parts := strings.Split(id, "/")
	switch {
	case id == "deck":
		return DeckSlot(), nil
	case parts[0] == "software" && (len(parts) == 2 || len(parts) == 3):
		n, err := strconv.Atoi(parts[1])
		if err != nil || softwareTitles[n] == "" || strconv.Itoa(n) != parts[1] {
			return Slot{}, bad
		}
		perMode := n == SoftwareResults || n == SoftwareVideo
		if perMode != (len(parts) == 3) {
			return Slot{}, bad
		}
		if !perMode {
			return SoftwareSlot(n, ""), nil
		}
		mode, err := domain.ParseSoftwareMode(parts[2])
		if err != nil {
			return Slot{}, bad
		}
		return SoftwareSlot(n, mode), nil
	case parts[0] == "hardware" && len(parts) == 2:
		var c domain.TestCategory
		if parts[1] != "workbook" {
			var err error
			if c, err = domain.ParseTestCategory(parts[1]); err != nil {
				return Slot{}, bad
			}
		}
		dt, err := domain.ParseDeviceType(string(deviceType))
		if err != nil {
			return Slot{}, err
		}
		std := dt.Standard()
		if c == "" {
			return WorkbookSlot(std), nil
		}
		if std.Requirement(c) == domain.CategoryNotApplicable {
			return Slot{}, domain.Errorf(domain.Invalid, "slot_not_applicable",
				"the %s standard has no %s category", std, c)
		}
		return CategorySlot(std, c), nil
	case parts[0] == "certificate" && len(parts) == 2:
		c, err := domain.ParseCertificate(parts[1])
		if err != nil {
			return Slot{}, bad
		}
		return CertificateSlot(c), nil
	}
	return Slot{}, bad
}

// Title is the part of the file name's first bracket after the number: "软件预检测结果",
// the standard's name and version for the workbook, the category's sheet name for a zip (an
// example only: a zip's title is the vendor's own, see FreeTitle),
// "3C证书" for a certificate (our choice), "" for the deck.
func (s Slot) Title() string {
	switch s.Kind {
	case KindSoftware:
		return softwareTitles[s.Number]
	case KindHardware:
		if s.Category == "" {
			return s.Standard.FileStem()
		}
		return s.Category.SheetName()
	case KindCertificate:
		return s.Certificate.Label() + "证书"
	}
	return ""
}

// head is the whole content of the name's first bracket: number and title.
func (s Slot) head() string {
	if s.Number == 0 {
		return s.Title()
	}
	return strconv.Itoa(s.Number) + s.Title()
}

// FreeTitle reports whether the first bracket of the slot's file name is the vendor's own
// "<n><title>" (a hardware category zip) rather than a fixed one.
func (s Slot) FreeTitle() bool { return s.Kind == KindHardware && s.Category != "" }

// NamePattern is the slot's file name rule in words: the expected name, or for a category
// zip "[<n><title>]-[<vendor>][<model>].zip", where <n><title> is the vendor's own.
func (s Slot) NamePattern(vendorName, model string) string {
	if !s.FreeTitle() {
		return s.ExpectedFileName(vendorName, model, "")
	}
	return FileName{Head: "<n><title>", Vendor: vendorName, Model: model, Ext: ".zip"}.String()
}

// Formats returns the formats the slot accepts, the first being the one used in examples.
func (s Slot) Formats() []Format {
	switch {
	case s.Kind == KindSoftware && s.Number == SoftwareVideo:
		return []Format{FormatMP4}
	case s.Kind == KindSoftware && s.Number == SoftwareManual, s.Kind == KindCertificate:
		return []Format{FormatPDF}
	case s.Kind == KindSoftware, s.Kind == KindHardware && s.Category == "":
		return []Format{FormatXLS, FormatXLSX}
	case s.Kind == KindHardware:
		return []Format{FormatZip}
	case s.Kind == KindDeck:
		return []Format{FormatPPTX, FormatPPT, FormatPDF}
	}
	return nil
}

// Extensions returns the file name extensions the slot accepts (with the dot, lower case).
func (s Slot) Extensions() []string {
	var out []string
	for _, f := range s.Formats() {
		out = append(out, f.Extension())
	}
	return out
}

// MaxSize is the largest upload the slot accepts, in bytes (see MaxVideoSize and friends).
func (s Slot) MaxSize() int64 {
	switch {
	case s.Kind == KindSoftware && s.Number == SoftwareVideo:
		return MaxVideoSize
	case s.Kind == KindHardware && s.Category != "":
		return MaxZipSize
	case s.Kind == KindDeck:
		return MaxDeckSize
	}
	return MaxFileSize
}

// ContentTypes returns the media types an upload to the slot may declare. Besides each
// format's own types, "application/octet-stream" is accepted: browsers send it for files
// they do not recognise, and Verify checks the bytes anyway.
func (s Slot) ContentTypes() []string {
	var out []string
	for _, f := range s.Formats() {
		out = append(out, f.ContentTypes()...)
	}
	return append(out, "application/octet-stream")
}

// ExpectedFileName is the name an upload to the slot must have, with extension ext (".pdf";
// the slot's first extension when ext is ""). The deck has no required name: it returns
// "deck" + ext.
func (s Slot) ExpectedFileName(vendorName, model, ext string) string {
	if ext == "" {
		if exts := s.Extensions(); len(exts) > 0 {
			ext = exts[0]
		}
	}
	if s.Kind == KindDeck {
		return "deck" + ext
	}
	return FileName{Head: s.head(), Vendor: vendorName, Model: model, Mode: s.Mode.Label(), Ext: ext}.String()
}

// CheckFileName verifies that name is exactly the slot's required name for the vendor and
// model (the deck only needs an allowed extension). It returns an Invalid error with code
// "bad_file_name" (not the bracket pattern), "wrong_slot_title", "wrong_vendor_name",
// "wrong_model_name", "wrong_software_mode" or "wrong_extension".
func (s Slot) CheckFileName(name, vendorName, modelName string) error {
	if s.Kind == KindDeck {
		return s.checkExtension(name, strings.ToLower(path.Ext(name)))
	}
	fn, err := ParseFileName(name)
	if err != nil {
		return err
	}
	want := s.NamePattern(vendorName, modelName)
	switch {
	case s.FreeTitle() && (fn.Number == 0 || fn.Title == ""):
		return domain.Errorf(domain.Invalid, "wrong_slot_title",
			"%q must start with a number and a title, like [2温升测试]; expected a name like %q", name, want)
	case !s.FreeTitle() && fn.Head != s.head():
		return domain.Errorf(domain.Invalid, "wrong_slot_title",
			"%q does not start with [%s]; expected a name like %q", name, s.head(), want)
	case fn.Vendor != vendorName:
		return domain.Errorf(domain.Invalid, "wrong_vendor_name",
			"%q names vendor %q, not %q; expected a name like %q", name, fn.Vendor, vendorName, want)
	case fn.Model != modelName:
		return domain.Errorf(domain.Invalid, "wrong_model_name",
			"%q names model %q, not %q; expected a name like %q", name, fn.Model, modelName, want)
	case fn.Mode != s.Mode.Label():
		if s.Mode == "" {
			return domain.Errorf(domain.Invalid, "wrong_software_mode",
				"%q must not name a software mode; expected a name like %q", name, want)
		}
		return domain.Errorf(domain.Invalid, "wrong_software_mode",
			"%q must name the software mode [%s]; expected a name like %q", name, s.Mode.Label(), want)
	}
	return s.checkExtension(name, strings.ToLower(fn.Ext))
}

func (s Slot) checkExtension(name, ext string) error {
	if !slices.Contains(s.Extensions(), ext) {
		return domain.Errorf(domain.Invalid, "wrong_extension",
			"%q must have one of the extensions %s", name, strings.Join(s.Extensions(), ", "))
	}
	return nil
}

// CheckUpload checks what is known before the bytes arrive: the name (CheckFileName's codes),
// the declared size (Invalid "empty_file"; TooLarge "file_too_large" above MaxSize) and the
// declared content type (Invalid "wrong_content_type" unless it is one of ContentTypes and
// fits the name's extension).
func (s Slot) CheckUpload(name string, size int64, contentType string, vendorName, model string) error {
	if err := s.CheckFileName(name, vendorName, model); err != nil {
		return err
	}
	if size <= 0 {
		return domain.Errorf(domain.Invalid, "empty_file", "%q is empty", name)
	}
	if size > s.MaxSize() {
		return domain.Errorf(domain.TooLarge, "file_too_large",
			"%q is %s; this slot takes at most %s", name, SizeText(size), SizeText(s.MaxSize()))
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = ""
	}
	ok := mt == "application/octet-stream"
	if f := formatOfExtension(strings.ToLower(path.Ext(name))); f != "" {
		ok = ok || slices.Contains(f.ContentTypes(), mt)
	}
	if !ok {
		return domain.Errorf(domain.Invalid, "wrong_content_type",
			"%q was declared as %q, which is not a content type for this file", name, contentType)
	}
	return nil
}

// SizeText states n bytes in MiB as messages and the slot view write it: "10 MiB
// (10485760 bytes)".
func SizeText(n int64) string {
	if n%MiB == 0 {
		return fmt.Sprintf("%d MiB (%d bytes)", n/MiB, n)
	}
	return fmt.Sprintf("%.2f MiB (%d bytes)", float64(n)/MiB, n)
}

// SoftwareSet is the software pre-check files of one software mode (files 1 and 4 are
// shared by the modes but listed in each set, since a model with both modes submits
// both sets together).
type SoftwareSet struct {
	Mode  domain.SoftwareMode `json:"mode"`
	Slots []Slot              `json:"slots"`
}

// Requirements is what a complete submission for a model needs.
type Requirements struct {
	Software     []SoftwareSet       `json:"software"`     // one set per mode
	Standard     domain.TestStandard `json:"standard"`     // the hardware test-case standard
	Hardware     []Slot              `json:"hardware"`     // workbook, then one zip per required category
	Optional     []Slot              `json:"optional"`     // zips the standard allows but does not require
	Certificates []Slot              `json:"certificates"` // per connectivity
}

// All returns every required slot once (shared software files once), in a stable order.
func (r Requirements) All() []Slot {
	var out []Slot
	seen := map[string]bool{}
	add := func(ss ...Slot) {
		for _, s := range ss {
			if !seen[s.ID()] {
				seen[s.ID()] = true
				out = append(out, s)
			}
		}
	}
	for _, set := range r.Software {
		add(set.Slots...)
	}
	add(r.Hardware...)
	add(r.Certificates...)
	return out
}

// RequiredSlots returns what a complete submission for a model needs: the software pre-check
// files per mode (modes in SoftwareModes order, duplicates ignored), the workbook and one zip
// per required category of the device type's standard, and the certificates its
// connectivity calls for. It returns an Invalid error with code "unknown_device_type",
// "unknown_software_mode" or "no_software_mode" (modes is empty).
func RequiredSlots(deviceType domain.DeviceType, modes []domain.SoftwareMode, conn []domain.Connectivity) (Requirements, error) {
	dt, err := domain.ParseDeviceType(string(deviceType))
	if err != nil {
		return Requirements{}, err
	}
	for _, m := range modes {
		if _, err := domain.ParseSoftwareMode(string(m)); err != nil {
			return Requirements{}, err
		}
	}
	if len(modes) == 0 {
		return Requirements{}, domain.Errorf(domain.Invalid, "no_software_mode", "a model needs at least one software mode")
	}
	var r Requirements
	for _, m := range domain.SoftwareModes() {
		if !slices.Contains(modes, m) {
			continue
		}
		set := SoftwareSet{Mode: m}
		for n := SoftwareCameraChecklist; n <= SoftwareManual; n++ {
			set.Slots = append(set.Slots, SoftwareSlot(n, m))
		}
		r.Software = append(r.Software, set)
	}
	r.Standard = dt.Standard()
	r.Hardware = append(r.Hardware, WorkbookSlot(r.Standard))
	for _, c := range r.Standard.Categories() {
		if r.Standard.Requirement(c) == domain.CategoryRequired {
			r.Hardware = append(r.Hardware, CategorySlot(r.Standard, c))
		} else {
			r.Optional = append(r.Optional, CategorySlot(r.Standard, c))
		}
	}
	for _, c := range domain.RequiredCertificates(conn) {
		r.Certificates = append(r.Certificates, CertificateSlot(c))
	}
	return r, nil
}

// Category is a hardware test category (a workbook sheet, an evidence zip).
type Category = domain.TestCategory

// MissingCategories returns the categories std requires that are not among received, in
// the standard's order. It is the submission-level "one zip per required category" check.
func MissingCategories(std domain.TestStandard, received []Category) []Category {
	var out []Category
	for _, c := range std.RequiredCategories() {
		if !slices.Contains(received, c) {
			out = append(out, c)
		}
	}
	return out
}
