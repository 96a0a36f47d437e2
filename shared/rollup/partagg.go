package rollup

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
	"unsafe"
)

// partAgg aggregates the devices of one partition (1/Partitions of the SNs): few enough that
// its tables stay in cache. The Aggregator runs one over an object's partition when the
// partition has several records per device, and the Merger over a partition's chunks of
// every partial. Its input comes in two forms (see the partial layout): records, as the
// Aggregator buffered them, and devices, as it encoded them. Two passes over the input: the
// counters and each device's payer count, then each payer put straight into its device's
// run (a counting sort by device), hashed so a device's run is sorted as integers.
type partAgg struct {
	slots  []uint32 // open-addressing table of devs indexes + 1, keyed by SN hash
	devs   []devAcc
	recDev []uint32 // the device of each payer group, in input order (pass 1 → pass 2)
	pays   []payer
}

type devAcc struct {
	sn     []byte // into the input
	hash   uint64
	c      Counts
	npay   uint32
	payEnd uint32
}

// payer is one of a device's payers: its hash, its id (into the input) and whether its
// payment counts for the fee (for a merged one: any of them did).
type payer struct {
	h   uint64
	id  string
	fee bool
}

func (pa *partAgg) reset() {
	if pa.slots == nil {
		pa.slots = make([]uint32, 1<<10)
	}
	clear(pa.slots)
	pa.devs, pa.recDev = pa.devs[:0], pa.recDev[:0]
}

// count1 is pass 1 over records: snLen(1) sn payerLen(1) payer kind(1) amount(uvarint).
func (pa *partAgg) count1(recs []byte) {
	for i := 0; i < len(recs); {
		n := int(recs[i])
		sn := recs[i+1 : i+1+n]
		i += 1 + n
		i += 1 + int(recs[i])
		kind := recs[i]
		amount, m := binary.Uvarint(recs[i+1:])
		i += 1 + m
		di := pa.device(sn)
		d := &pa.devs[di]
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
			pa.recDev = append(pa.recDev, di)
		case StatusFailed:
			d.c.Failed++
		case StatusTimeout:
			d.c.Timeout++
		case StatusRefunded:
			d.c.Refunded++
		}
	}
}

// countDevs is pass 1 over device entries: uvarint len + SN, 12 uvarint counters, uvarint
// n, n payers (len(1) id fee(1)). The input was checked (checkDevices).
func (pa *partAgg) countDevs(ents []byte) {
	var vals [6 + numMethods]int64
	for i := 0; i < len(ents); {
		n, w := binary.Uvarint(ents[i:])
		i += w
		sn := ents[i : i+int(n)]
		i += int(n)
		for k := range vals {
			v, w := binary.Uvarint(ents[i:])
			vals[k] = int64(v)
			i += w
		}
		var c Counts
		c.setValues(&vals)
		di := pa.device(sn)
		d := &pa.devs[di]
		d.c.add(&c)
		np, w := binary.Uvarint(ents[i:])
		i += w
		for range np {
			i += 2 + int(ents[i])
		}
		if np > 0 {
			d.npay += uint32(np)
			pa.recDev = append(pa.recDev, di)
		}
	}
}

// runs ends pass 1: each device's run of pays.
func (pa *partAgg) runs() {
	var at uint32
	for i := range pa.devs {
		at += pa.devs[i].npay
		pa.devs[i].payEnd = at
	}
	if cap(pa.pays) < int(at) {
		pa.pays = make([]payer, at, 2*at)
	}
	pa.pays = pa.pays[:at]
}

// place1 is pass 2 over records; r is the next recDev index, returned advanced.
func (pa *partAgg) place1(recs []byte, r int) int {
	for i := 0; i < len(recs); {
		i += 1 + int(recs[i])
		pn := int(recs[i])
		id := recs[i+1 : i+1+pn]
		i += 1 + pn
		kind := recs[i]
		amount, m := binary.Uvarint(recs[i+1:])
		i += 1 + m
		if int(kind&15) != StatusSuccess {
			continue
		}
		d := &pa.devs[pa.recDev[r]]
		r++
		d.payEnd--
		pa.pays[d.payEnd] = payer{h: payerHash(id), id: unsafe.String(&id[0], len(id)),
			fee: int(kind>>4) == MethodFace && amount >= FeeMinFen}
	}
	return r
}

// placeDevs is pass 2 over device entries.
func (pa *partAgg) placeDevs(ents []byte, r int) int {
	for i := 0; i < len(ents); {
		n, w := binary.Uvarint(ents[i:])
		i += w + int(n)
		for range 6 + numMethods {
			_, w := binary.Uvarint(ents[i:])
			i += w
		}
		np, w := binary.Uvarint(ents[i:])
		i += w
		if np == 0 {
			continue
		}
		d := &pa.devs[pa.recDev[r]]
		r++
		for range np {
			l := int(ents[i])
			id := ents[i+1 : i+1+l]
			d.payEnd--
			pa.pays[d.payEnd] = payer{h: payerHash(id), id: unsafe.String(&id[0], l), fee: ents[i+1+l] == 1}
			i += 2 + l
		}
	}
	return r
}

// distinct sorts d's payers and calls f once per distinct payer, with whether any of its
// payments counted for the fee. Sorted by hash; the same hash is the same payer unless the
// ids differ (a collision), and then that run is ordered by id as well: exact, not probable.
func (pa *partAgg) distinct(d *devAcc, f func(id string, fee bool)) {
	ps := pa.pays[d.payEnd : d.payEnd+d.npay]
	sortByHash(ps)
	for j := 0; j < len(ps); {
		k := j + 1
		for k < len(ps) && ps[k].h == ps[j].h {
			k++
		}
		run := ps[j:k]
		for s := 1; s < len(run); s++ {
			if run[s].id != run[0].id {
				slices.SortFunc(run, func(x, y payer) int { return cmp.Compare(x.id, y.id) })
				break
			}
		}
		for s := 0; s < len(run); {
			id, fee := run[s].id, false
			for ; s < len(run) && run[s].id == id; s++ {
				fee = fee || run[s].fee
			}
			f(id, fee)
		}
		j = k
	}
}

// sortByHash orders payers by hash: insertion sort for a few, pdqsort past that.
func sortByHash(ps []payer) {
	if len(ps) > 24 {
		slices.SortFunc(ps, func(x, y payer) int { return cmp.Compare(x.h, y.h) })
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
