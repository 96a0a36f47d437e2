package evidence

// Prescreen is the machine pre-screening of a spreadsheet (made by package
// shared/evidence/prescreen), shown to the vendor and the reviewer. Passed is true only
// when the workbook was read and has no findings. ManualReview is true when the workbook
// could not be checked by machine (legacy .xls: excelize reads only the Office Open XML
// formats); such a workbook is not failed, it goes to the reviewer as is, with a
// "needs_manual_review" flag. Flags point the reviewer at entries worth a look (a "no pass"
// result) without failing the pre-screening.
//
// The type lives here, not with the screening, so that packages which only carry or convert
// a result (shared/precheck, the evidence function) do not link excelize.
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

// Pre-screening bounds: only the first MaxPrescreenRows rows of a sheet are read, and at
// most MaxFindings findings (and as many flags) are kept.
const (
	MaxPrescreenRows = 5000
	MaxFindings      = 200
)
