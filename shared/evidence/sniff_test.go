package evidence_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/evidence/evidencetest"
	"github.com/facepay/platform/shared/evidence/prescreen"
)

func sniff(t *testing.T, b []byte) evidence.Detected {
	t.Helper()
	d, err := evidence.Sniff(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	return d
}

func TestSniff(t *testing.T) {
	pdf := evidencetest.PDF()
	xls := evidencetest.XLS()
	tests := []struct {
		name         string
		data         []byte
		want         evidence.Format
		wantDesc     string
		wantDuration time.Duration
	}{
		{"pdf", pdf, evidence.FormatPDF, "PDF document", 0},
		{"pdf without eof", pdf[:len(pdf)-7], evidence.FormatUnknown, "truncated PDF (no %%EOF at the end)", 0},
		{"xlsx", evidencetest.SoftwareWorkbook(), evidence.FormatXLSX, "", 0},
		{"hardware xlsx", evidencetest.HardwareWorkbook(domain.StandardMedical), evidence.FormatXLSX, "", 0},
		{"xls", xls, evidence.FormatXLS, "", 0},
		{"book stream", evidencetest.CFB("Book", []byte{1}), evidence.FormatXLS, "", 0},
		{"ppt", evidencetest.PPT(), evidence.FormatPPT, "", 0},
		{"doc", evidencetest.CFB("WordDocument", []byte{1}), evidence.FormatUnknown, "Word document (.doc)", 0},
		{"encrypted", evidencetest.CFB("EncryptedPackage", []byte{1}), evidence.FormatUnknown, "password-protected Office document", 0},
		{"cfb truncated", xls[:1024], evidence.FormatUnknown, "damaged Office compound file", 0},
		{"cfb header only", xls[:512], evidence.FormatUnknown, "damaged Office compound file", 0},
		{"pptx", evidencetest.PPTX(), evidence.FormatPPTX, "", 0},
		{"zip", evidencetest.Zip(map[string][]byte{"report.pdf": pdf, "photo.jpg": {0xff, 0xd8}}), evidence.FormatZip, "zip archive", 0},
		{"empty zip", evidencetest.Zip(nil), evidence.FormatZip, "", 0},
		{"zip truncated", evidencetest.Zip(map[string][]byte{"a": pdf})[:100], evidence.FormatUnknown, "damaged zip archive", 0},
		{"mp4 v0", evidencetest.MP4(42*time.Second, 0), evidence.FormatMP4, "MP4 video", 42 * time.Second},
		{"mp4 v1", evidencetest.MP4V1(90*time.Minute+500*time.Millisecond, 0), evidence.FormatMP4, "", 90*time.Minute + 500*time.Millisecond},
		{"mp4 padded", evidencetest.MP4(3*time.Second, 100_000), evidence.FormatMP4, "", 3 * time.Second},
		{"mp4 moov after mdat", evidencetest.MP4Boxes(evidencetest.Box("mdat", make([]byte, 1000)),
			evidencetest.Box("moov", evidencetest.Box("trak"), evidencetest.Mvhd(0, 600, 6000))), evidence.FormatMP4, "", 10 * time.Second},
		{"mp4 no moov", evidencetest.MP4Boxes(evidencetest.Box("mdat", make([]byte, 10))), evidence.FormatMP4, "", 0},
		{"mp4 zero timescale", evidencetest.MP4Boxes(evidencetest.Box("moov", evidencetest.Mvhd(0, 0, 100))), evidence.FormatMP4, "", 0},
		{"mp4 unknown duration", evidencetest.MP4Boxes(evidencetest.Box("moov", evidencetest.Mvhd(0, 1000, 0xffffffff))), evidence.FormatMP4, "", 0},
		{"mp4 absurd duration", evidencetest.MP4Boxes(evidencetest.Box("moov", evidencetest.Mvhd(1, 1, 1<<62))), evidence.FormatMP4, "", 0},
		{"mp4 short mvhd", evidencetest.MP4Boxes(evidencetest.Box("moov", evidencetest.Box("mvhd", []byte{0, 0, 0, 0}))), evidence.FormatMP4, "", 0},
		{"mp4 oversized box", evidencetest.MP4Boxes(binary.BigEndian.AppendUint32(nil, 1<<31), []byte("moov")), evidence.FormatMP4, "", 0},
		{"mp4 bad brand", append(evidencetest.Box("ftyp", []byte("\x00\x01\x02\x03\x00\x00\x00\x00")), evidencetest.Box("moov", evidencetest.Mvhd(0, 1, 1))...),
			evidence.FormatUnknown, "damaged MP4 (bad ftyp box)", 0},
		{"exe", evidencetest.EXE(), evidence.FormatExecutable, "windows executable", 0},
		{"dos exe", []byte("MZ\x90\x00"), evidence.FormatExecutable, "DOS/windows executable", 0},
		{"elf", []byte("\x7fELF\x02\x01\x01"), evidence.FormatExecutable, "linux executable (ELF)", 0},
		{"self-extracting zip", append(evidencetest.EXE(), evidencetest.Zip(map[string][]byte{"a": {1}})...), evidence.FormatExecutable, "", 0},
		{"png", []byte("\x89PNG\r\n\x1a\n...."), evidence.FormatUnknown, "PNG image", 0},
		{"html", []byte("  <!DOCTYPE html><html>"), evidence.FormatUnknown, "HTML page", 0},
		{"text", []byte("hello"), evidence.FormatUnknown, "unknown", 0},
		{"empty", nil, evidence.FormatUnknown, "empty file", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sniff(t, tt.data)
			assert.Equal(t, tt.want, d.Format, d.Description)
			if tt.wantDesc != "" {
				assert.Equal(t, tt.wantDesc, d.Description)
			}
			assert.Equal(t, tt.wantDuration, d.Duration)
		})
	}
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

func TestSniffReadError(t *testing.T) {
	_, err := evidence.Sniff(failingReader{}, 100)
	assert.ErrorContains(t, err, "disk on fire")
	// A size larger than the data is a read error, not a guess.
	_, err = evidence.Sniff(bytes.NewReader([]byte("%PDF-")), 100)
	assert.Error(t, err)
}

func TestVerify(t *testing.T) {
	manual := evidence.SoftwareSlot(4, "")
	manualName := manual.ExpectedFileName(vendor, model, "")
	video := evidence.SoftwareSlot(3, domain.ModeAPP)
	videoName := video.ExpectedFileName(vendor, model, "")
	workbook := evidence.WorkbookSlot(domain.StandardDesktopCashier)
	zipSlot := evidence.CategorySlot(domain.StandardDesktopCashier, domain.CategoryPerformance)
	tests := []struct {
		name     string
		slot     evidence.Slot
		data     []byte
		file     string
		wantCode string
		wantMsg  string
	}{
		{"manual pdf", manual, evidencetest.PDF(), manualName, "", ""},
		{"renamed exe", manual, evidencetest.EXE(), manualName, "content_mismatch",
			"is not a PDF (looks like: windows executable)"},
		{"text as pdf", manual, []byte("hello"), manualName, "content_mismatch", "(looks like: unknown)"},
		{"video", video, evidencetest.MP4(30*time.Second, 0), videoName, "", ""},
		{"video without duration", video, evidencetest.MP4Boxes(evidencetest.Box("mdat")), videoName, "mp4_duration_unreadable", ""},
		{"pdf as video", video, evidencetest.PDF(), videoName, "content_mismatch", "is not an MP4 video (looks like: PDF document)"},
		{"xlsx workbook", workbook, evidencetest.HardwareWorkbook(domain.StandardDesktopCashier),
			workbook.ExpectedFileName(vendor, model, ".xlsx"), "", ""},
		{"xls workbook", workbook, evidencetest.XLS(), workbook.ExpectedFileName(vendor, model, ".xls"), "", ""},
		{"xlsx named xls", workbook, evidencetest.HardwareWorkbook(domain.StandardDesktopCashier),
			workbook.ExpectedFileName(vendor, model, ".xls"), "content_mismatch", "(looks like: Excel workbook (.xlsx))"},
		{"zip", zipSlot, evidencetest.Zip(map[string][]byte{"r.pdf": evidencetest.PDF()}), zipSlot.ExpectedFileName(vendor, model, ""), "", ""},
		{"pptx in zip slot", zipSlot, evidencetest.PPTX(), zipSlot.ExpectedFileName(vendor, model, ""), "", ""},
		{"deck pptx", evidence.DeckSlot(), evidencetest.PPTX(), "介绍.pptx", "", ""},
		{"deck ppt", evidence.DeckSlot(), evidencetest.PPT(), "介绍.ppt", "", ""},
		{"deck pdf", evidence.DeckSlot(), evidencetest.PDF(), "介绍.pdf", "", ""},
		{"deck exe", evidence.DeckSlot(), evidencetest.EXE(), "介绍.pptx", "content_mismatch", ""},
		{"deck wrong ext", evidence.DeckSlot(), evidencetest.PDF(), "介绍.exe", "wrong_extension", ""},
		{"certificate", evidence.CertificateSlot(domain.CertCTA), evidencetest.PDF(), "[CTA证书]-[V][M].pdf", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.slot.Verify(sniff(t, tt.data), tt.file)
			if tt.wantCode == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, domain.CodeOf(err), domain.MessageOf(err))
			assert.Contains(t, domain.MessageOf(err), tt.wantMsg)
		})
	}
}

