package domain

import (
	"bytes"
	_ "embed" // standards.json
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
)

// TestStandard is a hardware pre-check test-case standard (a workbook of category sheets),
// keyed by a stable snake_case name without its version ("desktop_cashier"). Its name,
// current version, categories and device types are data: standards.json.
type TestStandard string

// The test-case standards of DOMAIN.md section 3 (keys into standards.json).
const (
	StandardDesktopCashier    TestStandard = "desktop_cashier"
	StandardMedical           TestStandard = "medical"
	StandardUnattendedVending TestStandard = "unattended_vending"
	StandardSelfCheckout      TestStandard = "self_checkout"
	StandardGroupCatering     TestStandard = "group_catering"
)

// TestCategory is one category (one workbook sheet, one evidence zip) of a test-case standard.
// Its value is the stable English key; its sheet name is data (standards.json).
type TestCategory string

// The test categories, in the order the standards list them.
const (
	CategoryClimateReliability    TestCategory = "climate_reliability"
	CategoryMechanicalReliability TestCategory = "mechanical_reliability"
	CategoryCoatingReliability    TestCategory = "coating_reliability"
	CategoryBasicFunction         TestCategory = "basic_function"
	CategoryPerformance           TestCategory = "performance"
)

var testCategories = []TestCategory{CategoryClimateReliability, CategoryMechanicalReliability,
	CategoryCoatingReliability, CategoryBasicFunction, CategoryPerformance}

// CategoryRequirement says whether a standard needs a category.
type CategoryRequirement int

// Category requirements. The zero value means the standard has no such category.
const (
	CategoryNotApplicable CategoryRequirement = iota
	CategoryOptional
	CategoryRequired
)

//go:embed standards.json
var standardsJSON []byte

// Standards is a catalogue of test-case standards read from a standards.json document.
type Standards struct {
	sheets    map[TestCategory]string
	standards []standardInfo
	byDevice  map[DeviceType]TestStandard
}

type standardInfo struct {
	key           TestStandard
	name, version string
	req           map[TestCategory]CategoryRequirement
}

