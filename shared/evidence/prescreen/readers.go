package prescreen

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/richardlehane/mscfb"
	"github.com/shakinm/xlsReader/xls"
	"github.com/xuri/excelize/v2"

	"github.com/facepay/platform/shared/evidence"
)

// Bounds on what a workbook may make pre-screening read or hold. Uploads are at most
// evidence.MaxFileSize (20 MiB); these keep a small file from unpacking into much more.
// README "Performance" states the peak they give, which TestMemoryBound measures.
const (
	// xlsx: the zip's central directory is checked before excelize opens it.
	maxZipEntries       = 1000
	maxUnpacked         = 16 << 20 // all parts together, uncompressed (a real test-case workbook: well under 1 MiB)
	maxSharedStrings    = 2 << 20  // xl/sharedStrings.xml, which excelize holds in memory whole
	unzipXMLMemoryLimit = 4 << 20  // larger sheet parts are unpacked to a temporary file and streamed
	// xls: the BIFF8 record stream is walked before xlsReader decodes it (it holds every cell).
	maxCells = 200_000
	// per row: cells beyond maxColumns are not read, cell text beyond maxCellText is cut.
	maxColumns  = 256
	maxCellText = 512
)

// workbook is a workbook opened for pre-screening: its sheet names and, per sheet, its
// non-empty rows (at most evidence.MaxPrescreenRows; more is a too_many_rows finding).
type workbook interface {
	sheets() []string
	rows(sheet string) ([]row, *evidence.Finding)
	close()
}

func unreadable(why string) *evidence.Finding {
	return &evidence.Finding{Code: evidence.FindingUnreadableWorkbook, Message: "the workbook cannot be read: " + why}
}

func tooLarge(why string) *evidence.Finding {
	return &evidence.Finding{Code: evidence.FindingTooLarge, Message: "the workbook is too large to pre-screen: " + why}
}

func tooManyRows(sheet string) *evidence.Finding {
	return &evidence.Finding{Code: evidence.FindingTooManyRows, Sheet: sheet,
		Message: fmt.Sprintf("sheet %q has more than %d rows, more than pre-screening reads; remove the rows that are not test entries and upload again",
			sheet, evidence.MaxPrescreenRows)}
}

// open opens data as format. A reader that fails or panics gives an unreadable_workbook
// finding: the libraries parse hostile bytes, and a panic must not take the function down.
func open(data []byte, format evidence.Format) (wb workbook, f *evidence.Finding) {
	defer func() {
		if r := recover(); r != nil {
			slog.Warn("workbook reader panicked", "format", format, "panic", fmt.Sprint(r))
			wb, f = nil, unreadable("it is damaged")
		}
	}()
	if format == evidence.FormatXLS {
		return openXLS(data)
	}
	return openXLSX(data)
}

// keep trims and bounds one row's cells; it returns nil for a row without content.
func keep(cells []string) []string {
	if len(cells) > maxColumns {
		cells = cells[:maxColumns]
	}
	empty := true
	for i, c := range cells {
		c = strings.TrimSpace(c)
		if len(c) > maxCellText {
			c = strings.ToValidUTF8(c[:maxCellText], "")
		}
		cells[i] = c
		empty = empty && c == ""
	}
	if empty {
		return nil
	}
	return cells
}

// --- xlsx (excelize) ---

type xlsxBook struct{ f *excelize.File }

func openXLSX(data []byte) (workbook, *evidence.Finding) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, unreadable("it is not a valid xlsx (zip) file")
	}
	if len(zr.File) > maxZipEntries {
		return nil, tooLarge(fmt.Sprintf("it has more than %d parts", maxZipEntries))
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if strings.EqualFold(f.Name, "xl/sharedStrings.xml") && f.UncompressedSize64 > maxSharedStrings {
			return nil, tooLarge(fmt.Sprintf("its shared strings unpack to more than %d MiB", maxSharedStrings>>20))
		}
	}
	if total > maxUnpacked {
		return nil, tooLarge(fmt.Sprintf("it unpacks to more than %d MiB", maxUnpacked>>20))
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxUnpacked, UnzipXMLSizeLimit: unzipXMLMemoryLimit})
	if err != nil {
		return nil, unreadable("it may be damaged or password-protected")
	}
	return xlsxBook{f}, nil
}

func (b xlsxBook) sheets() []string { return b.f.GetSheetList() }

func (b xlsxBook) close() { _ = b.f.Close() }

func (b xlsxBook) rows(sheet string) ([]row, *evidence.Finding) {
	it, err := b.f.Rows(sheet)
	if err != nil {
		return nil, unreadable(fmt.Sprintf("sheet %q cannot be read", sheet))
	}
	defer it.Close()
	var out []row
	for n := 1; it.Next(); n++ {
		if n > evidence.MaxPrescreenRows {
			return nil, tooManyRows(sheet)
		}
		cols, err := it.Columns()
		if err != nil {
			return nil, unreadable(fmt.Sprintf("sheet %q row %d cannot be read", sheet, n))
		}
		if cells := keep(cols); cells != nil {
			out = append(out, row{n: n, cells: cells})
		}
	}
	if it.Error() != nil {
		return nil, unreadable(fmt.Sprintf("sheet %q cannot be read", sheet))
	}
	return out, nil
}

