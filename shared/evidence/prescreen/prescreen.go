// Package prescreen is the machine pre-screening of the spreadsheets vendors upload as
// evidence (DOMAIN.md section 3): the hardware test-case workbook (Hardware), software
// pre-check file 2 (Software) and the camera checklist (Camera), or whichever of them a slot
// takes (Slot). Legacy .xls (BIFF8, what the programme asks for) is read with
// github.com/shakinm/xlsReader, .xlsx with excelize; both behind bounds (bounds.go) so that a
// hostile or oversized workbook costs a bounded amount of memory and gives a finding, never a
// crash. The result types, codes and limits are in package evidence.
//
// The rules, from the programme: entries that were tested are marked "pass" or "no pass"
// (case and spacing ignored); a blank result is an untested entry, which is allowed. A sheet's
// result column is the column holding the most marks, wherever it is and however its header
// is worded. What the column holds above its first mark is title and header; below it, any
// other value is flagged for the reviewer ("stray_value"), as is every "no pass" ("no_pass").
//
// It is a package of its own because the readers' package initialisation costs every cold
// start that links them: only the prescreen-workbook function imports it (process-upload
// invokes that function).
package prescreen

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
)

// Result marks as the programme writes them, normalised (lower case, single spaces).
const (
	markPass   = "pass"
	markNoPass = "no pass"
	markNA     = "na" // software pre-check: the tool does not support the item
)

// Hardware pre-screens a hardware test-case workbook against std:
//   - every required category sheet (named by TestCategory.SheetName, surrounding spaces
//     ignored) is present, else "missing_sheet";
//   - every required sheet has at least one entry marked pass or no pass, else
//     "no_marked_entry" (blank entries are untested, which is allowed);
//   - "no pass" entries and values that are neither mark are flagged.
//
// Optional category sheets are read the same way but may be absent or unmarked; other
// sheets are ignored. format is what evidence.Sniff detected. The error is non-nil only when
// reading r fails (or, with Kind TooLarge and code "file_too_large", when r holds more than
// evidence.MaxFileSize bytes); a workbook that cannot be read is a finding.
func Hardware(r io.Reader, format evidence.Format, std domain.TestStandard) (evidence.Prescreen, error) {
	return run(r, format, func(wb workbook, p *screen) {
		names := wb.sheets()
		for _, c := range std.Categories() {
			name := c.SheetName()
			// Tolerate stray spaces around a sheet name; findings name the sheet as found.
			i := slices.IndexFunc(names, func(s string) bool { return strings.TrimSpace(s) == name })
			required := std.Requirement(c) == domain.CategoryRequired
			if i < 0 {
				if required {
					p.finding(evidence.Finding{Code: evidence.FindingMissingSheet, Sheet: name,
						Message: fmt.Sprintf("the workbook has no sheet %q, which the standard %s requires", name, std.FileStem())})
				}
				continue
			}
			marked, ok := p.sheet(wb, names[i], false)
			if ok && marked == 0 && required {
				p.finding(evidence.Finding{Code: evidence.FindingNoMarkedEntry, Sheet: names[i],
					Message: fmt.Sprintf("sheet %q has no entry marked pass or no pass; mark the entries that were tested", names[i])})
			}
		}
	})
}

// Software pre-screens software pre-check file 2: its sheets are read like the hardware
// workbook's, "NA" (an item the check tool does not support) being a mark too; the workbook
// needs at least one marked entry ("no_marked_entry"). format and the error are as for
// Hardware.
func Software(r io.Reader, format evidence.Format) (evidence.Prescreen, error) {
	return run(r, format, anyMarked)
}

// Camera pre-screens software pre-check file 1, the camera checklist, by the same rule as
// Software (our choice).
func Camera(r io.Reader, format evidence.Format) (evidence.Prescreen, error) {
	return run(r, format, anyMarked)
}

