package domain

import (
	"slices"
	"strings"
)

// DeviceType is the kind of device a model is (DOMAIN.md section 3, hardware pre-check table).
// Its value is the stable snake_case wire form.
type DeviceType string

// The device types of the hardware pre-check table.
const (
	DeviceDesktopSingleScreen     DeviceType = "desktop_single_screen"
	DeviceDesktopDualScreen       DeviceType = "desktop_dual_screen"
	DeviceDesktopDualScreenPOS    DeviceType = "desktop_dual_screen_pos"
	DeviceDesktopWeighing         DeviceType = "desktop_weighing"
	DeviceSmartShoppingCart       DeviceType = "smart_shopping_cart"
	DeviceMedicalDesktop          DeviceType = "medical_desktop"
	DeviceMedicalKiosk            DeviceType = "medical_kiosk"
	DeviceVendingMachine          DeviceType = "vending_machine"
	DeviceSelfServiceCabinet      DeviceType = "self_service_cabinet"
	DeviceArcadeMachine           DeviceType = "arcade_machine"
	DeviceLotteryMachine          DeviceType = "lottery_machine"
	DeviceFuelDispenser           DeviceType = "fuel_dispenser"
	DeviceChargingPile            DeviceType = "charging_pile"
	DeviceSelfServiceKiosk        DeviceType = "self_service_kiosk" // hotel and other non-medical kiosks
	DevicePowerBankStation        DeviceType = "power_bank_station"
	DeviceTicketMachine           DeviceType = "ticket_machine"
	DeviceLargeScreenSelfCheckout DeviceType = "large_screen_self_checkout"
	DeviceVisualRecognition       DeviceType = "visual_recognition"
	DeviceGroupCatering           DeviceType = "group_catering"
	DeviceHandheld                DeviceType = "handheld"
)

// deviceStandards lists every device type, in DeviceTypes order, with its test-case standard.
var deviceStandards = []struct {
	t   DeviceType
	std TestStandard
}{
	{DeviceDesktopSingleScreen, StandardDesktopCashier},
	{DeviceDesktopDualScreen, StandardDesktopCashier},
	{DeviceDesktopDualScreenPOS, StandardDesktopCashier},
	{DeviceDesktopWeighing, StandardDesktopCashier},
	{DeviceSmartShoppingCart, StandardDesktopCashier},
	{DeviceMedicalDesktop, StandardMedical},
	{DeviceMedicalKiosk, StandardMedical},
	{DeviceVendingMachine, StandardUnattendedVending},
	{DeviceSelfServiceCabinet, StandardUnattendedVending},
	{DeviceArcadeMachine, StandardUnattendedVending},
	{DeviceLotteryMachine, StandardUnattendedVending},
	{DeviceFuelDispenser, StandardUnattendedVending},
	{DeviceChargingPile, StandardUnattendedVending},
	{DeviceSelfServiceKiosk, StandardSelfCheckout},
	{DevicePowerBankStation, StandardSelfCheckout},
	{DeviceTicketMachine, StandardSelfCheckout},
	{DeviceLargeScreenSelfCheckout, StandardSelfCheckout},
	{DeviceVisualRecognition, StandardSelfCheckout},
	{DeviceGroupCatering, StandardGroupCatering},
	{DeviceHandheld, StandardDesktopCashier}, // our choice: DOMAIN.md leaves handhelds open
}

// DeviceTypes returns every device type in a stable order (the order of DOMAIN.md's table).
func DeviceTypes() []DeviceType {
	out := make([]DeviceType, len(deviceStandards))
	for i, d := range deviceStandards {
		out[i] = d.t
	}
	return out
}

// ParseDeviceType returns the device type named s. Anything else is an Invalid error with
// code "unknown_device_type" whose message lists the valid values.
func ParseDeviceType(s string) (DeviceType, error) {
	for _, d := range deviceStandards {
		if string(d.t) == s {
			return d.t, nil
		}
	}
	return "", Errorf(Invalid, "unknown_device_type",
		"deviceType %q is not one of %s", s, joinEnumValues(DeviceTypes()))
}

// Standard returns the hardware test-case standard for the device type, "" for an unknown type.
func (t DeviceType) Standard() TestStandard {
	for _, d := range deviceStandards {
		if d.t == t {
			return d.std
		}
	}
	return ""
}

// TestStandard is a hardware pre-check test-case standard (a workbook of category sheets).
type TestStandard string

// The test-case standards of DOMAIN.md section 3.
const (
	StandardDesktopCashier    TestStandard = "desktop_cashier_v1_4"
	StandardMedical           TestStandard = "medical_v1_0"
	StandardUnattendedVending TestStandard = "unattended_vending_v1_1"
	StandardSelfCheckout      TestStandard = "self_checkout_v1_0"
	StandardGroupCatering     TestStandard = "group_catering_v1_0"
)

