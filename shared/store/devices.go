package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Production devices (10^7–10^8 items, written 500 at a time): their own item design in the
// shared table, with real attributes instead of the JSON envelope.
//
//	item            pk                          sk                      gsi1          gsi2 (sparse)
//	device          DEV#<sn[0:5]>#<shard>       D#<sn>                  –             DEVATTN#<sn[0:5]>#<status> / <sn>
//	device history  DEV#<sn[0:5]>#<shard>       H#<sn>#<at>#<seq>       –             –
//	PVT pass mark   MODEL#<id>                  FACTORY#PVTPASS         –             –
//	mode request    MODEREQ#<id>                META                    –             QUEUE#MODEREQ#pending / <requested>#<id> (while pending; moderequests.go)
//
// sn[0:5] is the SN's vendor code, system type and model code: one model's devices. shard is
// FNV-1a(sn) mod 16, so the key is computed from the SN alone (the runtime check and the
// closed-loop query are one GetItem) and a model's production run spreads over 16 partitions
// (a 500-device batch puts about 31 items in each; no partition takes a vendor's whole run,
// and DynamoDB's 1000 WCU/s per partition is far away). The inventory of a model reads its 16
// partitions in turn (one sealed cursor carries the shard and the position in it).
//
// Index entries are written only for what needs them: gsi2 while a device is not simply passed
// (failed, special, re-registered, or carrying a camera-SN conflict): the short "needs
// attention" listing. A new passed device therefore writes no index entry at all.
//
// The deployment provider is not an attribute of the device item: the binding item beside it
// (bindings.go) is the one record of it, and its gsi1 entry BIND#<provider>#<shard> /
// <state>#<sn> already orders a provider's devices by SN, which starts with the vendor's code
// and the model's five characters. A vendor's inventory of one provider reads that range
// (begins_with <state>#<vendor code or sn[0:5]>, assigned and confirmed, 16 shards each) and
// then the page's devices in one BatchGetItem. So a binding change writes nothing more (keeping
// a provider attribute and index key on the device in step would make every assignment and
// confirmation a two-item transaction, 2 WCU per KB on each item, and put the vendor's binding
// writes in contention with the factory check's on the device's version), and a listing page
// costs one BatchGetItem more than a model's page.
//
// Access patterns and their cost (item ≤ 1 KB, checked by TestDeviceItemFitsOneKB):
//
//	factory batch of n new devices    ceil(n/100) BatchGetItem (0.5 RCU each device) + ceil(n/100) TransactWriteItems
//	                                  (2 WCU each device: a transactional put of ≤ 1 KB; + 1 WCU for a gsi2 entry when not passed)
//	same batch again                  ceil(n/100) BatchGetItem, no write (the report's fingerprint is unchanged)
//	closed-loop query, runtime check  1 GetItem (0.5 RCU eventually consistent)
//	inventory page (≤ 100)            1–16 Query on the model's shards (0.5 RCU per 4 KB read)
//	devices needing attention          Query gsi2 DEVATTN#<sn[0:5]>#<status>
//	a vendor's devices of a provider  1–32 Query gsi1 BIND#<provider>#<shard>, begins_with <state>#<vendor code | sn[0:5]>
//	                                  (0.5 RCU per 4 KB of binding items) + 1 BatchGetItem of the page's devices (0.5 RCU each)
//	software-mode change request      1 TransactWriteItems: the request (2 WCU + 1 for its gsi2 queue entry) and the device's pending mark (2 WCU)
//	its decision                      1 TransactWriteItems: the request, the device (new mode, mark cleared), a history item on approval
//
// Races: every device write is conditional (attribute_not_exists for a new device, the version
// read for a known one). Two stations reporting the same new SN at once: one transaction
// commits, the other is cancelled with ConditionalCheckFailed for that item; the loser reloads
// the device and applies its report to what the winner wrote (a repeated check, or a
// camera-SN conflict), so no report is lost. Conditional writes in bulk exist only inside
// TransactWriteItems (BatchWriteItem takes no condition), which bill 2 WCU per item.

// DeviceShards is how many partitions one model's devices spread over.
const DeviceShards = 16

// DeviceShard is the shard of sn.
func DeviceShard(sn string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(sn))
	return int(h.Sum32() % DeviceShards)
}

func devicePK(sn string) string {
	return fmt.Sprintf("DEV#%s#%x", sn[:5], DeviceShard(sn))
}

