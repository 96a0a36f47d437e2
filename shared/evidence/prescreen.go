package evidence

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/facepay/platform/shared/domain"
)

// Prescreen is the machine pre-screening of a spreadsheet, shown to the vendor and the
// reviewer. Passed is true only when the workbook was read and has no findings.
// ManualReview is true when the workbook could not be checked by machine (legacy .xls:
// excelize reads only the Office Open XML formats); such a workbook is not failed, it goes
// to the reviewer as is, with a "needs_manual_review" flag. Flags point the reviewer at
// entries worth a look (a "no pass" result) without failing the pre-screening.
type Prescreen struct {
	Passed       bool      `json:"passed"`
	ManualReview bool      `json:"manualReview,omitempty"`
	Findings     []Finding `json:"findings"`
	Flags        []Finding `json:"flags"`
}

// Finding is one problem (or one flag) in a spreadsheet. Row is the 1-based spreadsheet
// row, 0 when the finding concerns a whole sheet or workbook.
type Finding struct {
	Code    string `json:"code"`
	Sheet   string `json:"sheet,omitempty"`
	Row     int    `json:"row,omitempty"`
	Item    string `json:"item,omitempty"`
	Message string `json:"message"`
}

// Finding and flag codes.
const (
	FindingUnreadableWorkbook = "unreadable_workbook" // excelize cannot open it
	FindingMissingSheet       = "missing_sheet"       // a required category sheet is absent
	FindingMissingHeader      = "missing_header"      // no header row with item and result columns
	FindingUnmarkedEntry      = "unmarked_entry"      // hardware: result neither pass nor no pass
	FindingEmptyItem          = "empty_item"          // software / camera: result left empty
	FindingTooManyRows        = "too_many_rows"       // a sheet longer than MaxPrescreenRows
	FindingTooManyFindings    = "too_many_findings"   // findings beyond MaxFindings were dropped
	FlagNoPass                = "no_pass"             // hardware: an entry marked no pass
	FlagNeedsManualReview     = "needs_manual_review" // legacy .xls, not machine-checked
)

// Pre-screening bounds: uploads are at most MaxFileSize, but a small xlsx can unzip into a
// lot of XML, so unzipping is capped and only the first rows of a sheet are read.
const (
	MaxPrescreenRows  = 5000
	MaxFindings       = 200
	maxUnzippedSize   = 200 * MB
	headerSearchDepth = 10
)

// Header names (our choice) recognised, trimmed and case-insensitively, in the first
// headerSearchDepth rows of a sheet: one column for the test item, one for the result.
var (
	itemHeaders   = []string{"测试项", "检测项", "测试项目", "检测项目", "test item", "item"}
	resultHeaders = []string{"结果", "测试结果", "检测结果", "result", "test result"}
)

