package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// InventoryQuery selects a vendor's devices: of one model (Model), optionally by status
// ("passed", "failed", "special", "reregistered", "conflict", or "test" for the model's test
// devices only), or of one deployment provider (Provider: the devices the vendor assigned to it,
// waiting for its confirmation or confirmed; every model, or Model's only; Status filters them).
type InventoryQuery struct {
	Org      string
	ModelID  string // as asked (the listing a cursor belongs to)
	Model    *domain.Model
	Status   string
	Provider string
	// VendorCode is the vendor's code, which every SN of its devices starts with (provider listings).
	VendorCode string
	Cursor     string
	Limit      int
	// Export lets an export's worker read pages of up to ExportPage (the API's stay ≤ 100).
	Export bool
}

// ExportPage is the page size of an export's reads: a tenth of the requests for a large
// inventory (a provider listing's page then reads its devices in ten BatchGetItem of 100).
const ExportPage = 1000

// Inventory returns one page (at most 100) of the query. A listing reads its sources in turn
// — the model's test devices first (marked), then the model's 16 shards, or the provider's 16
// gsi1 shards, or the one "needs attention" partition of a status — and its sealed cursor
// carries the source and the position in it, so pages never repeat or skip a device.
func (db *DB) Inventory(ctx context.Context, q InventoryQuery) (Page[domain.InventoryEntry], error) {
	limit, most := q.Limit, 100
	if q.Export {
		most = ExportPage
	}
	if limit <= 0 || limit > most {
		limit = most
	}
	listing := q.listing()
	src, offset := 0, 0
	var start map[string]types.AttributeValue
	if q.Cursor != "" {
		k, err := db.openCursor(listing, q.Cursor)
		if err != nil {
			return Page[domain.InventoryEntry]{}, err
		}
		src, offset = cursorInt(k, "_src"), cursorInt(k, "_off")
		if src < 0 || offset < 0 {
			return Page[domain.InventoryEntry]{}, domain.ErrInvalidCursor
		}
		delete(k, "_src")
		delete(k, "_off")
		if len(k) > 0 {
			start = k
		}
	}
	sources := db.inventorySources(q)
	page := Page[domain.InventoryEntry]{Items: []domain.InventoryEntry{}}
	var err error
	if q.Provider != "" {
		page.Items, src, start, err = db.providerPage(ctx, q, sources, limit, src, start)
		if err != nil {
			return page, err
		}
	}
	for q.Provider == "" && src < len(sources) && len(page.Items) < limit {
		s := sources[src]
		if s.test {
			tds, err := db.TestDevicesOf(ctx, q.Org, q.Model.ID)
			if err != nil {
				return page, err
			}
			for offset < len(tds) && len(page.Items) < limit {
				page.Items = append(page.Items, tds[offset].Entry())
				offset++
			}
			if offset < len(tds) {
				break
			}
			src, offset = src+1, 0
			continue
		}
		in := *s.query
		in.TableName, in.Limit, in.ExclusiveStartKey = &db.table, aws.Int32(int32(limit-len(page.Items))), start
		out, err := db.client.Query(ctx, &in)
		if err != nil {
			return page, fmt.Errorf("inventory: %w", err)
		}
		for _, av := range out.Items {
			var it deviceItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return page, fmt.Errorf("unmarshal device: %w", err)
			}
			page.Items = append(page.Items, it.device().Entry())
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			src, start = src+1, nil
		}
	}
	if src < len(sources) {
		k := map[string]types.AttributeValue{}
		for n, v := range start {
			k[n] = v
		}
		k["_src"] = &types.AttributeValueMemberS{Value: strconv.Itoa(src)}
		k["_off"] = &types.AttributeValueMemberS{Value: strconv.Itoa(offset)}
		next, err := db.sealCursor(listing, k)
		if err != nil {
			return page, err
		}
		page.Next = next
	}
	return page, nil
}

// cursorInt reads a position the cursor carries (sealed cursors hold strings).
func (q InventoryQuery) listing() string {
	id := q.ModelID
	if id == "" && q.Model != nil {
		id = q.Model.ID
	}
	return fmt.Sprintf("inventory|%s|%s|%s|%s|%t", q.Org, q.Status, q.Provider, id, q.Export)
}

