package prescreen

import "encoding/binary"

// Compound file (MS-CFB, version 3) constants for wrapStream.
const (
	cfbSector     = 512
	cfbPerFAT     = cfbSector / 4 // FAT entries per FAT sector
	cfbHeaderFATs = 109           // FAT sector numbers in the header
	cfbPerDIFAT   = cfbPerFAT - 1 // FAT sector numbers per DIFAT sector (the last entry chains)
	cfbFree       = 0xFFFFFFFF
	cfbEndChain   = 0xFFFFFFFE
	cfbFATSect    = 0xFFFFFFFD
	cfbDIFSect    = 0xFFFFFFFC
	cfbMiniCutoff = 4096
)

// wrapStream returns a well-formed compound file whose root holds one stream, "Workbook",
// with data (zero-padded to the mini-stream cutoff so that it lives in regular sectors).
// Layout: FAT sectors, DIFAT sectors, one directory sector, then the stream's sectors in
// order, so every chain is a straight run that ends.
func wrapStream(data []byte) []byte {
	size := max(len(data), cfbMiniCutoff)
	n := (size + cfbSector - 1) / cfbSector // stream sectors
	fats, difats := 1, 0
	for {
		total := fats + difats + 1 + n
		f := (total + cfbPerFAT - 1) / cfbPerFAT
		d := 0
		if f > cfbHeaderFATs {
			d = (f - cfbHeaderFATs + cfbPerDIFAT - 1) / cfbPerDIFAT
		}
		if f == fats && d == difats {
			break
		}
		fats, difats = f, d
	}
	dirSect := fats + difats
	first := dirSect + 1
	total := first + n
	le := binary.LittleEndian
	out := make([]byte, cfbSector*(1+total))
	sector := func(i int) []byte { return out[cfbSector*(i+1) : cfbSector*(i+2)] }

	h := out[:cfbSector]
	copy(h, []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1})
	le.PutUint16(h[24:], 0x3e)   // minor version
	le.PutUint16(h[26:], 3)      // major version
	le.PutUint16(h[28:], 0xfffe) // byte order
	le.PutUint16(h[30:], 9)      // sector shift: 512
	le.PutUint16(h[32:], 6)      // mini sector shift: 64
	le.PutUint32(h[44:], uint32(fats))
	le.PutUint32(h[48:], uint32(dirSect))
	le.PutUint32(h[56:], cfbMiniCutoff)
	le.PutUint32(h[60:], cfbEndChain) // no mini FAT
	le.PutUint32(h[68:], cfbEndChain) // first DIFAT sector
	if difats > 0 {
		le.PutUint32(h[68:], uint32(fats))
	}
	le.PutUint32(h[72:], uint32(difats))
	for i := range cfbHeaderFATs {
		v := uint32(cfbFree)
		if i < fats {
			v = uint32(i)
		}
		le.PutUint32(h[76+4*i:], v)
	}
	for k := range difats {
		s := sector(fats + k)
		for j := range cfbPerDIFAT {
			v, fat := uint32(cfbFree), cfbHeaderFATs+k*cfbPerDIFAT+j
			if fat < fats {
				v = uint32(fat)
			}
			le.PutUint32(s[4*j:], v)
		}
		next := uint32(cfbEndChain)
		if k+1 < difats {
			next = uint32(fats + k + 1)
		}
		le.PutUint32(s[4*cfbPerDIFAT:], next)
	}

	fat := func(i int, v uint32) { le.PutUint32(sector(i / cfbPerFAT)[4*(i%cfbPerFAT):], v) }
	for i := range fats * cfbPerFAT {
		fat(i, cfbFree)
	}
	for i := range fats {
		fat(i, cfbFATSect)
	}
	for i := range difats {
		fat(fats+i, cfbDIFSect)
	}
	fat(dirSect, cfbEndChain)
	for i := range n {
		next := uint32(first + i + 1)
		if i == n-1 {
			next = cfbEndChain
		}
		fat(first+i, next)
	}

	dir := sector(dirSect)
	entry := func(e []byte, name string, typ byte, child, start uint32, size uint64) {
		for i, r := range name { // ASCII names only
			le.PutUint16(e[2*i:], uint16(r))
		}
		if name != "" {
			le.PutUint16(e[64:], uint16(2*len(name)+2))
		}
		e[66], e[67] = typ, 1 // black
		le.PutUint32(e[68:], cfbFree)
		le.PutUint32(e[72:], cfbFree)
		le.PutUint32(e[76:], child)
		le.PutUint32(e[116:], start)
		le.PutUint64(e[120:], size)
	}
	entry(dir[0:128], "Root Entry", 5, 1, cfbEndChain, 0)
	entry(dir[128:256], "Workbook", 2, cfbFree, uint32(first), uint64(size))
	entry(dir[256:384], "", 0, cfbFree, 0, 0)
	entry(dir[384:512], "", 0, cfbFree, 0, 0)
	copy(out[cfbSector*(first+1):], data)
	return out
}
