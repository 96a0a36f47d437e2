// Package handler is the daily rollup's Lambda (DOMAIN.md section 6, "transaction data
// (updated T+1)"). The state machine calls it for two steps:
//
//   - aggregate: one object of transactions/dt=<date>/, streamed from S3 and decompressed as
//     it is read, aggregated per device (shared/rollup) and written back as a partial under
//     the run's work prefix. The Map's result for the object is only the partial's key.
//   - merge: one shard of every partial listed by the Map's ResultWriter manifest, read with
//     ranged GETs, merged exactly, and written to the figures table with the shard's part of
//     each provider's totals of the day; devices (and providers' totals) the day had in an
//     earlier run and no longer has are deleted, so a re-run replaces exactly the day.
//
// Both steps are idempotent: a retried aggregate overwrites its partial; a retried or
// repeated merge writes the same figures.
package handler

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/store"
)

// Event is one step's input, from the state machine.
type Event struct {
	Step   string `json:"step"`   // "aggregate" or "merge"
	Date   string `json:"date"`   // YYYY-MM-DD, Asia/Shanghai
	Run    string `json:"run"`    // the execution's name: this run's work prefix
	Shards int    `json:"shards"` // how many merge shards (divides rollup.Partitions)
	// aggregate
	Key string `json:"key,omitempty"` // the object, under transactions/dt=<date>/
	// merge
	Shard    int       `json:"shard"`
	Manifest *Location `json:"manifest,omitempty"` // the ResultWriter's manifest
}

// Location is an S3 object (the ResultWriter's ResultWriterDetails).
type Location struct {
	Bucket string `json:"Bucket"`
	Key    string `json:"Key"`
}

// Result is a step's output: for aggregate the partial it wrote; for merge what it wrote.
type Result struct {
	Partial string `json:"partial,omitempty"`
	// Offsets are the partial's shard offsets (its header's): the merge reads its shard's
	// byte range at once, without first reading every partial's header.
	Offsets []uint64 `json:"offsets,omitempty"`
	Rows    int64    `json:"rows"`
	Shard   *int     `json:"shard,omitempty"`
	Devices int      `json:"devices"`
	Deleted int      `json:"deleted,omitempty"`
	// Providers is how many providers' totals the shard wrote. The totals themselves go to the
	// table, not into the result: 16 shards × 10^3 providers would pass the 256 KB a state's
	// payload may carry.
	Providers int `json:"providers,omitempty"`
	Partials  int `json:"partials,omitempty"`
}

// Providers tells which deployment provider each device is confirmed to on a date (the
// binding of DOMAIN.md section 6). Devices with none are absent from the result.
type Providers interface {
	ConfirmedProviders(ctx context.Context, date string, sns []string) (map[string]string, error)
}

// NoBinding is the Providers of a platform without device binding yet: nobody is confirmed,
// so figures carry no provider and there are no per-provider totals.
type NoBinding struct{}

// ConfirmedProviders returns no provider for any device.
func (NoBinding) ConfirmedProviders(context.Context, string, []string) (map[string]string, error) {
	return map[string]string{}, nil
}

type objectStore interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

type figureStore interface {
	PutFigures(ctx context.Context, figs []rollup.Figures, providerOf map[string]string, now time.Time) error
	DeleteFigures(ctx context.Context, date string, sns []string) error
	PutShardTotals(ctx context.Context, date string, shard, shards int, totals []store.ProviderTotals, stale []string) error
}

type handler struct {
	s3        objectStore
	bucket    string
	figures   figureStore
	providers Providers
	now       func() time.Time
	// Aggregators and partial buffers of earlier invocations: a warm Lambda reuses them
	// (and the local cloud, which may run several invocations at once, takes one each).
	pool    kept[*worker]
	mergers kept[*rollup.Merger]
}

// kept is a free list that, unlike sync.Pool, keeps what it holds across garbage
// collections. An Aggregator's slab and a partial's buffer are address space of which only
// the pages written become memory; dropped at a GC and allocated again from the heap, they
// would be zeroed whole first (every page touched) and faulted in once more.
type kept[T any] struct {
	mu   sync.Mutex
	free []T
}

func (k *kept[T]) get() (v T, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if n := len(k.free); n > 0 {
		v, k.free = k.free[n-1], k.free[:n-1]
		return v, true
	}
	return v, false
}

func (k *kept[T]) put(v T) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.free = append(k.free, v)
}

type worker struct {
	a   *rollup.Aggregator
	buf []byte
}

