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
	date string
	devs map[string]*mergeAcc
}

type mergeAcc struct {
	c      Counts
	parts  int
	payers []mergedPayer
}

type mergedPayer struct {
	id  string
	fee bool
}

// NewMerger returns a Merger for the figures of date.
func NewMerger(date string) *Merger {
	return &Merger{date: date, devs: make(map[string]*mergeAcc, 1024)}
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
		if err != nil || n > uint64(len(body)-i) {
			return "", errCorrupt
		}
		if n == 0 {
			return "", nil
		}
		s := unsafe.String(&body[i], int(n))
		i += int(n)
		return s, nil
	}
	var vals [6 + numMethods]int64
	for i < len(body) {
		sn, err := str()
		if err != nil || sn == "" {
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
		acc := m.devs[sn]
		if acc == nil {
			acc = &mergeAcc{}
			m.devs[sn] = acc
		}
		acc.c.add(&c)
		acc.parts++
		n, err := uv()
		if err != nil || n > uint64(len(body)-i) {
			return fmt.Errorf("%w: payer count", errCorrupt)
		}
		acc.payers = slices.Grow(acc.payers, int(n))
		for range n {
			id, err := str()
			if err != nil || i >= len(body) {
				return fmt.Errorf("%w: payer", errCorrupt)
			}
			acc.payers = append(acc.payers, mergedPayer{id: id, fee: body[i] == 1})
			i++
		}
	}
	return nil
}

// Devices is the number of devices merged so far.
func (m *Merger) Devices() int { return len(m.devs) }

// Figures returns the merged figures, one per device, ordered by SN.
func (m *Merger) Figures() []Figures {
	out := make([]Figures, 0, len(m.devs))
	for sn, acc := range m.devs {
		var distinct, fee int64
		ps := acc.payers
		if acc.parts > 1 {
			// Each part's payers are distinct already; across parts they repeat.
			slices.SortFunc(ps, func(x, y mergedPayer) int { return cmp.Compare(x.id, y.id) })
		}
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
		out = append(out, figuresOf(sn, m.date, &acc.c, distinct, fee))
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
