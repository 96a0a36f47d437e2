package rollup

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/gzip"
)

// MaxLine bounds one record's line. A record is ~200 bytes; a longer line is not ours.
const MaxLine = 64 << 10

// Aggregator is the per-object step. Reading, it appends each record in a compact form to
// one of Partitions buffers chosen by its SN's hash: sequential writes, where a table of 10^5
// devices would cost cache misses on every record. Encode then aggregates one partition at
// a time, its few hundred devices in a table that stays in cache, and writes the partial.
// Reset makes it ready for the next object with its buffers kept (a warm Lambda reuses
// one). Not safe for concurrent use.
type Aggregator struct {
	date   string
	lo, hi int64
	parts  [Partitions][]byte // compact records, see add
	rows   int64

	// reading: the decompressor writes its output window straight into lines (WriteTo), so
	// the text is not copied into a read buffer first; a line cut by a write waits in carry
	scan    scanner
	rec     record
	line    int64 // lines of the current stream so far
	carry   []byte
	err     error // the record error that stopped the stream
	zr      *gzip.Reader
	copyBuf []byte

	// Encode's scratch, kept between objects
	slots  []uint32
	devs   []devAcc
	recDev []uint32 // a partition's SUCCESS records' devices, in record order
	pays   []payerRef
}

// MaxSNLength bounds device_sn: an SN is 23 characters (DOMAIN.md).
const MaxSNLength = 64

type devAcc struct {
	sn     []byte // into a partition buffer
	hash   uint64
	c      Counts
	npay   uint32
	payEnd uint32
}

// payerRef is a SUCCESS payment's payer: its hash, where its length byte is in the
// partition buffer, and whether the payment counts for the fee. 16 bytes: sorting a
// device's payers moves and compares these, not the ids.
type payerRef struct {
	h   uint64
	off uint32
	fee bool
}

// NewAggregator returns an Aggregator for date (YYYY-MM-DD, Asia/Shanghai): records whose ts
// falls outside that day are refused.
func NewAggregator(date string) (*Aggregator, error) {
	a := &Aggregator{}
	return a, a.Reset(date)
}

// Reset empties the Aggregator for the next object of date, keeping its buffers.
func (a *Aggregator) Reset(date string) error {
	lo, hi, err := ParseDate(date)
	if err != nil {
		return err
	}
	a.date, a.lo, a.hi, a.rows = date, lo, hi, 0
	for i := range a.parts {
		a.parts[i] = a.parts[i][:0]
	}
	return nil
}

// Rows is the number of records read.
func (a *Aggregator) Rows() int64 { return a.rows }

// ReadGzip aggregates a gzip-compressed NDJSON stream, decompressing as it reads (an object
// is never held whole).
func (a *Aggregator) ReadGzip(r io.Reader) error {
	var err error
	if a.zr == nil {
		a.zr, err = gzip.NewReader(r)
	} else {
		err = a.zr.Reset(r)
	}
	if err != nil {
		return fmt.Errorf("not a gzip stream: %w", err)
	}
	if err := a.Read(a.zr); err != nil {
		return err
	}
	return a.zr.Close()
}

// Read aggregates an NDJSON stream. It fails on the first bad record, naming its line: a
// day's figures are all right or not written.
func (a *Aggregator) Read(r io.Reader) error {
	a.line, a.carry, a.err = 0, a.carry[:0], nil
	if a.copyBuf == nil {
		a.copyBuf = make([]byte, 64<<10)
	}
	// io.CopyBuffer hands the writer the decompressor's own window where the reader can
	// write to (gzip.Reader.WriteTo), and reads into copyBuf otherwise.
	_, err := io.CopyBuffer((*lineWriter)(a), r, a.copyBuf)
	if a.err != nil {
		return a.err
	}
	if err != nil {
		return fmt.Errorf("line %d: %w", a.line+1, err)
	}
	if len(a.carry) > 0 { // the last line had no newline
		if err := a.oneLine(a.carry); err != nil {
			return err
		}
		a.carry = a.carry[:0]
	}
	return nil
}

// lineWriter is the Aggregator as the io.Writer its stream is copied to: it cuts what it is
// given into lines and adds them.
type lineWriter Aggregator

