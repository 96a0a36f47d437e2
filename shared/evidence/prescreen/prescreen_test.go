package prescreen_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/evidence/evidencetest"
	"github.com/facepay/platform/shared/evidence/prescreen"
)

type finding struct {
	code, sheet string
	row         int
}

func findings(fs []evidence.Finding) []finding {
	var out []finding
	for _, f := range fs {
		out = append(out, finding{f.Code, f.Sheet, f.Row})
	}
	return out
}

// Real .xls workbooks written by a third-party BIFF8 writer, laid out as the programme's
// standard (one sheet per category, title and header rows, a result column that moves).
func TestHardwareXLS(t *testing.T) {
	tests := []struct {
		fixture  string
		wantPass bool
		findings []finding
		flags    []finding
	}{
		{"hardware-all-pass", true, nil, nil},
		{"hardware-some-blank", true, nil, []finding{{"no_pass", "气候类可靠性", 7}}},
		{"hardware-missing-sheet", false, []finding{{"missing_sheet", "涂层类可靠性", 0}}, nil},
		{"hardware-nothing-marked", false, []finding{{"no_marked_entry", "性能测试", 0}}, nil},
		{"hardware-stray-value", true, nil, []finding{{"stray_value", "基本功能测试", 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			data := evidencetest.XLSFixture(tt.fixture)
			d, err := evidence.Sniff(bytes.NewReader(data), int64(len(data)))
			require.NoError(t, err)
			require.Equal(t, evidence.FormatXLS, d.Format)
			p, err := prescreen.Hardware(bytes.NewReader(data), d.Format, domain.StandardDesktopCashier)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPass, p.Passed, "%+v", p.Findings)
			assert.Equal(t, tt.findings, findings(p.Findings))
			assert.Equal(t, tt.flags, findings(p.Flags))
			for _, f := range append(p.Findings, p.Flags...) {
				assert.NotEmpty(t, f.Message)
			}
		})
	}
	p, err := prescreen.Hardware(bytes.NewReader(evidencetest.XLSFixture("hardware-stray-value")), evidence.FormatXLS, domain.StandardDesktopCashier)
	require.NoError(t, err)
	assert.Equal(t, "扫码支付", p.Flags[0].Item, "the item is named, not its number")
	assert.Contains(t, p.Flags[0].Message, "待复测")
}

func TestHardwareXLSX(t *testing.T) {
	climate := domain.CategoryClimateReliability.SheetName()
	coating := domain.CategoryCoatingReliability.SheetName()
	perf := domain.CategoryPerformance.SheetName()
	basic := domain.CategoryBasicFunction.SheetName()
	tests := []struct {
		name     string
		std      domain.TestStandard
		opts     []evidencetest.WorkbookOption
		wantPass bool
		findings []finding
		flags    []finding
	}{
		{"valid desktop", domain.StandardDesktopCashier, nil, true, nil, nil},
		{"valid vending", domain.StandardUnattendedVending, nil, true, nil, nil},
		{"marks in any case and spacing", domain.StandardMedical, []evidencetest.WorkbookOption{
			evidencetest.SetResult(climate, 0, " Pass "), evidencetest.SetResult(climate, 1, "PASS"),
			evidencetest.SetResult(climate, 2, "No  Pass")}, true, nil, []finding{{"no_pass", climate, 5}}},
		{"blank entries are untested", domain.StandardGroupCatering, []evidencetest.WorkbookOption{
			evidencetest.Unmark(perf, 1), evidencetest.Unmark(perf, 2)}, true, nil, nil},
		{"missing required sheet", domain.StandardDesktopCashier, []evidencetest.WorkbookOption{
			evidencetest.DropSheet(coating)}, false, []finding{{"missing_sheet", coating, 0}}, nil},
		{"required sheet with nothing marked", domain.StandardDesktopCashier, []evidencetest.WorkbookOption{
			evidencetest.UnmarkAll(basic)}, false, []finding{{"no_marked_entry", basic, 0}}, nil},
		{"optional sheet may be missing", domain.StandardSelfCheckout, []evidencetest.WorkbookOption{
			evidencetest.DropSheet(coating)}, true, nil, nil},
		{"optional sheet may be left unmarked", domain.StandardSelfCheckout, []evidencetest.WorkbookOption{
			evidencetest.UnmarkAll(coating)}, true, nil, nil},
		{"stray value flagged", domain.StandardGroupCatering, []evidencetest.WorkbookOption{
			evidencetest.SetResult(perf, 2, "通过")}, true, nil, []finding{{"stray_value", perf, 5}}},
		{"no pass flagged", domain.StandardDesktopCashier, []evidencetest.WorkbookOption{
			evidencetest.MarkNoPass(perf, 0), evidencetest.MarkNoPass(climate, 2)}, true, nil,
			[]finding{{"no_pass", climate, 5}, {"no_pass", perf, 3}}},
		{"result column found by its values", domain.StandardUnattendedVending, []evidencetest.WorkbookOption{
			evidencetest.AddSheet(perf, [][]string{{"性能测试"}, {}, {"判定", "No.", "Test Item", "Remarks"},
				{"pass", "1", "fps", "ok"}, {}, {"", "2", "latency", ""}, {"no pass", "3", "warm-up", ""}}),
			evidencetest.AddSheet("封面", [][]string{{"hello", "pass"}})}, true, nil, []finding{{"no_pass", perf, 7}}},
		{"a sheet without any mark", domain.StandardUnattendedVending, []evidencetest.WorkbookOption{
			evidencetest.AddSheet(perf, [][]string{{"测试项", "结果"}, {"fps", "ok"}})}, false, []finding{{"no_marked_entry", perf, 0}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := evidencetest.HardwareWorkbook(tt.std, tt.opts...)
			p, err := prescreen.Hardware(bytes.NewReader(data), evidence.FormatXLSX, tt.std)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPass, p.Passed, "%+v", p.Findings)
			assert.Equal(t, tt.findings, findings(p.Findings))
			assert.Equal(t, tt.flags, findings(p.Flags))
			for _, f := range p.Flags {
				assert.NotEmpty(t, f.Item)
			}
		})
	}
}

