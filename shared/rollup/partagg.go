package rollup

import (
	"bytes"
	"encoding/binary"
)

// partAgg aggregates the devices of one partition (1/Partitions of the SNs): few enough that
// its tables stay in cache. The Aggregator runs one over an object's partition when the
// partition has several records per device, and the Merger over a partition's chunks of
// every partial. Its input comes in two forms (see the partial layout): records, as the
// Aggregator buffered them, and devices, as it encoded them.
//
// One pass over the input: each record's counters go to its device, and each SUCCESS payer
// into a hash set of (device, payer) pairs, so distinct payers are counted as they arrive:
// no per-device payer lists, no sorting. The set is keyed by a hash; equal keys are checked
// against the device and the payer's id, so a hash collision cannot merge two payers:
// exact, not probable.
type partAgg struct {
	slots []uint32 // open-addressing table of devs indexes + 1, keyed by SN hash
	devs  []devAcc

	// in are the inputs added since reset; the set refers to a payer id by (input, offset of
	// its length byte), so it holds no pointers for the GC to scan
	in   [][]byte
	keys []uint64 // the (device, payer) set: a mixed hash, 0 for an empty slot
	vals []payRef // the pair in keys' slot
	npay int      // pairs in the set
}

type devAcc struct {
	sn       []byte // into the input
	hash     uint64
	c        Counts
	distinct uint32 // distinct SUCCESS payers
	fee      uint32 // of which with a fee-qualifying face payment
}

// payRef is one distinct (device, payer) pair of the set.
type payRef struct {
	dev uint32
	in  uint32 // input index; feeBit when the payer made a fee-qualifying payment
	off uint32 // offset in the input of the id's length byte
}

const feeBit = 1 << 31

func (pa *partAgg) reset() {
	if pa.slots == nil {
		pa.slots = make([]uint32, 1<<10)
		pa.keys = make([]uint64, 1<<12)
		pa.vals = make([]payRef, 1<<12)
	}
	clear(pa.slots)
	if pa.npay > 0 {
		clear(pa.keys)
	}
	clear(pa.in)
	pa.devs, pa.in, pa.npay = pa.devs[:0], pa.in[:0], 0
}

// addRecords adds records: snLen(1) sn payerLen(1) payer kind(1) amount(uvarint). It
// reports false, having added part of them, when recs is not a well-formed run of records
// (the Aggregator writes only well-formed ones; a damaged partial must be refused, not read
// past its end).
func (pa *partAgg) addRecords(recs []byte) bool {
	in := uint32(len(pa.in))
	pa.in = append(pa.in, recs)
	for i := 0; i < len(recs); {
		n := int(recs[i])
		if n == 0 || n > MaxSNLength || len(recs)-i < n+4 {
			return false
		}
		sn := recs[i+1 : i+1+n]
		i += 1 + n
		pOff := i
		pn := int(recs[i])
		if len(recs)-i < pn+3 {
			return false
		}
		i += 1 + pn
		kind := recs[i]
		method, status := int(kind>>4), int(kind&15)
		if method >= numMethods || status >= numStatuses || (pn > 0) != (status == StatusSuccess) {
			return false
		}
		amount, m := binary.Uvarint(recs[i+1:])
		if m <= 0 {
			return false
		}
		i += 1 + m
		di := pa.device(sn)
		d := &pa.devs[di]
		if method == MethodFace && amount > FaceLimitFen {
			d.c.OverLimit++
		}
		switch status {
		case StatusSuccess:
			d.c.Success++
			d.c.SuccessAmountFen += int64(amount)
			d.c.ByMethod[method]++
			pa.addPayer(di, in, uint32(pOff), method == MethodFace && amount >= FeeMinFen)
		case StatusFailed:
			d.c.Failed++
		case StatusTimeout:
			d.c.Timeout++
		case StatusRefunded:
			d.c.Refunded++
		}
	}
	return true
}

// addDevices adds device entries: uvarint len + SN, 12 uvarint counters, uvarint n, n payers
// (len(1) id fee(1)). It reports false, as addRecords, on anything else.
func (pa *partAgg) addDevices(ents []byte) bool {
	in := uint32(len(pa.in))
	pa.in = append(pa.in, ents)
	var vals [6 + numMethods]int64
	for i := 0; i < len(ents); {
		n, w := binary.Uvarint(ents[i:])
		if w <= 0 || n == 0 || n > MaxSNLength || uint64(len(ents)-i-w) < n {
			return false
		}
		i += w
		sn := ents[i : i+int(n)]
		i += int(n)
		for k := range vals {
			v, w := binary.Uvarint(ents[i:])
			if w <= 0 {
				return false
			}
			vals[k] = int64(v)
			i += w
		}
		np, w := binary.Uvarint(ents[i:])
		if w <= 0 || np > uint64(len(ents)-i-w)/3 {
			return false
		}
		i += w
		var c Counts
		c.setValues(&vals)
		di := pa.device(sn)
		pa.devs[di].c.add(&c)
		for range np {
			if len(ents)-i < 3 || ents[i] == 0 || len(ents)-i < int(ents[i])+2 || ents[i+1+int(ents[i])] > 1 {
				return false
			}
			l := int(ents[i])
			pa.addPayer(di, in, uint32(i), ents[i+1+l] == 1)
			i += 2 + l
		}
	}
	return true
}