// TestEvidenceSetEndToEnd runs a complete valid submission through CheckUpload, Sniff and
// Verify, then shows the 11 MB video being refused.
func TestEvidenceSetEndToEnd(t *testing.T) {
	r, err := evidence.RequiredSlots(domain.DeviceDesktopSingleScreen, []domain.SoftwareMode{domain.ModeSDK},
		[]domain.Connectivity{domain.ConnWiFi})
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, s := range r.All() {
		var data []byte
		switch f := s.Formats()[0]; {
		case f == evidence.FormatPDF:
			data = evidencetest.PDF()
		case f == evidence.FormatMP4:
			data = evidencetest.MP4(20*time.Second, 2*evidence.MiB)
		case f == evidence.FormatZip:
			data = evidencetest.Zip(map[string][]byte{"report.pdf": evidencetest.PDF()})
		case s.Kind == evidence.KindHardware:
			data = evidencetest.HardwareWorkbook(s.Standard)
		default:
			data = evidencetest.SoftwareWorkbook()
		}
		ext := s.Formats()[0].Extension()
		if s.Formats()[0] == evidence.FormatXLS {
			ext = ".xlsx"
		}
		name := s.ExpectedFileName(vendor, model, ext)
		files[name] = data
		contentType := evidence.Format(ext[1:]).ContentTypes()[0]
		require.NoError(t, s.CheckUpload(name, int64(len(data)), contentType, vendor, model), name)
		require.NoError(t, s.Verify(sniff(t, data), name), name)
		p, err := prescreen.Slot(s, bytes.NewReader(data), sniff(t, data).Format)
		require.NoError(t, err)
		assert.True(t, p.Passed, "%s: %+v", name, p.Findings)
	}
	assert.Equal(t, 12, len(files), "4 software + workbook + 5 zips + 3C + SRRC")

	video := evidence.SoftwareSlot(3, domain.ModeSDK)
	big := evidencetest.MP4(20*time.Second, 11*1024*1024)
	require.Len(t, big, 11*1024*1024)
	name := video.ExpectedFileName(vendor, model, "")
	require.NoError(t, video.Verify(sniff(t, big), name), "the bytes are a fine mp4...")
	err = video.CheckUpload(name, int64(len(big)), "video/mp4", vendor, model)
	assert.Equal(t, "file_too_large", domain.CodeOf(err), "...but too large")
	assert.Equal(t, domain.TooLarge, domain.KindOf(err))
}
