package domain_test

// Unit tests of device.go: device types, test standards and their categories, small enums.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

func TestParseDeviceType(t *testing.T) {
	tests := []struct {
		in       string
		want     domain.DeviceType
		wantCode string
	}{
		{"desktop_single_screen", domain.DeviceDesktopSingleScreen, ""},
		{"handheld", domain.DeviceHandheld, ""},
		{"charging_pile", domain.DeviceChargingPile, ""},
		{"", "", "unknown_device_type"},
		{"Desktop_Single_Screen", "", "unknown_device_type"},
		{"smart_fridge", "", "unknown_device_type"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := domain.ParseDeviceType(tt.in)
			if tt.wantCode != "" {
				require.Error(t, err)
				assert.Equal(t, tt.wantCode, domain.CodeOf(err))
				assert.Equal(t, domain.Invalid, domain.KindOf(err))
				assert.Contains(t, domain.MessageOf(err), "desktop_single_screen, desktop_dual_screen")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDeviceTypesAreCompleteAndParse(t *testing.T) {
	types := domain.DeviceTypes()
	assert.Len(t, types, 20)
	seen := map[domain.DeviceType]bool{}
	for _, dt := range types {
		assert.False(t, seen[dt], "duplicate %s", dt)
		seen[dt] = true
		got, err := domain.ParseDeviceType(string(dt))
		require.NoError(t, err)
		assert.Equal(t, dt, got)
		assert.NotEmpty(t, dt.Standard(), dt)
	}
	assert.Equal(t, types, domain.DeviceTypes(), "stable order")
}

func TestDeviceTypeStandard(t *testing.T) {
	tests := []struct {
		dt   domain.DeviceType
		want domain.TestStandard
	}{
		{domain.DeviceDesktopSingleScreen, domain.StandardDesktopCashier},
		{domain.DeviceDesktopDualScreen, domain.StandardDesktopCashier},
		{domain.DeviceDesktopDualScreenPOS, domain.StandardDesktopCashier},
		{domain.DeviceDesktopWeighing, domain.StandardDesktopCashier},
		{domain.DeviceSmartShoppingCart, domain.StandardDesktopCashier},
		{domain.DeviceMedicalDesktop, domain.StandardMedical},
		{domain.DeviceMedicalKiosk, domain.StandardMedical},
		{domain.DeviceVendingMachine, domain.StandardUnattendedVending},
		{domain.DeviceSelfServiceCabinet, domain.StandardUnattendedVending},
		{domain.DeviceArcadeMachine, domain.StandardUnattendedVending},
		{domain.DeviceLotteryMachine, domain.StandardUnattendedVending},
		{domain.DeviceFuelDispenser, domain.StandardUnattendedVending},
		{domain.DeviceChargingPile, domain.StandardUnattendedVending},
		{domain.DeviceSelfServiceKiosk, domain.StandardSelfCheckout},
		{domain.DevicePowerBankStation, domain.StandardSelfCheckout},
		{domain.DeviceTicketMachine, domain.StandardSelfCheckout},
		{domain.DeviceLargeScreenSelfCheckout, domain.StandardSelfCheckout},
		{domain.DeviceVisualRecognition, domain.StandardSelfCheckout},
		{domain.DeviceGroupCatering, domain.StandardGroupCatering},
		{domain.DeviceHandheld, domain.StandardDesktopCashier},
		{"nonsense", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.dt), func(t *testing.T) {
			assert.Equal(t, tt.want, tt.dt.Standard())
		})
	}
}

func TestStandardCategories(t *testing.T) {
	c, m, co, b, p := domain.CategoryClimateReliability, domain.CategoryMechanicalReliability, domain.CategoryCoatingReliability,
		domain.CategoryBasicFunction, domain.CategoryPerformance
	tests := []struct {
		std      domain.TestStandard
		required []domain.TestCategory
		all      []domain.TestCategory
	}{
		{domain.StandardDesktopCashier, []domain.TestCategory{c, m, co, b, p}, []domain.TestCategory{c, m, co, b, p}},
		{domain.StandardGroupCatering, []domain.TestCategory{c, m, b, p}, []domain.TestCategory{c, m, b, p}},
		{domain.StandardSelfCheckout, []domain.TestCategory{c, m, b, p}, []domain.TestCategory{c, m, co, b, p}},
		{domain.StandardMedical, []domain.TestCategory{c, m, b, p}, []domain.TestCategory{c, m, b, p}},
		{domain.StandardUnattendedVending, []domain.TestCategory{b, p}, []domain.TestCategory{b, p}},
	}
	for _, tt := range tests {
		t.Run(string(tt.std), func(t *testing.T) {
			assert.Equal(t, tt.required, tt.std.RequiredCategories())
			assert.Equal(t, tt.all, tt.std.Categories())
			got, err := domain.ParseTestStandard(string(tt.std))
			require.NoError(t, err)
			assert.Equal(t, tt.std, got)
		})
	}
	assert.Equal(t, domain.CategoryOptional, domain.StandardSelfCheckout.Requirement(co))
	assert.Equal(t, domain.CategoryNotApplicable, domain.StandardMedical.Requirement(co))
	_, err := domain.ParseTestStandard("desktop_cashier_v1_4")
	assert.Equal(t, "unknown_test_standard", domain.CodeOf(err))
}

func TestTestCategory(t *testing.T) {
	want := map[domain.TestCategory]string{
		domain.CategoryClimateReliability: "气候类可靠性", domain.CategoryMechanicalReliability: "机械类可靠性",
		domain.CategoryCoatingReliability: "涂层类可靠性", domain.CategoryBasicFunction: "基本功能测试", domain.CategoryPerformance: "性能测试",
	}
	for _, c := range domain.AllTestCategories() {
		assert.Equal(t, want[c], c.SheetName(), c)
		got, err := domain.ParseTestCategory(string(c))
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
	_, err := domain.ParseTestCategory("气候类可靠性")
	assert.Equal(t, "unknown_test_category", domain.CodeOf(err))
}

func TestParseSmallEnums(t *testing.T) {
	tests := []struct {
		name     string
		parse    func(string) (string, error)
		in       string
		wantCode string
	}{
		{"os android", parseAs(domain.ParseOS), "android", ""},
		{"os windows", parseAs(domain.ParseOS), "windows", ""},
		{"os linux", parseAs(domain.ParseOS), "linux", ""},
		{"os ios", parseAs(domain.ParseOS), "ios", "unknown_os"},
		{"mode sdk", parseAs(domain.ParseSoftwareMode), "sdk", ""},
		{"mode app", parseAs(domain.ParseSoftwareMode), "app", ""},
		{"mode label", parseAs(domain.ParseSoftwareMode), "SDK模式", "unknown_software_mode"},
		{"conn bluetooth", parseAs(domain.ParseConnectivity), "bluetooth", ""},
		{"conn wifi", parseAs(domain.ParseConnectivity), "wifi", ""},
		{"conn 4g", parseAs(domain.ParseConnectivity), "4g", ""},
		{"conn 5g", parseAs(domain.ParseConnectivity), "5g", "unknown_connectivity"},
		{"cert 3c", parseAs(domain.ParseCertificate), "3c", ""},
		{"cert ce", parseAs(domain.ParseCertificate), "ce", "unknown_certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.in)
			if tt.wantCode != "" {
				require.Error(t, err)
				assert.Equal(t, tt.wantCode, domain.CodeOf(err))
				assert.Equal(t, domain.Invalid, domain.KindOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.in, got)
		})
	}
}

func parseAs[T ~string](f func(string) (T, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		v, err := f(s)
		return string(v), err
	}
}

func TestLabels(t *testing.T) {
	assert.Equal(t, "A", domain.OSAndroid.SystemTypeLetter())
	assert.Equal(t, "W", domain.OSWindows.SystemTypeLetter())
	assert.Equal(t, "L", domain.OSLinux.SystemTypeLetter())
	assert.Equal(t, "", domain.OS("x").SystemTypeLetter())
	assert.Equal(t, "SDK模式", domain.ModeSDK.Label())
	assert.Equal(t, "APP模式", domain.ModeAPP.Label())
	assert.Equal(t, "SRRC", domain.CertSRRC.Label())
}

func TestRequiredCertificates(t *testing.T) {
	tests := []struct {
		name string
		conn []domain.Connectivity
		want []domain.Certificate
	}{
		{"none", nil, []domain.Certificate{domain.Cert3C}},
		{"bluetooth", []domain.Connectivity{domain.ConnBluetooth}, []domain.Certificate{domain.Cert3C, domain.CertSRRC}},
		{"wifi", []domain.Connectivity{domain.ConnWiFi}, []domain.Certificate{domain.Cert3C, domain.CertSRRC}},
		{"bluetooth and wifi", []domain.Connectivity{domain.ConnWiFi, domain.ConnBluetooth}, []domain.Certificate{domain.Cert3C, domain.CertSRRC}},
		{"4g", []domain.Connectivity{domain.Conn4G}, []domain.Certificate{domain.Cert3C, domain.CertCTA}},
		{"all", []domain.Connectivity{domain.Conn4G, domain.ConnWiFi, domain.ConnBluetooth}, []domain.Certificate{domain.Cert3C, domain.CertSRRC, domain.CertCTA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, domain.RequiredCertificates(tt.conn))
		})
	}
}
