package main

import (
	"bufio"
	"cmp"
	stdgzip "compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/facepay/platform/shared/rollup"
)

// benchShards is the shard count the state machine uses (statemachines/rollup.asl.json).
const benchShards = 16

// measure is one timed phase: its wall and CPU seconds.
type measure struct {
	WallS, CPUS float64
}

// rate is rows per CPU-second.
func (m measure) rate(rows int64) float64 { return float64(rows) / m.CPUS }

// summary is the report's entry for a phase over rows.
func (m measure) summary(rows int64) map[string]any {
	return map[string]any{"wall_s": round(m.WallS), "cpu_s": round(m.CPUS), "rows_per_cpu_s": int64(m.rate(rows))}
}

func cpuSelf() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timed runs f, returning its wall and CPU seconds (this process's CPU: nothing else runs
// in it meanwhile). First a GC, so an earlier phase's garbage is not charged to this one,
// which also hands the freed memory back to the OS: every round starts as cold as the first.
func timed(f func() error) (wall, cpu float64, err error) {
	debug.FreeOSMemory()
	c0, t0 := cpuSelf(), time.Now()
	err = f()
	return time.Since(t0).Seconds(), (cpuSelf() - c0).Seconds(), err
}

func bench(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	in := fs.String("in", "", "directory of *.ndjson.gz objects (one day)")
	out := fs.String("out", "", "file for the per-device figures (NDJSON)")
	date := fs.String("date", "", "the day (default: from dt=YYYY-MM-DD in -in)")
	duck := fs.Bool("duckdb", true, "also time DuckDB (node infra/rollup/duckdb.mjs)")
	rounds := fs.Int("rounds", 3, "rounds of the rollup and the two decompressions, interleaved (the report takes medians)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the rollup phase to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the rollup phase to this file")
	_ = fs.Parse(args)
	if *in == "" || *out == "" {
		return fmt.Errorf("bench needs -in DIR and -out FILE")
	}
	files, err := filepath.Glob(filepath.Join(*in, "*.ndjson.gz"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no *.ndjson.gz in %s", *in)
	}
	sort.Strings(files)
	if *date == "" {
		m := regexp.MustCompile(`dt=(\d{4}-\d{2}-\d{2})`).FindStringSubmatch(*in)
		if m == nil {
			return fmt.Errorf("-date is needed: %s has no dt=YYYY-MM-DD", *in)
		}
		*date = m[1]
	}
	workers := runtime.GOMAXPROCS(0)

	// 1. The rollup (the Lambda's code path: objects aggregated in parallel as the Map runs
	// them, then the shard merges) and 2. the floors: plain gzip decompression alone (Go's
	// compress/gzip) and the faster decompressor the step itself uses (klauspost/compress),
	// each reading the files through the Aggregator's 256 KB buffer. They run in rounds,
	// interleaved, and the report takes medians: this VM's speed drifts by 15% from one
	// second to the next, and a round compares measurements taken side by side.
	var figs []rollup.Figures
	var rows int64
	var gzipBytes int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		gzipBytes += st.Size()
	}
	// A partial takes about as many bytes as its object's gzip (see rollup.Aggregator.Reserve).
	st := newStorage(len(files), gzipBytes*3/2+int64(len(files))<<20)
	var oursR, floorR, fastR []measure
	for round := range max(*rounds, 1) {
		st.reset()
		var prof *os.File
		if *profile != "" && round == 0 {
			if prof, err = os.Create(*profile); err != nil {
				return err
			}
			_ = pprof.StartCPUProfile(prof)
		}
		wall, cpu, err := timed(func() error {
			var err error
			figs, rows, err = rollupFiles(*date, files, workers, st)
			if err != nil {
				return err
			}
			return writeFigures(*out, figs)
		})
		if err != nil {
			return err
		}
		if prof != nil {
			pprof.StopCPUProfile()
			if err := prof.Close(); err != nil {
				return err
			}
		}
		if *memProfile != "" && round == 0 {
			f, err := os.Create(*memProfile)
			if err != nil {
				return err
			}
			runtime.GC() // the profile reports allocations up to the last GC
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
			if err != nil {
				return err
			}
		}
		oursR = append(oursR, measure{WallS: wall, CPUS: cpu})
		floor, err := gunzipAll(files, workers, func(r io.Reader) (io.Reader, error) {
			return stdgzip.NewReader(bufio.NewReaderSize(r, 256<<10))
		})
		if err != nil {
			return err
		}
		floorR = append(floorR, floor)
		fast, err := gunzipAll(files, workers, func(r io.Reader) (io.Reader, error) {
			return gzip.NewReader(bufio.NewReaderSize(r, 256<<10))
		})
		if err != nil {
			return err
		}
		fastR = append(fastR, fast)
	}
	byCPU := func(a, b measure) int { return cmp.Compare(a.CPUS, b.CPUS) }
	ours, floor, fastFloor := median(oursR, byCPU), median(floorR, byCPU), median(fastR, byCPU)

	// 3. DuckDB, the same GROUP BY, in a child process (its CPU is the child's).
	var duckM *measure
	agree := "not checked"
	if *duck {
		duckOut := *out + ".duckdb.ndjson"
		m, err := runDuckDB(files, duckOut, *date)
		if err != nil {
			return fmt.Errorf("duckdb: %w", err)
		}
		duckM = &m
		if err := compareFigures(figs, duckOut, *date); err != nil {
			return fmt.Errorf("figures disagree with DuckDB's: %w", err)
		}
		agree = "yes"
	}

	// Each round's ratios, then their medians: a round's measurements ran side by side.
	var vsFloor, vsFast []float64
	perRound := make([]map[string]float64, len(oursR))
	for i := range oursR {
		vsFloor = append(vsFloor, oursR[i].CPUS/floorR[i].CPUS)
		vsFast = append(vsFast, oursR[i].CPUS/fastR[i].CPUS)
		perRound[i] = map[string]float64{"cpu_s": round(oursR[i].CPUS), "gunzip_cpu_s": round(floorR[i].CPUS),
			"gunzip_klauspost_cpu_s": round(fastR[i].CPUS), "vs_gunzip": round(vsFloor[i]), "vs_gunzip_klauspost": round(vsFast[i])}
	}
	vsGunzip := median(vsFloor, cmp.Compare[float64])
	report := ours.summary(rows)
	maps.Copy(report, map[string]any{
		"rows": rows, "devices": len(figs), "objects": len(files),
		"gunzip":              floor.summary(rows),
		"gunzip_klauspost":    fastFloor.summary(rows),
		"vs_gunzip":           round(vsGunzip),
		"vs_gunzip_klauspost": round(median(vsFast, cmp.Compare[float64])),
		"rounds":              perRound,
		"figures_agree":       agree,
	})
	// The targets, as it states them; a run under load can miss them (CPU seconds
	// grow with contention), so they are reported, not enforced.
	targets := map[string]bool{
		"rows_per_cpu_s>=800000": ours.rate(rows) >= 800_000,
		"vs_gunzip<=1.5":         vsGunzip <= 1.5,
	}
	if duckM != nil {
		vsDuck := ours.rate(rows) / duckM.rate(rows)
		report["duckdb"] = duckM.summary(rows)
		report["vs_duckdb"] = round(vsDuck)
		targets["vs_duckdb>=1.5"] = vsDuck >= 1.5
	}
	report["targets_met"] = targets
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false) // the targets' names hold >= and <=
	return enc.Encode(report)
}