func anyMarked(wb workbook, p *screen) {
	total := 0
	for _, name := range wb.sheets() {
		marked, ok := p.sheet(wb, name, true)
		if !ok {
			return
		}
		total += marked
	}
	if total == 0 {
		p.finding(evidence.Finding{Code: evidence.FindingNoMarkedEntry,
			Message: "no entry of the workbook is marked pass, no pass or NA"})
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

func run(r io.Reader, format evidence.Format, check func(workbook, *screen)) (evidence.Prescreen, error) {
	p := &screen{out: evidence.Prescreen{Findings: []evidence.Finding{}, Flags: []evidence.Finding{}}}
	if format != evidence.FormatXLSX && format != evidence.FormatXLS {
		p.finding(evidence.Finding{Code: evidence.FindingUnreadableWorkbook, Message: fmt.Sprintf("the file is %s, not a workbook", format)})
		return p.out, nil
	}
	// Read the whole upload first so that a read failure is an error, not a finding.
	data, err := io.ReadAll(io.LimitReader(r, evidence.MaxFileSize+1))
	if err != nil {
		return evidence.Prescreen{}, fmt.Errorf("prescreen: read workbook: %w", err)
	}
	if len(data) > evidence.MaxFileSize {
		return evidence.Prescreen{}, domain.Errorf(domain.TooLarge, "file_too_large", "the workbook is larger than %s", evidence.SizeText(evidence.MaxFileSize))
	}
	wb, f := open(data, format)
	if f != nil {
		p.finding(*f)
		return p.out, nil
	}
	defer wb.close()
	check(wb, p)
	p.out.Passed = len(p.out.Findings) == 0
	return p.out, nil
}

// sheet reads one sheet and flags its entries; it returns how many entries are marked, and
// false when the sheet could not be read (the finding is recorded).
func (p *screen) sheet(wb workbook, name string, naAllowed bool) (marked int, ok bool) {
	rows, f := wb.rows(name)
	if f != nil {
		f.Sheet = name
		p.finding(*f)
		return 0, false
	}
	isMark := func(v string) bool { return v == markPass || v == markNoPass || naAllowed && v == markNA }
	col := resultColumn(rows, isMark)
	if col < 0 {
		return 0, true
	}
	for _, r := range rows {
		v := cell(r.cells, col)
		if v == "" {
			continue
		}
		n := normalize(v)
		switch {
		case n == markNoPass:
			marked++
			p.flag(evidence.Finding{Code: evidence.FlagNoPass, Sheet: name, Row: r.n, Item: item(r.cells, col),
				Message: fmt.Sprintf("%s row %d: %q is marked no pass", name, r.n, item(r.cells, col))})
		case isMark(n):
			marked++
		case marked == 0:
			// Above the first mark: the title and the column's header, however worded.
		default:
			p.flag(evidence.Finding{Code: evidence.FlagStrayValue, Sheet: name, Row: r.n, Item: item(r.cells, col),
				Message: fmt.Sprintf("%s row %d: %q is marked %q, which is neither pass nor no pass", name, r.n, item(r.cells, col), v)})
		}
	}
	return marked, true
}

// row is one non-empty spreadsheet row: its 1-based number and its cells, trimmed.
type row struct {
	n     int
	cells []string
}

// resultColumn is the column holding the most marks (the leftmost on a tie), -1 if none does.
func resultColumn(rows []row, isMark func(string) bool) int {
	counts := map[int]int{}
	best, bestCount := -1, 0
	for _, r := range rows {
		for c, v := range r.cells {
			if v != "" && isMark(normalize(v)) {
				counts[c]++
				if counts[c] > bestCount || counts[c] == bestCount && c < best {
					best, bestCount = c, counts[c]
				}
			}
		}
	}
	return best
}

// item names a row's entry: its first cell left of the result column that is more than a
// number (skipping the 序号 column), else its first non-empty cell.
func item(cells []string, resultCol int) string {
	first := ""
	for c, v := range cells {
		if c == resultCol || v == "" {
			continue
		}
		if strings.IndexFunc(v, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' }) >= 0 {
			return v
		}
		if first == "" {
			first = v
		}
	}
	return first
}

func normalize(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func cell(cells []string, i int) string {
	if i < len(cells) {
		return cells[i]
	}
	return ""
}
