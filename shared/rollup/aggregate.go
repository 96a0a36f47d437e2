package rollup

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"

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
	share  int                // each partition's room in the slab of Reserve
	rows   int64

	// reading: the decompressor writes its output window straight into lines (WriteTo), so
	// the text is not copied into a read buffer first; a line cut by a write waits in carry
	scan    scanner
	rec     record
	line    int64 // lines of the current stream so far
	carry   []byte
	err     error // the record error that stopped the stream
	zr      *gzip.Reader
	zin     *bufio.Reader // the compressed stream, read 256 KB a call (gzip's own is 4 KB)
	copyBuf []byte

	// per partition: its records, and a 1024-bit sketch of its SNs (linear counting) that
	// tells Encode whether aggregating the partition would shrink it
	nrec [Partitions]int32
	seen [Partitions][16]uint64

	pa           partAgg  // Encode's scratch, kept between objects
	order, start []uint32 // encodeDevices': the payer set grouped by device
}

// MaxSNLength bounds device_sn: an SN is 23 characters (DOMAIN.md).
const MaxSNLength = 64

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
	clear(a.nrec[:])
	clear(a.seen[:])
	return nil
}

// Reserve makes room for the records of an object of gzipBytes compressed bytes (the size
// S3 reports), so the partition buffers do not grow while reading. Optional: without it
// they grow as they fill. The records form takes about as many bytes as the gzip (a
// ~210-byte line compresses to ~47 bytes and keeps ~50); SN hashes spread records within a
// few percent of evenly over the partitions, so each share has 25% to spare, and a
// partition that fills up anyway just grows.
//
// Why one slab, grown by doubling: memory is expensive the first time it is touched (~13 µs
// per 4 KB page fault on the bench VM, more than writing the records), and cheap after. A
// slab cut into equal shares is reused by the next objects, and only the pages records are
// written to are touched (4 KB pages, not huge ones: a huge page would fault in 2 MB around
// each share's first record). The payment core cuts a day by time, and its objects differ
// 40-fold in size (the night's are small): a slab sized to each bigger object in turn
// faulted the day's records in about twice over; doubling bounds that to a few slabs. (Not a
// large fixed minimum instead: the local cloud runs up to a Map's concurrency of these at
// once, and the GC paces itself by allocated bytes, touched or not.)
func (a *Aggregator) Reserve(gzipBytes int64) {
	share := int(gzipBytes*5/4/Partitions) + 256
	if share <= a.share {
		return
	}
	share = max(share, 2*a.share)
	slab := make([]byte, share*Partitions)
	for i := range a.parts {
		a.parts[i] = slab[i*share : i*share : (i+1)*share]
	}
	a.share = share
}

// Rows is the number of records read.
func (a *Aggregator) Rows() int64 { return a.rows }