func round(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// median is the middle of xs by compare (the lower middle one of an even count).
func median[T any](xs []T, compare func(a, b T) int) T {
	s := slices.Clone(xs)
	slices.SortFunc(s, compare)
	return s[(len(s)-1)/2]
}

// storage stands in for S3 between the Map and the merges: a partial is copied into it (the
// upload; the Aggregator's buffer is reused for the next object) and a merge reads its byte
// ranges in place. Its memory is faulted in before the clock starts, as S3's disks are not
// the Lambda's: fresh memory costs ~13 µs per 4 KB page on the bench VM, and until 2026-11-28
// the bench kept each partial in a fresh slice, charging the rollup 0.4–0.5 CPU-s of page
// faults that no Lambda pays (a warm Lambda encodes into the buffer of its previous object
// and uploads it; S3 holds the bytes).
type storage struct {
	mu      sync.Mutex
	arena   []byte
	objects [][]byte
}

// reset empties the storage for another round, keeping its faulted-in memory.
func (s *storage) reset() {
	s.arena = s.arena[:0]
	clear(s.objects)
}

func newStorage(objects int, size int64) *storage {
	s := &storage{arena: make([]byte, 0, size), objects: make([][]byte, objects)}
	full := s.arena[:size]
	for i := 0; i < len(full); i += 4096 {
		full[i] = 1
	}
	return s
}

// put stores object i (a copy: b is the caller's to reuse). Past the arena's room it falls
// back to fresh memory: slower, never wrong.
func (s *storage) put(i int, b []byte) {
	s.mu.Lock()
	at := len(s.arena)
	var dst []byte
	if cap(s.arena)-at >= len(b) {
		s.arena = s.arena[:at+len(b)]
		dst = s.arena[at : at+len(b) : at+len(b)]
	} else {
		dst = make([]byte, len(b))
	}
	s.mu.Unlock()
	copy(dst, b)
	s.objects[i] = dst
}

// rollupFiles is what the state machine does, in one process, the way its Lambdas do it: an
// Aggregator per object (the Map's item processor; one per worker, reset per object, as a
// warm Lambda keeps one) encoding its partial into the worker's reused buffer, which is
// uploaded to st; then one merge per shard over its byte range of every partial (the
// Lambda's ranged GETs; here read in place). The bench measures computation, not the
// network.
func rollupFiles(date string, files []string, workers int, st *storage) ([]rollup.Figures, int64, error) {
	offsets := make([][]uint64, len(files)) // each partial's shard offsets, as the Map's result carries them
	rows := make([]int64, len(files))
	type aggWorker struct {
		a   *rollup.Aggregator
		buf []byte
	}
	pool := make(chan *aggWorker, workers)
	for range workers {
		a, err := rollup.NewAggregator(date)
		if err != nil {
			return nil, 0, err
		}
		pool <- &aggWorker{a: a}
	}
	if err := parallel(len(files), workers, func(i int) error {
		f, err := os.Open(files[i])
		if err != nil {
			return err
		}
		defer f.Close()
		w := <-pool
		defer func() { pool <- w }()
		if err := w.a.Reset(date); err != nil {
			return err
		}
		if st, err := f.Stat(); err == nil {
			w.a.Reserve(st.Size()) // as the Lambda does with the object's size
		}
		if err := w.a.ReadGzip(f); err != nil {
			return fmt.Errorf("%s: %w", files[i], err)
		}
		w.buf = w.a.EncodeTo(w.buf, benchShards)
		if _, _, offsets[i], err = rollup.PartialHeader(w.buf); err != nil {
			return err
		}
		rows[i] = w.a.Rows()
		st.put(i, w.buf)
		return nil
	}); err != nil {
		return nil, 0, err
	}
	shardFigs := make([][]rollup.Figures, benchShards)
	// A merge worker is a warm Lambda too: its Merger reset and reused from shard to shard.
	mergers := make(chan *rollup.Merger, workers)
	for range workers {
		mergers <- rollup.NewMerger(date, 0)
	}
	if err := parallel(benchShards, workers, func(k int) error {
		m := <-mergers
		defer func() { mergers <- m }()
		m.Reset(date)
		for i, off := range offsets {
			if err := m.Add(st.objects[i][off[k]:off[k+1]]); err != nil {
				return err
			}
		}
		var err error
		shardFigs[k], err = m.Figures()
		return err
	}); err != nil {
		return nil, 0, err
	}
	n := 0
	for _, f := range shardFigs {
		n += len(f)
	}
	all := make([]rollup.Figures, 0, n)
	for _, f := range shardFigs {
		all = append(all, f...)
	}
	var total int64
	for _, r := range rows {
		total += r
	}
	return all, total, nil
}

// writeFigures writes figs as NDJSON, byte for byte what encoding/json writes for a
// rollup.Figures (the test checks), without its reflection and map sorting per record.
func writeFigures(path string, figs []rollup.Figures) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	for i := range figs {
		line = appendFigures(line[:0], &figs[i])
		if _, err := w.Write(line); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// methodsByName are the methods in the order encoding/json writes a map's keys.
var methodsByName = func() []string {
	m := slices.Clone(rollup.Methods[:])
	slices.Sort(m)
	return m
}()

func appendFigures(b []byte, f *rollup.Figures) []byte {
	b = append(b, `{"device_sn":`...)
	b = appendJSONString(b, f.DeviceSN)
	b = append(b, `,"date":`...)
	b = appendJSONString(b, f.Date)
	for _, kv := range [...]struct {
		k string
		v int64
	}{{`,"success_count":`, f.SuccessCount}, {`,"success_amount_fen":`, f.SuccessAmountFen},
		{`,"distinct_payers":`, f.DistinctPayers}, {`,"fee_payers":`, f.FeePayers},
		{`,"failed_count":`, f.FailedCount}, {`,"timeout_count":`, f.TimeoutCount},
		{`,"refunded_count":`, f.RefundedCount}, {`,"over_limit_count":`, f.OverLimitCount}} {
		b = append(b, kv.k...)
		b = strconv.AppendInt(b, kv.v, 10)
	}
	b = append(b, `,"by_method":{`...)
	for i, m := range methodsByName {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, m...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, f.ByMethod[m], 10)
	}
	return append(b, "}}\n"...)
}

// appendJSONString quotes s as encoding/json does: plain printable ASCII as is, anything
// else through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func gunzipAll(files []string, workers int, open func(io.Reader) (io.Reader, error)) (measure, error) {
	var m measure
	var err error
	m.WallS, m.CPUS, err = timed(func() error {
		return parallel(len(files), workers, func(i int) error {
			f, err := os.Open(files[i])
			if err != nil {
				return err
			}
			defer f.Close()
			zr, err := open(f)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, zr)
			return err
		})
	})
	return m, err
}

