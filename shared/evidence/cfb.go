package evidence

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/richardlehane/mscfb"
)

// cfbSignature opens every OLE2 compound file (MS-CFB): legacy .xls, .ppt, .doc.
var cfbSignature = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}

// cfbMaxEntries bounds how many directory entries sniffCFB looks at.
const cfbMaxEntries = 4096

// sniffCFB tells .xls (a Workbook or Book stream) and .ppt (a "PowerPoint Document" stream)
// apart from other compound files by the root storage's direct children, read with mscfb
// (the reader excelize itself uses). A container mscfb cannot read, or that makes it panic,
// is "damaged Office compound file".
func sniffCFB(r io.ReaderAt, size int64) (d Detected, err error) {
	damaged := Detected{Format: FormatUnknown, Description: "damaged Office compound file"}
	defer func() {
		if p := recover(); p != nil {
			slog.Warn("compound file reader panicked", "panic", fmt.Sprint(p))
			d, err = damaged, nil
		}
	}()
	// mscfb reads through an io.ReaderAt; bound it to the object's size.
	doc, err := mscfb.New(io.NewSectionReader(r, 0, size))
	if err != nil {
		return damaged, nil
	}
	var names []string
	for i := 0; i < cfbMaxEntries; i++ {
		e, err := doc.Next()
		if err != nil {
			break
		}
		if len(e.Path) == 0 && e.Size > 0 {
			names = append(names, e.Name)
		}
	}
	has := func(name string) bool {
		for _, n := range names {
			if strings.EqualFold(n, name) {
				return true
			}
		}
		return false
	}
	switch {
	case has("Workbook") || has("Book"):
		return Detected{Format: FormatXLS, Description: "legacy Excel workbook (.xls)"}, nil
	case has("PowerPoint Document"):
		return Detected{Format: FormatPPT, Description: "legacy PowerPoint deck (.ppt)"}, nil
	case has("WordDocument"):
		return Detected{Format: FormatUnknown, Description: "Word document (.doc)"}, nil
	case has("EncryptedPackage"):
		return Detected{Format: FormatUnknown, Description: "password-protected Office document"}, nil
	}
	if len(names) == 0 {
		return damaged, nil
	}
	return Detected{Format: FormatUnknown, Description: "Office compound file"}, nil
}