func TestSoftwareAndCamera(t *testing.T) {
	sheet := evidencetest.SoftwareSheet
	tests := []struct {
		name      string
		data      []byte
		format    evidence.Format
		wantPass  bool
		wantCodes []string
		flags     []string
	}{
		{"xlsx with NA", evidencetest.SoftwareWorkbook(), evidence.FormatXLSX, true, nil, nil},
		{"xlsx with a blank entry", evidencetest.SoftwareWorkbook(evidencetest.SetResult(sheet, 1, "")), evidence.FormatXLSX, true, nil, nil},
		{"xlsx with nothing marked", evidencetest.SoftwareWorkbook(evidencetest.UnmarkAll(sheet)), evidence.FormatXLSX,
			false, []string{"no_marked_entry"}, nil},
		{"xls results with NA and a no pass", evidencetest.XLSFixture("software-results"), evidence.FormatXLS, true, nil, []string{"no_pass"}},
		{"xls checklist", evidencetest.XLSFixture("camera-checklist"), evidence.FormatXLS, true, nil, nil},
		{"not a workbook", evidencetest.PDF(), evidence.FormatPDF, false, []string{"unreadable_workbook"}, nil},
		{"damaged xlsx", evidencetest.Zip(map[string][]byte{"[Content_Types].xml": []byte("<"), "xl/workbook.xml": []byte("<")}),
			evidence.FormatXLSX, false, []string{"unreadable_workbook"}, nil},
		{"damaged xls", evidencetest.XLS()[:3000], evidence.FormatXLS, false, []string{"unreadable_workbook"}, nil},
		{"compound file without a workbook", evidencetest.PPT(), evidence.FormatXLS, false, []string{"unreadable_workbook"}, nil},
	}
	for _, tt := range tests {
		for name, fn := range map[string]func(*bytes.Reader, evidence.Format) (evidence.Prescreen, error){
			"results":   func(r *bytes.Reader, f evidence.Format) (evidence.Prescreen, error) { return prescreen.Software(r, f) },
			"checklist": func(r *bytes.Reader, f evidence.Format) (evidence.Prescreen, error) { return prescreen.Camera(r, f) },
		} {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				p, err := fn(bytes.NewReader(tt.data), tt.format)
				require.NoError(t, err)
				assert.Equal(t, tt.wantPass, p.Passed)
				var codes, flags []string
				for _, f := range p.Findings {
					codes = append(codes, f.Code)
				}
				for _, f := range p.Flags {
					flags = append(flags, f.Code)
				}
				assert.Equal(t, tt.wantCodes, codes)
				assert.Equal(t, tt.flags, flags)
			})
		}
	}
	// NA is a mark for software only: in the hardware workbook it is a stray value.
	p, err := prescreen.Hardware(bytes.NewReader(evidencetest.HardwareWorkbook(domain.StandardUnattendedVending,
		evidencetest.SetResult(domain.CategoryPerformance.SheetName(), 1, "NA"))), evidence.FormatXLSX, domain.StandardUnattendedVending)
	require.NoError(t, err)
	assert.True(t, p.Passed)
	assert.Equal(t, []finding{{"stray_value", domain.CategoryPerformance.SheetName(), 4}}, findings(p.Flags))
}