// New builds the function from its environment: TRANSACTIONS_BUCKET (the day's objects, the
// partials and the run state), FIGURES_TABLE and TABLE_NAME (the device bindings).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, Event) (Result, error), error) {
	env, err := d.Require("TRANSACTIONS_BUCKET", "FIGURES_TABLE", "TABLE_NAME")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	db := store.NewClient(c)
	// The providers come from the device bindings (TABLE_NAME): who held each device's
	// confirmation when the day closed.
	h := &handler{s3: blob.NewClient(c), bucket: env["TRANSACTIONS_BUCKET"],
		figures: store.NewFigures(db, env["FIGURES_TABLE"]), providers: store.New(db, env["TABLE_NAME"]), now: d.Now}
	return h.handle, nil
}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	if _, _, err := rollup.ParseDate(e.Date); err != nil {
		return Result{}, err
	}
	if e.Run == "" || strings.ContainsAny(e.Run, "/ ") || !rollup.ValidShards(e.Shards) {
		return Result{}, fmt.Errorf("bad event: run %q, shards %d (a divisor of %d)", e.Run, e.Shards, rollup.Partitions)
	}
	switch e.Step {
	case "aggregate":
		return h.aggregate(ctx, e)
	case "merge":
		return h.merge(ctx, e)
	}
	return Result{}, fmt.Errorf("unknown step %q", e.Step)
}

// workPrefix holds one run's partials; the bucket's lifecycle expires it.
func workPrefix(date, run string) string { return "rollup/work/dt=" + date + "/" + run + "/" }

// devicesKey is the list of the devices a shard of the day has figures for: what the next
// run of the day compares with to delete what it no longer has.
func devicesKey(date string, shard, shards int) string {
	return fmt.Sprintf("rollup/devices/dt=%s/shard-%03d-of-%03d.txt", date, shard, shards)
}

func (h *handler) aggregate(ctx context.Context, e Event) (Result, error) {
	if !strings.HasPrefix(e.Key, rollup.DayPrefix(e.Date)) {
		return Result{}, fmt.Errorf("object %s is not under %s", e.Key, rollup.DayPrefix(e.Date))
	}
	obj, err := h.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &h.bucket, Key: &e.Key})
	if err != nil {
		return Result{}, fmt.Errorf("get s3://%s/%s: %w", h.bucket, e.Key, err)
	}
	defer obj.Body.Close()
	w, ok := h.pool.get()
	if !ok {
		a, _ := rollup.NewAggregator(e.Date)
		w = &worker{a: a}
	}
	defer h.pool.put(w)
	if err := w.a.Reset(e.Date); err != nil {
		return Result{}, err
	}
	if obj.ContentLength != nil {
		w.a.Reserve(*obj.ContentLength)
	}
	if err := w.a.ReadGzip(obj.Body); err != nil {
		return Result{}, fmt.Errorf("s3://%s/%s: %w", h.bucket, e.Key, err)
	}
	w.buf = w.a.EncodeTo(w.buf, e.Shards)
	sum := sha256.Sum256([]byte(e.Key))
	key := workPrefix(e.Date, e.Run) + "partials/" + hex.EncodeToString(sum[:12]) + ".bin"
	if _, err := h.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &h.bucket, Key: &key, Body: bytes.NewReader(w.buf),
		ContentType: aws.String("application/octet-stream")}); err != nil {
		return Result{}, fmt.Errorf("put partial %s: %w", key, err)
	}
	_, _, offsets, err := rollup.PartialHeader(w.buf)
	if err != nil {
		return Result{}, err
	}
	slog.InfoContext(ctx, "object aggregated", "key", e.Key, "rows", w.a.Rows(), "partial", key, "bytes", len(w.buf))
	return Result{Partial: key, Offsets: offsets, Rows: w.a.Rows()}, nil
}

// manifest is the ResultWriter's manifest.json.
type manifest struct {
	ResultFiles map[string][]struct {
		Key string `json:"Key"`
	} `json:"ResultFiles"`
}

