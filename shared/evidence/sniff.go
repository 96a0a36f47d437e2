package evidence

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/facepay/platform/shared/domain"
)

// Format is a file format as the bytes show it, never as the name claims.
type Format string

// The formats Sniff tells apart.
const (
	FormatPDF        Format = "pdf"
	FormatXLSX       Format = "xlsx"
	FormatXLS        Format = "xls"
	FormatPPTX       Format = "pptx"
	FormatPPT        Format = "ppt"
	FormatZip        Format = "zip"
	FormatMP4        Format = "mp4"
	FormatExecutable Format = "executable" // never accepted; named so the rejection can say so
	FormatUnknown    Format = "unknown"
)

var formatInfo = map[Format]struct {
	ext, label   string
	contentTypes []string
}{
	FormatPDF:  {".pdf", "a PDF", []string{"application/pdf"}},
	FormatXLSX: {".xlsx", "an Excel workbook (.xlsx)", []string{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}},
	FormatXLS:  {".xls", "a legacy Excel workbook (.xls)", []string{"application/vnd.ms-excel"}},
	FormatPPTX: {".pptx", "a PowerPoint deck (.pptx)", []string{"application/vnd.openxmlformats-officedocument.presentationml.presentation"}},
	FormatPPT:  {".ppt", "a legacy PowerPoint deck (.ppt)", []string{"application/vnd.ms-powerpoint"}},
	FormatZip:  {".zip", "a zip archive", []string{"application/zip", "application/x-zip-compressed"}},
	FormatMP4:  {".mp4", "an MP4 video", []string{"video/mp4"}},
}

// Extension is the format's file name extension (".pdf"), "" for executable and unknown.
func (f Format) Extension() string { return formatInfo[f].ext }

// ContentTypes are the media types that declare the format.
func (f Format) ContentTypes() []string { return formatInfo[f].contentTypes }

func formatOfExtension(ext string) Format {
	for f, i := range formatInfo {
		if i.ext == ext {
			return f
		}
	}
	return ""
}

// Detected is what Sniff found.
type Detected struct {
	Format      Format        `json:"format"`
	Description string        `json:"description"`        // human-readable: "PDF document", "windows executable", "unknown"
	Duration    time.Duration `json:"duration,omitempty"` // MP4 only; 0 when the duration is unreadable
}

// The most bytes Sniff reads from the head and the tail of a file.
const (
	headSize = 4096
	tailSize = 1024
)

// Sniff detects the format of the size bytes in r: pdf (%PDF- header and %%EOF near the
// end), xlsx / pptx / zip (a readable zip archive starting with a local header, told apart
// by their parts), xls / ppt (an OLE2 compound file holding a Workbook / Book or a
// "PowerPoint Document" stream), mp4 (ISO-BMFF with an ftyp box first, duration read from
// moov/mvhd), executables (MZ, ELF, Mach-O) and unknown. It reads a bounded amount whatever
// the input claims, and never panics; it returns an error only when reading r fails.
func Sniff(r io.ReaderAt, size int64) (Detected, error) {
	if size <= 0 {
		return Detected{Format: FormatUnknown, Description: "empty file"}, nil
	}
	head := make([]byte, min(size, headSize))
	if err := readFull(r, head, 0); err != nil {
		return Detected{}, fmt.Errorf("sniff: read head: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, []byte("MZ")):
		return Detected{Format: FormatExecutable, Description: describeMZ(head)}, nil
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return Detected{Format: FormatExecutable, Description: "linux executable (ELF)"}, nil
	case machO(head):
		return Detected{Format: FormatExecutable, Description: "macOS executable (Mach-O)"}, nil
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return sniffPDF(r, size)
	case bytes.HasPrefix(head, cfbSignature):
		return sniffCFB(r, size)
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return sniffZip(r, size), nil
	case len(head) >= 8 && string(head[4:8]) == "ftyp":
		return sniffMP4(r, size)
	}
	return Detected{Format: FormatUnknown, Description: describeUnknown(head)}, nil
}

func sniffPDF(r io.ReaderAt, size int64) (Detected, error) {
	n := min(size, tailSize)
	tail := make([]byte, n)
	if err := readFull(r, tail, size-n); err != nil {
		return Detected{}, fmt.Errorf("sniff: read pdf tail: %w", err)
	}
	if !bytes.Contains(tail, []byte("%%EOF")) {
		return Detected{Format: FormatUnknown, Description: "truncated PDF (no %%EOF at the end)"}, nil
	}
	return Detected{Format: FormatPDF, Description: "PDF document"}, nil
}

// sniffZip opens the archive's central directory. archive/zip bounds its own work: it
// refuses a directory that claims more records than the file can hold.
func sniffZip(r io.ReaderAt, size int64) Detected {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return Detected{Format: FormatUnknown, Description: "damaged zip archive"}
	}
	has := map[string]bool{}
	for _, f := range zr.File {
		switch f.Name {
		case "[Content_Types].xml", "xl/workbook.xml", "ppt/presentation.xml":
			has[f.Name] = true
		}
	}
	switch {
	case has["[Content_Types].xml"] && has["xl/workbook.xml"]:
		return Detected{Format: FormatXLSX, Description: "Excel workbook (.xlsx)"}
	case has["[Content_Types].xml"] && has["ppt/presentation.xml"]:
		return Detected{Format: FormatPPTX, Description: "PowerPoint deck (.pptx)"}
	}
	return Detected{Format: FormatZip, Description: "zip archive"}
}

