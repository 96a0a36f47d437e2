package evidence_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
)

const (
	vendor = "示例科技"
	model  = "K1 Pro"
)

func TestSlotIDRoundTrip(t *testing.T) {
	tests := []struct {
		id   string
		dt   domain.DeviceType
		want evidence.Slot
	}{
		{"software/1", "", evidence.SoftwareSlot(1, "")},
		{"software/2/sdk", "", evidence.SoftwareSlot(2, domain.ModeSDK)},
		{"software/3/app", "", evidence.SoftwareSlot(3, domain.ModeAPP)},
		{"software/4", "", evidence.SoftwareSlot(4, "")},
		{"hardware/workbook", domain.DeviceVendingMachine, evidence.WorkbookSlot(domain.StandardUnattendedVending)},
		{"hardware/climate_reliability", domain.DeviceDesktopSingleScreen,
			evidence.CategorySlot(domain.StandardDesktopCashier, domain.CategoryClimateReliability)},
		{"hardware/coating_reliability", domain.DeviceTicketMachine,
			evidence.CategorySlot(domain.StandardSelfCheckout, domain.CategoryCoatingReliability)},
		{"certificate/3c", "", evidence.CertificateSlot(domain.Cert3C)},
		{"certificate/srrc", "", evidence.CertificateSlot(domain.CertSRRC)},
		{"certificate/cta", "", evidence.CertificateSlot(domain.CertCTA)},
		{"deck", "", evidence.DeckSlot()},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, err := evidence.ParseSlotID(tt.id, tt.dt)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.id, got.ID())
		})
	}
}

func TestParseSlotIDRejects(t *testing.T) {
	tests := []struct {
		id       string
		dt       domain.DeviceType
		wantCode string
	}{
		{"", "", "unknown_slot"},
		{"software", "", "unknown_slot"},
		{"software/5", "", "unknown_slot"},
		{"software/01", "", "unknown_slot"},
		{"software/2", "", "unknown_slot"},
		{"software/1/sdk", "", "unknown_slot"},
		{"software/3/web", "", "unknown_slot"},
		{"hardware/temperature", domain.DeviceHandheld, "unknown_slot"},
		{"hardware/workbook", "", "unknown_device_type"},
		{"hardware/coating_reliability", domain.DeviceMedicalKiosk, "slot_not_applicable"},
		{"hardware/climate_reliability", domain.DeviceChargingPile, "slot_not_applicable"},
		{"certificate/ce", "", "unknown_slot"},
		{"deck/1", "", "unknown_slot"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, err := evidence.ParseSlotID(tt.id, tt.dt)
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, domain.CodeOf(err))
			assert.Equal(t, domain.Invalid, domain.KindOf(err))
		})
	}
}

func TestExpectedFileName(t *testing.T) {
	tests := []struct {
		slot evidence.Slot
		ext  string
		want string
	}{
		{evidence.SoftwareSlot(1, ""), "", "[1摄像头测试Checklist]-[示例科技][K1 Pro].xls"},
		{evidence.SoftwareSlot(2, domain.ModeSDK), ".xlsx", "[2软件预检测结果]-[示例科技][K1 Pro][SDK模式].xlsx"},
		{evidence.SoftwareSlot(3, domain.ModeAPP), "", "[3设备流程视频]-[示例科技][K1 Pro][APP模式].mp4"},
		{evidence.SoftwareSlot(4, domain.ModeAPP), "", "[4设备安装&操作手册]-[示例科技][K1 Pro].pdf"},
		{evidence.WorkbookSlot(domain.StandardDesktopCashier), "", "[1微信刷脸支付-桌面收银测试用例v1.4]-[示例科技][K1 Pro].xls"},
		{evidence.WorkbookSlot(domain.StandardMedical), "", "[1微信刷脸支付-医疗设备测试用例v1.0]-[示例科技][K1 Pro].xls"},
		{evidence.WorkbookSlot(domain.StandardUnattendedVending), "", "[1微信刷脸支付-无人售货机测试用例v1.1]-[示例科技][K1 Pro].xls"},
		{evidence.WorkbookSlot(domain.StandardSelfCheckout), "", "[1微信刷脸支付-自助收银测试用例v1.0]-[示例科技][K1 Pro].xls"},
		{evidence.WorkbookSlot(domain.StandardGroupCatering), "", "[1微信刷脸支付-团餐机测试用例v1.0]-[示例科技][K1 Pro].xls"},
		{evidence.CategorySlot(domain.StandardDesktopCashier, domain.CategoryBasicFunction), "", "[5基本功能测试]-[示例科技][K1 Pro].zip"},
		{evidence.CategorySlot(domain.StandardUnattendedVending, domain.CategoryBasicFunction), "", "[2基本功能测试]-[示例科技][K1 Pro].zip"},
		{evidence.CertificateSlot(domain.Cert3C), "", "[3C证书]-[示例科技][K1 Pro].pdf"},
		{evidence.DeckSlot(), ".pptx", "deck.pptx"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.slot.ExpectedFileName(vendor, model, tt.ext))
		})
	}
}

