package handler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	prescreenfn "github.com/facepay/platform/functions/prescreen-workbook/handler"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/evidence/evidencetest"
	"github.com/facepay/platform/shared/metrics"
	"github.com/facepay/platform/shared/precheck"
)

var testNow = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// copyOf returns a copy of v, as a store's read does (every load is a fresh value).
func copyOf[T any](v *T) *T {
	b, _ := json.Marshal(v)
	var out T
	_ = json.Unmarshal(b, &out)
	return &out
}

var errLostRace = domain.Errorf(domain.Conflict, "conflict", "changed meanwhile")

type fakeApps struct {
	app       *domain.Application
	conflicts int // saves that lose a race before one succeeds
}

func (f *fakeApps) Application(_ context.Context, id string) (*domain.Application, error) {
	if f.app == nil || f.app.ID != id {
		return nil, domain.Errorf(domain.NotFound, "application_not_found", "no application %s", id)
	}
	return copyOf(f.app), nil
}

func (f *fakeApps) SaveApplication(_ context.Context, a *domain.Application, _ ...domain.Change) error {
	if f.conflicts > 0 {
		f.conflicts--
		return errLostRace
	}
	f.app = copyOf(a)
	return nil
}

type fakeSubs struct {
	model     *domain.Model
	sub       *domain.Submission
	conflicts int // saves that lose a race before one succeeds
}

func (f *fakeSubs) Model(_ context.Context, id string) (*domain.Model, error) {
	if f.model == nil || f.model.ID != id {
		return nil, domain.Errorf(domain.NotFound, "model_not_found", "no model %s", id)
	}
	return f.model, nil
}

func (f *fakeSubs) Submission(context.Context, string, string, domain.SubmissionKind) (*domain.Submission, error) {
	return copyOf(f.sub), nil
}

func (f *fakeSubs) SaveArtifact(_ context.Context, v *domain.SubmissionVersion, _ string, _ ...domain.Change) error {
	if f.conflicts > 0 {
		f.conflicts--
		return errLostRace
	}
	f.sub.Versions[v.Number-1] = copyOf(v)
	return nil
}

// fakeTickets records the upload tickets deleted.
type fakeTickets struct{ deleted []string }

func (f *fakeTickets) DeleteUploadTicket(_ context.Context, key string, requestedAt time.Time) error {
	f.deleted = append(f.deleted, key+"@"+requestedAt.Format(time.RFC3339))
	return nil
}

// requestedAt is when every fixture's upload was requested.
var requestedAt = testNow.Add(-2 * time.Hour)

type fakeObjects struct {
	data        map[string][]byte
	quarantined []string
	opened      int
}

func (f *fakeObjects) Open(_ context.Context, key, versionID string) (*blob.Object, error) {
	f.opened++
	return &blob.Object{Key: key, VersionID: versionID, Body: io.NopCloser(bytes.NewReader(f.data[key]))}, nil
}

// inProcessPrescreen does the PrescreenWorkbookFunction's work in the test process, on the
// fake object's bytes, instead of invoking it.
type inProcessPrescreen struct{ objs *fakeObjects }

func (p inProcessPrescreen) Prescreen(_ context.Context, r evidence.PrescreenRequest) (evidence.PrescreenResponse, error) {
	return prescreenfn.Screen(r.Slot, bytes.NewReader(p.objs.data[r.Key]), r.Format)
}

func (f *fakeObjects) PresignDownload(_ context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error) {
	return blob.Download{URL: "https://example.invalid/" + key + "?versionId=" + versionID, FileName: fileName, ExpiresAt: now.Add(blob.DownloadTTL)}, nil
}

func (f *fakeObjects) Quarantine(_ context.Context, key, _ string) error {
	f.quarantined = append(f.quarantined, key)
	return nil
}

// upload is one arriving file: the slot it was requested for, its name, its bytes, and the
// state the slot is in when the notification arrives.
type upload struct {
	slot     string // "deck" (an application attachment) or an evidence slot ID
	fileName string
	data     []byte
	sha256   string // declared; "" means the bytes' own
	settled  bool   // the slot already holds this upload, received (a redelivery)
	rejected bool   // the slot already holds this upload, rejected (a redelivery)
	other    bool   // the slot waits for another upload (a superseded notification)
	reused   bool   // the slot holds this upload, received as another object version (a second PUT)
	declared int64  // declared size; 0 means the bytes' own
}