func describeMZ(head []byte) string {
	if len(head) >= 0x40 {
		off := binary.LittleEndian.Uint32(head[0x3c:])
		if int64(off)+4 <= int64(len(head)) && string(head[off:off+4]) == "PE\x00\x00" {
			return "windows executable"
		}
	}
	return "DOS/windows executable"
}

func machO(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	switch binary.BigEndian.Uint32(head) {
	case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe:
		return true
	}
	return false
}

var otherMagic = []struct{ prefix, desc string }{
	{"\x89PNG\r\n\x1a\n", "PNG image"},
	{"\xff\xd8\xff", "JPEG image"},
	{"GIF8", "GIF image"},
	{"\x1f\x8b", "gzip archive"},
	{"Rar!\x1a\x07", "RAR archive"},
	{"7z\xbc\xaf\x27\x1c", "7-Zip archive"},
	{"{\\rtf", "RTF document"},
	{"#!", "script"},
}

func describeUnknown(head []byte) string {
	for _, m := range otherMagic {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return m.desc
		}
	}
	if t := strings.ToLower(string(bytes.TrimLeft(head[:min(len(head), 64)], " \t\r\n\ufeff"))); strings.HasPrefix(t, "<!doctype html") || strings.HasPrefix(t, "<html") {
		return "HTML page"
	}
	return "unknown"
}

// Verify checks that the sniffed bytes d are what fileName claims and what the slot takes.
// It returns an Invalid error with code "wrong_extension" (the name's extension does not
// fit the slot), "content_mismatch" (the bytes are not the format the extension names, e.g.
// a renamed executable; a .zip slot takes any zip, including xlsx/pptx) or
// "mp4_duration_unreadable" (an MP4 without a readable, non-zero moov/mvhd duration).
func (s Slot) Verify(d Detected, fileName string) error {
	ext := strings.ToLower(path.Ext(fileName))
	if err := s.checkExtension(fileName, ext); err != nil {
		return err
	}
	want := formatOfExtension(ext)
	ok := d.Format == want || want == FormatZip && (d.Format == FormatXLSX || d.Format == FormatPPTX)
	if !ok {
		looks := d.Description
		if looks == "" {
			looks = string(d.Format)
		}
		return domain.Errorf(domain.Invalid, "content_mismatch",
			"the file named %s is not %s (looks like: %s)", truncate(fileName, 100), formatInfo[want].label, looks)
	}
	if d.Format == FormatMP4 && d.Duration <= 0 {
		return domain.Errorf(domain.Invalid, "mp4_duration_unreadable",
			"the video %s does not record its duration (moov/mvhd); export it again as a standard MP4", truncate(fileName, 100))
	}
	return nil
}

// readFull reads len(p) bytes at off; an io.EOF that comes with all of them is no error.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
