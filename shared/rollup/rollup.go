// Package rollup is the daily (T+1) transaction rollup of DOMAIN.md section 6 and
// "Payments": the day's transaction record (one JSON object per line, gzip NDJSON objects
// under transactions/dt=YYYY-MM-DD/), a generator of realistic days, the per-object
// aggregation (the program's hot loop), the partial aggregate's file format and the exact
// merge of partials into one figure record per device and day.
//
// Why partials carry payer sets: the payment core cuts a day into objects by time, not by
// device, so a device's transactions are spread over many objects and its distinct payers
// cannot be added up from per-object counts. Each partial therefore holds, per device, its
// counters and its distinct SUCCESS payers (each flagged when it made a fee-qualifying face
// payment), or, where a device has too few records in the object for that to shrink
// anything, its records as they are (aggregate.go, the partial layout). A partial is laid out by device shard (a stable hash of the SN), with an offset
// table in its header, so a merge of shard k reads only its byte range of every partial
// (S3 range GETs): the merge fans out over shards, each merging exactly its devices, and the
// Map's own result stays one small pointer per object.
package rollup

import (
	"encoding/binary"
	"fmt"
	"time"
)

// The payment methods (DOMAIN.md "Payments"), in the order Counts.ByMethod keeps them.
const (
	MethodFace = iota
	MethodQuickPay
	MethodQRCode
	MethodJSAPI
	MethodInApp
	MethodH5
	numMethods
)

// Methods are the record's method values, indexed like Counts.ByMethod.
var Methods = [numMethods]string{"FACE", "QUICK_PAY", "QR_CODE", "JSAPI", "IN_APP", "H5"}

// The outcomes of a transaction.
const (
	StatusSuccess = iota
	StatusFailed
	StatusTimeout
	StatusRefunded
	numStatuses
)

// Statuses are the record's status values.
var Statuses = [numStatuses]string{"SUCCESS", "FAILED", "TIMEOUT", "REFUNDED"}

const (
	// FaceLimitFen is the face-payment risk limit: 1000 yuan in one transaction. A FACE
	// record above it (any status) counts in over_limit_count.
	FaceLimitFen = 100000
	// FeeMinFen is the smallest face payment that counts for the service fee (2 yuan).
	FeeMinFen = 200
)

// Txn is one transaction record, exactly the fields the payment core drops.
type Txn struct {
	TxnID      string `json:"txn_id"`
	DeviceSN   string `json:"device_sn"`
	MerchantID string `json:"merchant_id"`
	Payer      string `json:"payer"` // an opaque payer id
	AmountFen  int64  `json:"amount_fen"`
	Method     string `json:"method"`
	Status     string `json:"status"`
	TS         int64  `json:"ts"` // Unix seconds
}

// Counts are a device's additive figures for a day.
type Counts struct {
	Success          int64
	SuccessAmountFen int64
	Failed           int64
	Timeout          int64
	Refunded         int64
	OverLimit        int64
	ByMethod         [numMethods]int64 // SUCCESS count per method
}

func (c *Counts) add(o *Counts) {
	c.Success += o.Success
	c.SuccessAmountFen += o.SuccessAmountFen
	c.Failed += o.Failed
	c.Timeout += o.Timeout
	c.Refunded += o.Refunded
	c.OverLimit += o.OverLimit
	for i := range c.ByMethod {
		c.ByMethod[i] += o.ByMethod[i]
	}
}

// Figures is one device's figure record for one day: what the rollup writes and the
// deployer reads (guidance for daily operations, not the fee's reconciliation basis).
type Figures struct {
	DeviceSN         string           `json:"device_sn"`
	Date             string           `json:"date"`
	SuccessCount     int64            `json:"success_count"`
	SuccessAmountFen int64            `json:"success_amount_fen"`
	DistinctPayers   int64            `json:"distinct_payers"` // over SUCCESS transactions
	FeePayers        int64            `json:"fee_payers"`      // distinct payers with a SUCCESS FACE payment >= 200 fen
	FailedCount      int64            `json:"failed_count"`
	TimeoutCount     int64            `json:"timeout_count"`
	RefundedCount    int64            `json:"refunded_count"`
	OverLimitCount   int64            `json:"over_limit_count"` // FACE with amount_fen > 100000, any status
	ByMethod         map[string]int64 `json:"by_method"`        // SUCCESS count per method, every method present
}

func figuresOf(sn, date string, c *Counts, distinct, fee int64) Figures {
	by := make(map[string]int64, numMethods)
	for i, m := range Methods {
		by[m] = c.ByMethod[i]
	}
	return Figures{DeviceSN: sn, Date: date, SuccessCount: c.Success, SuccessAmountFen: c.SuccessAmountFen,
		DistinctPayers: distinct, FeePayers: fee, FailedCount: c.Failed, TimeoutCount: c.Timeout,
		RefundedCount: c.Refunded, OverLimitCount: c.OverLimit, ByMethod: by}
}

// Shanghai is the business day's zone. China has kept UTC+8 without daylight saving since
// 1991, so a fixed zone is exact for the dates we see and needs no tzdata in the Lambda image.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// DayPrefix is where the payment core drops date's objects.
func DayPrefix(date string) string { return "transactions/dt=" + date + "/" }

// ParseDate checks date is YYYY-MM-DD and returns the day's [start, end) in Unix seconds.
func ParseDate(date string) (start, end int64, err error) {
	t, err := time.ParseInLocation(time.DateOnly, date, Shanghai)
	if err != nil || t.Format(time.DateOnly) != date {
		return 0, 0, fmt.Errorf("date %q is not YYYY-MM-DD", date)
	}
	return t.Unix(), t.AddDate(0, 0, 1).Unix(), nil
}

// Yesterday is the business day before the one at (T+1: the rollup at 02:00 on the 28th
// rolls up the 27th).
func Yesterday(at time.Time) string {
	return at.In(Shanghai).AddDate(0, 0, -1).Format(time.DateOnly)
}

// Partitions is how many partitions an Aggregator spreads devices over (by SN hash); a
// partial's shard count must divide it.
const Partitions = 256

// ShardOf is the merge shard of a device (shards must divide Partitions): its SN's hash
// modulo shards. Stable across runs and processes, so every partial puts a device in the
// same shard.
func ShardOf(sn []byte, shards int) int {
	return int(snHash(sn) % uint64(shards))
}

// ValidShards reports whether a partial can have shards shards.
func ValidShards(shards int) bool {
	return shards >= 1 && shards <= Partitions && Partitions%shards == 0
}

// snHash mixes an SN's bytes (three 8-byte words for a 23-character SN).
func snHash(b []byte) uint64 {
	h := uint64(len(b)) * 0x9E3779B97F4A7C15
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * 0xBF58476D1CE4E5B9
		h ^= h >> 31
		b = b[8:]
	}
	var tail uint64
	for i, c := range b {
		tail |= uint64(c) << (8 * i)
	}
	h = (h ^ tail) * 0x94D049BB133111EB
	return h ^ h>>29
}
