package binding

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/facepay/platform/shared/csvsafe"
	"github.com/facepay/platform/shared/domain"
)

// ErrTooManyRows: an import file with more than domain.MaxBindingImportRows rows.
var ErrTooManyRows = &domain.Error{Kind: domain.Invalid, Code: "too_many_rows",
	Message: fmt.Sprintf("an import has at most %d rows", domain.MaxBindingImportRows)}

// ResultHeader is the first line of an import's results CSV.
var ResultHeader = []string{"row", "sn", "provider", "result", "state", "code", "message"}

// Import applies the assignments of a CSV (rows "sn,provider[,reassign]"; a first row starting
// with "sn" is a header) for vendor c, 500 rows at a time, and writes one result row per input
// row to results, in input order. A malformed row (wrong number of fields, reassign not
// true/false) is an error row; it does not stop the others. More rows than the limit fail the
// import before any row is applied (ErrTooManyRows), so a refused file changes nothing.
func (b *Binder) Import(ctx context.Context, c domain.Caller, in io.Reader, results *csvsafe.Writer, onChunk func([]domain.BindingOutcome) error) error {
	rows, err := readRows(in)
	if err != nil {
		return err
	}
	if err := results.Write(ResultHeader); err != nil {
		return err
	}
	for start := 0; start < len(rows); start += domain.MaxBindingBatch {
		chunk := rows[start:min(start+domain.MaxBindingBatch, len(rows))]
		var valid []Assignment
		for _, r := range chunk {
			if r.err == nil {
				valid = append(valid, r.a)
			}
		}
		outs, err := b.Assign(ctx, c, valid)
		if err != nil {
			return err
		}
		all := make([]domain.BindingOutcome, 0, len(chunk))
		k := 0
		for _, r := range chunk {
			o := domain.OutcomeOf(r.a.SN, nil, false, r.err)
			if r.err == nil {
				o = outs[k]
				k++
			}
			all = append(all, o)
			if err := results.Write([]string{strconv.Itoa(r.line), o.SN, r.a.Provider, o.Result, string(o.State), o.Code, o.Message}); err != nil {
				return err
			}
		}
		results.Flush()
		if err := results.Error(); err != nil {
			return err
		}
		if err := onChunk(all); err != nil {
			return err
		}
	}
	return nil
}

type row struct {
	line int
	a    Assignment
	err  error
}

// readRows reads every row first (at most the limit), so an oversized file is refused whole.
func readRows(in io.Reader) ([]row, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var rows []row
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			return nil, domain.Errorf(domain.Invalid, "not_csv", "line %d is not CSV: %v", perr.Line, perr.Err)
		}
		if err != nil {
			return nil, fmt.Errorf("read import: %w", err)
		}
		if line == 1 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")), "sn") {
			continue
		}
		if len(rows) == domain.MaxBindingImportRows {
			return nil, ErrTooManyRows.Withf("the file has more than %d rows", domain.MaxBindingImportRows)
		}
		rows = append(rows, parseRow(line, rec))
	}
}

func parseRow(line int, rec []string) row {
	f := make([]string, len(rec))
	for i, v := range rec {
		f[i] = strings.TrimSpace(v)
	}
	out := row{line: line}
	if len(f) > 0 {
		out.a.SN = f[0]
	}
	if len(f) < 2 || len(f) > 3 {
		out.err = domain.Errorf(domain.Invalid, "bad_row", "line %d has %d fields; expected sn,provider[,reassign]", line, len(f))
		return out
	}
	out.a.Provider = f[1]
	if len(f) == 3 && f[2] != "" {
		v, err := strconv.ParseBool(f[2])
		if err != nil {
			out.err = domain.Errorf(domain.Invalid, "bad_row", "line %d: reassign %q is not true or false", line, f[2])
			return out
		}
		out.a.Reassign = v
	}
	return out
}

// ImportKey is where a vendor uploads import id's CSV (import-bindings is notified of this
// prefix); ResultsKey is where its per-row results are written (another prefix, so writing
// them notifies nothing).
func ImportKey(org, id string) string { return "binding-imports/" + org + "/" + id + ".csv" }

// ResultsKey is where the per-row results of org's import id are written.
func ResultsKey(org, id string) string { return "binding-results/" + org + "/" + id + ".csv" }
