package evidence

import (
	"encoding/binary"
	"io"
	"time"
)

// ISO-BMFF (MP4) walking limits: hostile files may claim anything, so the walk visits a
// bounded number of boxes and only ever reads box headers and the mvhd payload.
const (
	maxTopLevelBoxes = 1024
	maxMoovChildren  = 1024
	maxFtypSize      = 4096
	// maxDurationSeconds rejects durations no video has (~ 136 years) and keeps the
	// conversion to time.Duration far from overflow.
	maxDurationSeconds = 1 << 32
)

// box is an ISO-BMFF box header: its type, where its payload starts and where it ends.
type box struct {
	typ          string
	payload, end int64
}

// readBox reads the box header at off, within [off, limit). ok is false when the header is
// cut short or the box does not fit.
func readBox(r io.ReaderAt, off, limit int64) (b box, ok bool, err error) {
	var h [16]byte
	if limit-off < 8 {
		return box{}, false, nil
	}
	if err := readFull(r, h[:8], off); err != nil {
		return box{}, false, err
	}
	size := int64(binary.BigEndian.Uint32(h[:4]))
	b = box{typ: string(h[4:8]), payload: off + 8}
	switch size {
	case 0: // to the end of the enclosing space
		b.end = limit
	case 1: // 64-bit largesize follows the type
		if limit-off < 16 {
			return box{}, false, nil
		}
		if err := readFull(r, h[8:16], off+8); err != nil {
			return box{}, false, err
		}
		large := binary.BigEndian.Uint64(h[8:16])
		if large < 16 || large > uint64(limit-off) {
			return box{}, false, nil
		}
		b.payload, b.end = off+16, off+int64(large)
	default:
		if size < 8 || size > limit-off {
			return box{}, false, nil
		}
		b.end = off + size
	}
	return b, true, nil
}

// sniffMP4 checks the ftyp box at the start of the file and reads the duration from
// moov/mvhd (versions 0 and 1). A file with a valid ftyp but no readable duration is still
// reported as MP4, with Duration 0, so that Verify can reject it with its own code.
func sniffMP4(r io.ReaderAt, size int64) (Detected, error) {
	unknown := Detected{Format: FormatUnknown, Description: "damaged MP4 (bad ftyp box)"}
	ftyp, ok, err := readBox(r, 0, size)
	if err != nil || !ok {
		return unknown, err
	}
	if ftyp.typ != "ftyp" || ftyp.end-ftyp.payload < 8 || ftyp.end > maxFtypSize {
		return unknown, nil
	}
	var brand [4]byte
	if err := readFull(r, brand[:], ftyp.payload); err != nil {
		return Detected{}, err
	}
	for _, c := range brand {
		if c < 0x20 || c > 0x7e {
			return unknown, nil
		}
	}
	d := Detected{Format: FormatMP4, Description: "MP4 video"}
	d.Duration, err = mp4Duration(r, ftyp.end, size)
	return d, err
}

// mp4Duration finds moov/mvhd among the top-level boxes after off and returns its duration,
// 0 when there is none or it is unreadable.
func mp4Duration(r io.ReaderAt, off, size int64) (time.Duration, error) {
	for i := 0; i < maxTopLevelBoxes && off < size; i++ {
		b, ok, err := readBox(r, off, size)
		if err != nil || !ok {
			return 0, err
		}
		if b.typ == "moov" {
			return mvhdDuration(r, b)
		}
		off = b.end
	}
	return 0, nil
}

func mvhdDuration(r io.ReaderAt, moov box) (time.Duration, error) {
	off := moov.payload
	for i := 0; i < maxMoovChildren && off < moov.end; i++ {
		b, ok, err := readBox(r, off, moov.end)
		if err != nil || !ok {
			return 0, err
		}
		if b.typ == "mvhd" {
			return parseMvhd(r, b)
		}
		off = b.end
	}
	return 0, nil
}

// parseMvhd reads timescale and duration: version 0 has 32-bit times and duration,
// version 1 64-bit ones. An all-ones duration means "unknown".
func parseMvhd(r io.ReaderAt, b box) (time.Duration, error) {
	var p [32]byte
	n := min(b.end-b.payload, int64(len(p)))
	if n < 20 {
		return 0, nil
	}
	if err := readFull(r, p[:n], b.payload); err != nil {
		return 0, err
	}
	var timescale, duration uint64
	switch p[0] {
	case 0: // version, flags(3), creation(4), modification(4), timescale(4), duration(4)
		timescale = uint64(binary.BigEndian.Uint32(p[12:16]))
		duration = uint64(binary.BigEndian.Uint32(p[16:20]))
		if duration == 0xffffffff {
			return 0, nil
		}
	case 1: // version, flags(3), creation(8), modification(8), timescale(4), duration(8)
		if n < 32 {
			return 0, nil
		}
		timescale = uint64(binary.BigEndian.Uint32(p[20:24]))
		duration = binary.BigEndian.Uint64(p[24:32])
		if duration == 0xffffffffffffffff {
			return 0, nil
		}
	default:
		return 0, nil
	}
	if timescale == 0 {
		return 0, nil
	}
	secs, rem := duration/timescale, duration%timescale
	if secs >= maxDurationSeconds {
		return 0, nil
	}
	// rem < timescale < 2^32, so rem*1e9 fits in a uint64.
	return time.Duration(secs)*time.Second + time.Duration(rem*uint64(time.Second)/timescale), nil
}
