package evidence

// Prescreen is the machine pre-screening of a spreadsheet (made by package
// shared/evidence/prescreen), shown to the vendor and the reviewer. Passed is true only
// when the workbook was read and has no findings; a finding refuses the file. Flags point
// the reviewer at entries worth a look (a "no pass" result, a value that is neither mark)
// without refusing it.
//
// The type lives here, not with the screening, so that packages which only carry or convert
// a result (shared/precheck, the evidence function) do not link the workbook readers.
type Prescreen struct {
	Passed   bool      `json:"passed"`
	Findings []Finding `json:"findings"`
	Flags    []Finding `json:"flags"`
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

// Finding and flag codes. Each outcome has one code and one message.
const (
	FindingUnreadableWorkbook = "unreadable_workbook" // not a workbook the readers can open (damaged, encrypted, hostile)
	FindingMissingSheet       = "missing_sheet"       // a required category sheet is absent
	FindingNoMarkedEntry      = "no_marked_entry"     // a required sheet (software: the workbook) has no entry marked at all
	FindingTooManyRows        = "too_many_rows"       // a sheet longer than MaxPrescreenRows: refused, not partly checked
	FindingTooLarge           = "workbook_too_large"  // more cells, strings or unpacked bytes than pre-screening reads
	FindingTooManyFindings    = "too_many_findings"   // findings beyond MaxFindings were dropped
	FlagNoPass                = "no_pass"             // an entry marked no pass
	FlagStrayValue            = "stray_value"         // a result that is neither pass nor no pass (nor NA where allowed)
)

// Pre-screening bounds: a sheet of more than MaxPrescreenRows rows is refused, at most
// MaxFindings findings (and as many flags) are kept.
const (
	MaxPrescreenRows = 5000
	MaxFindings      = 200
)

// PrescreenRequest asks the pre-screening function (functions/prescreen-workbook) to screen
// one uploaded spreadsheet: a presigned GET of the object version (so the function needs no S3
// client of its own), the slot it was uploaded to and the format its bytes were sniffed as.
// process-upload sends it, so that the workbook readers' size and package initialisation stay
// out of the notification path's cold start. Key is for logs.
type PrescreenRequest struct {
	Key    string `json:"key"`
	URL    string `json:"url"`
	Slot   Slot   `json:"slot"`
	Format Format `json:"format"`
}

// PrescreenResponse is the pre-screening's answer: the result, or Refused when the workbook
// is over what pre-screening reads (a TooLarge refusal, with its stable code and message).
type PrescreenResponse struct {
	Prescreen *Prescreen `json:"prescreen,omitempty"`
	Refused   *Refusal   `json:"refused,omitempty"`
}

// Refusal is a file refused by pre-screening before any finding: code and caller-safe message.
type Refusal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
