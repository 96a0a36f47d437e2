// Package evidencetest builds valid (and deliberately broken) evidence files for tests:
// PDFs, workbooks, MP4s, zips, decks, legacy compound files and executables. Every builder
// panics on internal failure, since its input is fixed by the test that calls it.
package evidencetest

import (
	"archive/zip"
	"bytes"
	"embed"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/facepay/platform/shared/domain"
)

// PDF returns a tiny valid one-page PDF (header, objects, xref table, trailer, %%EOF).
func PDF() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// XLSX returns a workbook with the given sheets (sheet name → rows of cells), built with
// excelize. Sheets are created in name order.
func XLSX(sheets map[string][][]string) []byte {
	f := excelize.NewFile()
	defer f.Close()
	names := slices.Sorted(maps.Keys(sheets))
	for i, name := range names {
		if i == 0 {
			must(f.SetSheetName("Sheet1", name))
		} else {
			_, err := f.NewSheet(name)
			must(err)
		}
		for r, row := range sheets[name] {
			for c, v := range row {
				ref, err := excelize.CoordinatesToCellName(c+1, r+1)
				must(err)
				must(f.SetCellStr(name, ref, v))
			}
		}
	}
	b, err := f.WriteToBuffer()
	must(err)
	return b.Bytes()
}

// ItemsPerSheet is how many test items HardwareWorkbook and SoftwareWorkbook write per
// sheet. Items are on spreadsheet rows 3 .. ItemsPerSheet+2, under a title row (1) and a
// header row (2), as in the programme's workbooks.
const ItemsPerSheet = 3

// FirstItemRow is the spreadsheet row (1-based) of item 0.
const FirstItemRow = 3

// HardwareHeader is the header row HardwareWorkbook writes; the result column is last.
var HardwareHeader = []string{"序号", "测试项目", "测试条件", "测试结果"}

// WorkbookOption changes a generated workbook.
type WorkbookOption func(*workbook)

type workbook struct {
	sheets map[string][][]string
}

// DropSheet removes the sheet named sheet.
func DropSheet(sheet string) WorkbookOption {
	return func(w *workbook) { delete(w.sheets, sheet) }
}

// SetResult sets the result of item i (0-based) on sheet to result ("" leaves it blank:
// untested).
func SetResult(sheet string, i int, result string) WorkbookOption {
	return func(w *workbook) {
		row := w.sheets[sheet][i+FirstItemRow-1]
		row[len(row)-1] = result
	}
}

// Unmark leaves item i (0-based) of sheet blank (untested).
func Unmark(sheet string, i int) WorkbookOption { return SetResult(sheet, i, "") }

// UnmarkAll leaves every item of sheet blank.
func UnmarkAll(sheet string) WorkbookOption {
	return func(w *workbook) {
		for i := range ItemsPerSheet {
			SetResult(sheet, i, "")(w)
		}
	}
}

// MarkNoPass marks item i (0-based) of sheet "no pass".
func MarkNoPass(sheet string, i int) WorkbookOption { return SetResult(sheet, i, "no pass") }

// AddSheet adds (or replaces) a sheet.
func AddSheet(sheet string, rows [][]string) WorkbookOption {
	return func(w *workbook) { w.sheets[sheet] = rows }
}

// HardwareSheets returns the sheets of a fully-marked valid workbook for std, laid out as
// the programme's: one sheet per category of the standard (optional ones included), a title
// row, a header row, every item marked "pass".
func HardwareSheets(std domain.TestStandard) map[string][][]string {
	sheets := map[string][][]string{}
	for _, c := range std.Categories() {
		rows := [][]string{{std.FileStem() + " " + c.SheetName()}, slices.Clone(HardwareHeader)}
		for i := range ItemsPerSheet {
			rows = append(rows, []string{fmt.Sprint(i + 1), fmt.Sprintf("%s项目%d", c.SheetName(), i+1), "按标准执行", "pass"})
		}
		sheets[c.SheetName()] = rows
	}
	return sheets
}

// HardwareWorkbook returns a fully-marked valid xlsx test-case workbook for std, changed by
// opts (DropSheet, Unmark, MarkNoPass, SetResult with a category's SheetName).
func HardwareWorkbook(std domain.TestStandard, opts ...WorkbookOption) []byte {
	w := &workbook{sheets: HardwareSheets(std)}
	for _, o := range opts {
		o(w)
	}
	return XLSX(w.sheets)
}

