package evidence_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/evidence/evidencetest"
)

// rawZip writes entries whose central directory claims uncompressed sizes the archive does
// not hold (what a zip bomb's directory says), stored, with the data given.
func rawZip(t *testing.T, entries map[string]uint64) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, size := range entries {
		data := []byte("x")
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
			CompressedSize64: uint64(len(data)), UncompressedSize64: size})
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestInspectZip(t *testing.T) {
	many := map[string][]byte{}
	for i := range evidence.MaxZipEntries + 1 {
		many[fmt.Sprintf("photo-%04d.jpg", i)] = []byte("j")
	}
	listed := map[string][]byte{}
	for i := range evidence.MaxListedZipFiles + 20 {
		listed[fmt.Sprintf("报告/%03d.pdf", i)] = evidencetest.PDF()
	}
	var zeros bytes.Buffer
	zw := zip.NewWriter(&zeros)
	w, err := zw.Create("report.pdf")
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 20*evidence.MiB))
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	tests := []struct {
		name string
		data []byte
		code string
	}{
		{"reports and photos", evidencetest.Zip(map[string][]byte{"温升测试/报告.pdf": evidencetest.PDF(), "温升测试/照片1.jpg": []byte("\xff\xd8\xff")}), ""},
		{"too many entries", evidencetest.Zip(many), "zip_too_many_entries"},
		{"20 MiB of zeros in 20 KB", zeros.Bytes(), "zip_compression_ratio"},
		{"a directory claiming 2 GiB", rawZip(t, map[string]uint64{"a.bin": 1 << 30, "b.bin": 1 << 30}), "zip_too_large"},
		{"an executable by name", evidencetest.Zip(map[string][]byte{"setup.EXE": []byte("x")}), "zip_executable"},
		{"an executable renamed", evidencetest.Zip(map[string][]byte{"report.pdf": evidencetest.EXE()}), "zip_executable"},
		{"not a zip", evidencetest.PDF(), "content_mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := evidence.InspectZip(bytes.NewReader(tt.data), int64(len(tt.data)))
			if tt.code != "" {
				assert.Equal(t, tt.code, domain.CodeOf(err), "%v", err)
				assert.Equal(t, domain.Invalid, domain.KindOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 2, l.Entries)
			assert.ElementsMatch(t, []evidence.ZipEntry{{Name: "温升测试/报告.pdf", Size: int64(len(evidencetest.PDF()))}, {Name: "温升测试/照片1.jpg", Size: 3}}, l.Files)
		})
	}
	l, err := evidence.InspectZip(bytes.NewReader(evidencetest.Zip(listed)), int64(len(evidencetest.Zip(listed))))
	require.NoError(t, err)
	assert.Equal(t, evidence.MaxListedZipFiles+20, l.Entries, "every entry counted")
	assert.Len(t, l.Files, evidence.MaxListedZipFiles, "the first ones listed")
}