// LoadStandards reads a standards document (the format of standards.json). It refuses a
// document that names an unknown category, device type or requirement, leaves a category
// without a sheet name, a standard without a name or version, or a device type under no
// standard or under two.
func LoadStandards(data []byte) (*Standards, error) {
	var doc struct {
		Categories []struct{ Key, Sheet string }
		Standards  []struct {
			Key, Name, Version string
			Categories         map[string]string
			DeviceTypes        []string
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("standards: %w", err)
	}
	s := &Standards{sheets: map[TestCategory]string{}, byDevice: map[DeviceType]TestStandard{}}
	for _, c := range doc.Categories {
		if !slices.Contains(testCategories, TestCategory(c.Key)) || c.Sheet == "" {
			return nil, fmt.Errorf("standards: category %q: unknown or without a sheet name", c.Key)
		}
		s.sheets[TestCategory(c.Key)] = c.Sheet
	}
	if len(s.sheets) != len(testCategories) {
		return nil, fmt.Errorf("standards: %d categories named, want %d", len(s.sheets), len(testCategories))
	}
	for _, d := range doc.Standards {
		if d.Key == "" || d.Name == "" || d.Version == "" {
			return nil, fmt.Errorf("standards: standard %q needs a key, a name and a version", d.Key)
		}
		info := standardInfo{key: TestStandard(d.Key), name: d.Name, version: d.Version, req: map[TestCategory]CategoryRequirement{}}
		for c, r := range d.Categories {
			if _, ok := s.sheets[TestCategory(c)]; !ok {
				return nil, fmt.Errorf("standards: %s: unknown category %q", d.Key, c)
			}
			switch r {
			case "required":
				info.req[TestCategory(c)] = CategoryRequired
			case "optional":
				info.req[TestCategory(c)] = CategoryOptional
			default:
				return nil, fmt.Errorf("standards: %s: category %s is %q, not required or optional", d.Key, c, r)
			}
		}
		for _, dt := range d.DeviceTypes {
			if !slices.Contains(deviceTypes, DeviceType(dt)) {
				return nil, fmt.Errorf("standards: %s: unknown device type %q", d.Key, dt)
			}
			if prev, dup := s.byDevice[DeviceType(dt)]; dup {
				return nil, fmt.Errorf("standards: device type %s is under both %s and %s", dt, prev, d.Key)
			}
			s.byDevice[DeviceType(dt)] = info.key
		}
		s.standards = append(s.standards, info)
	}
	for _, dt := range deviceTypes {
		if s.byDevice[dt] == "" {
			return nil, fmt.Errorf("standards: device type %s is under no standard", dt)
		}
	}
	return s, nil
}

var standards atomic.Pointer[Standards]

func init() {
	s, err := LoadStandards(standardsJSON)
	if err != nil {
		panic(err) // the embedded document is checked by the package's tests
	}
	standards.Store(s)
}

func currentStandards() *Standards { return standards.Load() }

// UseStandards makes s the catalogue every TestStandard, TestCategory and DeviceType method
// reads, and returns a function that restores the previous one. It exists for tests that
// show a new version changes the expected names; deployments change standards.json.
func UseStandards(s *Standards) (restore func()) {
	prev := standards.Swap(s)
	return func() { standards.Store(prev) }
}

func (s TestStandard) info() standardInfo {
	for _, i := range currentStandards().standards {
		if i.key == s {
			return i
		}
	}
	return standardInfo{}
}

// AllTestStandards returns every standard in a stable order (the document's).
func AllTestStandards() []TestStandard {
	var out []TestStandard
	for _, s := range currentStandards().standards {
		out = append(out, s.key)
	}
	return out
}

// ParseTestStandard returns the standard keyed s, or an Invalid error with code
// "unknown_test_standard".
func ParseTestStandard(s string) (TestStandard, error) {
	if i := TestStandard(s).info(); i.key != "" {
		return i.key, nil
	}
	return "", Errorf(Invalid, "unknown_test_standard",
		"standard %q is not one of %s", s, joinEnumValues(AllTestStandards()))
}

// FileStem is the standard's name as the programme writes it, with its current version:
// "微信刷脸支付-桌面收银测试用例v1.4". It titles the submitted workbook:
// "[1<FileStem>]-[<vendor name>][<model>].xls".
func (s TestStandard) FileStem() string {
	i := s.info()
	if i.key == "" {
		return ""
	}
	return i.name + "v" + i.version
}

// Version is the standard's current version ("1.4").
func (s TestStandard) Version() string { return s.info().version }

// Requirement says whether the standard requires, allows or does not have category c.
func (s TestStandard) Requirement(c TestCategory) CategoryRequirement { return s.info().req[c] }

// Categories returns the standard's categories (required and optional) in AllTestCategories order.
func (s TestStandard) Categories() []TestCategory {
	var out []TestCategory
	for _, c := range testCategories {
		if s.Requirement(c) != CategoryNotApplicable {
			out = append(out, c)
		}
	}
	return out
}

// RequiredCategories returns the categories the standard requires, in AllTestCategories order.
func (s TestStandard) RequiredCategories() []TestCategory {
	var out []TestCategory
	for _, c := range testCategories {
		if s.Requirement(c) == CategoryRequired {
			out = append(out, c)
		}
	}
	return out
}

// AllTestCategories returns every category in a stable order.
func AllTestCategories() []TestCategory { return slices.Clone(testCategories) }

// ParseTestCategory returns the category keyed s, or an Invalid error with code
// "unknown_test_category".
func ParseTestCategory(s string) (TestCategory, error) {
	if slices.Contains(testCategories, TestCategory(s)) {
		return TestCategory(s), nil
	}
	return "", Errorf(Invalid, "unknown_test_category",
		"category %q is not one of %s", s, joinEnumValues(AllTestCategories()))
}

// SheetName is the category's sheet name in a standard's workbook, as the programme names
// it ("气候类可靠性"), "" for an unknown category.
func (c TestCategory) SheetName() string { return currentStandards().sheets[c] }
