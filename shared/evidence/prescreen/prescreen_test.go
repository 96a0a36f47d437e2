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

func TestHardware(t *testing.T) {
	climate := domain.CategoryClimateReliability.SheetName()
	coating := domain.CategoryCoatingReliability.SheetName()
	perf := domain.CategoryPerformance.SheetName()
	type finding struct {
		code, sheet string
		row         int
	}
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
		{"chinese marks and spacing", domain.StandardMedical, []evidencetest.WorkbookOption{
			evidencetest.SetResult(climate, 0, " 通过 "), evidencetest.SetResult(climate, 1, "PASS"),
			evidencetest.SetResult(climate, 2, "No  Pass")}, true, nil, []finding{{"no_pass", climate, 4}}},
		{"missing required sheet", domain.StandardDesktopCashier, []evidencetest.WorkbookOption{
			evidencetest.DropSheet(coating)}, false, []finding{{"missing_sheet", coating, 0}}, nil},
		{"optional sheet may be missing", domain.StandardSelfCheckout, []evidencetest.WorkbookOption{
			evidencetest.DropSheet(coating)}, true, nil, nil},
		{"optional sheet is checked when present", domain.StandardSelfCheckout, []evidencetest.WorkbookOption{
			evidencetest.Unmark(coating, 0)}, false, []finding{{"unmarked_entry", coating, 2}}, nil},
		{"unmarked entry", domain.StandardGroupCatering, []evidencetest.WorkbookOption{
			evidencetest.Unmark(perf, 1)}, false, []finding{{"unmarked_entry", perf, 3}}, nil},
		{"other mark", domain.StandardGroupCatering, []evidencetest.WorkbookOption{
			evidencetest.SetResult(perf, 2, "ok")}, false, []finding{{"unmarked_entry", perf, 4}}, nil},
		{"no pass is a flag", domain.StandardDesktopCashier, []evidencetest.WorkbookOption{
			evidencetest.MarkNoPass(perf, 0), evidencetest.SetResult(climate, 2, "不通过")}, true, nil,
			[]finding{{"no_pass", climate, 4}, {"no_pass", perf, 2}}},
		{"no header", domain.StandardUnattendedVending, []evidencetest.WorkbookOption{
			evidencetest.AddSheet(perf, [][]string{{"a", "b"}, {"x", "pass"}})}, false, []finding{{"missing_header", perf, 0}}, nil},
		{"english header, blank rows, extra sheets", domain.StandardUnattendedVending, []evidencetest.WorkbookOption{
			evidencetest.AddSheet(perf, [][]string{{"性能测试"}, {}, {"No.", "Test Item", "Result"}, {"1", "fps", "pass"}, {}, {"2", "", ""}, {"3", "latency", ""}}),
			evidencetest.AddSheet("封面", [][]string{{"hello"}})}, false, []finding{{"unmarked_entry", perf, 7}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := evidencetest.HardwareWorkbook(tt.std, tt.opts...)
			p, err := prescreen.Hardware(bytes.NewReader(data), evidence.FormatXLSX, tt.std)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPass, p.Passed, "%+v", p.Findings)
			assert.False(t, p.ManualReview)
			var got, gotFlags []finding
			for _, f := range p.Findings {
				got = append(got, finding{f.Code, f.Sheet, f.Row})
				assert.NotEmpty(t, f.Message)
			}
			for _, f := range p.Flags {
				gotFlags = append(gotFlags, finding{f.Code, f.Sheet, f.Row})
				assert.NotEmpty(t, f.Item)
			}
			assert.Equal(t, tt.findings, got)
			assert.Equal(t, tt.flags, gotFlags)
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
		wantRow   int
		manual    bool
	}{
		{"valid with NA", evidencetest.SoftwareWorkbook(), evidence.FormatXLSX, true, nil, 0, false},
		{"empty item", evidencetest.SoftwareWorkbook(evidencetest.SetResult(sheet, 1, "")), evidence.FormatXLSX,
			false, []string{"empty_item"}, 3, false},
		{"blank result", evidencetest.SoftwareWorkbook(evidencetest.SetResult(sheet, 0, "   ")), evidence.FormatXLSX,
			false, []string{"empty_item"}, 2, false},
		{"no header anywhere", evidencetest.XLSX(map[string][][]string{"Sheet": {{"x", "y"}}}), evidence.FormatXLSX,
			false, []string{"missing_header"}, 0, false},
		{"legacy xls needs manual review", evidencetest.XLS(), evidence.FormatXLS, false, nil, 0, true},
		{"not a workbook", evidencetest.PDF(), evidence.FormatPDF, false, []string{"unreadable_workbook"}, 0, false},
		{"damaged xlsx", evidencetest.Zip(map[string][]byte{"[Content_Types].xml": []byte("<"), "xl/workbook.xml": []byte("<")}),
			evidence.FormatXLSX, false, []string{"unreadable_workbook"}, 0, false},
	}
	for _, tt := range tests {
		for _, screen := range []struct {
			name string
			fn   func(*bytes.Reader, evidence.Format) (evidence.Prescreen, error)
		}{
			{"results", func(r *bytes.Reader, f evidence.Format) (evidence.Prescreen, error) {
				return prescreen.Software(r, f)
			}},
			{"checklist", func(r *bytes.Reader, f evidence.Format) (evidence.Prescreen, error) {
				return prescreen.Camera(r, f)
			}},
		} {
			t.Run(screen.name+"/"+tt.name, func(t *testing.T) {
				p, err := screen.fn(bytes.NewReader(tt.data), tt.format)
				require.NoError(t, err)
				assert.Equal(t, tt.wantPass, p.Passed)
				assert.Equal(t, tt.manual, p.ManualReview)
				var codes []string
				for _, f := range p.Findings {
					codes = append(codes, f.Code)
				}
				assert.Equal(t, tt.wantCodes, codes)
				if tt.wantRow != 0 {
					assert.Equal(t, tt.wantRow, p.Findings[0].Row)
					assert.Equal(t, sheet, p.Findings[0].Sheet)
					assert.NotEmpty(t, p.Findings[0].Item)
				}
				if tt.manual {
					require.Len(t, p.Flags, 1)
					assert.Equal(t, "needs_manual_review", p.Flags[0].Code)
				}
			})
		}
	}
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
		evidencetest.Unmark(evidencetest.SoftwareSheet, 0))), evidence.FormatXLSX)
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
	p, err := prescreen.Software(bytes.NewReader(evidencetest.SoftwareWorkbook(
		evidencetest.Unmark(evidencetest.SoftwareSheet, 0))), evidence.FormatXLSX)
	require.NoError(t, err)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"passed":false,"findings":[{"code":"empty_item","sheet":"预检测结果","row":2,"item":"软件检测项1",
		"message":"预检测结果 row 2: \"软件检测项1\" has no result (write NA when the item is not supported)"}],"flags":[]}`, string(b))
}

func TestLimits(t *testing.T) {
	perf := domain.CategoryPerformance.SheetName()
	basic := domain.CategoryBasicFunction.SheetName()
	rows := [][]string{{"测试项", "结果"}}
	for i := range evidence.MaxFindings + 10 {
		rows = append(rows, []string{fmt.Sprintf("item %d", i), ""})
	}
	data := evidencetest.XLSX(map[string][][]string{perf: rows, basic + " ": {{"测试项", "结果"}, {"a", "pass"}}})
	p, err := prescreen.Hardware(bytes.NewReader(data), evidence.FormatXLSX, domain.StandardUnattendedVending)
	require.NoError(t, err)
	assert.False(t, p.Passed)
	require.Len(t, p.Findings, evidence.MaxFindings+1, "the sheet named with a trailing space counts")
	assert.Equal(t, "too_many_findings", p.Findings[evidence.MaxFindings].Code)

	p, err = prescreen.Hardware(bytes.NewReader(evidencetest.XLS()), evidence.FormatXLS, domain.StandardMedical)
	require.NoError(t, err)
	assert.False(t, p.Passed)
	assert.True(t, p.ManualReview)
	assert.Empty(t, p.Findings)

	_, err = prescreen.Software(bytes.NewReader(make([]byte, evidence.MaxFileSize+1)), evidence.FormatXLSX)
	assert.Equal(t, "file_too_large", domain.CodeOf(err))
	assert.Equal(t, domain.TooLarge, domain.KindOf(err))
}