// newTestHandler returns a handler whose stores hold the slot of u pending (or as u says),
// the key S3 reports for u, and the objects fake.
func newTestHandler(t *testing.T, u upload, out io.Writer) (*handler, string, *fakeObjects) {
	t.Helper()
	sum := sha256.Sum256(u.data)
	if u.sha256 == "" {
		u.sha256 = hex.EncodeToString(sum[:])
	}
	uploadID := "up_1"
	if u.other {
		uploadID = "up_2"
	}
	h := &handler{apps: &fakeApps{}, subs: &fakeSubs{}, tickets: &fakeTickets{}, now: func() time.Time { return testNow }, metrics: out}
	var key string
	if u.slot == "deck" {
		declared := int64(len(u.data))
		if u.declared != 0 {
			declared = u.declared
		}
		att := &domain.Attachment{Slot: "deck", UploadID: uploadID, FileName: u.fileName, Size: declared,
			SHA256: u.sha256, Status: domain.AttachmentPending, RequestedAt: requestedAt}
		if u.settled || u.reused {
			att.Status, att.VersionID = domain.AttachmentReceived, "v1"
		}
		if u.reused {
			att.VersionID = "v0"
		}
		if u.rejected {
			att.Status, att.VersionID = domain.AttachmentRejected, "v1"
		}
		h.apps = &fakeApps{app: &domain.Application{ID: "app_1", Org: "org_1", PartnerType: domain.PartnerDeviceVendor,
			Status: domain.AppDraft, Attachments: map[string]*domain.Attachment{"deck": att}}}
		key = "applications/org_1/app_1/deck/up_1"
	} else {
		m := &domain.Model{ID: "mdl_1", VendorOrg: "org_1", ModelSpec: domain.ModelSpec{Name: "K1 Pro",
			DeviceType: domain.DeviceDesktopDualScreen, SoftwareModes: []domain.SoftwareMode{domain.ModeSDK},
			Connectivity: []domain.Connectivity{domain.ConnWiFi}}}
		kind := domain.SubmissionCertificates
		if strings.HasPrefix(u.slot, "software/") {
			kind = domain.SubmissionSoftware
		}
		a := &domain.Artifact{Slot: u.slot, UploadID: uploadID, FileName: u.fileName, Size: int64(len(u.data)),
			SHA256: u.sha256, Status: domain.ArtifactPending, RequestedAt: requestedAt}
		if u.settled || u.reused {
			a.Status, a.VersionID = domain.ArtifactReceived, "v1"
		}
		if u.reused {
			a.VersionID = "v0"
		}
		if u.rejected {
			a.Status, a.VersionID, a.ReasonCode = domain.ArtifactRejected, "v1", "content_mismatch"
		}
		v := &domain.SubmissionVersion{ModelID: m.ID, VendorOrg: m.VendorOrg, Kind: kind, Number: 1,
			Status: domain.VersionOpen, Artifacts: map[string]*domain.Artifact{u.slot: a}}
		h.subs = &fakeSubs{model: m, sub: &domain.Submission{ModelID: m.ID, VendorOrg: m.VendorOrg, Kind: kind,
			Versions: []*domain.SubmissionVersion{v}}}
		key = precheck.Key("org_1", m.ID, kind, 1, u.slot, "up_1")
	}
	objs := &fakeObjects{data: map[string][]byte{key: u.data}}
	h.objects = objs
	h.prescreen = inProcessPrescreen{objs}
	return h, key, objs
}

// record is one EMF line, reduced to what the upload metrics vary in.
type record struct {
	Metric     string
	Dimensions map[string]string
}