// ResolveInventory reads what q's filters name: with a provider, the vendor's code (and the
// model when one is named), else the model. The model must be q.Org's: another vendor's is
// "model_not_found", like an unknown one; "vendor_not_approved" without a vendor code.
func (db *DB) ResolveInventory(ctx context.Context, q *InventoryQuery) error {
	if q.Provider != "" {
		v, err := db.Vendor(ctx, q.Org)
		if err != nil {
			return err
		}
		q.VendorCode = v.Code
		if q.ModelID == "" {
			return nil
		}
	}
	m, err := db.Model(ctx, q.ModelID)
	if err != nil {
		return err
	}
	if m.VendorOrg != q.Org {
		return domain.Errorf(domain.NotFound, "model_not_found", "model %s does not exist", q.ModelID)
	}
	q.Model = m
	return nil
}

// CheckInventoryCursor returns ErrInvalidCursor unless q's cursor (if any) is one this
// listing issued: checked before anything else is read.
func (db *DB) CheckInventoryCursor(q InventoryQuery) error {
	if q.Cursor == "" {
		return nil
	}
	_, err := db.openCursor(q.listing(), q.Cursor)
	return err
}

func cursorInt(k map[string]types.AttributeValue, name string) int {
	n, ok := k[name].(*types.AttributeValueMemberS)
	if !ok {
		return 0
	}
	v, _ := strconv.Atoi(n.Value)
	return v
}

type inventorySource struct {
	test  bool
	query *dynamodb.QueryInput
}

// providerFillRounds bounds the reads of one page of a provider listing with a status
// filter: each round reads up to a BatchGetItem's worth of bindings (100; a Query per source
// it crosses) and their devices, so a page reads at most 1,000 bindings in 10 BatchGetItem
// requests; a filter that matches rarely then returns a short page with a cursor, as a
// DynamoDB filter does.
const providerFillRounds = 10

// providerPage reads a provider listing's page from position (src, start) of its sources:
// the bindings, in the sources' order, completed with their devices (one BatchGetItem for
// up to 100), those the status filter keeps. Without a filter it reads exactly the room left;
// with one it reads 100 at a time and, when more match than the page holds, stops the cursor
// right after the last binding listed, so pages never repeat or skip a device.
func (db *DB) providerPage(ctx context.Context, q InventoryQuery, sources []inventorySource, limit, src int,
	start map[string]types.AttributeValue) ([]domain.InventoryEntry, int, map[string]types.AttributeValue, error) {
	items := []domain.InventoryEntry{}
	for round := 0; len(items) < limit && src < len(sources) && (round == 0 || q.Status != "" && round < providerFillRounds); round++ {
		want := limit - len(items)
		if q.Status != "" {
			want = max(want, 100)
		}
		// bound[i] was read from source srcOf[i] as item raw[i] (its keys are the start key
		// right after it, should the page end there)
		var bound []domain.InventoryEntry
		var srcOf []int
		var raw []map[string]types.AttributeValue
		for src < len(sources) && len(bound) < want {
			in := *sources[src].query
			in.TableName, in.Limit, in.ExclusiveStartKey = &db.table, aws.Int32(int32(want-len(bound))), start
			out, err := db.client.Query(ctx, &in)
			if err != nil {
				return nil, 0, nil, fmt.Errorf("inventory: %w", err)
			}
			for _, av := range out.Items {
				var it bindingItem
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return nil, 0, nil, fmt.Errorf("unmarshal binding: %w", err)
				}
				bound = append(bound, domain.InventoryEntry{SN: strings.TrimPrefix(it.SK, "B#"), Provider: it.Provider,
					BindingState: domain.BindingState(it.State)})
				srcOf, raw = append(srcOf, src), append(raw, av)
			}
			if start = out.LastEvaluatedKey; len(start) == 0 {
				src, start = src+1, nil
			}
		}
		kept, err := db.boundEntries(ctx, bound, q.Status)
		if err != nil {
			return nil, 0, nil, err
		}
		if room := limit - len(items); len(kept) > room {
			// more match than the page holds: the cursor goes right after the last one listed
			last := kept[room-1].SN
			for i, b := range bound {
				if b.SN == last {
					src, start = srcOf[i], map[string]types.AttributeValue{}
					for _, n := range []string{"pk", "sk", "gsi1pk", "gsi1sk"} {
						start[n] = raw[i][n]
					}
					break
				}
			}
			kept = kept[:room]
		}
		items = append(items, kept...)
	}
	return items, src, start, nil
}