// SoftwareSheet is the sheet name SoftwareWorkbook and CameraChecklist write.
const SoftwareSheet = "预检测结果"

// SoftwareWorkbook returns a valid xlsx software pre-check results workbook: one sheet
// (SoftwareSheet) with a title row, the header 序号/检测项/截图/结果 and every item marked,
// the last one "NA". Use SetResult(SoftwareSheet, i, "") to leave item i blank.
func SoftwareWorkbook(opts ...WorkbookOption) []byte {
	rows := [][]string{{"软件预检测结果"}, {"序号", "检测项", "截图", "检测结果"}}
	for i := range ItemsPerSheet {
		result := "pass"
		if i == ItemsPerSheet-1 {
			result = "NA"
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), fmt.Sprintf("软件检测项%d", i+1), "见截图", result})
	}
	// SetResult writes the last cell of the row: keep the result column last.
	w := &workbook{sheets: map[string][][]string{SoftwareSheet: rows}}
	for _, o := range opts {
		o(w)
	}
	return XLSX(w.sheets)
}

// CameraChecklist returns a valid camera checklist workbook (same layout as SoftwareWorkbook).
func CameraChecklist(opts ...WorkbookOption) []byte { return SoftwareWorkbook(opts...) }

// MP4 returns a minimal valid MP4 (ftyp, moov with a version 0 mvhd) of the given duration,
// padded with an mdat box to padTo bytes when padTo is larger than the file.
func MP4(d time.Duration, padTo int) []byte { return mp4(0, d, padTo) }

// MP4V1 is MP4 with a version 1 (64-bit) mvhd.
func MP4V1(d time.Duration, padTo int) []byte { return mp4(1, d, padTo) }

// MP4Boxes returns an MP4 made of ftyp followed by the given raw boxes (for malformed cases).
func MP4Boxes(boxes ...[]byte) []byte {
	out := Box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41"))
	for _, b := range boxes {
		out = append(out, b...)
	}
	return out
}

// Box returns an ISO-BMFF box with a 32-bit size.
func Box(typ string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(out, typ...), body...)
}

// Mvhd returns an mvhd box of the given version with timescale and duration.
func Mvhd(version byte, timescale uint32, duration uint64) []byte {
	p := []byte{version, 0, 0, 0}
	if version == 1 {
		p = binary.BigEndian.AppendUint64(p, 0)
		p = binary.BigEndian.AppendUint64(p, 0)
		p = binary.BigEndian.AppendUint32(p, timescale)
		p = binary.BigEndian.AppendUint64(p, duration)
	} else {
		p = binary.BigEndian.AppendUint32(p, 0)
		p = binary.BigEndian.AppendUint32(p, 0)
		p = binary.BigEndian.AppendUint32(p, timescale)
		p = binary.BigEndian.AppendUint32(p, uint32(duration))
	}
	p = append(p, make([]byte, 80)...) // rate, volume, matrix, next track id: zero is fine here
	return Box("mvhd", p)
}

func mp4(version byte, d time.Duration, padTo int) []byte {
	const timescale = 1000
	out := MP4Boxes(Box("moov", Mvhd(version, timescale, uint64(d/time.Millisecond))))
	if pad := padTo - len(out); pad >= 8 {
		out = append(out, Box("mdat", make([]byte, pad-8))...)
	}
	return out
}

// Zip returns a zip archive of files (name → content), in name order.
func Zip(files map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		must(err)
		_, err = w.Write(files[name])
		must(err)
	}
	must(zw.Close())
	return b.Bytes()
}

// PPTX returns the skeleton of a PowerPoint deck: enough parts for Sniff to call it pptx.
func PPTX() []byte {
	return Zip(map[string][]byte{
		"[Content_Types].xml":  []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/></Types>`),
		"_rels/.rels":          []byte(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="ppt/presentation.xml"/></Relationships>`),
		"ppt/presentation.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?><p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>`),
	})
}

// XLS returns a real legacy .xls (BIFF8) workbook written by xlwt: the desktop cashier
// standard's five category sheets, every entry marked pass (XLSFixture "hardware-all-pass").
func XLS() []byte { return XLSFixture("hardware-all-pass") }

//go:embed testdata/*.xls
var xlsFixtures embed.FS

