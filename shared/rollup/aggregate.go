package rollup

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/gzip"
)

// MaxLine bounds one record's line. A record is ~200 bytes; a longer line is not ours.
const MaxLine = 64 << 10

// Aggregator is the per-object step: it reads a day's records once, keeping per device its
// counters and the payers of its SUCCESS transactions (bytes in one arena, no allocation per
// record), and encodes the result as a partial (Encode). One Aggregator per object; not safe
// for concurrent use.
type Aggregator struct {
	date    string
	lo, hi  int64
	index   map[string]int32 // SN -> devs index
	devs    []devAcc
	arena   []byte // payer ids, back to back
	rows    int64
	scan    scanner
	rec     record
	lineBuf []byte
}

type devAcc struct {
	sn     string
	c      Counts
	payers []payerRef // one per SUCCESS record (duplicates until Encode)
}

// payerRef is a payer id in the arena, with whether that payment counts for the fee.
type payerRef struct {
	off uint32
	n   uint16
	fee bool
}

// NewAggregator returns an Aggregator for date (YYYY-MM-DD, Asia/Shanghai): records whose ts
// falls outside that day are refused.
func NewAggregator(date string) (*Aggregator, error) {
	lo, hi, err := ParseDate(date)
	if err != nil {
		return nil, err
	}
	return &Aggregator{date: date, lo: lo, hi: hi, index: make(map[string]int32, 1024)}, nil
}

// Rows is the number of records read.
func (a *Aggregator) Rows() int64 { return a.rows }

// Devices is the number of devices seen.
func (a *Aggregator) Devices() int { return len(a.devs) }

// ReadGzip aggregates a gzip-compressed NDJSON stream, decompressing as it reads (an object
// is never held whole).
func (a *Aggregator) ReadGzip(r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a gzip stream: %w", err)
	}
	defer zr.Close()
	return a.Read(zr)
}

// Read aggregates an NDJSON stream. It fails on the first bad record, naming its line: a
// day's figures are all right or not written.
func (a *Aggregator) Read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 256<<10)
	for line := int64(1); ; line++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it, within MaxLine.
			a.lineBuf = append(a.lineBuf[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) && len(a.lineBuf) <= MaxLine {
				b, err = br.ReadSlice('\n')
				a.lineBuf = append(a.lineBuf, b...)
			}
			if len(a.lineBuf) > MaxLine {
				return fmt.Errorf("line %d: longer than %d bytes", line, MaxLine)
			}
			b = a.lineBuf
		}
		if len(b) > 0 {
			if perr := a.add(b); perr != nil {
				return fmt.Errorf("line %d: %w", line, perr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
}

func (a *Aggregator) add(line []byte) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	r := &a.rec
	if err := a.scan.parse(line, r); err != nil {
		return err
	}
	switch {
	case r.ts < a.lo || r.ts >= a.hi:
		return fmt.Errorf("ts %d is not on %s (Asia/Shanghai)", r.ts, a.date)
	case r.amount < 0:
		return fmt.Errorf("amount_fen %d is negative", r.amount)
	case len(r.sn) == 0 || len(r.sn) > 64:
		return fmt.Errorf("device_sn must be 1 to 64 characters")
	case len(r.payer) == 0 || len(r.payer) > 256:
		return fmt.Errorf("payer must be 1 to 256 characters")
	}
	di, ok := a.index[string(r.sn)]
	if !ok {
		di = int32(len(a.devs))
		sn := string(r.sn)
		a.index[sn] = di
		a.devs = append(a.devs, devAcc{sn: sn})
	}
	d := &a.devs[di]
	a.rows++
	if r.method == MethodFace && r.amount > FaceLimitFen {
		d.c.OverLimit++
	}
	switch r.status {
	case StatusSuccess:
		d.c.Success++
		d.c.SuccessAmountFen += r.amount
		d.c.ByMethod[r.method]++
		if len(a.arena) > 1<<32-1024 {
			return errors.New("object too large for one aggregation (4 GiB of payer ids)")
		}
		d.payers = append(d.payers, payerRef{off: uint32(len(a.arena)), n: uint16(len(r.payer)),
			fee: r.method == MethodFace && r.amount >= FeeMinFen})
		a.arena = append(a.arena, r.payer...)
	case StatusFailed:
		d.c.Failed++
	case StatusTimeout:
		d.c.Timeout++
	case StatusRefunded:
		d.c.Refunded++
	}
	return nil
}

// Partial file layout (little-endian), written by Aggregator.Encode:
//
//	magic "FPRP0001" | shards uint32 | rows uint64 | offsets [shards+1]uint64 | body
//
// The body holds the devices ordered by (shard, SN); offsets[k]..offsets[k+1] (from the
// file's start) is shard k. A device: uvarint len + SN, 12 uvarints (success, success
// amount, failed, timeout, refunded, over limit, SUCCESS per method), uvarint n, then n
// distinct SUCCESS payers in byte order, each uvarint len + id + one byte (1 when the payer
// made a fee-qualifying face payment).
const partialMagic = "FPRP0001"

// HeaderSize is the size of a partial's header for shards shards: what a shard merge reads
// first, to find its byte range.
func HeaderSize(shards int) int { return len(partialMagic) + 4 + 8 + 8*(shards+1) }

// Encode returns the partial of what was read, its devices spread over shards shards.
func (a *Aggregator) Encode(shards int) []byte {
	order := make([]int32, len(a.devs))
	shardOf := make([]int32, len(a.devs))
	for i := range a.devs {
		order[i] = int32(i)
		shardOf[i] = int32(ShardOf([]byte(a.devs[i].sn), shards))
	}
	slices.SortFunc(order, func(x, y int32) int {
		if c := cmp.Compare(shardOf[x], shardOf[y]); c != 0 {
			return c
		}
		return cmp.Compare(a.devs[x].sn, a.devs[y].sn)
	})
	hs := HeaderSize(shards)
	out := make([]byte, hs, hs+len(a.arena)+len(a.devs)*48)
	copy(out, partialMagic)
	binary.LittleEndian.PutUint32(out[8:], uint32(shards))
	binary.LittleEndian.PutUint64(out[12:], uint64(a.rows))
	offsets := out[20:]
	k := 0
	putOffset := func(upTo int) {
		for ; k <= upTo; k++ {
			binary.LittleEndian.PutUint64(offsets[8*k:], uint64(len(out)))
		}
	}
	for _, i := range order {
		putOffset(int(shardOf[i]))
		d := &a.devs[i]
		out = binary.AppendUvarint(out, uint64(len(d.sn)))
		out = append(out, d.sn...)
		for _, v := range d.c.values() {
			out = binary.AppendUvarint(out, uint64(v))
		}
		ps := d.payers
		slices.SortFunc(ps, func(x, y payerRef) int { return bytes.Compare(a.payer(x), a.payer(y)) })
		// distinct payers: count, then write each once with its fee flag OR-ed over duplicates
		n := 0
		for j := range ps {
			if j == 0 || !bytes.Equal(a.payer(ps[j]), a.payer(ps[j-1])) {
				n++
			}
		}
		out = binary.AppendUvarint(out, uint64(n))
		for j := 0; j < len(ps); {
			p := a.payer(ps[j])
			fee := false
			for ; j < len(ps) && bytes.Equal(a.payer(ps[j]), p); j++ {
				fee = fee || ps[j].fee
			}
			out = binary.AppendUvarint(out, uint64(len(p)))
			out = append(out, p...)
			if fee {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		}
	}
	putOffset(shards)
	return out
}

func (a *Aggregator) payer(p payerRef) []byte { return a.arena[p.off : p.off+uint32(p.n)] }

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