func parallel(n, workers int, f func(i int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				errs[i] = f(i)
			}
		})
	}
	for i := range n {
		next <- i
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

// runDuckDB runs infra/rollup/duckdb.mjs on the files; CPU is the child's user+system time.
func runDuckDB(files []string, out, date string) (measure, error) {
	script, err := duckScript()
	if err != nil {
		return measure{}, err
	}
	args := append([]string{script, out}, files...)
	cmd := exec.Command("node", args...)
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return measure{}, err
	}
	ps := cmd.ProcessState
	return measure{WallS: time.Since(t0).Seconds(), CPUS: (ps.UserTime() + ps.SystemTime()).Seconds()}, nil
}

// duckScript finds duckdb.mjs next to this command's source (the repository root is the
// working directory under make).
func duckScript() (string, error) {
	for _, p := range []string{"infra/rollup/duckdb.mjs", "duckdb.mjs"} {
		if _, err := os.Stat(p); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("infra/rollup/duckdb.mjs not found: run from the repository root")
}

// duckRow is one line of DuckDB's output: the figures with by_method as columns.
type duckRow struct {
	DeviceSN         string `json:"device_sn"`
	SuccessCount     int64  `json:"success_count"`
	SuccessAmountFen int64  `json:"success_amount_fen"`
	DistinctPayers   int64  `json:"distinct_payers"`
	FeePayers        int64  `json:"fee_payers"`
	FailedCount      int64  `json:"failed_count"`
	TimeoutCount     int64  `json:"timeout_count"`
	RefundedCount    int64  `json:"refunded_count"`
	OverLimitCount   int64  `json:"over_limit_count"`
	Face             int64  `json:"m_FACE"`
	QuickPay         int64  `json:"m_QUICK_PAY"`
	QRCode           int64  `json:"m_QR_CODE"`
	JSAPI            int64  `json:"m_JSAPI"`
	InApp            int64  `json:"m_IN_APP"`
	H5               int64  `json:"m_H5"`
}

func compareFigures(ours []rollup.Figures, duckOut, date string) error {
	f, err := os.Open(duckOut)
	if err != nil {
		return err
	}
	defer f.Close()
	theirs := map[string]rollup.Figures{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r duckRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return err
		}
		theirs[r.DeviceSN] = rollup.Figures{DeviceSN: r.DeviceSN, Date: date, SuccessCount: r.SuccessCount,
			SuccessAmountFen: r.SuccessAmountFen, DistinctPayers: r.DistinctPayers, FeePayers: r.FeePayers,
			FailedCount: r.FailedCount, TimeoutCount: r.TimeoutCount, RefundedCount: r.RefundedCount,
			OverLimitCount: r.OverLimitCount, ByMethod: map[string]int64{"FACE": r.Face, "QUICK_PAY": r.QuickPay,
				"QR_CODE": r.QRCode, "JSAPI": r.JSAPI, "IN_APP": r.InApp, "H5": r.H5}}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(theirs) != len(ours) {
		return fmt.Errorf("%d devices, DuckDB %d", len(ours), len(theirs))
	}
	for _, o := range ours {
		a, _ := json.Marshal(o)
		b, _ := json.Marshal(theirs[o.DeviceSN])
		if string(a) != string(b) {
			return fmt.Errorf("device %s: ours %s, DuckDB %s", o.DeviceSN, a, b)
		}
	}
	return nil
}