func TestCheckFileName(t *testing.T) {
	sdkResults := evidence.SoftwareSlot(2, domain.ModeSDK)
	checklist := evidence.SoftwareSlot(1, "")
	workbook := evidence.WorkbookSlot(domain.StandardSelfCheckout)
	zipSlot := evidence.CategorySlot(domain.StandardDesktopCashier, domain.CategoryClimateReliability)
	tests := []struct {
		name     string
		slot     evidence.Slot
		file     string
		wantCode string
	}{
		{"results sdk", sdkResults, "[2软件预检测结果]-[示例科技][K1 Pro][SDK模式].xls", ""},
		{"results xlsx", sdkResults, "[2软件预检测结果]-[示例科技][K1 Pro][SDK模式].xlsx", ""},
		{"extension case", sdkResults, "[2软件预检测结果]-[示例科技][K1 Pro][SDK模式].XLSX", ""},
		{"checklist", checklist, "[1摄像头测试Checklist]-[示例科技][K1 Pro].xls", ""},
		{"workbook", workbook, "[1微信刷脸支付-自助收银测试用例v1.0]-[示例科技][K1 Pro].xlsx", ""},
		{"camera checklist exactly", checklist, "[1摄像头测试Checklist]-[示例科技][K1 Pro].xlsx", ""},
		{"manual exactly", evidence.SoftwareSlot(4, ""), "[4设备安装&操作手册]-[示例科技][K1 Pro].pdf", ""},
		{"video exactly", evidence.SoftwareSlot(3, domain.ModeSDK), "[3设备流程视频]-[示例科技][K1 Pro][SDK模式].mp4", ""},
		{"the programme's zip example", zipSlot, "[2温升测试]-[示例科技][K1 Pro].zip", ""},
		{"a zip with the vendor's own title", zipSlot, "[7高低温循环及湿热报告]-[示例科技][K1 Pro].zip", ""},
		{"zip without a number", zipSlot, "[温升测试]-[示例科技][K1 Pro].zip", "wrong_slot_title"},
		{"zip without a title", zipSlot, "[2]-[示例科技][K1 Pro].zip", "wrong_slot_title"},
		{"zip of another vendor", zipSlot, "[2温升测试]-[别家科技][K1 Pro].zip", "wrong_vendor_name"},
		{"zip with a mode", zipSlot, "[2温升测试]-[示例科技][K1 Pro][SDK模式].zip", "wrong_software_mode"},
		{"checklist, lower-case checklist", checklist, "[1摄像头测试checklist]-[示例科技][K1 Pro].xls", "wrong_slot_title"},
		{"manual without &", evidence.SoftwareSlot(4, ""), "[4设备安装操作手册]-[示例科技][K1 Pro].pdf", "wrong_slot_title"},
		{"old guessed standard name", workbook, "[1自助收银设备测试用例v1.0]-[示例科技][K1 Pro].xlsx", "wrong_slot_title"},
		{"video", evidence.SoftwareSlot(3, domain.ModeAPP), "[3设备流程视频]-[示例科技][K1 Pro][APP模式].mp4", ""},
		{"certificate", evidence.CertificateSlot(domain.CertSRRC), "[SRRC证书]-[示例科技][K1 Pro].pdf", ""},
		{"deck any name", evidence.DeckSlot(), "公司介绍 2026.PPTX", ""},

		{"no brackets", sdkResults, "软件预检测结果.xls", "bad_file_name"},
		{"no dash", sdkResults, "[2软件预检测结果][示例科技][K1 Pro][SDK模式].xls", "bad_file_name"},
		{"no extension", sdkResults, "[2软件预检测结果]-[示例科技][K1 Pro][SDK模式]", "bad_file_name"},
		{"trailing text", sdkResults, "[2软件预检测结果]-[示例科技][K1 Pro][SDK模式] (1).xls", "bad_file_name"},
		{"empty model", sdkResults, "[2软件预检测结果]-[示例科技][][SDK模式].xls", "bad_file_name"},
		{"wrong number", sdkResults, "[3软件预检测结果]-[示例科技][K1 Pro][SDK模式].xls", "wrong_slot_title"},
		{"wrong title", sdkResults, "[2软件检测结果]-[示例科技][K1 Pro][SDK模式].xls", "wrong_slot_title"},
		{"other standard", workbook, "[1微信刷脸支付-桌面收银测试用例v1.4]-[示例科技][K1 Pro].xlsx", "wrong_slot_title"},
		{"other version", workbook, "[1微信刷脸支付-自助收银测试用例v1.1]-[示例科技][K1 Pro].xlsx", "wrong_slot_title"},
		{"wrong vendor", sdkResults, "[2软件预检测结果]-[别家科技][K1 Pro][SDK模式].xls", "wrong_vendor_name"},
		{"wrong model", sdkResults, "[2软件预检测结果]-[示例科技][K1][SDK模式].xls", "wrong_model_name"},
		{"wrong mode", sdkResults, "[2软件预检测结果]-[示例科技][K1 Pro][APP模式].xls", "wrong_software_mode"},
		{"missing mode", sdkResults, "[2软件预检测结果]-[示例科技][K1 Pro].xls", "wrong_software_mode"},
		{"mode not wanted", checklist, "[1摄像头测试Checklist]-[示例科技][K1 Pro][SDK模式].xls", "wrong_software_mode"},
		{"wrong extension", sdkResults, "[2软件预检测结果]-[示例科技][K1 Pro][SDK模式].csv", "wrong_extension"},
		{"pdf as video", evidence.SoftwareSlot(3, domain.ModeSDK), "[3设备流程视频]-[示例科技][K1 Pro][SDK模式].mov", "wrong_extension"},
		{"deck extension", evidence.DeckSlot(), "deck.key", "wrong_extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.slot.CheckFileName(tt.file, vendor, model)
			if tt.wantCode == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, domain.CodeOf(err), domain.MessageOf(err))
			assert.Equal(t, domain.Invalid, domain.KindOf(err))
		})
	}
}

