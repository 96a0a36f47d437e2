// Package prescreen is the machine pre-screening of the spreadsheets vendors upload as
// evidence (DOMAIN.md section 3), read with excelize: the hardware test-case workbook
// (Hardware), software pre-check file 2 (Software) and the camera checklist (Camera), or
// whichever of them a slot takes (Slot). The result types, codes and limits are in package
// evidence.
//
// It is a package of its own because excelize's package initialisation costs about 2 ms of
// every cold start that links it: only process-upload reads workbooks, so only it imports
// this package.
package prescreen

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
)

// Bounds beyond evidence.MaxPrescreenRows and evidence.MaxFindings: uploads are at most
// evidence.MaxFileSize, but a small xlsx can unzip into a lot of XML, so unzipping is capped;
// a header row is looked for in the first headerSearchDepth rows of a sheet.
const (
	maxUnzippedSize   = 200 * evidence.MB
	headerSearchDepth = 10
)

// Header names (our choice) recognised, trimmed and case-insensitively, in the first
// headerSearchDepth rows of a sheet: one column for the test item, one for the result.
var (
	itemHeaders   = []string{"测试项", "检测项", "测试项目", "检测项目", "test item", "item"}
	resultHeaders = []string{"结果", "测试结果", "检测结果", "result", "test result"}
)

// Hardware pre-screens a hardware test-case workbook against std:
//   - every required category sheet (named by TestCategory.SheetName, surrounding spaces
//     ignored) is present, else "missing_sheet";
//   - every present category sheet has a header row, else "missing_header";
//   - every row with a test item is marked pass or no pass (also 通过 / 不通过; trimmed,
//     case-insensitive), else "unmarked_entry"; each no pass is a "no_pass" flag.
//
// Sheets that are no category of std are ignored. format is what evidence.Sniff detected:
// evidence.FormatXLS yields a ManualReview outcome. The error is non-nil only when reading r
// fails (or, with Kind TooLarge and code "file_too_large", when r holds more than
// evidence.MaxFileSize bytes); a workbook that cannot be parsed is an "unreadable_workbook"
// finding.
func Hardware(r io.Reader, format evidence.Format, std domain.TestStandard) (evidence.Prescreen, error) {
	return prescreen(r, format, func(f *excelize.File, p *screen) {
		sheets := f.GetSheetList()
		for _, c := range std.Categories() {
			name := c.SheetName()
			// Tolerate stray spaces around a sheet name; findings name the sheet as found.
			i := slices.IndexFunc(sheets, func(s string) bool { return strings.TrimSpace(s) == name })
			if i < 0 {
				if std.Requirement(c) == domain.CategoryRequired {
					p.finding(evidence.Finding{Code: evidence.FindingMissingSheet, Sheet: name,
						Message: fmt.Sprintf("the workbook has no sheet %q (%s), which the standard requires", name, c)})
				}
				continue
			}
			p.sheet(f, sheets[i], true, checkHardwareResult)
		}
	})
}

func checkHardwareResult(p *screen, sheet string, row int, item, result string) {
	switch normalizeResult(result) {
	case "pass", "通过":
	case "no pass", "不通过":
		p.flag(evidence.Finding{Code: evidence.FlagNoPass, Sheet: sheet, Row: row, Item: item,
			Message: fmt.Sprintf("%s row %d: %q is marked no pass", sheet, row, item)})
	default:
		p.finding(evidence.Finding{Code: evidence.FindingUnmarkedEntry, Sheet: sheet, Row: row, Item: item,
			Message: fmt.Sprintf("%s row %d: %q must be marked pass or no pass, not %q", sheet, row, item, result)})
	}
}