// parseRecords checks every line of out is an EMF record of one Count metric in our
// namespace, stamped with testNow, and returns them.
func parseRecords(t *testing.T, out string) []record {
	t.Helper()
	var recs []record
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var raw struct {
			AWS struct {
				Timestamp         int64
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &raw), line)
		var fields map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &fields), line)
		assert.Equal(t, testNow.UnixMilli(), raw.AWS.Timestamp)
		require.Len(t, raw.AWS.CloudWatchMetrics, 1, line)
		cw := raw.AWS.CloudWatchMetrics[0]
		assert.Equal(t, metrics.Namespace, cw.Namespace)
		require.Len(t, cw.Metrics, 1, line)
		assert.Equal(t, "Count", cw.Metrics[0].Unit)
		name := cw.Metrics[0].Name
		assert.Equal(t, float64(1), fields[name], "the metric's value: %s", line)
		require.Len(t, cw.Dimensions, 1, line)
		rec := record{Metric: name, Dimensions: map[string]string{}}
		for _, d := range cw.Dimensions[0] {
			v, ok := fields[d].(string)
			assert.True(t, ok, "dimension %s has a string value: %s", d, line)
			rec.Dimensions[d] = v
		}
		assert.Len(t, fields, len(rec.Dimensions)+2, "nothing but _aws, the metric and its dimensions: %s", line)
		recs = append(recs, rec)
	}
	return recs
}

// bigPDF is a PDF one byte over the attachment limit.
func bigPDF() []byte {
	pdf := evidencetest.PDF()
	return append(append(pdf[:len(pdf)-6:len(pdf)-6], make([]byte, domain.MaxAttachmentSize+1-len(pdf))...), pdf[len(pdf)-6:]...)
}

func TestUploadMetrics(t *testing.T) {
	deck := "deck.pdf"
	cert := evidence.CertificateSlot(domain.Cert3C)
	results := evidence.SoftwareSlot(evidence.SoftwareResults, domain.ModeSDK)
	received := func(kind string) []record {
		return []record{{"UploadsReceived", map[string]string{"Kind": kind}}}
	}
	rejected := func(kind, reason string) []record {
		return []record{{"UploadsRejected", map[string]string{"Kind": kind, "Reason": reason}}}
	}
	tests := []struct {
		name        string
		upload      upload
		want        []record
		quarantined bool
	}{
		{"application received", upload{slot: "deck", fileName: deck, data: evidencetest.PDF()},
			received("application"), false},
		{"application content mismatch", upload{slot: "deck", fileName: deck, data: evidencetest.EXE()},
			rejected("application", "content_mismatch"), true},
		{"application checksum mismatch", upload{slot: "deck", fileName: deck, data: evidencetest.PDF(), sha256: strings.Repeat("0", 64)},
			rejected("application", "checksum_mismatch"), true},
		{"application redelivered", upload{slot: "deck", fileName: deck, data: evidencetest.PDF(), settled: true},
			nil, false},
		{"application rejection redelivered (quarantine retried, not counted)", upload{slot: "deck", fileName: deck,
			data: evidencetest.EXE(), rejected: true}, nil, true},
		{"application superseded: quarantined", upload{slot: "deck", fileName: deck, data: evidencetest.PDF(), other: true},
			nil, true},
		{"application URL used twice: the second object quarantined", upload{slot: "deck", fileName: deck, data: evidencetest.PDF(), reused: true},
			nil, true},
		{"application larger than declared", upload{slot: "deck", fileName: deck, data: evidencetest.PDF(), declared: 1},
			rejected("application", "size_mismatch"), true},
		{"application over the limit", upload{slot: "deck", fileName: deck, data: bigPDF(), declared: 1},
			rejected("application", "file_too_large"), true},
		{"evidence received", upload{slot: cert.ID(), fileName: cert.ExpectedFileName("示例科技", "K1 Pro", ".pdf"),
			data: evidencetest.PDF()}, received("evidence"), false},
		{"evidence content mismatch", upload{slot: cert.ID(), fileName: cert.ExpectedFileName("示例科技", "K1 Pro", ".pdf"),
			data: evidencetest.EXE()}, rejected("evidence", "content_mismatch"), true},
		{"evidence checksum mismatch", upload{slot: cert.ID(), fileName: cert.ExpectedFileName("示例科技", "K1 Pro", ".pdf"),
			data: evidencetest.PDF(), sha256: strings.Repeat("0", 64)}, rejected("evidence", "checksum_mismatch"), true},
		{"evidence pre-screening failed", upload{slot: results.ID(), fileName: results.ExpectedFileName("示例科技", "K1 Pro", ".xlsx"),
			data: evidencetest.SoftwareWorkbook(evidencetest.UnmarkAll(evidencetest.SoftwareSheet))},
			rejected("evidence", evidence.FindingNoMarkedEntry), true},
		{"evidence pre-screening passed", upload{slot: results.ID(), fileName: results.ExpectedFileName("示例科技", "K1 Pro", ".xlsx"),
			data: evidencetest.SoftwareWorkbook()}, received("evidence"), false},
		{"evidence redelivered", upload{slot: cert.ID(), fileName: cert.ExpectedFileName("示例科技", "K1 Pro", ".pdf"),
			data: evidencetest.PDF(), settled: true}, nil, false},
		{"evidence rejection redelivered", upload{slot: cert.ID(), fileName: cert.ExpectedFileName("示例科技", "K1 Pro", ".pdf"),
			data: evidencetest.EXE(), rejected: true}, nil, true},
		{"evidence superseded: quarantined", upload{slot: cert.ID(), fileName: cert.ExpectedFileName("示例科技", "K1 Pro", ".pdf"),
			data: evidencetest.PDF(), other: true}, nil, true},
		{"evidence URL used twice: the second object quarantined", upload{slot: cert.ID(), fileName: cert.ExpectedFileName("示例科技", "K1 Pro", ".pdf"),
			data: evidencetest.PDF(), reused: true}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			h, key, objs := newTestHandler(t, tt.upload, &out)
			e := events.S3Event{Records: []events.S3EventRecord{{S3: events.S3Entity{
				Object: events.S3Object{Key: key, VersionID: "v1"}}}}}
			_, err := h.handle(context.Background(), e)
			require.NoError(t, err)
			assert.Equal(t, tt.want, parseRecords(t, out.String()))
			if tt.quarantined {
				assert.Equal(t, []string{key}, objs.quarantined)
			} else {
				assert.Empty(t, objs.quarantined)
			}
			// The upload's ticket goes once it has settled, now or before; an object no slot
			// takes settles nothing (its own ticket goes when the sweep finds it gone).
			if tt.upload.other || tt.upload.reused {
				assert.Empty(t, h.tickets.(*fakeTickets).deleted)
			} else {
				assert.Equal(t, []string{key + "@" + requestedAt.Format(time.RFC3339)}, h.tickets.(*fakeTickets).deleted)
			}
		})
	}
}