func (h *handler) getJSON(ctx context.Context, bucket, key string, v any) error {
	obj, err := h.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer obj.Body.Close()
	if err := json.NewDecoder(bufio.NewReader(obj.Body)).Decode(v); err != nil {
		return fmt.Errorf("decode s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// partial is one object's partial as the Map's result names it.
type partial struct {
	key     string
	offsets []uint64 // nil: read them from the partial's header
}

// partials lists the partials of the Map run behind the manifest m.
func (h *handler) partials(ctx context.Context, m *Location) ([]partial, int64, error) {
	var man manifest
	if err := h.getJSON(ctx, m.Bucket, m.Key, &man); err != nil {
		return nil, 0, err
	}
	if n := len(man.ResultFiles["FAILED"]) + len(man.ResultFiles["PENDING"]); n > 0 {
		return nil, 0, fmt.Errorf("the map run has failed or pending objects (%d result files): the day is not complete", n)
	}
	var parts []partial
	var rows int64
	for _, f := range man.ResultFiles["SUCCEEDED"] {
		var recs []struct {
			Output string `json:"Output"`
		}
		if err := h.getJSON(ctx, m.Bucket, f.Key, &recs); err != nil {
			return nil, 0, err
		}
		for _, r := range recs {
			var out Result
			if err := json.Unmarshal([]byte(r.Output), &out); err != nil || out.Partial == "" {
				return nil, 0, fmt.Errorf("result file %s: an output without a partial: %.200s", f.Key, r.Output)
			}
			parts = append(parts, partial{key: out.Partial, offsets: out.Offsets})
			rows += out.Rows
		}
	}
	slices.SortFunc(parts, func(a, b partial) int { return strings.Compare(a.key, b.key) })
	return parts, rows, nil
}

// readRange reads bytes [from, to) of key.
func (h *handler) readRange(ctx context.Context, key string, from, to int64, dst []byte) ([]byte, error) {
	if to <= from {
		return dst, nil
	}
	obj, err := h.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &h.bucket, Key: &key,
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", from, to-1))})
	if err != nil {
		return nil, fmt.Errorf("get %s bytes %d-%d: %w", key, from, to-1, err)
	}
	defer obj.Body.Close()
	n := int(to - from)
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	if _, err := io.ReadFull(obj.Body, dst[start:]); err != nil {
		return nil, fmt.Errorf("read %s bytes %d-%d: %w", key, from, to-1, err)
	}
	return dst, nil
}

// fetchParallelism bounds the ranged GETs in flight in one merge.
const fetchParallelism = 8

func (h *handler) merge(ctx context.Context, e Event) (Result, error) {
	if e.Manifest == nil || e.Shard < 0 || e.Shard >= e.Shards {
		return Result{}, fmt.Errorf("merge needs the map's manifest and a shard below %d", e.Shards)
	}
	parts, rows, err := h.partials(ctx, e.Manifest)
	if err != nil {
		return Result{}, err
	}
	// The Map's result says where this shard's bytes are in each partial (else its header
	// does); only those bytes are read.
	keys := make([]string, len(parts))
	bodies := make([][]byte, len(parts))
	errs := make([]error, len(parts))
	sem := make(chan struct{}, fetchParallelism)
	var wg sync.WaitGroup
	for i, p := range parts {
		keys[i] = p.key
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			off := p.offsets
			if len(off) != e.Shards+1 {
				head, err := h.readRange(ctx, p.key, 0, int64(rollup.HeaderSize(e.Shards)), nil)
				if err != nil {
					errs[i] = err
					return
				}
				var shards int
				if shards, _, off, err = rollup.PartialHeader(head); err != nil || shards != e.Shards {
					errs[i] = fmt.Errorf("partial %s: %d shards, expected %d (%v)", p.key, shards, e.Shards, err)
					return
				}
			}
			if off[e.Shard+1] < off[e.Shard] {
				errs[i] = fmt.Errorf("partial %s: bad offsets for shard %d", p.key, e.Shard)
				return
			}
			bodies[i], errs[i] = h.readRange(ctx, p.key, int64(off[e.Shard]), int64(off[e.Shard+1]), nil)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	// A warm Lambda reuses its Merger's tables (one each when the local cloud runs several
	// invocations at once).
	m, ok := h.mergers.get()
	if !ok {
		m = rollup.NewMerger(e.Date, 0)
	}
	defer h.mergers.put(m)
	m.Reset(e.Date)
	for i, b := range bodies {
		if err := m.Add(b); err != nil {
			return Result{}, fmt.Errorf("partial %s: %w", keys[i], err)
		}
	}
	figs, err := m.Figures()
	if err != nil {
		return Result{}, fmt.Errorf("shard %d: %w", e.Shard, err)
	}
	sns := make([]string, len(figs))
	for i := range figs {
		sns[i] = figs[i].DeviceSN
	}
	providerOf, err := h.providers.ConfirmedProviders(ctx, e.Date, sns)
	if err != nil {
		return Result{}, fmt.Errorf("providers of the day's devices: %w", err)
	}
	deleted, err := h.replaceDay(ctx, e, figs, sns, providerOf)
	if err != nil {
		return Result{}, err
	}
	totals := store.SumTotals(e.Date, figs, providerOf)
	if err := h.replaceTotals(ctx, e, totals); err != nil {
		return Result{}, err
	}
	shard := e.Shard
	slog.InfoContext(ctx, "shard merged", "date", e.Date, "shard", e.Shard, "partials", len(keys), "devices", len(figs), "deleted", deleted,
		"providers", len(totals))
	return Result{Shard: &shard, Rows: rows, Devices: len(figs), Deleted: deleted, Partials: len(keys), Providers: len(totals)}, nil
}

// providersKey is the list of the providers a shard of the day wrote totals for.
func providersKey(date string, shard, shards int) string {
	return fmt.Sprintf("rollup/providers/dt=%s/shard-%03d-of-%03d.txt", date, shard, shards)
}

// replaceTotals makes the shard's part of the day's provider totals exactly totals, in the
// order replaceDay keeps for devices: the list grows to old ∪ new, the totals are written and
// the stale ones deleted, then the list becomes new.
func (h *handler) replaceTotals(ctx context.Context, e Event, totals []store.ProviderTotals) error {
	key := providersKey(e.Date, e.Shard, e.Shards)
	prev, err := h.readList(ctx, key)
	if err != nil {
		return err
	}
	now := make([]string, len(totals))
	has := make(map[string]bool, len(totals))
	for i, t := range totals {
		now[i], has[t.Provider] = t.Provider, true
	}
	var stale []string
	for _, p := range prev {
		if !has[p] {
			stale = append(stale, p)
		}
	}
	// Before any write the list holds every provider that may have a part: a run that dies
	// half-way leaves no part the next run does not know of.
	union := append(slices.Clone(now), stale...)
	slices.Sort(union)
	if !slices.Equal(prev, union) {
		if err := h.writeList(ctx, key, union); err != nil {
			return err
		}
	}
	if err := h.figures.PutShardTotals(ctx, e.Date, e.Shard, e.Shards, totals, stale); err != nil {
		return err
	}
	if len(stale) > 0 {
		return h.writeList(ctx, key, now)
	}
	return nil
}

// replaceDay makes the shard's figures of the day exactly figs. The shard's device list in
// S3 says what earlier runs wrote. Order matters for a run that dies half-way: the list first
// grows to old ∪ new, then the figures are written, then old − new deleted, then the list
// becomes new — so a later run always knows every device that may have figures.
func (h *handler) replaceDay(ctx context.Context, e Event, figs []rollup.Figures, sns []string, providerOf map[string]string) (int, error) {
	key := devicesKey(e.Date, e.Shard, e.Shards)
	prev, err := h.readList(ctx, key)
	if err != nil {
		return 0, err
	}
	current := map[string]bool{}
	for _, sn := range sns {
		current[sn] = true
	}
	var stale []string
	for _, sn := range prev {
		if !current[sn] {
			stale = append(stale, sn)
		}
	}
	if len(stale) > 0 {
		if err := h.writeList(ctx, key, append(slices.Clone(sns), stale...)); err != nil {
			return 0, err
		}
	} else if len(prev) != len(sns) {
		if err := h.writeList(ctx, key, sns); err != nil {
			return 0, err
		}
	}
	if err := h.figures.PutFigures(ctx, figs, providerOf, h.now()); err != nil {
		return 0, err
	}
	if len(stale) > 0 {
		if err := h.figures.DeleteFigures(ctx, e.Date, stale); err != nil {
			return 0, err
		}
		if err := h.writeList(ctx, key, sns); err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

func (h *handler) readList(ctx context.Context, key string) ([]string, error) {
	obj, err := h.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &h.bucket, Key: &key})
	if err != nil {
		var code interface{ ErrorCode() string }
		if errors.As(err, &code) && (code.ErrorCode() == "NoSuchKey" || code.ErrorCode() == "NotFound") {
			return nil, nil
		}
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer obj.Body.Close()
	var out []string
	sc := bufio.NewScanner(obj.Body)
	for sc.Scan() {
		if sn := strings.TrimSpace(sc.Text()); sn != "" {
			out = append(out, sn)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return out, nil
}

func (h *handler) writeList(ctx context.Context, key string, sns []string) error {
	sorted := slices.Clone(sns)
	slices.Sort(sorted)
	body := strings.Join(sorted, "\n") + "\n"
	if _, err := h.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &h.bucket, Key: &key, Body: strings.NewReader(body),
		ContentType: aws.String("text/plain")}); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}
