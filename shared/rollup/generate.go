package rollup

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// GenConfig describes a generated day.
type GenConfig struct {
	Date    string // YYYY-MM-DD, Asia/Shanghai
	Devices int
	Rows    int64
	Objects int
	Seed    uint64
	Workers int // objects written in parallel (default 1)
}

// ObjectName is the name of generated object i (under DayPrefix).
func ObjectName(i int) string { return fmt.Sprintf("part-%05d.ndjson.gz", i) }

// Generate writes a realistic day as cfg.Objects gzip NDJSON objects, calling open for each
// (by ObjectName). The same config always gives the same bytes.
//
// What makes it realistic: the payment core cuts the day by time (object k holds the k-th
// slice of the day), so a device appears in many objects; device activity is heavy-tailed
// (a few busy tills, many quiet ones); payers repeat — each device has its regulars, and a
// shared pool pays at many devices; methods, statuses and amounts follow a store's mix
// (face payment most common, a few percent failed, timed out or refunded, small amounts
// under 2 yuan, and now and then a face payment over the 1000-yuan limit); the hours follow
// a shop's day (breakfast, lunch and dinner peaks). SNs are valid Android-rule SNs
// (DOMAIN.md "Device serial numbers").
func Generate(cfg GenConfig, open func(name string) (io.WriteCloser, error)) error {
	lo, _, err := ParseDate(cfg.Date)
	if err != nil {
		return err
	}
	if cfg.Devices < 1 || cfg.Objects < 1 || cfg.Rows < 0 {
		return fmt.Errorf("devices and objects must be at least 1, rows at least 0")
	}
	day := newDay(cfg)
	counts := splitRows(cfg.Rows, cfg.Objects)
	workers := max(cfg.Workers, 1)
	var wg sync.WaitGroup
	errs := make([]error, cfg.Objects)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for k := range next {
				errs[k] = day.writeObject(k, lo, counts[k], open)
			}
		})
	}
	for k := range cfg.Objects {
		next <- k
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// hourWeights is a shop's day, 00:00 to 23:00 (Asia/Shanghai).
var hourWeights = [24]float64{1, 0.5, 0.3, 0.2, 0.2, 0.5, 2, 5, 7, 5, 4, 6, 9, 8, 5, 4, 4, 5, 8, 9, 7, 5, 3, 2}

// splitRows gives each time slice its share of the day's rows by the hourly curve, exactly
// summing to rows (largest remainder).
func splitRows(rows int64, objects int) []int64 {
	mass := make([]float64, objects)
	var total float64
	for k := range objects {
		a, b := float64(k)*86400/float64(objects), float64(k+1)*86400/float64(objects)
		for h := range 24 {
			lo, hi := math.Max(a, float64(h*3600)), math.Min(b, float64((h+1)*3600))
			if hi > lo {
				mass[k] += (hi - lo) * hourWeights[h]
			}
		}
		total += mass[k]
	}
	out := make([]int64, objects)
	type rem struct {
		k int
		r float64
	}
	rems := make([]rem, objects)
	var sum int64
	for k := range objects {
		exact := float64(rows) * mass[k] / total
		out[k] = int64(exact)
		sum += out[k]
		rems[k] = rem{k, exact - float64(out[k])}
	}
	sort.Slice(rems, func(i, j int) bool { return rems[i].r > rems[j].r || rems[i].r == rems[j].r && rems[i].k < rems[j].k })
	for i := 0; sum < rows; i++ {
		out[rems[i%objects].k]++
		sum++
	}
	return out
}

type genDevice struct {
	sn, merchant string
	regulars     int
}

type genDay struct {
	cfg     GenConfig
	devices []genDevice
	cum     []float64 // cumulative activity weights
	shared  int       // size of the payer pool shared by all devices
}

const snAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

func newDay(cfg GenConfig) *genDay {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	d := &genDay{cfg: cfg, devices: make([]genDevice, cfg.Devices), cum: make([]float64, cfg.Devices)}
	// Vendors 01..08, each with models 00..03; most Android, some Linux and Windows.
	serial := map[string]int{}
	var acc float64
	for i := range d.devices {
		vendor := fmt.Sprintf("%02d", 1+r.IntN(8))
		system := "A"
		if x := r.IntN(20); x == 0 {
			system = "W"
		} else if x <= 2 {
			system = "L"
		}
		model := fmt.Sprintf("%02d", r.IntN(4))
		prefix := vendor + system + model
		serial[prefix]++
		random := make([]byte, 8)
		for j := range random {
			random[j] = snAlphabet[r.IntN(len(snAlphabet))]
		}
		w := math.Exp(r.NormFloat64() * 1.1)
		d.devices[i] = genDevice{
			sn:       fmt.Sprintf("%s%010d%s", prefix, 2026000000+serial[prefix], random),
			merchant: fmt.Sprintf("16%08d", 10000000+i/3), // a merchant runs about three devices
			regulars: 3 + int(20*w),
		}
		acc += w
		d.cum[i] = acc
	}
	d.shared = max(int(cfg.Rows/4), 100)
	return d
}

// payerID is a stable 28-character opaque id (shaped like an app's open id) for payer k of
// pool (a device's regulars, or -1 for the shared pool).
func payerID(dst []byte, pool, k int) []byte {
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	s := uint64(pool+2)*0x9E3779B97F4A7C15 ^ uint64(k)*0xBF58476D1CE4E5B9
	dst = append(dst, 'o')
	for i := 0; i < 27; i++ {
		if i%9 == 0 {
			s += 0x9E3779B97F4A7C15
			z := s
			z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
			z = (z ^ (z >> 27)) * 0x94D049BB133111EB
			s = z ^ (z >> 31)
		}
		dst = append(dst, abc[s&63])
		s >>= 6
	}
	return dst
}

func (d *genDay) writeObject(k int, dayStart int64, rows int64, open func(string) (io.WriteCloser, error)) error {
	w, err := open(ObjectName(k))
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	bw := bufio.NewWriterSize(zw, 256<<10)
	r := rand.New(rand.NewPCG(d.cfg.Seed, uint64(k)+1))
	sliceLo := dayStart + int64(k)*86400/int64(d.cfg.Objects)
	sliceHi := dayStart + int64(k+1)*86400/int64(d.cfg.Objects)
	date := []byte(time.Unix(dayStart, 0).In(Shanghai).Format("20060102"))
	line := make([]byte, 0, 256)
	total := d.cum[len(d.cum)-1]
	for n := range rows {
		di := sort.SearchFloat64s(d.cum, r.Float64()*total)
		di = min(di, len(d.devices)-1)
		dev := &d.devices[di]
		method := pick(r, methodMix[:])
		status := pick(r, statusMix[:])
		line = append(line[:0], `{"txn_id":"42000`...)
		line = append(line, date...)
		line = strconv.AppendInt(line, int64(k)*1_000_000_000+n+1_000_000_000_000, 10)
		line = append(line, `","device_sn":"`...)
		line = append(line, dev.sn...)
		line = append(line, `","merchant_id":"`...)
		line = append(line, dev.merchant...)
		line = append(line, `","payer":"`...)
		if r.Float64() < 0.65 {
			line = payerID(line, di, r.IntN(dev.regulars))
		} else {
			line = payerID(line, -1, r.IntN(d.shared))
		}
		line = append(line, `","amount_fen":`...)
		line = strconv.AppendInt(line, amount(r, method), 10)
		line = append(line, `,"method":"`...)
		line = append(line, Methods[method]...)
		line = append(line, `","status":"`...)
		line = append(line, Statuses[status]...)
		line = append(line, `","ts":`...)
		line = strconv.AppendInt(line, sliceLo+r.Int64N(sliceHi-sliceLo), 10)
		line = append(line, "}\n"...)
		if _, err := bw.Write(line); err != nil {
			w.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		w.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

var methodMix = [numMethods]float64{0.45, 0.20, 0.15, 0.10, 0.06, 0.04}
var statusMix = [numStatuses]float64{0.92, 0.035, 0.015, 0.03}

func pick(r *rand.Rand, mix []float64) int {
	x := r.Float64()
	for i, p := range mix {
		if x < p {
			return i
		}
		x -= p
	}
	return len(mix) - 1
}

// amount is a ticket in fen: mostly tens of yuan (log-normal around 28 yuan), some small
// tickets under 2 yuan (a bottle of water), round amounts, and now and then a face payment
// over the 1000-yuan limit.
func amount(r *rand.Rand, method int) int64 {
	switch x := r.Float64(); {
	case x < 0.07:
		return 50 + r.Int64N(150) // 0.50 to 1.99 yuan
	case method == MethodFace && x < 0.073:
		return FaceLimitFen + 1 + r.Int64N(400000) // over the limit
	case x < 0.15:
		return 100 * (5 + r.Int64N(100)) // round yuan
	}
	a := int64(math.Exp(math.Log(2800) + r.NormFloat64()*0.9))
	return min(max(a, 1), 5_000_000)
}
