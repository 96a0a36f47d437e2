package rollup

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unsafe"
)

// Merger adds up partials (or one shard of each) into exact per-device figures. It keeps
// slices of the bodies it is given (no copy): callers must not change a slice after handing
// it to Add.
type Merger struct {
	date  string
	slots []uint32 // open-addressing table of devs indexes + 1, keyed by SN hash
	devs  []mergeDev
	ents  []mergeEnt
	npay  int
}

type mergeDev struct {
	sn   string
	hash uint64
	c    Counts
	npay uint32
	end  uint32
}

// mergeEnt is one partial's record of a device: which device, and its payers' bytes.
type mergeEnt struct {
	dev  uint32
	pays []byte
}

// mergedPayer is one payer of a device's union: its hash, and where its entry is
// (ents[ent].pays[off:]: len, id, fee byte). 16 bytes, sorted by hash.
type mergedPayer struct {
	h   uint64
	ent uint32
	off uint32
}

// NewMerger returns a Merger for the figures of date. sizeHint is the bytes it will be
// given (0 if unknown), to size its tables once.
func NewMerger(date string, sizeHint int) *Merger {
	m := &Merger{date: date, slots: make([]uint32, 1<<10)}
	if sizeHint > 0 {
		m.ents = make([]mergeEnt, 0, sizeHint/64)      // a device record with a payer is ~70 bytes
		m.devs = make([]mergeDev, 0, sizeHint/(64*40)) // a device is seen in many partials
		for len(m.slots) < 2*cap(m.devs) {
			m.slots = make([]uint32, 2*len(m.slots))
		}
	}
	return m
}

var errCorrupt = errors.New("corrupt rollup partial")

// Add merges a partial's device records: one shard's byte range, or a whole body.
func (m *Merger) Add(body []byte) error {
	i := 0
	uv := func() (uint64, error) {
		v, n := binary.Uvarint(body[i:])
		if n <= 0 {
			return 0, errCorrupt
		}
		i += n
		return v, nil
	}
	var vals [6 + numMethods]int64
	for i < len(body) {
		n, err := uv()
		if err != nil || n == 0 || n > uint64(len(body)-i) {
			return fmt.Errorf("%w: device", errCorrupt)
		}
		sn := unsafe.String(&body[i], int(n))
		i += int(n)
		for k := range vals {
			v, err := uv()
			if err != nil {
				return err
			}
			vals[k] = int64(v)
		}
		var c Counts
		c.setValues(&vals)
		di := m.device(sn)
		d := &m.devs[di]
		d.c.add(&c)
		n, err = uv()
		if err != nil || n > uint64(len(body)-i)/11 {
			return fmt.Errorf("%w: payer count", errCorrupt)
		}
		start := i
		for range n {
			// hash(8) len(1) id fee(1)
			if len(body)-i < 11 || body[i+8] == 0 || len(body)-i < 10+int(body[i+8]) {
				return fmt.Errorf("%w: payer", errCorrupt)
			}
			i += 10 + int(body[i+8])
		}
		if n > 0 {
			d.npay += uint32(n)
			m.npay += int(n)
			m.ents = append(m.ents, mergeEnt{dev: di, pays: body[start:i]})
		}
	}
	return nil
}

func (m *Merger) device(sn string) uint32 {
	h := snHash(unsafe.Slice(unsafe.StringData(sn), len(sn)))
	for {
		mask := uint64(len(m.slots) - 1)
		for i := (h >> 8) & mask; ; i = (i + 1) & mask {
			s := m.slots[i]
			if s == 0 {
				if 2*(len(m.devs)+1) > len(m.slots) {
					m.grow()
					break
				}
				m.devs = append(m.devs, mergeDev{sn: sn, hash: h})
				m.slots[i] = uint32(len(m.devs))
				return uint32(len(m.devs) - 1)
			}
			if d := &m.devs[s-1]; d.hash == h && d.sn == sn {
				return s - 1
			}
		}
	}
}

func (m *Merger) grow() {
	m.slots = make([]uint32, 2*len(m.slots))
	mask := uint64(len(m.slots) - 1)
	for idx := range m.devs {
		i := (m.devs[idx].hash >> 8) & mask
		for m.slots[i] != 0 {
			i = (i + 1) & mask
		}
		m.slots[i] = uint32(idx) + 1
	}
}

// Devices is the number of devices merged so far.
func (m *Merger) Devices() int { return len(m.devs) }

