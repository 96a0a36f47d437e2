package rollup

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unsafe"
)

// Merger adds up partials (or one shard of each) into exact per-device figures. Payer ids
// are kept as strings pointing into the partials' bytes (no copy): callers must not change
// a slice after handing it to Add.
type Merger struct {
	date  string
	slots []uint32 // open-addressing table of devs indexes + 1, keyed by SN hash
	devs  []mergeDev
	pays  []mergedPayer
}

type mergeDev struct {
	sn    string
	hash  uint64
	c     Counts
	parts uint32
	npay  uint32
	end   uint32
}

type mergedPayer struct {
	id  string
	dev uint32
	fee bool
}

// NewMerger returns a Merger for the figures of date. sizeHint is the bytes it will be
// given (0 if unknown), to size its tables once.
func NewMerger(date string, sizeHint int) *Merger {
	m := &Merger{date: date, slots: make([]uint32, 1<<10)}
	if sizeHint > 0 {
		m.pays = make([]mergedPayer, 0, sizeHint/32)   // a payer takes at least ~30 bytes of a partial
		m.devs = make([]mergeDev, 0, sizeHint/(32*40)) // a device is seen in many partials
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
	str := func() (string, error) {
		n, err := uv()
		if err != nil || n == 0 || n > uint64(len(body)-i) {
			return "", errCorrupt
		}
		s := unsafe.String(&body[i], int(n))
		i += int(n)
		return s, nil
	}
	var vals [6 + numMethods]int64
	for i < len(body) {
		sn, err := str()
		if err != nil {
			return fmt.Errorf("%w: device", errCorrupt)
		}
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
		d.parts++
		n, err := uv()
		if err != nil || n > uint64(len(body)-i) {
			return fmt.Errorf("%w: payer count", errCorrupt)
		}
		d.npay += uint32(n)
		for range n {
			id, err := str()
			if err != nil || i >= len(body) {
				return fmt.Errorf("%w: payer", errCorrupt)
			}
			m.pays = append(m.pays, mergedPayer{id: id, dev: di, fee: body[i] == 1})
			i++
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
	// Payers grouped by device (a counting sort).
	var at uint32
	for i := range m.devs {
		at += m.devs[i].npay
		m.devs[i].end = at
	}
	grouped := make([]mergedPayer, len(m.pays))
	for _, p := range m.pays {
		d := &m.devs[p.dev]
		d.end--
		grouped[d.end] = p
	}
	out := make([]Figures, 0, len(m.devs))
	for i := range m.devs {
		d := &m.devs[i]
		ps := grouped[d.end : d.end+d.npay]
		if d.parts > 1 {
			// Each part's payers are distinct already; across parts they repeat.
			slices.SortFunc(ps, func(x, y mergedPayer) int { return cmp.Compare(x.id, y.id) })
		}
		var distinct, fee int64
		for j := 0; j < len(ps); {
			id, f := ps[j].id, false
			for ; j < len(ps) && ps[j].id == id; j++ {
				f = f || ps[j].fee
			}
			distinct++
			if f {
				fee++
			}
		}
		out = append(out, figuresOf(d.sn, m.date, &d.c, distinct, fee))
	}
	slices.SortFunc(out, func(x, y Figures) int { return cmp.Compare(x.DeviceSN, y.DeviceSN) })
	return out
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
