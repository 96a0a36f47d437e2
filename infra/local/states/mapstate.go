package states

import (
	"encoding/csv"
	"errors"
	"io"
	"math"
	"strings"

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
	if st.distributed {
		s.record("MapRunStarted", map[string]any{"mapRunArn": strings.Replace(s.x.arn, ":execution:", ":mapRun:", 1) + "/" + st.name})
	} else {
		s.record("MapStateStarted", map[string]any{"length": len(items)})
	}
	results, err := s.fanOut(len(items), int(limit), tolerate, func(child *strand, i int) (any, error) {
		itemIn := items[i]
		child.record("MapIterationStarted", map[string]any{"name": st.name, "index": i})
		out, err := child.runMachine(st.processor, itemIn, nil)
		if err != nil {
			child.record("MapIterationFailed", map[string]any{"name": st.name, "index": i})
			return nil, err
		}
		child.record("MapIterationSucceeded", map[string]any{"name": st.name, "index": i})
		return out, nil
	})
	if err != nil {
		var se *stateError
		if errors.As(err, &se) && (st.distributed || st.hasTolerated) {
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
	return results, nil
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
		body, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			return fail("reading s3://%s/%s: %v", bucket, key, err)
		}
		if r.inputType == "CSV" {
			rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
			if err != nil || len(rows) == 0 {
				return fail("s3://%s/%s is not a CSV file with a header row", bucket, key)
			}
			for _, row := range rows[1:] {
				item := map[string]any{}
				for i, h := range rows[0] {
					if i < len(row) {
						item[h] = row[i]
					}
				}
				items = append(items, item)
			}
		} else {
			v, err := parseJSONBytes(body)
			arr, ok := v.([]any)
			if err != nil || !ok {
				return fail("s3://%s/%s does not hold a JSON array", bucket, key)
			}
			items = arr
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