func (w *lineWriter) Write(p []byte) (int, error) {
	a := (*Aggregator)(w)
	n := len(p)
	if len(a.carry) > 0 {
		nl := bytes.IndexByte(p, '\n')
		end := nl + 1
		if nl < 0 {
			end = len(p)
		}
		if len(a.carry)+end > MaxLine {
			a.err = fmt.Errorf("line %d: longer than %d bytes", a.line+1, MaxLine)
			return 0, a.err
		}
		a.carry = append(a.carry, p[:end]...)
		if nl < 0 {
			return n, nil
		}
		if err := a.oneLine(a.carry); err != nil {
			return 0, err
		}
		a.carry = a.carry[:0]
		p = p[end:]
	}
	for {
		nl := bytes.IndexByte(p, '\n')
		if nl < 0 {
			break
		}
		if err := a.oneLine(p[:nl+1]); err != nil {
			return 0, err
		}
		p = p[nl+1:]
	}
	if len(p) > MaxLine {
		a.err = fmt.Errorf("line %d: longer than %d bytes", a.line+1, MaxLine)
		return 0, a.err
	}
	a.carry = append(a.carry, p...)
	return n, nil
}

func (a *Aggregator) oneLine(b []byte) error {
	a.line++
	if err := a.add(b); err != nil {
		a.err = fmt.Errorf("line %d: %w", a.line, err)
		return a.err
	}
	return nil
}

// add checks a record and appends it to its partition as
// snLen(1) sn payerLen(1) payer kind(1: method<<4 | status) amount(uvarint);
// the payer is kept for SUCCESS records only (no other figure reads it).
func (a *Aggregator) add(line []byte) error {
	r := &a.rec
	if !parseFast(line, r) {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		if err := a.scan.parse(line, r); err != nil {
			return err
		}
	}
	switch {
	case r.ts < a.lo || r.ts >= a.hi:
		return fmt.Errorf("ts %d is not on %s (Asia/Shanghai)", r.ts, a.date)
	case r.amount < 0:
		return fmt.Errorf("amount_fen %d is negative", r.amount)
	case len(r.sn) == 0 || len(r.sn) > MaxSNLength:
		return fmt.Errorf("device_sn must be 1 to %d characters", MaxSNLength)
	case len(r.payer) == 0 || len(r.payer) > 255:
		return fmt.Errorf("payer must be 1 to 255 characters")
	}
	p := &a.parts[snHash(r.sn)%Partitions]
	b := append(*p, byte(len(r.sn)))
	b = append(b, r.sn...)
	if r.status == StatusSuccess {
		b = append(b, byte(len(r.payer)))
		b = append(b, r.payer...)
	} else {
		b = append(b, 0)
	}
	b = append(b, byte(r.method<<4|r.status))
	*p = binary.AppendUvarint(b, uint64(r.amount))
	a.rows++
	return nil
}

// Partial file layout (little-endian), written by Aggregator.Encode:
//
//	magic "FPRP0002" | shards uint32 | rows uint64 | offsets [shards+1]uint64 | body
//
// The body holds the devices ordered by shard; offsets[k]..offsets[k+1] (from the file's
// start) is shard k. A device: uvarint len + SN, 12 uvarints (success, success amount,
// failed, timeout, refunded, over limit, SUCCESS per method), uvarint n, then its n
// distinct SUCCESS payers ordered by (payerHash, id), each: the hash (8 bytes), one byte
// len, the id, one byte (1 when the payer made a fee-qualifying face payment). The hash lets
// the merge sort and compare payers as integers; the id is still there, so two payers whose
// hashes collide are told apart and the distinct counts stay exact.
const partialMagic = "FPRP0002"

// HeaderSize is the size of a partial's header for shards shards: what a shard merge reads
// first, to find its byte range.
func HeaderSize(shards int) int { return len(partialMagic) + 4 + 8 + 8*(shards+1) }

// Encode returns the partial of what was read, its devices spread over shards shards
// (ValidShards). Call it once per object; Reset before the next.
func (a *Aggregator) Encode(shards int) []byte { return a.EncodeTo(nil, shards) }

// EncodeTo is Encode appending to dst[:0]: a warm Lambda passes the buffer of its previous
// object, so writing a partial touches no fresh memory.
func (a *Aggregator) EncodeTo(dst []byte, shards int) []byte {
	if !ValidShards(shards) {
		panic(fmt.Sprintf("rollup: %d shards do not divide %d partitions", shards, Partitions))
	}
	size := 0
	for i := range a.parts {
		size += len(a.parts[i])
	}
	hs := HeaderSize(shards)
	// A partial is about its records' size (a payer's 8-byte hash against a non-SUCCESS
	// record's missing payer; a device seen once costs ~15 bytes more than its record). The
	// room is reserved with append, not slices.Grow, which would zero it all first.
	out := dst[:0]
	if need := hs + size + size/4 + 1024; cap(out) < need {
		out = make([]byte, 0, need)
	}
	out = out[:hs]
	copy(out, partialMagic)
	binary.LittleEndian.PutUint32(out[8:], uint32(shards))
	binary.LittleEndian.PutUint64(out[12:], uint64(a.rows))
	for k := range shards {
		binary.LittleEndian.PutUint64(out[20+8*k:], uint64(len(out)))
		// a device's partition is hash % Partitions and its shard hash % shards: shard k
		// is partitions k, k+shards, k+2*shards, ...
		for p := k; p < Partitions; p += shards {
			out = a.encodePartition(out, a.parts[p])
		}
	}
	binary.LittleEndian.PutUint64(out[20+8*shards:], uint64(len(out)))
	return out
}

