package evidence

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence/evidencetest"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/ and are regenerated from the fixtures with
//
//	EVIDENCE_WRITE_CORPUS=1 go test ./shared/evidence -run TestWriteFuzzCorpus

func fileNameSeeds() []string {
	return []string{
		"[2软件预检测结果]-[示例科技][K1 Pro][SDK模式].xls",
		"[1摄像头测试Checklist]-[示例科技][K1 Pro].xlsx",
		"[3C证书]-[V][M].pdf",
		"[1x]-[V][M][SDK模式][more].pdf",
		"[1x]-[V][M.pdf",
		"[]-[][].",
		"[123456789012345678901234567890x]-[V][M].zip",
		"[1x]-[V\xff][M].pdf",
		"report.pdf",
	}
}

func sniffSeeds() map[string][]byte {
	return map[string][]byte{
		"pdf":         evidencetest.PDF(),
		"xlsx":        evidencetest.SoftwareWorkbook(),
		"xls":         evidencetest.XLS(),
		"ppt":         evidencetest.PPT(),
		"pptx":        evidencetest.PPTX(),
		"zip":         evidencetest.Zip(map[string][]byte{"a.txt": []byte("a")}),
		"mp4v0":       evidencetest.MP4(5*time.Second, 0),
		"mp4v1":       evidencetest.MP4V1(5*time.Second, 0),
		"exe":         evidencetest.EXE(),
		"pdf-no-eof":  []byte("%PDF-1.4\n"),
		"cfb-cut":     evidencetest.XLS()[:700],
		"mp4-largesz": evidencetest.MP4Boxes([]byte("\x00\x00\x00\x01moov\xff\xff\xff\xff\xff\xff\xff\xff")),
		"zip-cut":     evidencetest.PPTX()[:200],
		"empty":       {},
	}
}

func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("EVIDENCE_WRITE_CORPUS") == "" {
		t.Skip("set EVIDENCE_WRITE_CORPUS=1 to rewrite testdata/fuzz seeds")
	}
	write := func(fuzz, name, value string) {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+value+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range fileNameSeeds() {
		write("FuzzParseFileName", fmt.Sprintf("seed-%02d", i), fmt.Sprintf("string(%q)", s))
	}
	for name, b := range sniffSeeds() {
		write("FuzzSniff", name, fmt.Sprintf("[]byte(%q)", b))
	}
	write("FuzzSniffMP4", "mp4v0", fmt.Sprintf("[]byte(%q)", evidencetest.MP4(5*time.Second, 0)))
	write("FuzzSniffMP4", "mp4v1", fmt.Sprintf("[]byte(%q)", evidencetest.MP4V1(5*time.Second, 0)))
	write("FuzzSniffMP4", "moov-late", fmt.Sprintf("[]byte(%q)", evidencetest.MP4Boxes(evidencetest.Box("mdat", make([]byte, 16)),
		evidencetest.Box("moov", evidencetest.Box("trak"), evidencetest.Mvhd(1, 600, 6000)))))
	write("FuzzSniffCFB", "xls", fmt.Sprintf("[]byte(%q)", evidencetest.XLS()))
	write("FuzzSniffCFB", "ppt", fmt.Sprintf("[]byte(%q)", evidencetest.PPT()))
	write("FuzzSniffCFB", "cut", fmt.Sprintf("[]byte(%q)", evidencetest.XLS()[:600]))
}

func FuzzParseFileName(f *testing.F) {
	for _, s := range fileNameSeeds() {
		f.Add(s)
	}
	slot := SoftwareSlot(SoftwareResults, domain.ModeSDK)
	f.Fuzz(func(t *testing.T, name string) {
		fn, err := ParseFileName(name)
		if err != nil {
			if domain.CodeOf(err) != "bad_file_name" {
				t.Fatalf("unexpected code %q", domain.CodeOf(err))
			}
			return
		}
		if got := fn.String(); got != name {
			t.Fatalf("round trip: %q became %q", name, got)
		}
		if fn.Vendor == "" || fn.Model == "" || fn.Head == "" {
			t.Fatalf("empty part in %+v", fn)
		}
		// CheckFileName accepts exactly the expected names (extension case aside).
		err = slot.CheckFileName(name, fn.Vendor, fn.Model)
		wantBase := strings.TrimSuffix(slot.ExpectedFileName(fn.Vendor, fn.Model, ".xls"), ".xls")
		ok := strings.TrimSuffix(name, fn.Ext) == wantBase && slices.Contains(slot.Extensions(), strings.ToLower(fn.Ext))
		if (err == nil) != ok {
			t.Fatalf("CheckFileName(%q) = %v, expected a name like %q", name, err, wantBase)
		}
	})
}

func FuzzSniff(f *testing.F) {
	for _, b := range sniffSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSniff(t, data, func() (Detected, error) { return Sniff(bytes.NewReader(data), int64(len(data))) })
	})
}

// FuzzSniffMP4 and FuzzSniffCFB call the format parsers directly, past Sniff's magic-number
// dispatch, so the fuzzer spends its time inside them.
func FuzzSniffMP4(f *testing.F) {
	f.Add(evidencetest.MP4(5*time.Second, 0))
	f.Add(evidencetest.MP4V1(5*time.Second, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSniff(t, data, func() (Detected, error) { return sniffMP4(bytes.NewReader(data), int64(len(data))) })
	})
}

func FuzzSniffCFB(f *testing.F) {
	f.Add(evidencetest.XLS())
	f.Add(evidencetest.PPT())
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSniff(t, data, func() (Detected, error) { return sniffCFB(bytes.NewReader(data), int64(len(data))) })
	})
}

func checkSniff(t *testing.T, data []byte, sniff func() (Detected, error)) {
	t.Helper()
	d, err := sniff()
	if err != nil {
		t.Fatalf("in-memory sniff failed: %v", err)
	}
	switch d.Format {
	case FormatPDF, FormatXLSX, FormatXLS, FormatPPTX, FormatPPT, FormatZip, FormatMP4, FormatExecutable, FormatUnknown:
	default:
		t.Fatalf("format %q", d.Format)
	}
	if d.Description == "" {
		t.Fatal("no description")
	}
	if d.Duration < 0 || d.Format != FormatMP4 && d.Duration != 0 {
		t.Fatalf("duration %v for %s", d.Duration, d.Format)
	}
}