// ReadGzip aggregates a gzip-compressed NDJSON stream, decompressing as it reads (an object
// is never held whole).
func (a *Aggregator) ReadGzip(r io.Reader) error {
	if a.zin == nil {
		a.zin = bufio.NewReaderSize(r, 256<<10)
	} else {
		a.zin.Reset(r)
	}
	var err error
	if a.zr == nil {
		a.zr, err = gzip.NewReader(a.zin)
	} else {
		err = a.zr.Reset(a.zin)
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
		if err := a.oneLine(a.carry, false); err != nil {
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
		if err := a.oneLine(a.carry, false); err != nil {
			return 0, err
		}
		a.carry = a.carry[:0]
		p = p[end:]
	}
	// One search for an escape in the whole window spares one per line (see parseFast).
	escapeFree := bytes.IndexByte(p, '\\') < 0
	for {
		nl := bytes.IndexByte(p, '\n')
		if nl < 0 {
			break
		}
		if err := a.oneLine(p[:nl+1], escapeFree); err != nil {
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

// oneLine adds line b; escapeFree when b is known to hold no backslash.
func (a *Aggregator) oneLine(b []byte, escapeFree bool) error {
	a.line++
	if err := a.add(b, escapeFree); err != nil {
		a.err = fmt.Errorf("line %d: %w", a.line, err)
		return a.err
	}
	return nil
}

// add checks a record and appends it to its partition as
// snLen(1) sn payerLen(1) payer kind(1: method<<4 | status) amount(uvarint);
// the payer is kept for SUCCESS records only (no other figure reads it).
func (a *Aggregator) add(line []byte, escapeFree bool) error {
	r := &a.rec
	if !parseFast(line, r, escapeFree) {
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
	h := snHash(r.sn)
	pi := h % Partitions
	a.nrec[pi]++
	a.seen[pi][(h>>8)&15] |= 1 << ((h >> 12) & 63)
	p := &a.parts[pi]
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
//	magic "FPRP0003" | shards uint32 | rows uint64 | offsets [shards+1]uint64 | body
//
// The body holds chunks ordered by shard; offsets[k]..offsets[k+1] (from the file's start)
// is shard k (partitions k, k+shards, ...). A chunk is one partition of the object:
// uvarint partition | form (1 byte) | length (uint32) | its bytes, in one of two forms:
//
//   - records (0): the partition's records as the Aggregator buffered them, each
//     snLen(1) SN payerLen(1) payer kind(1: method<<4 | status) amount(uvarint), the payer
//     for SUCCESS records only;
//   - devices (1): its devices aggregated, each uvarint len + SN, 12 uvarints (success,
//     success amount, failed, timeout, refunded, over limit, SUCCESS per method), uvarint n,
//     then its n distinct SUCCESS payers, each len(1) id fee(1) (1 when the payer made a
//     fee-qualifying face payment).
//
// Why two forms: the payment core cuts a day by time, so whether aggregating an object
// pays depends on how many records a device has in it. A 5 M-row day over 10^5 devices in
// 32 objects leaves ~1.5 records per device per object: aggregating would cost as much as
// the merge and shrink nothing, so such partitions go as records and are aggregated once,
// in the merge. Fewer devices, or bigger objects, leave many records per device: those
// partitions go aggregated, and the partial is a fraction of the records.
const partialMagic = "FPRP0003"

const (
	formRecords = 0
	formDevices = 1
)

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
	// A partial is at most its records and 7 bytes a partition. As for Reserve's slab, the
	// room grows by doubling, so the next objects' partials mostly find it already touched;
	// fresh memory, not slices.Grow (which would zero it all first), in huge pages where the
	// kernel has them (it is written from the start, so only what is written is faulted in).
	out := dst[:0]
	if need := hs + size + 7*Partitions; cap(out) < need {
		out = hugeBuffer(max(need, 2*cap(out)))
	}
	out = out[:hs]
	copy(out, partialMagic)
	binary.LittleEndian.PutUint32(out[8:], uint32(shards))
	binary.LittleEndian.PutUint64(out[12:], uint64(a.rows))
	for k := range shards {
		binary.LittleEndian.PutUint64(out[20+8*k:], uint64(len(out)))
		for p := k; p < Partitions; p += shards {
			part := a.parts[p]
			if len(part) == 0 {
				continue
			}
			out = binary.AppendUvarint(out, uint64(p))
			if !a.dense(p) {
				out = append(out, formRecords)
				out = binary.LittleEndian.AppendUint32(out, uint32(len(part)))
				out = append(out, part...)
				continue
			}
			out = append(out, formDevices, 0, 0, 0, 0)
			at := len(out)
			out = a.encodeDevices(out, part)
			binary.LittleEndian.PutUint32(out[at-4:], uint32(len(out)-at))
		}
	}
	binary.LittleEndian.PutUint64(out[20+8*shards:], uint64(len(out)))
	return out
}

// dense reports whether partition p has at least denseRatio records per device, by the
// linear counting estimate of its distinct SNs: then aggregating it shrinks the partial and
// the merge's work.
func (a *Aggregator) dense(p int) bool {
	set := 0
	for _, w := range a.seen[p] {
		set += bits.OnesCount64(w)
	}
	const m = 16 * 64
	if set == m {
		return false // saturated: thousands of devices; a partition holds a few hundred
	}
	devices := m * math.Log(m/float64(m-set))
	return float64(a.nrec[p]) >= denseRatio*devices
}

// denseRatio is where aggregating a partition starts to pay. Measured on the README's day
// (2.6 records per device per object, and nearly every (device, payer) pair once in an
// object, so aggregating only saves SN repeats): the records form was as fast or faster
// (BenchmarkDay, 1.04/1.12/0.97 against 1.0/1.02/0.96 M rows per CPU-second); a device
// with more records than this in one object repeats its payers and its SN enough to
// aggregate.
const denseRatio = 4

// encodeDevices aggregates one partition's records and appends its devices.
func (a *Aggregator) encodeDevices(out, part []byte) []byte {
	pa := &a.pa
	pa.reset()
	pa.addRecords(part) // written by this Aggregator: well-formed
	a.order, a.start = pa.byDevice(a.order, a.start)
	for i := range pa.devs {
		d := &pa.devs[i]
		out = binary.AppendUvarint(out, uint64(len(d.sn)))
		out = append(out, d.sn...)
		for _, v := range d.c.values() {
			out = binary.AppendUvarint(out, uint64(v))
		}
		out = binary.AppendUvarint(out, uint64(d.distinct))
		for _, j := range a.order[a.start[i]:a.start[i+1]] {
			r := pa.vals[j]
			id := pa.id(r)
			out = append(out, byte(len(id)))
			out = append(out, id...)
			if r.in&feeBit != 0 {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		}
	}
	return out
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
