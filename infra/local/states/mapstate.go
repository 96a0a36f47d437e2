package states

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// runMap runs one attempt of a Map state (inline, or distributed with its item processor
// run in-process) over the items of its effective input in.
func (s *strand) runMap(st *state, in any, sc *stateCtx) (any, error) {
	ctx := s.contextObject(sc)
	var items []any
	if st.itemReader != nil {
		var err error
		if items, err = s.readItems(st.itemReader, in, ctx); err != nil {
			return nil, err
		}
	} else {
		v, err := applyPath(st.itemsPath, "ItemsPath", in, ctx)
		if err != nil {
			return nil, err
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, newErr(errRuntime, "Map state input must be an array, got %s at ItemsPath", typeName(v))
		}
		items = arr
	}
	if st.itemSelector != nil {
		selected := make([]any, len(items))
		for i, it := range items {
			isc := *sc
			isc.item = &mapItem{index: i, value: it}
			v, err := st.itemSelector.eval(in, s.contextObject(&isc))
			if err != nil {
				return nil, err
			}
			selected[i] = v
		}
		items = selected
	}
	if st.batcher != nil {
		var err error
		if items, err = batchItems(st.batcher, items, in, ctx); err != nil {
			return nil, err
		}
	}
	limit := st.maxConcurrency
	if st.maxConcurrencyPath != nil {
		v, err := st.maxConcurrencyPath.eval(in)
		n, ok := toInt(v)
		if err != nil || !ok || n < 0 {
			return nil, newErr(errRuntime, "Invalid MaxConcurrencyPath '%s'", st.maxConcurrencyPath.src)
		}
		limit = n
	}
	tolerate := 0
	if st.hasTolerated {
		if st.toleratedCount >= 0 {
			tolerate = int(st.toleratedCount)
		}
		if st.toleratedPercent > 0 {
			tolerate = max(tolerate, int(math.Floor(st.toleratedPercent*float64(len(items))/100)))
		}
	}
	var mapRunARN, mapRunID string
	if st.distributed {
		mapRunID = newUUID()
		mapRunARN = strings.Replace(s.x.sm.arn, ":stateMachine:", ":mapRun:", 1) + "/" + st.name + ":" + mapRunID
		s.record("MapRunStarted", map[string]any{"mapRunArn": mapRunARN})
	} else {
		s.record("MapStateStarted", map[string]any{"length": len(items)})
	}
	// What a ResultWriter reports of each child: its input, times, and output or error.
	runs := make([]childRun, len(items))
	for i := range runs {
		runs[i] = childRun{input: items[i], status: "PENDING"}
	}
	var runsMu sync.Mutex // children still running after a failed run write theirs late
	clk := s.x.e.clk
	results, err := s.fanOut(len(items), int(limit), tolerate, func(child *strand, i int) (any, error) {
		itemIn := items[i]
		start := clk.Now()
		child.record("MapIterationStarted", map[string]any{"name": st.name, "index": i})
		out, err := child.runMachine(st.processor, itemIn, nil)
		runsMu.Lock()
		defer runsMu.Unlock()
		r := &runs[i]
		r.name, r.start, r.stop = newUUID(), start, clk.Now()
		if err != nil {
			r.status, r.err = "FAILED", err
			child.record("MapIterationFailed", map[string]any{"name": st.name, "index": i})
			return nil, err
		}
		r.status, r.output = "SUCCEEDED", out
		child.record("MapIterationSucceeded", map[string]any{"name": st.name, "index": i})
		return out, nil
	})
	var written any
	if st.resultWriter != nil && s.ctx.Err() == nil {
		// AWS exports the results of a failed Map Run too.
		var werr error
		runsMu.Lock()
		done := slices.Clone(runs)
		runsMu.Unlock()
		if written, werr = s.writeResults(st, in, ctx, mapRunARN, mapRunID, done); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		var se *stateError
		if errors.As(err, &se) && se.Name != errResultWriterFailed && (st.distributed || st.hasTolerated) {
			err = newErr(errExceedToleratedFailure, "The specified tolerated failure threshold was exceeded")
		}
		if st.distributed {
			s.record("MapRunFailed", map[string]any{"error": errExceedToleratedFailure})
		} else {
			s.record("MapStateFailed", nil)
		}
		return nil, err
	}
	if st.distributed {
		s.record("MapRunSucceeded", nil)
	} else {
		s.record("MapStateSucceeded", nil)
	}
	if written != nil {
		return written, nil
	}
	return results, nil
}

