package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/lambdafn/eventstest"
	"github.com/facepay/platform/shared/rollup"
	"github.com/facepay/platform/shared/rollup/rolluptest"
	"github.com/facepay/platform/shared/store"
)

// fakeS3 is the handler's object store: objects by key, with ranged GETs.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	if r := aws.ToString(in.Range); r != "" {
		var from, to int
		if _, err := fmt.Sscanf(r, "bytes=%d-%d", &from, &to); err != nil {
			return nil, err
		}
		b = b[from:min(to+1, len(b))]
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[aws.ToString(in.Key)] = b
	return &s3.PutObjectOutput{}, nil
}

// fakeFigures is the figures table: SN → the day's figures.
type fakeFigures struct {
	mu     sync.Mutex
	figs   map[string]rollup.Figures
	totals map[string]store.ProviderTotals // provider/shard/shards → the shard's part
	// failTotals makes PutShardTotals write, then fail (a merge that dies half-way).
	failTotals bool
}

func (f *fakeFigures) PutFigures(_ context.Context, figs []rollup.Figures, _ map[string]string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fg := range figs {
		f.figs[fg.DeviceSN] = fg
	}
	return nil
}

func (f *fakeFigures) PutShardTotals(_ context.Context, date string, shard, shards int, totals []store.ProviderTotals, stale []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.totals == nil {
		f.totals = map[string]store.ProviderTotals{}
	}
	for _, t := range totals {
		f.totals[fmt.Sprintf("%s/%d/%d", t.Provider, shard, shards)] = t
	}
	for _, p := range stale {
		delete(f.totals, fmt.Sprintf("%s/%d/%d", p, shard, shards))
	}
	if f.failTotals {
		return errors.New("the Lambda timed out")
	}
	return nil
}

// dayTotals sums the shards' parts per provider, as the store's reader does.
func (f *fakeFigures) dayTotals() map[string]store.ProviderTotals {
	out := map[string]store.ProviderTotals{}
	for _, t := range f.totals {
		o, ok := out[t.Provider]
		if !ok {
			o = store.NewTotals(t.Provider, t.Date)
		}
		o.Add(t)
		out[t.Provider] = o
	}
	return out
}

func (f *fakeFigures) DeleteFigures(_ context.Context, _ string, sns []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, sn := range sns {
		delete(f.figs, sn)
	}
	return nil
}

const date = "2026-11-27"

// runDay plays the state machine with the handler: aggregate each object, write the Map's
// result files and manifest as the ResultWriter does, merge every shard.
// Without offsets in the results, the merge reads each partial's header instead.
func runDay(t *testing.T, h *handler, s3 *fakeS3, run string, keys []string, withOffsets bool) {
	t.Helper()
	const shards = 4
	var records []map[string]any
	for _, key := range keys {
		res, err := h.handle(context.Background(), Event{Step: "aggregate", Date: date, Run: run, Shards: shards, Key: key})
		require.NoError(t, err)
		require.Len(t, res.Offsets, shards+1)
		if !withOffsets {
			res.Offsets = nil
		}
		out, _ := json.Marshal(res)
		records = append(records, map[string]any{"Status": "SUCCEEDED", "Output": string(out)})
	}
	prefix := "rollup/work/dt=" + date + "/" + run + "/map/run-id/"
	body, _ := json.Marshal(records)
	s3.objects[prefix+"SUCCEEDED_0.json"] = body
	man, _ := json.Marshal(map[string]any{"DestinationBucket": "b", "ResultFiles": map[string]any{
		"SUCCEEDED": []any{map[string]any{"Key": prefix + "SUCCEEDED_0.json", "Size": len(body)}}, "FAILED": []any{}, "PENDING": []any{}}})
	s3.objects[prefix+"manifest.json"] = man
	for k := range shards {
		res, err := h.handle(context.Background(), Event{Step: "merge", Date: date, Run: run, Shards: shards, Shard: k,
			Manifest: &Location{Bucket: "b", Key: prefix + "manifest.json"}})
		if f, ok := h.figures.(*fakeFigures); ok && f.failTotals {
			require.Error(t, err, "the merge fails when its totals fail")
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, len(keys), res.Partials)
		if _, none := h.providers.(NoBinding); none {
			assert.Zero(t, res.Providers, "no binding: no provider totals")
		}
	}
}

func TestAggregateAndMergeReplaceTheDay(t *testing.T) {
	store := &fakeS3{objects: map[string][]byte{}}
	figs := &fakeFigures{figs: map[string]rollup.Figures{}}
	h := &handler{s3: store, bucket: "b", figures: figs, providers: NoBinding{}, now: time.Now}
	var keys [][]byte
	var names []string
	require.NoError(t, rollup.Generate(rollup.GenConfig{Date: date, Devices: 80, Rows: 3000, Objects: 5, Seed: 9}, func(name string) (io.WriteCloser, error) {
		names = append(names, rollup.DayPrefix(date)+name)
		keys = append(keys, nil)
		return &sink{dst: &keys[len(keys)-1]}, nil
	}))
	for i, n := range names {
		store.objects[n] = keys[i]
	}
	want, err := rolluptest.Reference(date, keys...)
	require.NoError(t, err)

	runDay(t, h, store, "run-1", names, true)
	assert.Equal(t, want, figs.figs)

	// The same day again with only its first object (the night): exactly its figures remain,
	// the devices seen only later in the day lose theirs.
	want2, err := rolluptest.Reference(date, keys[:1]...)
	require.NoError(t, err)
	require.Less(t, len(want2), len(want))
	runDay(t, h, store, "run-2", names[:1], false)
	assert.Equal(t, want2, figs.figs)
}