func TestSlot(t *testing.T) {
	wb := evidence.WorkbookSlot(domain.StandardUnattendedVending)
	p, err := prescreen.Slot(wb, bytes.NewReader(evidencetest.HardwareWorkbook(domain.StandardDesktopCashier)), evidence.FormatXLSX)
	require.NoError(t, err)
	assert.True(t, p.Passed, "a desktop workbook has the vending sheets too")

	p, err = prescreen.Slot(wb, bytes.NewReader(evidencetest.SoftwareWorkbook()), evidence.FormatXLSX)
	require.NoError(t, err)
	assert.False(t, p.Passed)
	assert.Len(t, p.Findings, 2, "both vending sheets missing")

	p, err = prescreen.Slot(evidence.SoftwareSlot(2, domain.ModeSDK), bytes.NewReader(evidencetest.SoftwareWorkbook(
		evidencetest.UnmarkAll(evidencetest.SoftwareSheet))), evidence.FormatXLSX)
	require.NoError(t, err)
	assert.False(t, p.Passed)

	p, err = prescreen.Slot(evidence.SoftwareSlot(4, ""), bytes.NewReader(evidencetest.PDF()), evidence.FormatPDF)
	require.NoError(t, err)
	assert.True(t, p.Passed, "nothing to pre-screen in a manual")
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadError(t *testing.T) {
	_, err := prescreen.Software(errReader{}, evidence.FormatXLSX)
	assert.ErrorContains(t, err, "connection reset")
	assert.Equal(t, domain.Internal, domain.KindOf(err))
}

func TestJSON(t *testing.T) {
	p, err := prescreen.Hardware(bytes.NewReader(evidencetest.HardwareWorkbook(domain.StandardUnattendedVending,
		evidencetest.MarkNoPass(domain.CategoryPerformance.SheetName(), 0))), evidence.FormatXLSX, domain.StandardUnattendedVending)
	require.NoError(t, err)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"passed":true,"findings":[],"flags":[{"code":"no_pass","sheet":"性能测试","row":3,"item":"性能测试项目1",
		"message":"性能测试 row 3: \"性能测试项目1\" is marked no pass"}]}`, string(b))
}

// A sheet longer than pre-screening reads is refused with one finding and one message: it is
// not partly checked.
func TestTooManyRows(t *testing.T) {
	perf := domain.CategoryPerformance.SheetName()
	rows := [][]string{{"测试项", "结果"}}
	for i := range evidence.MaxPrescreenRows + 10 {
		rows = append(rows, []string{fmt.Sprintf("item %d", i), "pass"})
	}
	data := evidencetest.HardwareWorkbook(domain.StandardUnattendedVending, evidencetest.AddSheet(perf, rows))
	p, err := prescreen.Hardware(bytes.NewReader(data), evidence.FormatXLSX, domain.StandardUnattendedVending)
	require.NoError(t, err)
	assert.False(t, p.Passed)
	require.Equal(t, []finding{{"too_many_rows", perf, 0}}, findings(p.Findings))
	assert.NotContains(t, p.Findings[0].Message, "only those were checked")

	_, err = prescreen.Software(bytes.NewReader(make([]byte, evidence.MaxFileSize+1)), evidence.FormatXLSX)
	assert.Equal(t, "file_too_large", domain.CodeOf(err))
	assert.Equal(t, domain.TooLarge, domain.KindOf(err))
}