// childRun is one child workflow execution of a distributed Map, as a ResultWriter reports it.
type childRun struct {
	name        string
	input       any
	output      any
	err         error
	status      string // SUCCEEDED, FAILED, PENDING (never started: the run failed first)
	start, stop time.Time
}

// resultFileItems bounds a result file. AWS splits result files at 5 GB; a count bound keeps
// the local files small and still exercises more than one file per status.
const resultFileItems = 1000

// writeResults applies the ResultWriter: with Resource and Parameters it writes the child
// results to S3 as AWS does — <Prefix>/<map run id>/SUCCEEDED_n.json, FAILED_n.json,
// PENDING_n.json (JSON arrays of execution records) and manifest.json listing them — and the
// Map's result is {"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}; with WriterConfig
// alone the result is the transformed array.
func (s *strand) writeResults(st *state, in any, ctx func() any, mapRunARN, mapRunID string, runs []childRun) (any, error) {
	w := st.resultWriter
	fail := func(format string, args ...any) (any, error) {
		return nil, newErr(errResultWriterFailed, format, args...)
	}
	record := func(r *childRun) any {
		switch {
		case r.status != "SUCCEEDED" || w.transformation == "NONE":
			return s.executionRecord(st, mapRunID, r)
		default:
			return r.output
		}
	}
	if w.parameters == nil {
		out := []any{}
		for i := range runs {
			if runs[i].status != "SUCCEEDED" {
				continue
			}
			v := record(&runs[i])
			if arr, ok := v.([]any); ok && w.transformation == "FLATTEN" {
				out = append(out, arr...)
			} else {
				out = append(out, v)
			}
		}
		return out, nil
	}
	client := s.x.e.opts.S3
	if client == nil {
		return fail("no S3 client is configured in the local executor")
	}
	pv, err := w.parameters.eval(in, ctx)
	if err != nil {
		return nil, err
	}
	params, _ := pv.(map[string]any)
	bucket, _ := params["Bucket"].(string)
	prefix, _ := params["Prefix"].(string)
	if bucket == "" {
		return fail("ResultWriter Parameters must include Bucket")
	}
	base := mapRunID + "/"
	if p := strings.TrimSuffix(prefix, "/"); p != "" {
		base = p + "/" + base
	}
	put := func(key string, body []byte) error {
		_, err := client.PutObject(s.ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader(body), ContentType: aws.String("application/json")})
		return err
	}
	files := map[string]any{}
	for _, status := range []string{"FAILED", "PENDING", "SUCCEEDED"} {
		list := []any{}
		var batch []any
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			key := fmt.Sprintf("%s%s_%d.json", base, status, len(list))
			body := []byte(toJSON(batch))
			if err := put(key, body); err != nil {
				return err
			}
			list = append(list, map[string]any{"Key": key, "Size": intNumber(int64(len(body)))})
			batch = nil
			return nil
		}
		for i := range runs {
			if runs[i].status != status {
				continue
			}
			v := record(&runs[i])
			if arr, ok := v.([]any); ok && status == "SUCCEEDED" && w.transformation == "FLATTEN" {
				batch = append(batch, arr...)
			} else {
				batch = append(batch, v)
			}
			if len(batch) >= resultFileItems {
				if err := flush(); err != nil {
					return fail("writing results to s3://%s/%s: %v", bucket, base, err)
				}
			}
		}
		if err := flush(); err != nil {
			return fail("writing results to s3://%s/%s: %v", bucket, base, err)
		}
		files[status] = list
	}
	manifest := map[string]any{"DestinationBucket": bucket, "MapRunArn": mapRunARN, "ResultFiles": files}
	key := base + "manifest.json"
	if err := put(key, []byte(toJSON(manifest))); err != nil {
		return fail("writing s3://%s/%s: %v", bucket, key, err)
	}
	return map[string]any{"MapRunArn": mapRunARN, "ResultWriterDetails": map[string]any{"Bucket": bucket, "Key": key}}, nil
}