// XLSFixture returns the committed .xls fixture testdata/<name>.xls, written by xlwt (a
// third-party BIFF8 writer) with testdata/gen_xls.py, laid out as the programme's workbooks:
//
//	hardware-all-pass       the desktop cashier standard's five sheets, every entry pass
//	hardware-some-blank     the same with untested (blank) entries, one no pass, one "PASS"
//	hardware-missing-sheet  without 涂层类可靠性
//	hardware-nothing-marked 性能测试 has no entry marked
//	hardware-stray-value    基本功能测试 row 5 is marked 待复测
//	software-results        software pre-check results with an NA and a no pass
//	camera-checklist        a camera checklist with an NA
//
// The result column is in a different place, under a differently worded header, on
// 机械类可靠性 and 性能测试 than on the other sheets.
func XLSFixture(name string) []byte {
	b, err := xlsFixtures.ReadFile("testdata/" + name + ".xls")
	must(err)
	return b
}

// PPT returns a compound file holding a "PowerPoint Document" stream.
func PPT() []byte { return CFB("PowerPoint Document", []byte{0, 0, 0xe8, 0x03}) }

// CFB returns a compound file with one stream named name directly under the root, holding
// data padded with zeros to 4096 bytes (the mini-stream cutoff, so it lives in regular
// sectors). Layout: sector 0 FAT, sector 1 directory, sectors 2-9 the stream.
func CFB(name string, data []byte) []byte {
	const (
		sec        = 512
		streamSecs = 8
		free       = 0xffffffff
		endChain   = 0xfffffffe
		fatSect    = 0xfffffffd
	)
	le := binary.LittleEndian
	out := make([]byte, sec*(1+2+streamSecs))
	h := out[:sec]
	copy(h, []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1})
	le.PutUint16(h[24:], 0x3e) // minor version
	le.PutUint16(h[26:], 3)    // major version
	le.PutUint16(h[28:], 0xfffe)
	le.PutUint16(h[30:], 9) // sector shift
	le.PutUint16(h[32:], 6) // mini sector shift
	le.PutUint32(h[44:], 1) // FAT sectors
	le.PutUint32(h[48:], 1) // first directory sector
	le.PutUint32(h[56:], 4096)
	le.PutUint32(h[60:], endChain) // no mini FAT
	le.PutUint32(h[68:], endChain) // no DIFAT sectors
	for i := range 109 {
		le.PutUint32(h[76+4*i:], free)
	}
	le.PutUint32(h[76:], 0) // the FAT is sector 0

	fat := out[sec : 2*sec]
	for i := range sec / 4 {
		le.PutUint32(fat[4*i:], free)
	}
	le.PutUint32(fat[0:], fatSect)
	le.PutUint32(fat[4:], endChain) // directory: one sector
	for s := 2; s < 2+streamSecs; s++ {
		next := uint32(s + 1)
		if s == 1+streamSecs {
			next = endChain
		}
		le.PutUint32(fat[4*s:], next)
	}

	dir := out[2*sec : 3*sec]
	dirEntry(dir[0:128], "Root Entry", 5, free, free, 1, endChain, 0)
	dirEntry(dir[128:256], name, 2, free, free, free, 2, sec*streamSecs)
	for i := 2; i < 4; i++ {
		e := dir[128*i : 128*(i+1)]
		le.PutUint32(e[68:], free)
		le.PutUint32(e[72:], free)
		le.PutUint32(e[76:], free)
	}
	copy(out[3*sec:], data[:min(len(data), sec*streamSecs)])
	return out
}

func dirEntry(e []byte, name string, typ byte, left, right, child, start uint32, size uint64) {
	le := binary.LittleEndian
	n := 0
	for _, r := range name { // names here are ASCII
		le.PutUint16(e[2*n:], uint16(r))
		n++
	}
	le.PutUint16(e[64:], uint16(2*n+2))
	e[66] = typ
	e[67] = 1 // black
	le.PutUint32(e[68:], left)
	le.PutUint32(e[72:], right)
	le.PutUint32(e[76:], child)
	le.PutUint32(e[116:], start)
	le.PutUint64(e[120:], size)
}

// EXE returns the start of a Windows PE executable: an MZ header whose e_lfanew points at
// a "PE\0\0" signature and a COFF header (x86-64).
func EXE() []byte {
	out := make([]byte, 0x200)
	copy(out, "MZ")
	copy(out[0x4e:], "This program cannot be run in DOS mode.\r\r\n$")
	binary.LittleEndian.PutUint32(out[0x3c:], 0x80)
	copy(out[0x80:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(out[0x84:], 0x8664) // machine
	binary.LittleEndian.PutUint16(out[0x86:], 1)      // sections
	return out
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