func TestCheckUpload(t *testing.T) {
	video := evidence.SoftwareSlot(3, domain.ModeSDK)
	videoName := video.ExpectedFileName(vendor, model, "")
	manual := evidence.SoftwareSlot(4, "")
	manualName := manual.ExpectedFileName(vendor, model, "")
	zipSlot := evidence.CategorySlot(domain.StandardMedical, domain.CategoryPerformance)
	tests := []struct {
		name        string
		slot        evidence.Slot
		file        string
		size        int64
		contentType string
		wantCode    string
		wantKind    domain.Kind
	}{
		{"video at the limit", video, videoName, 10 * 1024 * 1024, "video/mp4", "", 0},
		{"video 11 MiB", video, videoName, 11 * 1024 * 1024, "video/mp4", "file_too_large", domain.TooLarge},
		{"video one byte over 10 MiB", video, videoName, 10*1024*1024 + 1, "video/mp4", "file_too_large", domain.TooLarge},
		{"video one byte over", video, videoName, 10*1024*1024 + 1, "video/mp4", "file_too_large", domain.TooLarge},
		{"empty", manual, manualName, 0, "application/pdf", "empty_file", domain.Invalid},
		{"manual with params", manual, manualName, 1000, "Application/PDF; charset=binary", "", 0},
		{"octet-stream", manual, manualName, 1000, "application/octet-stream", "", 0},
		{"manual as text", manual, manualName, 1000, "text/plain", "wrong_content_type", domain.Invalid},
		{"manual as mp4", manual, manualName, 1000, "video/mp4", "wrong_content_type", domain.Invalid},
		{"manual as exe", manual, manualName, 1000, "application/x-msdownload", "wrong_content_type", domain.Invalid},
		{"no content type", manual, manualName, 1000, "", "wrong_content_type", domain.Invalid},
		{"manual 21 MB", manual, manualName, 21 * 1024 * 1024, "application/pdf", "file_too_large", domain.TooLarge},
		{"zip 49 MB", zipSlot, zipSlot.ExpectedFileName(vendor, model, ""), 49 * 1024 * 1024, "application/x-zip-compressed", "", 0},
		{"bad name first", manual, "manual.pdf", 1000, "application/pdf", "bad_file_name", domain.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.slot.CheckUpload(tt.file, tt.size, tt.contentType, vendor, model)
			if tt.wantCode == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, domain.CodeOf(err), domain.MessageOf(err))
			assert.Equal(t, tt.wantKind, domain.KindOf(err))
		})
	}
}