func normalizeResult(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// Software pre-screens software pre-check file 2: in every sheet that has a header row,
// every row with an item has a non-empty result ("NA" is a result); an empty one is an
// "empty_item" finding. A workbook without any header row is "missing_header". format and
// the error are as for Hardware.
func Software(r io.Reader, format evidence.Format) (evidence.Prescreen, error) {
	return prescreen(r, format, prescreenNonEmpty)
}

// Camera pre-screens software pre-check file 1, the camera checklist, by the same rule as
// Software (our choice): no item without a result.
func Camera(r io.Reader, format evidence.Format) (evidence.Prescreen, error) {
	return prescreen(r, format, prescreenNonEmpty)
}

func prescreenNonEmpty(f *excelize.File, p *screen) {
	checked := 0
	for _, name := range f.GetSheetList() {
		if p.sheet(f, name, false, checkNonEmptyResult) {
			checked++
		}
	}
	if checked == 0 {
		p.finding(evidence.Finding{Code: evidence.FindingMissingHeader,
			Message: fmt.Sprintf("no sheet has a header row with an item column (%s) and a result column (%s)",
				strings.Join(itemHeaders, " / "), strings.Join(resultHeaders, " / "))})
	}
}

func checkNonEmptyResult(p *screen, sheet string, row int, item, result string) {
	if strings.TrimSpace(result) == "" {
		p.finding(evidence.Finding{Code: evidence.FindingEmptyItem, Sheet: sheet, Row: row, Item: item,
			Message: fmt.Sprintf("%s row %d: %q has no result (write NA when the item is not supported)", sheet, row, item)})
	}
}

// Slot pre-screens a spreadsheet uploaded to slot s: the camera checklist (Camera), the
// software pre-check results (Software) and the hardware workbook (Hardware). Other slots
// have nothing to pre-screen and pass.
func Slot(s evidence.Slot, r io.Reader, format evidence.Format) (evidence.Prescreen, error) {
	switch {
	case s.Kind == evidence.KindSoftware && s.Number == evidence.SoftwareCameraChecklist:
		return Camera(r, format)
	case s.Kind == evidence.KindSoftware && s.Number == evidence.SoftwareResults:
		return Software(r, format)
	case s.Kind == evidence.KindHardware && s.Category == "":
		return Hardware(r, format, s.Standard)
	}
	return evidence.Prescreen{Passed: true, Findings: []evidence.Finding{}, Flags: []evidence.Finding{}}, nil
}

// screen accumulates findings and flags.
type screen struct{ out evidence.Prescreen }

func (p *screen) finding(f evidence.Finding) {
	switch {
	case len(p.out.Findings) < evidence.MaxFindings:
		p.out.Findings = append(p.out.Findings, f)
	case len(p.out.Findings) == evidence.MaxFindings:
		p.out.Findings = append(p.out.Findings, evidence.Finding{Code: evidence.FindingTooManyFindings,
			Message: fmt.Sprintf("more than %d findings; fix these and upload again", evidence.MaxFindings)})
	}
}

func (p *screen) flag(f evidence.Finding) {
	if len(p.out.Flags) < evidence.MaxFindings {
		p.out.Flags = append(p.out.Flags, f)
	}
}

func prescreen(r io.Reader, format evidence.Format, check func(*excelize.File, *screen)) (evidence.Prescreen, error) {
	p := &screen{out: evidence.Prescreen{Findings: []evidence.Finding{}, Flags: []evidence.Finding{}}}
	switch format {
	case evidence.FormatXLSX:
	case evidence.FormatXLS:
		p.out.ManualReview = true
		p.flag(evidence.Finding{Code: evidence.FlagNeedsManualReview,
			Message: "legacy .xls workbooks are not checked by machine; the reviewer checks it by hand"})
		return p.out, nil
	default:
		p.finding(evidence.Finding{Code: evidence.FindingUnreadableWorkbook, Message: fmt.Sprintf("the file is %s, not a workbook", format)})
		return p.out, nil
	}
	// Read the whole upload first so that a read failure is an error, not a finding.
	data, err := io.ReadAll(io.LimitReader(r, evidence.MaxFileSize+1))
	if err != nil {
		return evidence.Prescreen{}, fmt.Errorf("prescreen: read workbook: %w", err)
	}
	if len(data) > evidence.MaxFileSize {
		return evidence.Prescreen{}, domain.Errorf(domain.TooLarge, "file_too_large", "the workbook is larger than %d MB", evidence.MaxFileSize/evidence.MB)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxUnzippedSize})
	if err != nil {
		p.finding(evidence.Finding{Code: evidence.FindingUnreadableWorkbook, Message: "the workbook cannot be opened: it may be damaged or password-protected"})
		return p.out, nil
	}
	defer f.Close()
	check(f, p)
	p.out.Passed = len(p.out.Findings) == 0
	return p.out, nil
}

// sheet checks the rows under the header row of one sheet with check. requireHeader says
// whether a sheet without a header row is a finding; sheet reports whether it found one.
func (p *screen) sheet(f *excelize.File, name string, requireHeader bool,
	check func(p *screen, sheet string, row int, item, result string)) bool {
	rows, err := f.Rows(name)
	if err != nil {
		p.finding(evidence.Finding{Code: evidence.FindingUnreadableWorkbook, Sheet: name, Message: fmt.Sprintf("sheet %q cannot be read", name)})
		return false
	}
	defer rows.Close()
	itemCol, resultCol := -1, -1
	for n := 1; rows.Next(); n++ {
		if n > evidence.MaxPrescreenRows {
			p.finding(evidence.Finding{Code: evidence.FindingTooManyRows, Sheet: name,
				Message: fmt.Sprintf("sheet %q has more than %d rows; only those were checked", name, evidence.MaxPrescreenRows)})
			return true
		}
		cols, err := rows.Columns()
		if err != nil {
			p.finding(evidence.Finding{Code: evidence.FindingUnreadableWorkbook, Sheet: name, Row: n, Message: fmt.Sprintf("sheet %q row %d cannot be read", name, n)})
			return itemCol >= 0
		}
		if itemCol < 0 {
			if n > headerSearchDepth {
				break
			}
			itemCol, resultCol = headerColumns(cols)
			continue
		}
		item := cell(cols, itemCol)
		if item == "" {
			continue
		}
		check(p, name, n, item, cell(cols, resultCol))
	}
	if itemCol < 0 && requireHeader {
		p.finding(evidence.Finding{Code: evidence.FindingMissingHeader, Sheet: name,
			Message: fmt.Sprintf("sheet %q has no header row with an item column (%s) and a result column (%s)",
				name, strings.Join(itemHeaders, " / "), strings.Join(resultHeaders, " / "))})
	}
	return itemCol >= 0
}

// headerColumns returns the item and result columns if cols is a header row, else -1, -1.
func headerColumns(cols []string) (item, result int) {
	item, result = -1, -1
	for i, c := range cols {
		c = strings.ToLower(strings.TrimSpace(c))
		if item < 0 && slices.Contains(itemHeaders, c) {
			item = i
		} else if result < 0 && slices.Contains(resultHeaders, c) {
			result = i
		}
	}
	if item < 0 || result < 0 {
		return -1, -1
	}
	return item, result
}

func cell(cols []string, i int) string {
	if i < len(cols) {
		return strings.TrimSpace(cols[i])
	}
	return ""
}
