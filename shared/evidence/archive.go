package evidence

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/facepay/platform/shared/domain"
)

// Bounds on a category zip (our choice): what a reviewer unpacks must stay reasonable,
// whatever the archive's own size.
const (
	MaxZipEntries      = 1000      // files and folders
	MaxZipUnpacked     = 512 * MiB // all entries together, uncompressed
	MaxZipRatio        = 100       // uncompressed : compressed, per entry above zipRatioFloor
	zipRatioFloor      = 1 * MiB   // small entries (a text file of spaces) may compress as they like
	MaxListedZipFiles  = 100       // entries kept in the listing the reviewer sees
	zipExecutableProbe = 64        // bytes of each entry read to spot an executable
)

// executableExtensions are file types a category zip (reports and photos) never needs and a
// reviewer should never be handed.
var executableExtensions = []string{".exe", ".dll", ".com", ".scr", ".msi", ".bat", ".cmd", ".ps1", ".vbs", ".js",
	".jar", ".apk", ".sh", ".app", ".lnk"}

// ZipListing is what a category zip holds, as the reviewer sees it: the entry count, the
// total unpacked size and the first MaxListedZipFiles entries.
type ZipListing struct {
	Entries  int        `json:"entries"`
	Unpacked int64      `json:"unpacked"` // bytes, all entries uncompressed
	Files    []ZipEntry `json:"files"`
}

// ZipEntry is one entry of a zip.
type ZipEntry struct {
	Name string `json:"name"`
	Size int64  `json:"size"` // uncompressed
}

// InspectZip reads a zip's central directory (never unpacking more than the first bytes of
// each entry) and returns its listing. It returns an Invalid error with code
// "zip_too_many_entries" (more than MaxZipEntries), "zip_too_large" (more than MaxZipUnpacked
// unpacked), "zip_compression_ratio" (an entry above MaxZipRatio), "zip_executable" (an
// executable by name or by its first bytes) or "content_mismatch" (not a readable zip).
func InspectZip(r io.ReaderAt, size int64) (ZipListing, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return ZipListing{}, domain.Errorf(domain.Invalid, "content_mismatch", "the zip archive cannot be read: %v", err)
	}
	l := ZipListing{Entries: len(zr.File), Files: []ZipEntry{}}
	if l.Entries > MaxZipEntries {
		return l, domain.Errorf(domain.Invalid, "zip_too_many_entries", "the zip holds %d entries; a category zip holds at most %d", l.Entries, MaxZipEntries)
	}
	for _, f := range zr.File {
		name := strings.ToValidUTF8(f.Name, "?")
		us := int64(min(f.UncompressedSize64, 1<<62))
		l.Unpacked += us
		if l.Unpacked > MaxZipUnpacked {
			return l, domain.Errorf(domain.Invalid, "zip_too_large", "the zip unpacks to more than %s", SizeText(MaxZipUnpacked))
		}
		if us > zipRatioFloor && us > int64(f.CompressedSize64)*MaxZipRatio {
			return l, domain.Errorf(domain.Invalid, "zip_compression_ratio",
				"%s in the zip unpacks to %s from %d bytes, more than %d times its size", truncate(name, 100), SizeText(us), f.CompressedSize64, MaxZipRatio)
		}
		if slices.Contains(executableExtensions, strings.ToLower(path.Ext(name))) {
			return l, domain.Errorf(domain.Invalid, "zip_executable", "the zip holds %s, an executable; send reports and photos only", truncate(name, 100))
		}
		if !f.FileInfo().IsDir() && us > 0 && executableEntry(f) {
			return l, domain.Errorf(domain.Invalid, "zip_executable", "the zip holds %s, an executable; send reports and photos only", truncate(name, 100))
		}
		if len(l.Files) < MaxListedZipFiles {
			l.Files = append(l.Files, ZipEntry{Name: truncate(name, 200), Size: us})
		}
	}
	return l, nil
}

// executableEntry reads the first bytes of f and reports whether they start an executable.
// An entry that cannot be read (damaged, encrypted, an unknown method) is not an executable
// for this purpose: the reviewer sees it in the listing.
func executableEntry(f *zip.File) bool {
	rc, err := f.Open()
	if err != nil {
		return false
	}
	defer rc.Close()
	head := make([]byte, zipExecutableProbe)
	n, _ := io.ReadFull(rc, head)
	head = head[:n]
	return bytes.HasPrefix(head, []byte("MZ")) || bytes.HasPrefix(head, []byte("\x7fELF")) || machO(head)
}
