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

// deviceTypes lists every device type in the order of DOMAIN.md's table. Which standard a
// device type follows is data (standards.json).
var deviceTypes = []DeviceType{
	DeviceDesktopSingleScreen, DeviceDesktopDualScreen, DeviceDesktopDualScreenPOS, DeviceDesktopWeighing,
	DeviceSmartShoppingCart, DeviceMedicalDesktop, DeviceMedicalKiosk, DeviceVendingMachine,
	DeviceSelfServiceCabinet, DeviceArcadeMachine, DeviceLotteryMachine, DeviceFuelDispenser, DeviceChargingPile,
	DeviceSelfServiceKiosk, DevicePowerBankStation, DeviceTicketMachine, DeviceLargeScreenSelfCheckout,
	DeviceVisualRecognition, DeviceGroupCatering, DeviceHandheld,
}

// DeviceTypes returns every device type in a stable order (the order of DOMAIN.md's table).
func DeviceTypes() []DeviceType { return slices.Clone(deviceTypes) }

// ParseDeviceType returns the device type named s. Anything else is an Invalid error with
// code "unknown_device_type" whose message lists the valid values.
func ParseDeviceType(s string) (DeviceType, error) {
	if slices.Contains(deviceTypes, DeviceType(s)) {
		return DeviceType(s), nil
	}
	return "", Errorf(Invalid, "unknown_device_type",
		"deviceType %q is not one of %s", s, joinEnumValues(DeviceTypes()))
}

// Standard returns the hardware test-case standard for the device type (standards.json),
// "" for an unknown type.
func (t DeviceType) Standard() TestStandard { return currentStandards().byDevice[t] }

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