// --- xls (BIFF8: mscfb for the container, xlsReader for the records) ---

type xlsBook struct{ wb xls.Workbook }

// BIFF8 cell records (MS-XLS 2.3): one cell each, except MULRK and MULBLANK.
const (
	biffMulRK    = 0x00BD
	biffMulBlank = 0x00BE
)

var biffCell = map[uint16]bool{0x00FD: true, 0x0204: true, 0x0203: true, 0x027E: true, 0x0201: true, 0x0006: true, 0x0205: true}

func openXLS(data []byte) (workbook, *evidence.Finding) {
	stream, f := workbookStream(data)
	if f != nil {
		return nil, f
	}
	if f := countCells(stream); f != nil {
		return nil, f
	}
	// xlsReader reads only from a compound file, with its own container parser, which
	// follows sector chains without bounds (a cycle in the vendor's FAT never ends). It gets
	// a container we build around the stream mscfb read, never the vendor's.
	wb, err := xls.OpenReader(bytes.NewReader(wrapStream(stream)))
	if err != nil {
		return nil, unreadable("it is not a valid .xls file")
	}
	return xlsBook{wb}, nil
}

// workbookStream reads the root storage's Workbook (or BIFF5 Book) stream with mscfb.
func workbookStream(data []byte) ([]byte, *evidence.Finding) {
	r, err := mscfb.New(bytes.NewReader(data))
	if err != nil {
		return nil, unreadable("it is not a valid .xls file")
	}
	for e, err := r.Next(); err == nil; e, err = r.Next() {
		if len(e.Path) != 0 || e.Name != "Workbook" && e.Name != "Book" {
			continue
		}
		if e.Size <= 0 || e.Size > int64(len(data)) {
			return nil, unreadable("its workbook stream is damaged")
		}
		b, err := io.ReadAll(io.LimitReader(e, e.Size))
		if err != nil && !errors.Is(err, io.EOF) || int64(len(b)) != e.Size {
			return nil, unreadable("its workbook stream is damaged")
		}
		return b, nil
	}
	return nil, unreadable("it holds no workbook")
}

// countCells walks the BIFF record headers (type, length) and refuses a stream of more
// than maxCells cells, before xlsReader builds one object per cell.
func countCells(stream []byte) *evidence.Finding {
	cells := 0
	for off := 0; off+4 <= len(stream); {
		typ, n := binary.LittleEndian.Uint16(stream[off:]), int(binary.LittleEndian.Uint16(stream[off+2:]))
		switch {
		case typ == biffMulRK && n > 6:
			cells += (n - 6) / 6
		case typ == biffMulBlank && n > 6:
			cells += (n - 6) / 2
		case biffCell[typ]:
			cells++
		}
		if cells > maxCells {
			return tooLarge(fmt.Sprintf("it holds more than %d cells", maxCells))
		}
		off += 4 + n
	}
	return nil
}

func (b xlsBook) sheets() []string {
	var out []string
	for _, s := range b.wb.GetSheets() {
		out = append(out, s.GetName())
	}
	return out
}

func (b xlsBook) close() {}

func (b xlsBook) rows(sheet string) (out []row, f *evidence.Finding) {
	defer func() {
		if r := recover(); r != nil {
			out, f = nil, unreadable(fmt.Sprintf("sheet %q is damaged", sheet))
		}
	}()
	for i, s := range b.wb.GetSheets() {
		if s.GetName() != sheet {
			continue
		}
		sh, err := b.wb.GetSheet(i)
		if err != nil {
			return nil, unreadable(fmt.Sprintf("sheet %q cannot be read", sheet))
		}
		n := sh.GetNumberRows()
		if n > evidence.MaxPrescreenRows {
			return nil, tooManyRows(sheet)
		}
		for i := range n {
			r, err := sh.GetRow(i)
			if err != nil {
				return nil, unreadable(fmt.Sprintf("sheet %q row %d cannot be read", sheet, i+1))
			}
			// Not GetCols: it fills every column up to the row's last, which a hostile
			// record puts at 65535.
			cells := make([]string, maxColumns)
			for c := range cells {
				if cd, err := r.GetCol(c); err == nil && cd != nil {
					cells[c] = cd.GetString()
				}
			}
			if cells = keep(cells); cells != nil {
				out = append(out, row{n: i + 1, cells: cells})
			}
		}
		return out, nil
	}
	return nil, unreadable(fmt.Sprintf("sheet %q is not in the workbook", sheet))
}