// Two notifications for the same upload, as S3 may deliver them: the upload is counted once.
func TestUploadMetricsCountOnce(t *testing.T) {
	var out bytes.Buffer
	h, key, _ := newTestHandler(t, upload{slot: "deck", fileName: "deck.pdf", data: evidencetest.EXE()}, &out)
	rec := events.S3EventRecord{S3: events.S3Entity{Object: events.S3Object{Key: key, VersionID: "v1"}}}
	for range 2 {
		_, err := h.handle(context.Background(), events.S3Event{Records: []events.S3EventRecord{rec}})
		require.NoError(t, err)
	}
	assert.Equal(t, []record{{"UploadsRejected", map[string]string{"Kind": "application", "Reason": "content_mismatch"}}},
		parseRecords(t, out.String()))
}

// A save that loses a race with the vendor is retried on a fresh load, but the object is read
// and checked once.
func TestLostRaceRereadsTheRecordNotTheObject(t *testing.T) {
	cert := evidence.CertificateSlot(domain.Cert3C)
	for _, u := range []upload{
		{slot: "deck", fileName: "deck.pdf", data: evidencetest.PDF()},
		{slot: cert.ID(), fileName: cert.ExpectedFileName("示例科技", "K1 Pro", ".pdf"), data: evidencetest.PDF()},
	} {
		t.Run(u.slot, func(t *testing.T) {
			var out bytes.Buffer
			h, key, objs := newTestHandler(t, u, &out)
			h.apps.(*fakeApps).conflicts, h.subs.(*fakeSubs).conflicts = 2, 2
			e := events.S3Event{Records: []events.S3EventRecord{{S3: events.S3Entity{Object: events.S3Object{Key: key, VersionID: "v1"}}}}}
			_, err := h.handle(context.Background(), e)
			require.NoError(t, err)
			assert.Equal(t, 1, objs.opened, "the object is read once")
			if u.slot == "deck" {
				assert.Equal(t, domain.AttachmentReceived, h.apps.(*fakeApps).app.Attachments["deck"].Status)
			} else {
				assert.Equal(t, domain.ArtifactReceived, h.subs.(*fakeSubs).sub.Versions[0].Artifacts[u.slot].Status)
			}
			assert.Equal(t, []record{{"UploadsReceived", map[string]string{"Kind": map[bool]string{true: "application", false: "evidence"}[u.slot == "deck"]}}},
				parseRecords(t, out.String()), "counted once")
		})
	}
}