// executionRecord is a child execution as AWS's result files describe it: input and output
// as JSON strings, with the execution's ARN, name, dates and status; a failed one carries
// Error and Cause instead of Output.
func (s *strand) executionRecord(st *state, mapRunID string, r *childRun) map[string]any {
	smARN := s.x.sm.arn
	execPrefix := strings.Replace(smARN, ":stateMachine:", ":execution:", 1) + "/" + st.name + ":"
	rec := map[string]any{
		"ExecutionArn":    execPrefix + r.name,
		"Name":            r.name,
		"StateMachineArn": smARN + "/" + st.name + ":" + mapRunID,
		"Status":          r.status,
		"Input":           toJSON(r.input),
		"InputDetails":    map[string]any{"Included": true},
		"RedriveCount":    intNumber(0),
		"RedriveStatus":   "NOT_REDRIVABLE",
	}
	if r.status == "PENDING" {
		delete(rec, "ExecutionArn")
		delete(rec, "Name")
		return rec
	}
	rec["StartDate"] = formatTime(r.start)
	rec["StopDate"] = formatTime(r.stop)
	if r.status == "SUCCEEDED" {
		rec["Output"] = toJSON(r.output)
		rec["OutputDetails"] = map[string]any{"Included": true}
		rec["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
		return rec
	}
	var se *stateError
	if errors.As(r.err, &se) {
		rec["Error"], rec["Cause"] = se.Name, se.Cause
	} else {
		rec["Error"], rec["Cause"] = errRuntime, r.err.Error()
	}
	return rec
}

// batchItems groups items into {"BatchInput": ..., "Items": [...]} batches.
func batchItems(b *itemBatcher, items []any, in any, ctx func() any) ([]any, error) {
	maxItems := b.maxItems
	if b.maxItemsPath != nil {
		v, err := b.maxItemsPath.eval(in)
		n, ok := toInt(v)
		if err != nil || !ok || n <= 0 {
			return nil, newErr(errRuntime, "Invalid MaxItemsPerBatchPath '%s'", b.maxItemsPath.src)
		}
		maxItems = n
	}
	var batchInput any
	if b.batchInput != nil {
		var err error
		if batchInput, err = b.batchInput.eval(in, ctx); err != nil {
			return nil, err
		}
	}
	var batches []any
	var cur []any
	size := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		batch := map[string]any{"Items": cur}
		if batchInput != nil {
			batch["BatchInput"] = batchInput
		}
		batches = append(batches, batch)
		cur, size = nil, 0
	}
	for _, it := range items {
		n := len(toJSON(it))
		if len(cur) > 0 && b.maxBytes > 0 && int64(size+n) > b.maxBytes {
			flush()
		}
		cur = append(cur, it)
		size += n
		if maxItems > 0 && int64(len(cur)) >= maxItems {
			flush()
		}
	}
	flush()
	if batches == nil {
		batches = []any{}
	}
	return batches, nil
}

