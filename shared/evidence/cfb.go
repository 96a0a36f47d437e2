package evidence

import (
	"encoding/binary"
	"io"
	"strings"
	"unicode/utf16"
)

// cfbSignature opens every OLE2 compound file (MS-CFB): legacy .xls, .ppt, .doc.
var cfbSignature = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}

// Special sector numbers of MS-CFB.
const (
	cfbMaxRegSect  = 0xfffffffa
	cfbEndOfChain  = 0xfffffffe
	cfbNoStream    = 0xffffffff
	cfbHeaderSize  = 512
	cfbDirEntry    = 128
	cfbHeaderDIFAT = 109
)

// Bounds on the work a hostile compound file can cause.
const (
	cfbMaxFATSectors = 1 << 16
	cfbMaxDirSectors = 1024
	cfbMaxEntries    = 8192
)

type cfbEntry struct {
	name               string
	typ                byte // 1 storage, 2 stream, 5 root
	left, right, child uint32
	size               uint64
}

// cfb is a compound file opened just enough to read its directory.
type cfb struct {
	r          io.ReaderAt
	secSize    int64
	numSectors int64 // sectors after the header
	fat        []uint32
}

// sniffCFB tells .xls (a Workbook or Book stream) and .ppt (a "PowerPoint Document"
// stream) apart from other compound files by reading the root storage's direct children.
// A header or directory that does not hold together is "damaged compound file".
func sniffCFB(r io.ReaderAt, size int64) (Detected, error) {
	damaged := Detected{Format: FormatUnknown, Description: "damaged Office compound file"}
	names, ok, err := cfbRootStreams(r, size)
	if err != nil || !ok {
		return damaged, err
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
	return Detected{Format: FormatUnknown, Description: "Office compound file"}, nil
}

// cfbRootStreams returns the names of the non-empty streams directly under the root
// storage. ok is false when the file is not a well-formed compound file.
func cfbRootStreams(r io.ReaderAt, size int64) (names []string, ok bool, err error) {
	c, ok, err := openCFB(r, size)
	if err != nil || !ok {
		return nil, ok, err
	}
	entries, ok, err := c.directory()
	if err != nil || !ok || len(entries) == 0 || entries[0].typ != 5 {
		return nil, false, err
	}
	// Walk the root's child tree (left/right siblings), each entry at most once.
	seen := make([]bool, len(entries))
	stack := []uint32{entries[0].child}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == cfbNoStream {
			continue
		}
		if int64(id) >= int64(len(entries)) || seen[id] {
			return nil, false, nil
		}
		seen[id] = true
		e := entries[id]
		if e.typ == 2 && e.size > 0 {
			names = append(names, e.name)
		}
		stack = append(stack, e.left, e.right)
	}
	return names, true, nil
}

func openCFB(r io.ReaderAt, size int64) (*cfb, bool, error) {
	if size < cfbHeaderSize {
		return nil, false, nil
	}
	var h [cfbHeaderSize]byte
	if err := readFull(r, h[:], 0); err != nil {
		return nil, false, err
	}
	le := binary.LittleEndian
	major, shift := le.Uint16(h[26:]), le.Uint16(h[30:])
	if string(h[:8]) != string(cfbSignature) || le.Uint16(h[28:]) != 0xfffe || le.Uint16(h[32:]) != 6 ||
		!(major == 3 && shift == 9 || major == 4 && shift == 12) {
		return nil, false, nil
	}
	c := &cfb{r: r, secSize: 1 << shift}
	c.numSectors = (size - c.secSize) / c.secSize // the header fills sector -1
	numFAT := int64(le.Uint32(h[44:]))
	if c.numSectors <= 0 || numFAT == 0 || numFAT > c.numSectors || numFAT > cfbMaxFATSectors {
		return nil, false, nil
	}
	// FAT sector locations: 109 in the header, the rest in the DIFAT chain.
	locs := make([]uint32, 0, numFAT)
	for i := 0; i < cfbHeaderDIFAT && int64(len(locs)) < numFAT; i++ {
		locs = append(locs, le.Uint32(h[76+4*i:]))
	}
	difat := le.Uint32(h[68:])
	buf := make([]byte, c.secSize)
	for steps := int64(0); int64(len(locs)) < numFAT; steps++ {
		if steps >= c.numSectors || int64(difat) >= c.numSectors {
			return nil, false, nil
		}
		if err := readFull(r, buf, c.offset(difat)); err != nil {
			return nil, false, err
		}
		per := int(c.secSize/4) - 1
		for i := 0; i < per && int64(len(locs)) < numFAT; i++ {
			locs = append(locs, le.Uint32(buf[4*i:]))
		}
		difat = le.Uint32(buf[4*per:])
	}
	for _, l := range locs {
		if int64(l) >= c.numSectors {
			return nil, false, nil
		}
	}
	c.fat = locs
	return c, true, nil
}

func (c *cfb) offset(sector uint32) int64 { return (int64(sector) + 1) * c.secSize }

// next returns the sector after s in its chain, reading one FAT entry.
func (c *cfb) next(s uint32) (uint32, bool, error) {
	per := uint32(c.secSize / 4)
	idx := s / per
	if int64(idx) >= int64(len(c.fat)) {
		return 0, false, nil
	}
	var b [4]byte
	if err := readFull(c.r, b[:], c.offset(c.fat[idx])+int64(s%per)*4); err != nil {
		return 0, false, err
	}
	return binary.LittleEndian.Uint32(b[:]), true, nil
}

// directory reads the directory chain's entries, stopping at cfbMaxEntries.
func (c *cfb) directory() ([]cfbEntry, bool, error) {
	var h [4]byte
	if err := readFull(c.r, h[:], 48); err != nil {
		return nil, false, err
	}
	s := binary.LittleEndian.Uint32(h[:])
	buf := make([]byte, c.secSize)
	var entries []cfbEntry
	for steps := 0; s != cfbEndOfChain; steps++ {
		if s > cfbMaxRegSect || int64(s) >= c.numSectors || steps >= cfbMaxDirSectors || int64(steps) >= c.numSectors {
			return nil, false, nil
		}
		if err := readFull(c.r, buf, c.offset(s)); err != nil {
			return nil, false, err
		}
		for off := 0; off+cfbDirEntry <= len(buf) && len(entries) < cfbMaxEntries; off += cfbDirEntry {
			entries = append(entries, parseDirEntry(buf[off:off+cfbDirEntry]))
		}
		next, ok, err := c.next(s)
		if err != nil || !ok {
			return nil, false, err
		}
		s = next
	}
	return entries, true, nil
}

func parseDirEntry(b []byte) cfbEntry {
	le := binary.LittleEndian
	e := cfbEntry{
		typ:   b[66],
		left:  le.Uint32(b[68:]),
		right: le.Uint32(b[72:]),
		child: le.Uint32(b[76:]),
		size:  le.Uint64(b[120:]),
	}
	n := int(le.Uint16(b[64:]))
	if n < 2 || n > 64 || n%2 != 0 {
		return e
	}
	u := make([]uint16, 0, n/2-1)
	for i := 0; i+1 < n-2; i += 2 {
		u = append(u, le.Uint16(b[i:]))
	}
	e.name = string(utf16.Decode(u))
	return e
}