// loserApps is the store as the second of two events for one upload sees it (the sweep's
// re-drive and the late original, both finding the slot pending): the other saves the settled
// attachment just before this one's save, which loses the race.
type loserApps struct {
	*fakeApps
	lost bool
}

func (l *loserApps) SaveApplication(ctx context.Context, a *domain.Application, ch ...domain.Change) error {
	if !l.lost {
		l.lost = true
		winner := copyOf(l.app)
		att := winner.Attachments["deck"]
		received := testNow
		att.Status, att.VersionID, att.ReceivedAt = domain.AttachmentReceived, "v1", &received
		l.app = winner
		return errLostRace
	}
	return l.fakeApps.SaveApplication(ctx, a, ch...)
}

// The loser of the race between two events for one upload settles nothing of its own: it
// reloads, finds the upload settled by the winner, counts nothing, quarantines nothing, and
// leaves the record as the winner wrote it (only the ticket's deletion repeats, harmlessly).
func TestTwoEventsRacingForOneUploadSettleItOnce(t *testing.T) {
	var out bytes.Buffer
	h, key, objs := newTestHandler(t, upload{slot: "deck", fileName: "deck.pdf", data: evidencetest.PDF()}, &out)
	l := &loserApps{fakeApps: h.apps.(*fakeApps)}
	h.apps = l
	_, err := h.handle(context.Background(), events.S3Event{Records: []events.S3EventRecord{{S3: events.S3Entity{
		Object: events.S3Object{Key: key, VersionID: "v1"}}}}})
	require.NoError(t, err)
	assert.True(t, l.lost, "the save lost the race once")
	assert.Empty(t, out.String(), "the winner counted the upload; the loser counts nothing")
	assert.Empty(t, objs.quarantined)
	assert.Equal(t, domain.AttachmentReceived, l.app.Attachments["deck"].Status)
	assert.Equal(t, []string{key + "@" + requestedAt.Format(time.RFC3339)}, h.tickets.(*fakeTickets).deleted)
}

// loserSubs is loserApps for evidence: the other event saves the settled file first.
type loserSubs struct {
	*fakeSubs
	lost bool
}

func (l *loserSubs) SaveArtifact(ctx context.Context, v *domain.SubmissionVersion, slot string, ch ...domain.Change) error {
	if !l.lost {
		l.lost = true
		winner := copyOf(l.sub.Versions[v.Number-1])
		a := winner.Artifacts[slot]
		received := testNow
		a.Status, a.VersionID, a.ReceivedAt = domain.ArtifactReceived, "v1", &received
		l.sub.Versions[v.Number-1] = winner
		return errLostRace
	}
	return l.fakeSubs.SaveArtifact(ctx, v, slot, ch...)
}

func TestTwoEventsRacingForOneEvidenceUploadSettleItOnce(t *testing.T) {
	var out bytes.Buffer
	cert := evidence.CertificateSlot(domain.Cert3C)
	h, key, objs := newTestHandler(t, upload{slot: cert.ID(), fileName: cert.ExpectedFileName("示例科技", "K1 Pro", ".pdf"), data: evidencetest.PDF()}, &out)
	l := &loserSubs{fakeSubs: h.subs.(*fakeSubs)}
	h.subs = l
	_, err := h.handle(context.Background(), events.S3Event{Records: []events.S3EventRecord{{S3: events.S3Entity{
		Object: events.S3Object{Key: key, VersionID: "v1"}}}}})
	require.NoError(t, err)
	assert.True(t, l.lost, "the save lost the race once")
	assert.Empty(t, out.String(), "the winner counted the upload; the loser counts nothing")
	assert.Empty(t, objs.quarantined)
	assert.Equal(t, domain.ArtifactReceived, l.sub.Versions[0].Artifacts[cert.ID()].Status)
	assert.Equal(t, []string{key + "@" + requestedAt.Format(time.RFC3339)}, h.tickets.(*fakeTickets).deleted)
}