func TestSlotLimits(t *testing.T) {
	assert.Equal(t, int64(10*1024*1024), evidence.SoftwareSlot(3, domain.ModeSDK).MaxSize())
	assert.Equal(t, []string{".xls", ".xlsx"}, evidence.SoftwareSlot(1, "").Extensions())
	assert.Equal(t, []string{".pptx", ".ppt", ".pdf"}, evidence.DeckSlot().Extensions())
	assert.Contains(t, evidence.CategorySlot(domain.StandardMedical, domain.CategoryPerformance).ContentTypes(), "application/zip")
}

func TestRequiredSlots(t *testing.T) {
	ids := func(ss []evidence.Slot) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.ID())
		}
		return out
	}
	t.Run("desktop, both modes, wifi and 4g", func(t *testing.T) {
		r, err := evidence.RequiredSlots(domain.DeviceDesktopDualScreen,
			[]domain.SoftwareMode{domain.ModeAPP, domain.ModeSDK}, []domain.Connectivity{domain.ConnWiFi, domain.Conn4G})
		require.NoError(t, err)
		require.Len(t, r.Software, 2)
		assert.Equal(t, domain.ModeSDK, r.Software[0].Mode)
		assert.Equal(t, []string{"software/1", "software/2/sdk", "software/3/sdk", "software/4"}, ids(r.Software[0].Slots))
		assert.Equal(t, []string{"software/1", "software/2/app", "software/3/app", "software/4"}, ids(r.Software[1].Slots))
		assert.Equal(t, domain.StandardDesktopCashier, r.Standard)
		assert.Equal(t, []string{"hardware/workbook", "hardware/climate_reliability", "hardware/mechanical_reliability",
			"hardware/coating_reliability", "hardware/basic_function", "hardware/performance"}, ids(r.Hardware))
		assert.Empty(t, r.Optional)
		assert.Equal(t, []string{"certificate/3c", "certificate/srrc", "certificate/cta"}, ids(r.Certificates))
		assert.Equal(t, []string{"software/1", "software/2/sdk", "software/3/sdk", "software/4", "software/2/app",
			"software/3/app", "hardware/workbook", "hardware/climate_reliability", "hardware/mechanical_reliability",
			"hardware/coating_reliability", "hardware/basic_function", "hardware/performance",
			"certificate/3c", "certificate/srrc", "certificate/cta"}, ids(r.All()))
	})
	t.Run("self-checkout has an optional coating zip", func(t *testing.T) {
		r, err := evidence.RequiredSlots(domain.DevicePowerBankStation, []domain.SoftwareMode{domain.ModeSDK}, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"hardware/workbook", "hardware/climate_reliability", "hardware/mechanical_reliability",
			"hardware/basic_function", "hardware/performance"}, ids(r.Hardware))
		assert.Equal(t, []string{"hardware/coating_reliability"}, ids(r.Optional))
		assert.Equal(t, 4, r.Optional[0].Number, "coating keeps its number")
		assert.Equal(t, 6, r.Hardware[4].Number, "performance")
		assert.Equal(t, []string{"certificate/3c"}, ids(r.Certificates))
	})
	t.Run("vending", func(t *testing.T) {
		r, err := evidence.RequiredSlots(domain.DeviceVendingMachine, []domain.SoftwareMode{domain.ModeAPP}, []domain.Connectivity{domain.ConnBluetooth})
		require.NoError(t, err)
		assert.Equal(t, []string{"hardware/workbook", "hardware/basic_function", "hardware/performance"}, ids(r.Hardware))
		assert.Equal(t, []string{"certificate/3c", "certificate/srrc"}, ids(r.Certificates))
	})
	for _, tt := range []struct {
		name     string
		dt       domain.DeviceType
		modes    []domain.SoftwareMode
		wantCode string
	}{
		{"unknown device", "fridge", []domain.SoftwareMode{domain.ModeSDK}, "unknown_device_type"},
		{"unknown mode", domain.DeviceHandheld, []domain.SoftwareMode{"web"}, "unknown_software_mode"},
		{"no mode", domain.DeviceHandheld, nil, "no_software_mode"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := evidence.RequiredSlots(tt.dt, tt.modes, nil)
			assert.Equal(t, tt.wantCode, domain.CodeOf(err))
		})
	}
}

