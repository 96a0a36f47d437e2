package cloud

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/facepay/platform/infra/local/template"
)

// notifier receives versitygw's event webhook and delivers each object-created record, shaped
// as AWS sends it, to the functions whose S3 event matches (bucket, event, key filter).
// Delivery is asynchronous with retries, as S3 → Lambda is.
type notifier struct {
	targets []notifyTarget
	async   *async
	s3      *s3.Client
	region  string
}

type notifyTarget struct {
	function string
	n        template.Notification
}

func newNotifier(t *template.Template, a *async, client *s3.Client, region string) *notifier {
	nt := &notifier{async: a, s3: client, region: region}
	for _, f := range t.Functions {
		for _, n := range f.Notifications {
			nt.targets = append(nt.targets, notifyTarget{function: f.Name, n: n})
		}
	}
	return nt
}

func (nt *notifier) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if os.Getenv("FACEPAY_DEBUG_WEBHOOK") != "" {
		slog.Info("webhook", "body", string(body))
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var raw struct {
		Records []map[string]any
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		slog.Warn("undecodable bucket notification ignored", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	var ev events.S3Event
	for _, m := range raw.Records {
		// versitygw leaves eventTime empty on some events; AWS always sets it.
		if t, _ := m["eventTime"].(string); t == "" {
			m["eventTime"] = time.Now().UTC().Format(time.RFC3339Nano)
		}
		delete(m, "glacierEventData") // versitygw fills it with empty timestamps; S3 sends it only for restores
		b, _ := json.Marshal(m)
		var r events.S3EventRecord
		if err := json.Unmarshal(b, &r); err != nil {
			slog.Warn("undecodable bucket notification record ignored", "err", err)
			continue
		}
		ev.Records = append(ev.Records, r)
	}
	for _, r := range ev.Records {
		r, ok := nt.normalise(req.Context(), r)
		if !ok {
			continue
		}
		for _, t := range nt.targets {
			if t.matches(r) {
				rec := r
				rec.S3.ConfigurationID = t.n.Event
				nt.deliver(t.function, events.S3Event{Records: []events.S3EventRecord{rec}})
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}

// normalise makes a versitygw record look like AWS's: eventName without the "s3:" prefix,
// the object's version id filled in, the key form-encoded per segment. Test events are dropped.
func (nt *notifier) normalise(ctx context.Context, r events.S3EventRecord) (events.S3EventRecord, bool) {
	r.EventName = strings.TrimPrefix(r.EventName, "s3:")
	if !strings.HasPrefix(r.EventName, "ObjectCreated:") && !strings.HasPrefix(r.EventName, "ObjectRemoved:") {
		return r, false
	}
	key, err := url.QueryUnescape(r.S3.Object.Key)
	if err != nil {
		key = r.S3.Object.Key
	}
	r.S3.Object.URLDecodedKey = key
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.QueryEscape(s)
	}
	r.S3.Object.Key = strings.Join(segs, "/")
	if r.EventSource == "" {
		r.EventSource = "aws:s3"
	}
	if r.AWSRegion == "" {
		r.AWSRegion = nt.region
	}
	r.EventVersion = "2.1"
	r.S3.Bucket.Arn = "arn:aws:s3:::" + r.S3.Bucket.Name // versitygw appends the key
	if r.S3.Object.VersionID == "" && strings.HasPrefix(r.EventName, "ObjectCreated:") {
		// versitygw leaves versionId null; S3 sends the new version's id.
		if head, err := nt.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &r.S3.Bucket.Name, Key: &key}); err == nil && head.VersionId != nil {
			r.S3.Object.VersionID = *head.VersionId
		}
	}
	return r, true
}

func (t notifyTarget) matches(r events.S3EventRecord) bool {
	if t.n.Bucket != r.S3.Bucket.Name {
		return false
	}
	key := r.S3.Object.URLDecodedKey
	if !strings.HasPrefix(key, t.n.Prefix) || !strings.HasSuffix(key, t.n.Suffix) {
		return false
	}
	for _, pattern := range t.n.Events {
		p := strings.TrimPrefix(pattern, "s3:")
		if p == r.EventName || (strings.HasSuffix(p, "*") && strings.HasPrefix(r.EventName, strings.TrimSuffix(p, "*"))) {
			return true
		}
	}
	return false
}

// deliver invokes function with ev asynchronously, as S3 invokes Lambda: retries and the
// failure destination follow the function's EventInvokeConfig.
func (nt *notifier) deliver(function string, ev events.S3Event) {
	payload, err := json.Marshal(ev)
	if err != nil {
		slog.Error("bucket notification not encodable", "err", err)
		return
	}
	nt.async.start(function, payload)
}