// fixedProviders confirms each SN in it to its provider, whatever the date.
type fixedProviders map[string]string

func (p fixedProviders) ConfirmedProviders(_ context.Context, _ string, sns []string) (map[string]string, error) {
	out := map[string]string{}
	for _, sn := range sns {
		if v, ok := p[sn]; ok {
			out[sn] = v
		}
	}
	return out, nil
}

// The merge writes each shard's part of the providers' totals; summed they equal the totals
// of the providers' devices' reference figures; the same run again changes nothing, and a
// re-run after the day lost a provider's devices deletes that provider's totals.
func TestMergeWritesProviderTotalsAndReplacesThem(t *testing.T) {
	s3 := &fakeS3{objects: map[string][]byte{}}
	figs := &fakeFigures{figs: map[string]rollup.Figures{}}
	var bodies [][]byte
	var names []string
	require.NoError(t, rollup.Generate(rollup.GenConfig{Date: date, Devices: 300, Rows: 1200, Objects: 4, Seed: 3}, func(name string) (io.WriteCloser, error) {
		names = append(names, rollup.DayPrefix(date)+name)
		bodies = append(bodies, nil)
		return &sink{dst: &bodies[len(bodies)-1]}, nil
	}))
	for i, n := range names {
		s3.objects[n] = bodies[i]
	}
	want, err := rolluptest.Reference(date, bodies...)
	require.NoError(t, err)
	// P1 holds a third of the devices, P2 one device that trades only after the first object (so
	// that a re-run without it loses P2), the rest nobody.
	first, err := rolluptest.Reference(date, bodies[:1]...)
	require.NoError(t, err)
	providers := fixedProviders{}
	for sn := range want {
		if _, early := first[sn]; !early && len(providers) == 0 {
			providers[sn] = "P2"
		}
	}
	require.NotEmpty(t, providers, "a device trades only after the first object")
	i := 0
	for sn := range want {
		if _, ok := providers[sn]; !ok && i%3 == 0 {
			providers[sn] = "P1"
		}
		i++
	}
	h := &handler{s3: s3, bucket: "b", figures: figs, providers: providers, now: time.Now}
	expect := func(day map[string]rollup.Figures) map[string]store.ProviderTotals {
		var fs []rollup.Figures
		for _, f := range day {
			fs = append(fs, f)
		}
		out := map[string]store.ProviderTotals{}
		for _, t := range store.SumTotals(date, fs, providers) {
			out[t.Provider] = t
		}
		return out
	}

	runDay(t, h, s3, "run-1", names, true)
	got := figs.dayTotals()
	assert.Equal(t, expect(want), got)
	assert.Contains(t, got, "P1")
	assert.Contains(t, got, "P2")
	runDay(t, h, s3, "run-2", names, true)
	assert.Equal(t, got, figs.dayTotals(), "the same day again: identical totals")

	runDay(t, h, s3, "run-3", names[:1], true)
	assert.Equal(t, expect(first), figs.dayTotals())
	assert.NotContains(t, figs.dayTotals(), "P2", "the re-run without P2's device deletes P2's totals")

	// A run that writes P2's totals and dies before finishing, then a run without P2: P2's
	// totals are gone all the same (the shard's provider list named P2 before the write).
	figs.failTotals = true
	runDay(t, h, s3, "run-4", names, true)
	figs.failTotals = false
	require.Contains(t, figs.dayTotals(), "P2")
	runDay(t, h, s3, "run-5", names[:1], true)
	assert.Equal(t, expect(first), figs.dayTotals())
}

func TestBadEventsAreRefused(t *testing.T) {
	h := &handler{s3: &fakeS3{objects: map[string][]byte{}}, bucket: "b", figures: &fakeFigures{}, providers: NoBinding{}, now: time.Now}
	sample := eventstest.Load[Event](t, "rollup/aggregate-object.json")
	for name, mutate := range map[string]func(*Event){
		"another day's object": func(e *Event) { e.Key = rollup.DayPrefix("2026-11-26") + "part-00000.ndjson.gz" },
		"a bad date":           func(e *Event) { e.Date = "27/11/2026" },
		"shards not dividing":  func(e *Event) { e.Shards = 3 },
		"a run with a slash":   func(e *Event) { e.Run = "a/b" },
		"an unknown step":      func(e *Event) { e.Step = "sum" },
		"merge without a map":  func(e *Event) { e.Step = "merge" },
		"a missing object":     func(e *Event) {},
	} {
		e := sample
		mutate(&e)
		_, err := h.handle(context.Background(), e)
		assert.Error(t, err, name)
	}
	// A bad record fails its object, naming the line.
	h.s3.(*fakeS3).objects[sample.Key] = gzipBytes(t, "{\"txn_id\":\"1\"}\n")
	_, err := h.handle(context.Background(), sample)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "line 1"), err.Error())
}

type sink struct {
	bytes.Buffer
	dst *[]byte
}

func (s *sink) Close() error { *s.dst = s.Bytes(); return nil }

// A warm Lambda's Aggregator survives garbage collections (sync.Pool would drop it, and its
// slab would be allocated, zeroed and faulted in again).
func TestKeptSurvivesGC(t *testing.T) {
	var k kept[*worker]
	_, ok := k.get()
	require.False(t, ok)
	w := &worker{buf: make([]byte, 1)}
	k.put(w)
	runtime.GC()
	runtime.GC()
	got, ok := k.get()
	require.True(t, ok)
	require.Same(t, w, got)
	_, ok = k.get()
	require.False(t, ok)
}