func TestMissingCategories(t *testing.T) {
	c, m, co, b, p := domain.CategoryClimateReliability, domain.CategoryMechanicalReliability,
		domain.CategoryCoatingReliability, domain.CategoryBasicFunction, domain.CategoryPerformance
	tests := []struct {
		name     string
		std      domain.TestStandard
		received []evidence.Category
		want     []evidence.Category
	}{
		{"all there", domain.StandardDesktopCashier, []evidence.Category{p, b, co, m, c}, nil},
		{"none", domain.StandardUnattendedVending, nil, []evidence.Category{b, p}},
		{"coating optional", domain.StandardSelfCheckout, []evidence.Category{c, m, b, p}, nil},
		{"coating required", domain.StandardDesktopCashier, []evidence.Category{c, m, b, p}, []evidence.Category{co}},
		{"extra ignored", domain.StandardUnattendedVending, []evidence.Category{c, b}, []evidence.Category{p}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, evidence.MissingCategories(tt.std, tt.received))
		})
	}
}

// A new version of a standard changes the expected workbook name through standards.json
// alone: no code in this package names a version.
func TestNewStandardVersionChangesTheExpectedName(t *testing.T) {
	data, err := os.ReadFile("../domain/standards.json")
	require.NoError(t, err)
	next, err := domain.LoadStandards(bytes.Replace(data, []byte(`"version": "1.4"`), []byte(`"version": "1.5"`), 1))
	require.NoError(t, err)
	defer domain.UseStandards(next)()
	r, err := evidence.RequiredSlots(domain.DeviceDesktopSingleScreen, []domain.SoftwareMode{domain.ModeSDK}, nil)
	require.NoError(t, err)
	wb := r.Hardware[0]
	assert.Equal(t, "[1微信刷脸支付-桌面收银测试用例v1.5]-[示例科技][K1 Pro].xls", wb.ExpectedFileName(vendor, model, ""))
	assert.NoError(t, wb.CheckFileName("[1微信刷脸支付-桌面收银测试用例v1.5]-[示例科技][K1 Pro].xls", vendor, model))
	err = wb.CheckFileName("[1微信刷脸支付-桌面收银测试用例v1.4]-[示例科技][K1 Pro].xls", vendor, model)
	assert.Equal(t, "wrong_slot_title", domain.CodeOf(err), "the superseded version is refused")
}