// Figures returns the merged figures, one per device, ordered by SN.
func (m *Merger) Figures() []Figures {
	// Payers grouped by device (a counting sort), as hashes with a reference to the id.
	var at uint32
	for i := range m.devs {
		at += m.devs[i].npay
		m.devs[i].end = at
	}
	grouped := make([]mergedPayer, m.npay)
	for e := range m.ents {
		ent := &m.ents[e]
		d := &m.devs[ent.dev]
		p := ent.pays
		for off := 0; off < len(p); off += 10 + int(p[off+8]) {
			d.end--
			grouped[d.end] = mergedPayer{h: binary.LittleEndian.Uint64(p[off:]), ent: uint32(e), off: uint32(off + 8)}
		}
	}
	id := func(p *mergedPayer) []byte {
		b := m.ents[p.ent].pays[p.off:]
		return b[1 : 1+b[0]]
	}
	fee := func(p *mergedPayer) bool {
		b := m.ents[p.ent].pays[p.off:]
		return b[1+b[0]] == 1
	}
	out := make([]Figures, 0, len(m.devs))
	for i := range m.devs {
		d := &m.devs[i]
		ps := grouped[d.end : d.end+d.npay]
		sortMergedByHash(ps)
		// Each part's payers are distinct already; across parts they repeat. The same hash
		// is the same payer unless the ids differ (a collision): that run is then ordered
		// by id too, so the counts stay exact.
		var distinct, fees int64
		for j := 0; j < len(ps); {
			k := j + 1
			for k < len(ps) && ps[k].h == ps[j].h {
				k++
			}
			run := ps[j:k]
			for s := 1; s < len(run); s++ {
				if !bytes.Equal(id(&run[s]), id(&run[0])) {
					slices.SortFunc(run, func(x, y mergedPayer) int { return bytes.Compare(id(&x), id(&y)) })
					break
				}
			}
			for s := 0; s < len(run); {
				p, f := id(&run[s]), false
				for ; s < len(run) && bytes.Equal(id(&run[s]), p); s++ {
					f = f || fee(&run[s])
				}
				distinct++
				if f {
					fees++
				}
			}
			j = k
		}
		out = append(out, figuresOf(d.sn, m.date, &d.c, distinct, fees))
	}
	slices.SortFunc(out, func(x, y Figures) int { return cmp.Compare(x.DeviceSN, y.DeviceSN) })
	return out
}

// sortMergedByHash orders a device's payers by hash (insertion sort when few).
func sortMergedByHash(ps []mergedPayer) {
	if len(ps) > 24 {
		slices.SortFunc(ps, func(x, y mergedPayer) int { return cmp.Compare(x.h, y.h) })
		return
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].h < ps[j-1].h; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// ProviderTotals are one deployment provider's additive figures for a day, over the devices
// confirmed to it on that day. Distinct payers do not add up across devices, so they are
// not here.
type ProviderTotals struct {
	Provider         string           `json:"provider"`
	Date             string           `json:"date"`
	Devices          int64            `json:"devices"`
	SuccessCount     int64            `json:"success_count"`
	SuccessAmountFen int64            `json:"success_amount_fen"`
	FailedCount      int64            `json:"failed_count"`
	TimeoutCount     int64            `json:"timeout_count"`
	RefundedCount    int64            `json:"refunded_count"`
	OverLimitCount   int64            `json:"over_limit_count"`
	ByMethod         map[string]int64 `json:"by_method"`
}

// Totals sums figs per provider; providerOf maps an SN to its confirmed provider that day
// (devices absent from it belong to nobody and count nowhere).
func Totals(date string, figs []Figures, providerOf map[string]string) []ProviderTotals {
	by := map[string]*ProviderTotals{}
	for i := range figs {
		f := &figs[i]
		p, ok := providerOf[f.DeviceSN]
		if !ok {
			continue
		}
		t := by[p]
		if t == nil {
			t = &ProviderTotals{Provider: p, Date: date, ByMethod: map[string]int64{}}
			for _, m := range Methods {
				t.ByMethod[m] = 0
			}
			by[p] = t
		}
		t.Devices++
		t.SuccessCount += f.SuccessCount
		t.SuccessAmountFen += f.SuccessAmountFen
		t.FailedCount += f.FailedCount
		t.TimeoutCount += f.TimeoutCount
		t.RefundedCount += f.RefundedCount
		t.OverLimitCount += f.OverLimitCount
		for m, n := range f.ByMethod {
			t.ByMethod[m] += n
		}
	}
	out := make([]ProviderTotals, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(x, y ProviderTotals) int { return cmp.Compare(x.Provider, y.Provider) })
	return out
}
