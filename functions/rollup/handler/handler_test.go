package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	mu   sync.Mutex
	figs map[string]rollup.Figures
}

func (f *fakeFigures) PutFigures(_ context.Context, figs []rollup.Figures, _ map[string]string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fg := range figs {
		f.figs[fg.DeviceSN] = fg
	}
	return nil
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
		require.NoError(t, err)
		assert.Equal(t, len(keys), res.Partials)
		assert.Empty(t, res.Totals, "no binding: no provider totals")
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
