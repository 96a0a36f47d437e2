package prescreen_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/evidence/evidencetest"
	"github.com/facepay/platform/shared/evidence/prescreen"
)

// MemoryBound is the most pre-screening one workbook may add to the heap, whatever the
// workbook (README "Performance" states it). process-upload has 512 MB.
const MemoryBound = 96 << 20

// bombXLSX is a small xlsx that unpacks to a lot: sheets of long rows of repeated cells
// (each part just under the bounds) and many shared strings.
func bombXLSX(t *testing.T, sheetXML, sharedStrings int) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add := func(name, body string) {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(body))
		require.NoError(t, err)
	}
	add("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	add("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	add("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	add("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="`+domain.CategoryPerformance.SheetName()+`" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	var ss strings.Builder
	ss.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	for i := 0; ss.Len() < sharedStrings-64; i++ {
		fmt.Fprintf(&ss, "<si><t>s%d</t></si>", i)
	}
	ss.WriteString(`</sst>`)
	add("xl/sharedStrings.xml", ss.String())
	var sh strings.Builder
	sh.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	cell := `<c t="s"><v>1</v></c>`
	for r := 1; sh.Len() < sheetXML-1024; r++ {
		fmt.Fprintf(&sh, `<row r="%d">`, r)
		for c := 0; c < 2000 && sh.Len() < sheetXML-1024; c++ {
			sh.WriteString(cell)
		}
		sh.WriteString(`</row>`)
	}
	sh.WriteString(`</sheetData></worksheet>`)
	add("xl/worksheets/sheet1.xml", sh.String())
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// peakHeap runs fn and returns how far the live heap rose above where it started, sampled
// every 200µs, and the total allocated.
func peakHeap(fn func()) (peak, total uint64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var max atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > max.Load() {
					max.Store(m.HeapAlloc)
				}
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if after.HeapAlloc > max.Load() {
		max.Store(after.HeapAlloc)
	}
	return max.Load() - min(max.Load(), before.HeapAlloc), after.TotalAlloc - before.TotalAlloc
}

// The heap pre-screening adds stays under MemoryBound for the worst workbooks the bounds let
// through (a sheet and shared strings unpacking to just under their limits), and those just
// over them are refused before they are unpacked.
func TestMemoryBound(t *testing.T) {
	tests := []struct {
		name           string
		sheet, strings int
		code           string
	}{
		{"sheet just under the unpacked limit", 15 << 20, 64 << 10, "missing_sheet"},
		{"shared strings just under their limit", 1 << 20, 2<<20 - 4096, "missing_sheet"},
		{"shared strings over their limit", 1 << 20, 3 << 20, "workbook_too_large"},
		{"everything over the unpacked limit", 14 << 20, 3 << 20, "workbook_too_large"},
		{"real xls", 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := bombXLSX(t, tt.sheet, tt.strings)
			if tt.name == "real xls" {
				data = evidencetest.XLS()
			}
			var p evidence.Prescreen
			var err error
			peak, total := peakHeap(func() {
				format := evidence.FormatXLSX
				if tt.name == "real xls" {
					format = evidence.FormatXLS
				}
				p, err = prescreen.Hardware(bytes.NewReader(data), format, domain.StandardUnattendedVending)
			})
			require.NoError(t, err)
			t.Logf("%d KB file: heap peak +%d MiB, allocated %d MiB, findings %v", len(data)>>10, peak>>20, total>>20, p.Findings)
			assert.Less(t, peak, uint64(MemoryBound), "peak heap")
			if tt.code != "" {
				require.NotEmpty(t, p.Findings)
				assert.Equal(t, tt.code, p.Findings[0].Code)
			}
		})
	}
}