// id is the payer id a payRef points at.
func (pa *partAgg) id(r payRef) []byte {
	b := pa.in[r.in&^feeBit]
	return b[r.off+1 : r.off+1+uint32(b[r.off])]
}

// addPayer adds device di's payer whose length byte is at pa.in[in][off].
func (pa *partAgg) addPayer(di, in, off uint32, fee bool) {
	if 2*(pa.npay+1) > len(pa.keys) {
		pa.growSet()
	}
	id := pa.id(payRef{in: in, off: off})
	key := pairKey(payerHash(id), di)
	d := &pa.devs[di]
	mask := uint64(len(pa.keys) - 1)
	for i := key & mask; ; i = (i + 1) & mask {
		k := pa.keys[i]
		if k == 0 {
			pa.keys[i] = key
			r := payRef{dev: di, in: in, off: off}
			if fee {
				r.in |= feeBit
				d.fee++
			}
			pa.vals[i] = r
			pa.npay++
			d.distinct++
			return
		}
		if k == key {
			if r := &pa.vals[i]; r.dev == di && bytes.Equal(pa.id(*r), id) {
				if fee && r.in&feeBit == 0 {
					r.in |= feeBit
					d.fee++
				}
				return
			}
		}
	}
}

// pairKey mixes a payer's hash with its device's index in the partition; never 0 (empty).
func pairKey(ph uint64, di uint32) uint64 {
	k := (ph ^ uint64(di)*0x9E3779B97F4A7C15) * 0xBF58476D1CE4E5B9
	k ^= k >> 32
	if k == 0 {
		k = 1
	}
	return k
}

func (pa *partAgg) growSet() {
	keys, vals := pa.keys, pa.vals
	pa.keys = make([]uint64, 2*len(keys))
	pa.vals = make([]payRef, 2*len(vals))
	mask := uint64(len(pa.keys) - 1)
	for j, k := range keys {
		if k == 0 {
			continue
		}
		i := k & mask
		for pa.keys[i] != 0 {
			i = (i + 1) & mask
		}
		pa.keys[i], pa.vals[i] = k, vals[j]
	}
}

// byDevice returns the set's pairs grouped by device, in device order (a counting sort):
// order[start[d]:start[d+1]] are device d's, as indexes into vals.
func (pa *partAgg) byDevice(order []uint32, start []uint32) ([]uint32, []uint32) {
	start = append(start[:0], 0)
	var at uint32
	for i := range pa.devs {
		at += pa.devs[i].distinct
		start = append(start, at)
	}
	if cap(order) < int(at) {
		order = make([]uint32, at)
	}
	order = order[:at]
	fill := start[:len(start)-1]
	for i, k := range pa.keys {
		if k == 0 {
			continue
		}
		d := pa.vals[i].dev
		order[fill[d]] = uint32(i)
		fill[d]++
	}
	// fill[d] now is where device d's pairs end, i.e. the next device's start: shift back
	copy(start[1:], fill)
	start[0] = 0
	return order, start
}

// payerHashMask is all ones; a test narrows it to force collisions.
var payerHashMask = ^uint64(0)

// payerHash is a payer id's 64-bit hash (a different mix from the SN's: only its spread
// matters, as equal hashes are checked against the ids).
func payerHash(b []byte) uint64 { return snHash(b) * 0xD6E8FEB86659FD93 & payerHashMask }

// device returns the index of sn's accumulator, adding one.
func (pa *partAgg) device(sn []byte) uint32 {
	h := snHash(sn)
	for {
		mask := uint64(len(pa.slots) - 1)
		for i := (h >> 8) & mask; ; i = (i + 1) & mask {
			s := pa.slots[i]
			if s == 0 {
				if 2*(len(pa.devs)+1) > len(pa.slots) {
					pa.grow()
					break
				}
				idx := uint32(len(pa.devs))
				pa.devs = append(pa.devs, devAcc{sn: sn, hash: h})
				pa.slots[i] = idx + 1
				return idx
			}
			if d := &pa.devs[s-1]; d.hash == h && bytes.Equal(d.sn, sn) {
				return s - 1
			}
		}
	}
}

func (pa *partAgg) grow() {
	pa.slots = make([]uint32, 2*len(pa.slots))
	mask := uint64(len(pa.slots) - 1)
	for idx := range pa.devs {
		i := (pa.devs[idx].hash >> 8) & mask
		for pa.slots[i] != 0 {
			i = (i + 1) & mask
		}
		pa.slots[i] = uint32(idx) + 1
	}
}