func deviceShardPK(prefix string, shard int) string { return fmt.Sprintf("DEV#%s#%x", prefix, shard) }

func deviceKey(sn string) map[string]types.AttributeValue { return key(devicePK(sn), "D#"+sn) }

// deviceItem is the stored device: real attributes with short names (a name's bytes are billed
// on every write: these keep the largest item a report can make within 1 KB), times as Unix
// seconds, optional ones omitted. The warnings of the last check are not stored: they follow
// from checks and bf. A conflict's station is in the device's history.
type deviceItem struct {
	PK             string   `dynamodbav:"pk"`
	SK             string   `dynamodbav:"sk"`
	GSI2PK         string   `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK         string   `dynamodbav:"gsi2sk,omitempty"`
	Org            string   `dynamodbav:"org"`
	Model          string   `dynamodbav:"model"`
	Status         string   `dynamodbav:"st"`
	Mode           string   `dynamodbav:"mode"`
	CameraSN       string   `dynamodbav:"cam,omitempty"`
	WiredMAC       string   `dynamodbav:"mac,omitempty"`
	WirelessMAC    string   `dynamodbav:"wmac,omitempty"`
	BluetoothMAC   string   `dynamodbav:"bmac,omitempty"`
	IMEI           string   `dynamodbav:"imei,omitempty"`
	AppVersion     string   `dynamodbav:"app"`
	Result         string   `dynamodbav:"res"`
	Errors         []string `dynamodbav:"errs,omitempty"`
	Station        string   `dynamodbav:"stn"`
	CheckedAt      int64    `dynamodbav:"at"`
	ReceivedAt     int64    `dynamodbav:"rcv"`
	Backfilled     bool     `dynamodbav:"bf,omitempty"`
	Checks         int      `dynamodbav:"checks"`
	FirstPassedAt  int64    `dynamodbav:"first,omitempty"`
	PassedIn       string   `dynamodbav:"pin,omitempty"`
	Registration   int      `dynamodbav:"reg"`
	ConflictCamera string   `dynamodbav:"xcam,omitempty"`
	ConflictAt     int64    `dynamodbav:"xat,omitempty"`
	ModeRequest    string   `dynamodbav:"mreq,omitempty"`
	Fingerprint    string   `dynamodbav:"fp,omitempty"`
	Version        int      `dynamodbav:"ver"`
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func toDeviceItem(d *domain.Device) deviceItem {
	it := deviceItem{PK: devicePK(d.SN), SK: "D#" + d.SN, Org: d.VendorOrg, Model: d.ModelID, Status: string(d.Status),
		Mode: string(d.SoftwareMode), CameraSN: d.CameraSN, WiredMAC: d.WiredMAC, WirelessMAC: d.WirelessMAC,
		BluetoothMAC: d.BluetoothMAC, IMEI: d.IMEI, AppVersion: d.AppVersion, Result: string(d.Result),
		Errors: d.Errors, Station: d.Station, CheckedAt: unix(d.CheckedAt), ReceivedAt: unix(d.ReceivedAt),
		Backfilled: d.Backfilled, Checks: d.Checks, PassedIn: string(d.PassedIn), Registration: d.Registration,
		ModeRequest: d.PendingModeRequest, Fingerprint: d.Fingerprint}
	if len(it.Errors) == 0 {
		it.Errors = nil
	}
	if d.FirstPassedAt != nil {
		it.FirstPassedAt = d.FirstPassedAt.Unix()
	}
	if c := d.Conflict; c != nil {
		it.ConflictCamera, it.ConflictAt = c.CameraSN, c.At.Unix()
	}
	if attn := attention(d); attn != "" {
		it.GSI2PK, it.GSI2SK = "DEVATTN#"+d.SN[:5]+"#"+attn, d.SN
	}
	return it
}

// attention is the device's entry in the "needs attention" listing ("" for a plain passed device).
func attention(d *domain.Device) string {
	if d.Conflict != nil {
		return "conflict"
	}
	if d.Status == domain.DevicePassed {
		return ""
	}
	return string(d.Status)
}

func (it deviceItem) device() *domain.Device {
	d := &domain.Device{SN: strings.TrimPrefix(it.SK, "D#"), VendorOrg: it.Org, ModelID: it.Model, Status: domain.DeviceStatus(it.Status),
		SoftwareMode: domain.SoftwareMode(it.Mode), CameraSN: it.CameraSN, WiredMAC: it.WiredMAC, WirelessMAC: it.WirelessMAC,
		BluetoothMAC: it.BluetoothMAC, IMEI: it.IMEI, AppVersion: it.AppVersion, Result: domain.CheckResult(it.Result),
		Errors: it.Errors, Station: it.Station, CheckedAt: fromUnix(it.CheckedAt), ReceivedAt: fromUnix(it.ReceivedAt),
		Backfilled: it.Backfilled, Checks: it.Checks, PassedIn: domain.Stage(it.PassedIn), Registration: it.Registration,
		PendingModeRequest: it.ModeRequest, Fingerprint: it.Fingerprint, Version: it.Version}
	if d.Errors == nil {
		d.Errors = []string{}
	}
	d.Warnings = []string{}
	if d.Checks > 1 {
		d.Warnings = append(d.Warnings, domain.WarnAlreadyChecked)
	}
	if d.Backfilled {
		d.Warnings = append(d.Warnings, domain.WarnBackfilled)
	}
	if it.FirstPassedAt != 0 {
		t := fromUnix(it.FirstPassedAt)
		d.FirstPassedAt = &t
	}
	if it.ConflictCamera != "" {
		d.Conflict = &domain.CameraConflict{CameraSN: it.ConflictCamera, At: fromUnix(it.ConflictAt)}
	}
	return d
}

// DeviceAttributes is the device's item as stored (the benchmark and the size test measure it).
func DeviceAttributes(d *domain.Device) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(toDeviceItem(d))
}

// Device returns the device with sn. NotFound ("device_not_found").
func (db *DB) Device(ctx context.Context, sn string) (*domain.Device, error) {
	if _, err := domain.ParseSerialNumber(sn); err != nil {
		return nil, domain.Errorf(domain.NotFound, "device_not_found", "device %q does not exist", sn)
	}
	out, err := db.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &db.table, Key: deviceKey(sn)})
	if err != nil {
		return nil, fmt.Errorf("get device %s: %w", sn, err)
	}
	if out.Item == nil {
		return nil, domain.Errorf(domain.NotFound, "device_not_found", "device %s does not exist", sn)
	}
	var it deviceItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("unmarshal device %s: %w", sn, err)
	}
	return it.device(), nil
}

// Devices reads the devices with the given SNs (valid SNs only), 100 per BatchGetItem. consistent
// asks for strongly consistent reads (after a lost race); the factory batch's first read is
// eventually consistent, because every write's condition catches what a stale read missed.
func (db *DB) Devices(ctx context.Context, sns []string, consistent bool) (map[string]*domain.Device, error) {
	out := make(map[string]*domain.Device, len(sns))
	for start := 0; start < len(sns); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, sn := range sns[start:min(start+100, len(sns))] {
			keys = append(keys, deviceKey(sn))
		}
		req := map[string]types.KeysAndAttributes{db.table: {Keys: keys, ConsistentRead: aws.Bool(consistent)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := db.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("batch get devices: %w", err)
			}
			for _, av := range res.Responses[db.table] {
				var it deviceItem
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return nil, fmt.Errorf("unmarshal device: %w", err)
				}
				d := it.device()
				out[d.SN] = d
			}
			req = res.UnprocessedKeys
			if attempt > 8 && len(req) > 0 {
				return nil, fmt.Errorf("batch get devices: %d keys still unprocessed", len(req[db.table].Keys))
			}
		}
	}
	return out, nil
}

func sleep(ctx context.Context, attempt int) error {
	d := time.Duration(1<<min(attempt, 6)) * 10 * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// DeviceWrite is one device to write with its history entries. Version is the version read (0:
// the device must not exist yet).
type DeviceWrite struct {
	Device  *domain.Device
	Changes []domain.Change
}

// ErrRetryable marks a device write the platform could not make (throttled, contended past
// its retries): the line should send it again.
var ErrRetryable = errors.New("device write not made; retry")

// WriteDevices writes ws in transactions of up to 100 items, each write conditional on the
// version read. It returns one error per write: nil (written), domain.ErrConflict (the device
// changed or appeared since it was read: reload and apply the report again), or an error
// wrapping ErrRetryable. The writes of one call are independent: one lost race never holds
// back the others.
func (db *DB) WriteDevices(ctx context.Context, ws []DeviceWrite) []error {
	errs := make([]error, len(ws))
	var chunk []deviceAction
	flush := func() {
		if len(chunk) > 0 {
			db.commitDevices(ctx, chunk, errs)
			chunk = nil
		}
	}
	for i, w := range ws {
		acts, err := db.deviceActions(w)
		if err != nil {
			errs[i] = err
			continue
		}
		if len(chunk)+len(acts) > 100 {
			flush()
		}
		for _, a := range acts {
			chunk = append(chunk, deviceAction{w: a, owner: i})
		}
	}
	flush()
	return errs
}

// deviceAction is one write of a device transaction; owner is the index of its DeviceWrite.
type deviceAction struct {
	w     types.TransactWriteItem
	owner int
}

// deviceActions is the conditional put of w's device and the puts of its history entries.
func (db *DB) deviceActions(w DeviceWrite) ([]types.TransactWriteItem, error) {
	it := toDeviceItem(w.Device)
	it.Version = w.Device.Version + 1
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("marshal device %s: %w", w.Device.SN, err)
	}
	p := &types.Put{TableName: &db.table, Item: av}
	if w.Device.Version == 0 {
		p.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		p.ConditionExpression = aws.String("ver = :v")
		p.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(w.Device.Version)}}
	}
	out := []types.TransactWriteItem{{Put: p}}
	for _, c := range w.Changes {
		data, err := marshalJSON(c)
		if err != nil {
			return nil, err
		}
		hav, err := attributevalue.MarshalMap(item{PK: it.PK, SK: fmt.Sprintf("H#%s#%s#%06d", w.Device.SN, ts(c.At), histSeq.Add(1)%1_000_000), Data: data, Version: 1})
		if err != nil {
			return nil, err
		}
		out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: &db.table, Item: hav, ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	}
	return out, nil
}

// commitDevices commits one chunk. A cancelled transaction names the writes whose condition
// failed: those devices get ErrConflict and the rest are committed again without them.
// Transaction conflicts (another transaction on the same item at that moment) and throttling
// are retried with backoff; what still fails is ErrRetryable.
func (db *DB) commitDevices(ctx context.Context, live []deviceAction, errs []error) {
	for attempt := 0; len(live) > 0; attempt++ {
		items := make([]types.TransactWriteItem, len(live))
		for i, a := range live {
			items[i] = a.w
		}
		_, err := db.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return
		}
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) && attempt < 6 {
			failed := map[int]bool{}
			for i, r := range tce.CancellationReasons {
				if aws.ToString(r.Code) == "ConditionalCheckFailed" && i < len(live) {
					failed[live[i].owner] = true
				}
			}
			var next []deviceAction
			for _, a := range live {
				if failed[a.owner] {
					errs[a.owner] = domain.ErrConflict.Withf("device changed meanwhile")
					continue
				}
				next = append(next, a)
			}
			if len(failed) == 0 {
				if serr := sleep(ctx, attempt+1); serr != nil {
					err = serr
					break
				}
			}
			live = next
			continue
		}
		for _, a := range live {
			errs[a.owner] = fmt.Errorf("write devices: %w: %w", ErrRetryable, err)
		}
		return
	}
}

// MarkPVTPass records that a device of model id passed the factory check while the model was in
// PVT (the MP gate reads it). Idempotent: the first time is kept.
func (db *DB) MarkPVTPass(ctx context.Context, modelID, sn string, at time.Time) error {
	_, err := db.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &db.table,
		Key:              key(modelPK(modelID), "FACTORY#PVTPASS"),
		UpdateExpression: aws.String("SET firstSn = if_not_exists(firstSn, :sn), firstAt = if_not_exists(firstAt, :at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sn": &types.AttributeValueMemberS{Value: sn},
			":at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339)},
		},
	})
	if err != nil {
		return fmt.Errorf("mark PVT pass of model %s: %w", modelID, err)
	}
	return nil
}

// HasPVTPass reports whether a device of model id passed the factory check in PVT.
func (db *DB) HasPVTPass(ctx context.Context, modelID string) (bool, error) {
	out, err := db.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &db.table, Key: key(modelPK(modelID), "FACTORY#PVTPASS"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("get PVT pass of model %s: %w", modelID, err)
	}
	return out.Item != nil, nil
}

// DeviceHistory returns the device's history, oldest first (its first check is the item itself).
func (db *DB) DeviceHistory(ctx context.Context, sn string) ([]domain.Change, error) {
	return all[domain.Change](ctx, db, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :h)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: devicePK(sn)},
			":h":  &types.AttributeValueMemberS{Value: "H#" + sn + "#"},
		},
	})
}