// readItems runs a distributed Map's ItemReader: s3:listObjectsV2 yields one item per
// object; s3:getObject reads a JSON array (InputType JSON) or a CSV file with a header.
func (s *strand) readItems(r *itemReader, in any, ctx func() any) ([]any, error) {
	fail := func(format string, args ...any) ([]any, error) {
		return nil, newErr(errItemReaderFailed, format, args...)
	}
	client := s.x.e.opts.S3
	if client == nil {
		return fail("no S3 client is configured in the local executor")
	}
	var params map[string]any
	if r.parameters != nil {
		v, err := r.parameters.eval(in, ctx)
		if err != nil {
			return nil, err
		}
		params, _ = v.(map[string]any)
	}
	bucket, _ := params["Bucket"].(string)
	if bucket == "" {
		return fail("ItemReader Parameters must include Bucket")
	}
	var items []any
	switch r.resource {
	case "arn:aws:states:::s3:listObjectsV2":
		in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
		if p, ok := params["Prefix"].(string); ok {
			in.Prefix = aws.String(p)
		}
		if n := s.x.e.opts.S3ListPageSize; n > 0 {
			in.MaxKeys = aws.Int32(n)
		}
		pages := s3.NewListObjectsV2Paginator(client, in)
		for pages.HasMorePages() {
			page, err := pages.NextPage(s.ctx)
			if err != nil {
				return fail("listing s3://%s: %v", bucket, err)
			}
			for _, o := range page.Contents {
				item := map[string]any{
					"Key":          aws.ToString(o.Key),
					"Size":         intNumber(aws.ToInt64(o.Size)),
					"Etag":         aws.ToString(o.ETag),
					"StorageClass": string(o.StorageClass),
				}
				if o.LastModified != nil {
					item["LastModified"] = formatTime(*o.LastModified)
				}
				items = append(items, item)
			}
		}
	case "arn:aws:states:::s3:getObject":
		key, _ := params["Key"].(string)
		obj, err := client.GetObject(s.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return fail("reading s3://%s/%s: %v", bucket, key, err)
		}
		// Items are decoded as the body streams in: the object is never held whole, and
		// reading stops at MaxItems.
		items, err = readObjectItems(obj.Body, r.inputType, r.maxItems)
		obj.Body.Close()
		if err != nil {
			return fail("reading s3://%s/%s: %v", bucket, key, err)
		}
	default:
		return fail("unsupported ItemReader resource %s", r.resource)
	}
	if r.maxItems > 0 && int64(len(items)) > r.maxItems {
		items = items[:r.maxItems]
	}
	if items == nil {
		items = []any{}
	}
	return items, nil
}

// readObjectItems decodes an ItemReader object's items from body: a JSON array (InputType
// JSON, the default), JSON Lines (JSONL) or CSV whose first row is the header (CSV), at most
// maxItems of them when maxItems > 0.
func readObjectItems(body io.Reader, inputType string, maxItems int64) ([]any, error) {
	full := func(items []any) bool { return maxItems > 0 && int64(len(items)) >= maxItems }
	var items []any
	switch inputType {
	case "CSV":
		cr := csv.NewReader(bufio.NewReader(body))
		cr.ReuseRecord = true
		header, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("not a CSV file with a header row: %v", err)
		}
		header = slices.Clone(header)
		for !full(items) {
			row, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("CSV: %v", err)
			}
			item := map[string]any{}
			for i, h := range header {
				if i < len(row) {
					item[h] = row[i]
				}
			}
			items = append(items, item)
		}
	case "JSONL":
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for !full(items) && sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			v, err := parseJSONBytes(sc.Bytes())
			if err != nil {
				return nil, fmt.Errorf("JSONL line %d: %v", len(items)+1, err)
			}
			items = append(items, v)
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	default:
		dec := json.NewDecoder(bufio.NewReader(body))
		dec.UseNumber()
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return nil, errors.New("does not hold a JSON array")
		}
		for !full(items) && dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, fmt.Errorf("does not hold a JSON array: %v", err)
			}
			v, err := parseJSONBytes(raw)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
	}
	return items, nil
}