// encodePartition aggregates one partition's records and appends its devices to out. Two
// passes over the partition (a few tens of KB, in cache): the counters and each device's
// payer count, then each SUCCESS record's payer put straight into its device's run.
func (a *Aggregator) encodePartition(out, part []byte) []byte {
	if len(part) == 0 {
		return out
	}
	if a.slots == nil {
		a.slots = make([]uint32, 1<<10)
	}
	a.devs, a.recDev = a.devs[:0], a.recDev[:0]
	clear(a.slots)
	for i := 0; i < len(part); {
		n := int(part[i])
		sn := part[i+1 : i+1+n]
		i += 1 + n
		i += 1 + int(part[i])
		kind := part[i]
		amount, m := binary.Uvarint(part[i+1:])
		i += 1 + m
		di := a.device(sn)
		d := &a.devs[di]
		method, status := int(kind>>4), int(kind&15)
		if method == MethodFace && amount > FaceLimitFen {
			d.c.OverLimit++
		}
		switch status {
		case StatusSuccess:
			d.c.Success++
			d.c.SuccessAmountFen += int64(amount)
			d.c.ByMethod[method]++
			d.npay++
			a.recDev = append(a.recDev, di)
		case StatusFailed:
			d.c.Failed++
		case StatusTimeout:
			d.c.Timeout++
		case StatusRefunded:
			d.c.Refunded++
		}
	}
	// Each device's payers get a run of pays (a counting sort by device).
	var at uint32
	for i := range a.devs {
		at += a.devs[i].npay
		a.devs[i].payEnd = at
	}
	if cap(a.pays) < int(at) {
		a.pays = make([]payerRef, at, 2*at)
	}
	pays := a.pays[:at]
	r := 0
	for i := 0; i < len(part); {
		i += 1 + int(part[i])
		off := i
		pn := int(part[i])
		i += 1 + pn
		kind := part[i]
		amount, m := binary.Uvarint(part[i+1:])
		i += 1 + m
		if int(kind&15) != StatusSuccess {
			continue
		}
		d := &a.devs[a.recDev[r]]
		r++
		d.payEnd--
		pays[d.payEnd] = payerRef{h: payerHash(part[off+1 : off+1+pn]), off: uint32(off),
			fee: int(kind>>4) == MethodFace && amount >= FeeMinFen}
	}
	id := func(p *payerRef) []byte { return part[p.off+1 : p.off+1+uint32(part[p.off])] }
	for i := range a.devs {
		d := &a.devs[i]
		out = binary.AppendUvarint(out, uint64(len(d.sn)))
		out = append(out, d.sn...)
		for _, v := range d.c.values() {
			out = binary.AppendUvarint(out, uint64(v))
		}
		ps := pays[d.payEnd : d.payEnd+d.npay]
		sortByHash(ps)
		// ps is ordered by hash; the same hash is the same payer unless the ids differ (a
		// collision): then that run is ordered by id as well.
		nAt := len(out)
		out = append(out, 0, 0, 0, 0, 0) // the count, written when known (uvarint, ≤ 5 bytes)
		n := 0
		for j := 0; j < len(ps); {
			k := j + 1
			for k < len(ps) && ps[k].h == ps[j].h {
				k++
			}
			run := ps[j:k]
			if !sameIDs(run, id) {
				slices.SortFunc(run, func(x, y payerRef) int { return bytes.Compare(id(&x), id(&y)) })
			}
			for s := 0; s < len(run); {
				p := id(&run[s])
				fee := false
				for ; s < len(run) && bytes.Equal(id(&run[s]), p); s++ {
					fee = fee || run[s].fee
				}
				out = binary.LittleEndian.AppendUint64(out, run[0].h)
				out = append(out, byte(len(p)))
				out = append(out, p...)
				out = append(out, b2u(fee))
				n++
			}
			j = k
		}
		out = putCount(out, nAt, n)
	}
	return out
}