// TestCategory is one category (one workbook sheet, one evidence zip) of a test-case standard.
// Its value is the stable English key.
type TestCategory string

// The test categories, in the order the standards list them.
const (
	CategoryClimateReliability    TestCategory = "climate_reliability"
	CategoryMechanicalReliability TestCategory = "mechanical_reliability"
	CategoryCoatingReliability    TestCategory = "coating_reliability"
	CategoryBasicFunction         TestCategory = "basic_function"
	CategoryPerformance           TestCategory = "performance"
)

var categorySheets = []struct {
	c     TestCategory
	sheet string
}{
	{CategoryClimateReliability, "气候可靠性"},
	{CategoryMechanicalReliability, "机械可靠性"},
	{CategoryCoatingReliability, "涂层可靠性"},
	{CategoryBasicFunction, "基本功能"},
	{CategoryPerformance, "性能"},
}

// TestCategories returns every category in a stable order.
func AllTestCategories() []TestCategory {
	out := make([]TestCategory, len(categorySheets))
	for i, c := range categorySheets {
		out[i] = c.c
	}
	return out
}

// ParseTestCategory returns the category keyed s, or an Invalid error with code
// "unknown_test_category".
func ParseTestCategory(s string) (TestCategory, error) {
	for _, c := range categorySheets {
		if string(c.c) == s {
			return c.c, nil
		}
	}
	return "", Errorf(Invalid, "unknown_test_category",
		"category %q is not one of %s", s, joinEnumValues(AllTestCategories()))
}

// SheetName is the category's sheet name in a standard's workbook (our choice, Chinese);
// it is also the title of the category's evidence zip.
func (c TestCategory) SheetName() string {
	for _, s := range categorySheets {
		if s.c == c {
			return s.sheet
		}
	}
	return ""
}

// CategoryRequirement says whether a standard needs a category.
type CategoryRequirement int

// Category requirements. The zero value means the standard has no such category.
const (
	CategoryNotApplicable CategoryRequirement = iota
	CategoryOptional
	CategoryRequired
)

type testStandardInfo struct {
	std      TestStandard
	fileStem string
	req      map[TestCategory]CategoryRequirement
}

// testStandards holds DOMAIN.md's table of required categories per standard.
var testStandards = []testStandardInfo{
	{StandardDesktopCashier, "桌面收银设备测试用例v1.4", map[TestCategory]CategoryRequirement{
		CategoryClimateReliability: CategoryRequired, CategoryMechanicalReliability: CategoryRequired,
		CategoryCoatingReliability: CategoryRequired, CategoryBasicFunction: CategoryRequired, CategoryPerformance: CategoryRequired}},
	{StandardMedical, "医疗设备测试用例v1.0", map[TestCategory]CategoryRequirement{
		CategoryClimateReliability: CategoryRequired, CategoryMechanicalReliability: CategoryRequired,
		CategoryBasicFunction: CategoryRequired, CategoryPerformance: CategoryRequired}},
	{StandardUnattendedVending, "无人零售设备测试用例v1.1", map[TestCategory]CategoryRequirement{
		CategoryBasicFunction: CategoryRequired, CategoryPerformance: CategoryRequired}},
	{StandardSelfCheckout, "自助收银设备测试用例v1.0", map[TestCategory]CategoryRequirement{
		CategoryClimateReliability: CategoryRequired, CategoryMechanicalReliability: CategoryRequired,
		CategoryCoatingReliability: CategoryOptional, CategoryBasicFunction: CategoryRequired, CategoryPerformance: CategoryRequired}},
	{StandardGroupCatering, "团餐设备测试用例v1.0", map[TestCategory]CategoryRequirement{
		CategoryClimateReliability: CategoryRequired, CategoryMechanicalReliability: CategoryRequired,
		CategoryBasicFunction: CategoryRequired, CategoryPerformance: CategoryRequired}},
}

func (s TestStandard) info() testStandardInfo {
	for _, i := range testStandards {
		if i.std == s {
			return i
		}
	}
	return testStandardInfo{}
}

// TestStandards returns every standard in a stable order.
func AllTestStandards() []TestStandard {
	out := make([]TestStandard, len(testStandards))
	for i, s := range testStandards {
		out[i] = s.std
	}
	return out
}

// ParseTestStandard returns the standard named s, or an Invalid error with code
// "unknown_test_standard".
func ParseTestStandard(s string) (TestStandard, error) {
	if i := TestStandard(s).info(); i.std != "" {
		return i.std, nil
	}
	return "", Errorf(Invalid, "unknown_test_standard",
		"standard %q is not one of %s", s, joinEnumValues(AllTestStandards()))
}

// FileStem is the standard's workbook name (our choice, Chinese), used in the title of the
// submitted workbook: "[1<FileStem>]-[<vendor name>][<model>].xls".
func (s TestStandard) FileStem() string { return s.info().fileStem }