// boundEntries completes a provider listing's bindings with their devices (one BatchGetItem
// for up to 100, eventually consistent), keeping those with status (all when ""), in order.
func (db *DB) boundEntries(ctx context.Context, bound []domain.InventoryEntry, status string) ([]domain.InventoryEntry, error) {
	sns := make([]string, len(bound))
	for i, b := range bound {
		sns[i] = b.SN
	}
	devs, err := db.Devices(ctx, sns, false)
	if err != nil {
		return nil, err
	}
	out := make([]domain.InventoryEntry, 0, len(bound))
	for _, b := range bound {
		d := devs[b.SN]
		if d == nil { // a binding is made only for an existing device; nothing to list without it
			continue
		}
		e := d.Entry()
		if status != "" && e.Status != status && (status != "conflict" || !e.Conflict) {
			continue
		}
		e.Provider, e.BindingState = b.Provider, b.BindingState
		out = append(out, e)
	}
	return out, nil
}

func (db *DB) inventorySources(q InventoryQuery) []inventorySource {
	var out []inventorySource
	eq := func(index, pk, skPrefix string, filter map[string]string) inventorySource {
		pkName, skName := "pk", "sk"
		in := &dynamodb.QueryInput{}
		if index != "" {
			in.IndexName, pkName, skName = aws.String(index), index+"pk", index+"sk"
		}
		cond := pkName + " = :pk"
		vals := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}}
		if skPrefix != "" {
			cond += " AND begins_with(" + skName + ", :p)"
			vals[":p"] = &types.AttributeValueMemberS{Value: skPrefix}
		}
		if v, ok := filter["status"]; ok {
			in.FilterExpression = aws.String("#s = :s")
			in.ExpressionAttributeNames = map[string]string{"#s": "st"}
			vals[":s"] = &types.AttributeValueMemberS{Value: v}
		}
		in.KeyConditionExpression, in.ExpressionAttributeValues = aws.String(cond), vals
		return inventorySource{query: in}
	}
	if q.Provider != "" {
		// The binding items' gsi1 (BIND#<provider>#<shard> / <state>#<sn>): an SN starts with its
		// vendor's code, and with its model's five characters, so the vendor's (or the model's)
		// devices of the provider are one begins_with range per state and shard.
		prefix := q.VendorCode
		if q.Model != nil && q.Model.ModelCode != "" {
			prefix = q.Model.VendorCode + q.Model.OS.SystemTypeLetter() + q.Model.ModelCode
		}
		for _, state := range []domain.BindingState{domain.BindingAssigned, domain.BindingConfirmed} {
			for shard := range DeviceShards {
				out = append(out, eq("gsi1", providerShardPK(q.Provider, shard), string(state)+"#"+prefix, nil))
			}
		}
		return out
	}
	m := q.Model
	prefix := m.VendorCode + m.OS.SystemTypeLetter() + m.ModelCode
	if m.ModelCode == "" {
		return nil
	}
	switch q.Status {
	case "test":
		return []inventorySource{{test: true}}
	case "", string(domain.DevicePassed):
		if q.Status == "" {
			out = append(out, inventorySource{test: true})
		}
		var filter map[string]string
		if q.Status != "" {
			filter = map[string]string{"status": q.Status}
		}
		for shard := range DeviceShards {
			out = append(out, eq("", deviceShardPK(prefix, shard), "D#", filter))
		}
		return out
	}
	// Failed, special, re-registered and conflicting devices: the sparse attention index.
	return []inventorySource{eq("gsi2", "DEVATTN#"+prefix+"#"+q.Status, "", nil)}
}
