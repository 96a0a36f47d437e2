package rollup

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on amd64 and arm64 (4 KB base pages).
const hugePage = 2 << 20

// hugeBuffer returns an empty slice with room for n bytes, in memory the kernel is asked to
// back with transparent huge pages (MADV_HUGEPAGE: where THP is "madvise", as on the bench
// VM, nothing gets them unasked). For n of a few MB or more it starts on a huge-page
// boundary, so every page of it can be huge (the allocation is 2 MB longer, and the unused
// rest is never touched, so it costs address space, not memory).
//
// Why: a partial is written once into fresh memory (~7 MB an object), and first-touch page
// faults cost more than the writing: ~13 µs per 4 KB fault on the bench VM, 1.0 s for the
// day's 233 MB of partials; with huge pages 0.8 s (writing the same bytes into warm memory:
// 0.3 s). Best effort: a kernel without THP just faults 4 KB pages.
func hugeBuffer(n int) []byte {
	if n < 2*hugePage {
		return make([]byte, 0, n)
	}
	b := make([]byte, n+hugePage)
	off := int((hugePage - uintptr(unsafe.Pointer(unsafe.SliceData(b)))%hugePage) % hugePage)
	end := off + (n+hugePage-1)/hugePage*hugePage
	if end > len(b) {
		end = off + n
	}
	b = b[off:end]
	_ = syscall.Madvise(b[:len(b)/hugePage*hugePage], 14) // MADV_HUGEPAGE
	return b[:0]
}