// PrescreenHardwareWorkbook pre-screens a hardware test-case workbook against std:
//   - every required category sheet (named by TestCategory.SheetName, surrounding spaces
//     ignored) is present, else "missing_sheet";
//   - every present category sheet has a header row, else "missing_header";
//   - every row with a test item is marked pass or no pass (also 通过 / 不通过; trimmed,
//     case-insensitive), else "unmarked_entry"; each no pass is a "no_pass" flag.
//
// Sheets that are no category of std are ignored. format is what Sniff detected: FormatXLS
// yields a ManualReview outcome. The error is non-nil only when reading r fails (or, with
// Kind TooLarge and code "file_too_large", when r holds more than MaxFileSize bytes); a
// workbook that cannot be parsed is an "unreadable_workbook" finding.
func PrescreenHardwareWorkbook(r io.Reader, format Format, std domain.TestStandard) (Prescreen, error) {
	return prescreen(r, format, func(f *excelize.File, p *screen) {
		sheets := f.GetSheetList()
		for _, c := range std.Categories() {
			name := c.SheetName()
			// Tolerate stray spaces around a sheet name; findings name the sheet as found.
			i := slices.IndexFunc(sheets, func(s string) bool { return strings.TrimSpace(s) == name })
			if i < 0 {
				if std.Requirement(c) == domain.CategoryRequired {
					p.finding(Finding{Code: FindingMissingSheet, Sheet: name,
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
		p.flag(Finding{Code: FlagNoPass, Sheet: sheet, Row: row, Item: item,
			Message: fmt.Sprintf("%s row %d: %q is marked no pass", sheet, row, item)})
	default:
		p.finding(Finding{Code: FindingUnmarkedEntry, Sheet: sheet, Row: row, Item: item,
			Message: fmt.Sprintf("%s row %d: %q must be marked pass or no pass, not %q", sheet, row, item, result)})
	}
}

func normalizeResult(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// PrescreenSoftwareResults pre-screens software pre-check file 2: in every sheet that has a
// header row, every row with an item has a non-empty result ("NA" is a result); an empty
// one is an "empty_item" finding. A workbook without any header row is "missing_header".
// format and the error are as for PrescreenHardwareWorkbook.
func PrescreenSoftwareResults(r io.Reader, format Format) (Prescreen, error) {
	return prescreen(r, format, prescreenNonEmpty)
}

// PrescreenCameraChecklist pre-screens software pre-check file 1, the camera checklist, by
// the same rule as PrescreenSoftwareResults (our choice): no item without a result.
func PrescreenCameraChecklist(r io.Reader, format Format) (Prescreen, error) {
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
		p.finding(Finding{Code: FindingMissingHeader,
			Message: fmt.Sprintf("no sheet has a header row with an item column (%s) and a result column (%s)",
				strings.Join(itemHeaders, " / "), strings.Join(resultHeaders, " / "))})
	}
}

func checkNonEmptyResult(p *screen, sheet string, row int, item, result string) {
	if strings.TrimSpace(result) == "" {
		p.finding(Finding{Code: FindingEmptyItem, Sheet: sheet, Row: row, Item: item,
			Message: fmt.Sprintf("%s row %d: %q has no result (write NA when the item is not supported)", sheet, row, item)})
	}
}

// Prescreen pre-screens a spreadsheet uploaded to the slot: the camera checklist, the
// software pre-check results and the hardware workbook. Other slots have nothing to
// pre-screen and pass.
func (s Slot) Prescreen(r io.Reader, format Format) (Prescreen, error) {
	switch {
	case s.Kind == KindSoftware && s.Number == SoftwareCameraChecklist:
		return PrescreenCameraChecklist(r, format)
	case s.Kind == KindSoftware && s.Number == SoftwareResults:
		return PrescreenSoftwareResults(r, format)
	case s.Kind == KindHardware && s.Category == "":
		return PrescreenHardwareWorkbook(r, format, s.Standard)
	}
	return Prescreen{Passed: true, Findings: []Finding{}, Flags: []Finding{}}, nil
}

// screen accumulates findings and flags.
type screen struct{ out Prescreen }

func (p *screen) finding(f Finding) {
	switch {
	case len(p.out.Findings) < MaxFindings:
		p.out.Findings = append(p.out.Findings, f)
	case len(p.out.Findings) == MaxFindings:
		p.out.Findings = append(p.out.Findings, Finding{Code: FindingTooManyFindings,
			Message: fmt.Sprintf("more than %d findings; fix these and upload again", MaxFindings)})
	}
}

func (p *screen) flag(f Finding) {
	if len(p.out.Flags) < MaxFindings {
		p.out.Flags = append(p.out.Flags, f)
	}
}

func prescreen(r io.Reader, format Format, check func(*excelize.File, *screen)) (Prescreen, error) {
	p := &screen{out: Prescreen{Findings: []Finding{}, Flags: []Finding{}}}
	switch format {
	case FormatXLSX:
	case FormatXLS:
		p.out.ManualReview = true
		p.flag(Finding{Code: FlagNeedsManualReview,
			Message: "legacy .xls workbooks are not checked by machine; the reviewer checks it by hand"})
		return p.out, nil
	default:
		p.finding(Finding{Code: FindingUnreadableWorkbook, Message: fmt.Sprintf("the file is %s, not a workbook", format)})
		return p.out, nil
	}
	// Read the whole upload first so that a read failure is an error, not a finding.
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return Prescreen{}, fmt.Errorf("prescreen: read workbook: %w", err)
	}
	if len(data) > MaxFileSize {
		return Prescreen{}, domain.Errorf(domain.TooLarge, "file_too_large", "the workbook is larger than %s", humanSize(MaxFileSize))
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxUnzippedSize})
	if err != nil {
		p.finding(Finding{Code: FindingUnreadableWorkbook, Message: "the workbook cannot be opened: it may be damaged or password-protected"})
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
		p.finding(Finding{Code: FindingUnreadableWorkbook, Sheet: name, Message: fmt.Sprintf("sheet %q cannot be read", name)})
		return false
	}
	defer rows.Close()
	itemCol, resultCol := -1, -1
	for n := 1; rows.Next(); n++ {
		if n > MaxPrescreenRows {
			p.finding(Finding{Code: FindingTooManyRows, Sheet: name,
				Message: fmt.Sprintf("sheet %q has more than %d rows; only those were checked", name, MaxPrescreenRows)})
			return true
		}
		cols, err := rows.Columns()
		if err != nil {
			p.finding(Finding{Code: FindingUnreadableWorkbook, Sheet: name, Row: n, Message: fmt.Sprintf("sheet %q row %d cannot be read", name, n)})
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
		p.finding(Finding{Code: FindingMissingHeader, Sheet: name,
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
