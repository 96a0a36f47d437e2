package rollup

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unsafe"
)

// Merger adds up partials (or one shard of each) into exact per-device figures. It keeps
// slices of the bodies it is given (no copy): callers must not change a slice after handing
// it to Add until Figures has returned. The figures own their SNs (one block a call), so a
// body's buffer can take the next shard's bytes.
type Merger struct {
	date   string
	chunks [Partitions][]chunk // each partition's chunks of every partial
	pa     partAgg
	done   []devResult // Figures' scratch, kept for the next shard
	order  []int32
}

type chunk struct {
	form byte
	b    []byte
}

// NewMerger returns a Merger for the figures of date. sizeHint (the bytes it will be given)
// is no longer needed: the Merger aggregates one partition at a time in reused tables.
func NewMerger(date string, sizeHint int) *Merger {
	return &Merger{date: date}
}

// Reset empties the Merger for another shard or day, keeping its tables: a warm Lambda
// merging again reuses them instead of growing fresh ones (fresh memory is first-touch page
// faults, ~1.3 MB of tables a shard of the README's day). The Merger lets go of the bodies
// it was given; figures it returned stay valid.
func (m *Merger) Reset(date string) {
	m.date = date
	for p := range m.chunks {
		clear(m.chunks[p])
		m.chunks[p] = m.chunks[p][:0]
	}
}

var errCorrupt = errors.New("corrupt rollup partial")

// Add takes a partial's chunks: one shard's byte range, or a whole body. It reads only the
// chunks' headers; Figures checks their contents as it aggregates them (one pass over the
// bytes, where checking them here first read every partial twice from memory).
func (m *Merger) Add(body []byte) error {
	for i := 0; i < len(body); {
		p, w := binary.Uvarint(body[i:])
		if w <= 0 || p >= Partitions || len(body)-i-w < 5 {
			return fmt.Errorf("%w: chunk header", errCorrupt)
		}
		i += w
		form := body[i]
		n := binary.LittleEndian.Uint32(body[i+1:])
		i += 5
		if uint64(n) > uint64(len(body)-i) {
			return fmt.Errorf("%w: chunk length", errCorrupt)
		}
		if form != formRecords && form != formDevices {
			return fmt.Errorf("%w: partition %d: form %d", errCorrupt, p, form)
		}
		m.chunks[p] = append(m.chunks[p], chunk{form: form, b: body[i : i+int(n)]})
		i += int(n)
	}
	return nil
}

// Figures returns the merged figures, one per device, ordered by SN, or an error naming the
// first partition whose bytes are not a well-formed chunk (then no figures: a day's figures
// are all right or not written).
func (m *Merger) Figures() ([]Figures, error) {
	// The devices' results are gathered in a reused list and sorted as indexes; the figures
	// are then made once, in order, in a slice of the right size. Appending figures as they
	// came and sorting them moved each 170-byte record several times over and grew the
	// slice through fresh memory.
	done := m.done[:0]
	pa := &m.pa
	for p := range m.chunks {
		cs := m.chunks[p]
		if len(cs) == 0 {
			continue
		}
		pa.reset()
		for _, c := range cs {
			ok := false
			if c.form == formRecords {
				ok = pa.addRecords(c.b)
			} else {
				ok = pa.addDevices(c.b)
			}
			if !ok {
				clear(done)
				m.done = done[:0]
				return nil, fmt.Errorf("%w: partition %d", errCorrupt, p)
			}
		}
		for i := range pa.devs {
			d := &pa.devs[i]
			done = append(done, devResult{sn: unsafe.String(&d.sn[0], len(d.sn)), c: d.c, distinct: d.distinct, fee: d.fee})
		}
	}
	// The SNs, which point into the bodies, are copied into one block: the figures outlive
	// the bodies' buffers, which a warm merge reuses for its next shard.
	size := 0
	for i := range done {
		size += len(done[i].sn)
	}
	block := make([]byte, 0, size)
	order := m.order[:0]
	for i := range done {
		at := len(block)
		block = append(block, done[i].sn...)
		done[i].sn = unsafe.String(&block[at], len(done[i].sn))
		order = append(order, int32(i))
	}
	slices.SortFunc(order, func(x, y int32) int { return cmp.Compare(done[x].sn, done[y].sn) })
	out := make([]Figures, len(order))
	for i, j := range order {
		d := &done[j]
		out[i] = figuresOf(d.sn, m.date, &d.c, int64(d.distinct), int64(d.fee))
	}
	clear(done) // let go of the SN block: the figures hold it now
	m.done, m.order = done[:0], order[:0]
	return out, nil
}

// devResult is one device's merged result, before it becomes Figures.
type devResult struct {
	sn            string
	c             Counts
	distinct, fee uint32
}