// putCount writes n as a uvarint into the 5 bytes reserved at out[at:], closing the gap.
func putCount(out []byte, at, n int) []byte {
	var tmp [binary.MaxVarintLen32]byte
	w := binary.PutUvarint(tmp[:], uint64(n))
	copy(out[at:], tmp[:w])
	if w < 5 {
		out = append(out[:at+w], out[at+5:]...)
	}
	return out
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// sameIDs reports whether a run of equal hashes holds one payer (the usual case).
func sameIDs(run []payerRef, id func(*payerRef) []byte) bool {
	for s := 1; s < len(run); s++ {
		if !bytes.Equal(id(&run[s]), id(&run[0])) {
			return false
		}
	}
	return true
}

// sortByHash orders a device's payers by hash: insertion sort for the few payers a device
// has in one object, pdqsort past that.
func sortByHash(ps []payerRef) {
	if len(ps) > 24 {
		slices.SortFunc(ps, func(x, y payerRef) int {
			if x.h < y.h {
				return -1
			} else if x.h > y.h {
				return 1
			}
			return 0
		})
		return
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].h < ps[j-1].h; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// payerHashMask is all ones; a test narrows it to force collisions.
var payerHashMask = ^uint64(0)

// payerHash is a payer id's 64-bit hash (a different mix from the SN's: only its spread
// matters, as equal hashes are checked against the ids).
func payerHash(b []byte) uint64 { return snHash(b) * 0xD6E8FEB86659FD93 & payerHashMask }

// device returns the index of sn's accumulator in the partition's table, adding one.
func (a *Aggregator) device(sn []byte) uint32 {
	h := snHash(sn)
	for {
		mask := uint64(len(a.slots) - 1)
		for i := (h >> 8) & mask; ; i = (i + 1) & mask {
			s := a.slots[i]
			if s == 0 {
				if 2*(len(a.devs)+1) > len(a.slots) {
					a.grow()
					break
				}
				idx := uint32(len(a.devs))
				a.devs = append(a.devs, devAcc{sn: sn, hash: h})
				a.slots[i] = idx + 1
				return idx
			}
			if d := &a.devs[s-1]; d.hash == h && bytes.Equal(d.sn, sn) {
				return s - 1
			}
		}
	}
}

func (a *Aggregator) grow() {
	a.slots = make([]uint32, 2*len(a.slots))
	mask := uint64(len(a.slots) - 1)
	for idx := range a.devs {
		i := (a.devs[idx].hash >> 8) & mask
		for a.slots[i] != 0 {
			i = (i + 1) & mask
		}
		a.slots[i] = uint32(idx) + 1
	}
}

func (c *Counts) values() [6 + numMethods]int64 {
	var v [6 + numMethods]int64
	v[0], v[1], v[2], v[3], v[4], v[5] = c.Success, c.SuccessAmountFen, c.Failed, c.Timeout, c.Refunded, c.OverLimit
	copy(v[6:], c.ByMethod[:])
	return v
}

func (c *Counts) setValues(v *[6 + numMethods]int64) {
	c.Success, c.SuccessAmountFen, c.Failed, c.Timeout, c.Refunded, c.OverLimit = v[0], v[1], v[2], v[3], v[4], v[5]
	copy(c.ByMethod[:], v[6:])
}

// PartialHeader reads a partial's header: its shard count, record count and shard offsets.
// header must hold at least HeaderSize(shards) bytes (read the fixed 20 bytes first, or
// HeaderSize of the expected shard count).
func PartialHeader(header []byte) (shards int, rows int64, offsets []uint64, err error) {
	if len(header) < 20 || string(header[:8]) != partialMagic {
		return 0, 0, nil, errors.New("not a rollup partial")
	}
	shards = int(binary.LittleEndian.Uint32(header[8:]))
	rows = int64(binary.LittleEndian.Uint64(header[12:]))
	if shards < 1 || shards > 4096 || len(header) < HeaderSize(shards) {
		return 0, 0, nil, fmt.Errorf("partial header: %d shards, %d bytes", shards, len(header))
	}
	offsets = make([]uint64, shards+1)
	for k := range offsets {
		offsets[k] = binary.LittleEndian.Uint64(header[20+8*k:])
	}
	return shards, rows, offsets, nil
}

// ShardOfPartial returns shard k's bytes of a whole partial.
func ShardOfPartial(data []byte, k int) ([]byte, error) {
	shards, _, off, err := PartialHeader(data)
	if err != nil {
		return nil, err
	}
	if k < 0 || k >= shards || off[k+1] < off[k] || off[k+1] > uint64(len(data)) {
		return nil, fmt.Errorf("partial has no shard %d of %d", k, shards)
	}
	return data[off[k]:off[k+1]], nil
}