// Requirement says whether the standard requires, allows or does not have category c.
func (s TestStandard) Requirement(c TestCategory) CategoryRequirement { return s.info().req[c] }

// Categories returns the standard's categories (required and optional) in TestCategories order.
func (s TestStandard) Categories() []TestCategory {
	var out []TestCategory
	for _, c := range AllTestCategories() {
		if s.Requirement(c) != CategoryNotApplicable {
			out = append(out, c)
		}
	}
	return out
}

// RequiredCategories returns the categories the standard requires, in TestCategories order.
func (s TestStandard) RequiredCategories() []TestCategory {
	var out []TestCategory
	for _, c := range AllTestCategories() {
		if s.Requirement(c) == CategoryRequired {
			out = append(out, c)
		}
	}
	return out
}

// OS is a model's operating system.
type OS string

// The operating systems of DOMAIN.md section 2.
const (
	OSAndroid OS = "android"
	OSWindows OS = "windows"
	OSLinux   OS = "linux"
)

// ParseOS returns the OS named s, or an Invalid error with code "unknown_os".
func ParseOS(s string) (OS, error) {
	switch o := OS(s); o {
	case OSAndroid, OSWindows, OSLinux:
		return o, nil
	}
	return "", Errorf(Invalid, "unknown_os", "os %q is not one of android, windows, linux", s)
}

// SystemTypeLetter is the OS's letter in a device serial number: A, W or L ("" if unknown).
func (o OS) SystemTypeLetter() string {
	switch o {
	case OSAndroid:
		return "A"
	case OSWindows:
		return "W"
	case OSLinux:
		return "L"
	}
	return ""
}

// SoftwareMode is how face payment runs on a model: the SDK, or the turnkey app.
type SoftwareMode string

// The software modes.
const (
	ModeSDK SoftwareMode = "sdk"
	ModeAPP SoftwareMode = "app"
)

// SoftwareModes returns both modes in a stable order.
func SoftwareModes() []SoftwareMode { return []SoftwareMode{ModeSDK, ModeAPP} }

// ParseSoftwareMode returns the mode named s, or an Invalid error with code
// "unknown_software_mode".
func ParseSoftwareMode(s string) (SoftwareMode, error) {
	switch m := SoftwareMode(s); m {
	case ModeSDK, ModeAPP:
		return m, nil
	}
	return "", Errorf(Invalid, "unknown_software_mode", "softwareMode %q is not one of sdk, app", s)
}

// Label is the mode as written in evidence file names: "SDK模式" or "APP模式".
func (m SoftwareMode) Label() string {
	switch m {
	case ModeSDK:
		return "SDK模式"
	case ModeAPP:
		return "APP模式"
	}
	return ""
}

// Connectivity is a radio a model has.
type Connectivity string

// The connectivity options.
const (
	ConnBluetooth Connectivity = "bluetooth"
	ConnWiFi      Connectivity = "wifi"
	Conn4G        Connectivity = "4g"
)

// ParseConnectivity returns the connectivity named s, or an Invalid error with code
// "unknown_connectivity".
func ParseConnectivity(s string) (Connectivity, error) {
	switch c := Connectivity(s); c {
	case ConnBluetooth, ConnWiFi, Conn4G:
		return c, nil
	}
	return "", Errorf(Invalid, "unknown_connectivity", "connectivity %q is not one of bluetooth, wifi, 4g", s)
}

// Certificate is a national certification a device needs.
type Certificate string

// The certificates of DOMAIN.md section 3.
const (
	Cert3C   Certificate = "3c"
	CertSRRC Certificate = "srrc"
	CertCTA  Certificate = "cta"
)

// Label is the certificate's usual name: "3C", "SRRC" or "CTA".
func (c Certificate) Label() string { return strings.ToUpper(string(c)) }

// ParseCertificate returns the certificate named s, or an Invalid error with code
// "unknown_certificate".
func ParseCertificate(s string) (Certificate, error) {
	switch c := Certificate(s); c {
	case Cert3C, CertSRRC, CertCTA:
		return c, nil
	}
	return "", Errorf(Invalid, "unknown_certificate", "certificate %q is not one of 3c, srrc, cta", s)
}

// RequiredCertificates returns the certificates a device with the given radios needs:
// 3C always, SRRC with Bluetooth or Wi-Fi, CTA with 4G (in that order).
func RequiredCertificates(conn []Connectivity) []Certificate {
	out := []Certificate{Cert3C}
	if slices.Contains(conn, ConnBluetooth) || slices.Contains(conn, ConnWiFi) {
		out = append(out, CertSRRC)
	}
	if slices.Contains(conn, Conn4G) {
		out = append(out, CertCTA)
	}
	return out
}

func joinEnumValues[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
