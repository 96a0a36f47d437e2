// Package csvsafe writes the CSV files the platform hands out (device exports, binding import
// results, figures, fee statements) so that a spreadsheet opens every cell as data. A cell
// that starts with = + - @ (or their full-width forms, or a tab or carriage return) is read
// by Excel and its kin as a formula; several of ours echo what a vendor or a factory line
// sent (an SN that failed validation, a camera SN, an app version), so such a cell gets a
// leading apostrophe, as OWASP's CSV-injection guidance says. Plain numbers ("-12", "+3.5")
// are left as they are.
package csvsafe

import (
	"encoding/csv"
	"io"
	"regexp"
	"strings"
)

// Writer is a csv.Writer whose Write neutralises formula cells.
type Writer struct{ *csv.Writer }

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{csv.NewWriter(w)} }

// Write writes one record, each cell through Cell.
func (w *Writer) Write(record []string) error {
	var safe []string // a copy, once a cell changes: the caller's record stays as it was
	for i, c := range record {
		if s := Cell(c); s != c {
			if safe == nil {
				safe = append([]string(nil), record...)
			}
			safe[i] = s
		}
	}
	if safe == nil {
		safe = record
	}
	return w.Writer.Write(safe)
}

// WriteAll writes records through Write and flushes. Without it the embedded csv.Writer's
// WriteAll would write them through its own Write, formulas and all.
func (w *Writer) WriteAll(records [][]string) error {
	for _, r := range records {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

var number = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?$`)

// Cell returns s as a spreadsheet reads it as text: with a leading apostrophe when it would
// start a formula.
func Cell(s string) string {
	for _, p := range formulaStarts {
		if strings.HasPrefix(s, p) {
			if number.MatchString(s) { // only a cell that starts like a formula is looked at twice
				return s
			}
			return "'" + s
		}
	}
	return s
}

var formulaStarts = []string{"=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"}
