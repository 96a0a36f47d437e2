package e2e

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence/evidencetest"
)

// pipelineRun drives one model through the pipeline's API as its vendor and a reviewer.
type pipelineRun struct {
	m   map[string]any // the model as its vendor read it once approved
	t   *testing.T
	c   *cloud.Cloud
	e   evidenceClient
	rev *cloudtest.Client
	std domain.TestStandard
}

func newPipelineRun(t *testing.T, c *cloud.Cloud, id cloud.Identity, spec map[string]any) *pipelineRun {
	t.Helper()
	m := approvedModel(t, c, id, spec)
	return &pipelineRun{m: m, t: t, c: c, e: evidenceClient{t: t, v: cloudtest.As(t, c, id), model: m["id"].(string)},
		rev: cloudtest.As(t, c, reviewer), std: domain.DeviceType(spec["deviceType"].(string)).Standard()}
}

// fileFor is a valid file for a slot path: what the programme's checks accept.
func (p *pipelineRun) fileFor(slot string) (string, []byte) {
	switch {
	case slot == "software.1":
		return xlsxType, evidencetest.CameraChecklist()
	case strings.HasPrefix(slot, "software.2."):
		return xlsxType, evidencetest.SoftwareWorkbook()
	case strings.HasPrefix(slot, "software.3."):
		return mp4Type, evidencetest.MP4(90*time.Second, 1<<20)
	case slot == "hardware.workbook":
		return xlsxType, evidencetest.HardwareWorkbook(p.std)
	case strings.HasPrefix(slot, "hardware."):
		return zipType, evidencetest.Zip(map[string][]byte{"report.pdf": evidencetest.PDF()})
	}
	return pdfType, evidencetest.PDF()
}

// submit uploads every required file of kind (or only the given slots, into the open version)
// and submits; it returns the submitted version's number.
func (p *pipelineRun) submit(kind string, only ...string) int {
	p.t.Helper()
	r := p.e.v.Do("GET", p.e.base(kind), nil)
	require.Equal(p.t, http.StatusOK, r.Status, string(r.Raw))
	names := expectedNames(p.t, p.e, kind)
	for _, s := range r.Body["slots"].([]any) {
		s := s.(map[string]any)
		path := s["path"].(string)
		if s["required"] != true || (len(only) > 0 && !slices.Contains(only, path)) {
			continue
		}
		ct, data := p.fileFor(path)
		art, _ := p.e.upload(kind, path, names[path], ct, data)
		require.Equal(p.t, "received", art["status"], "%s %s: %v", kind, path, art)
	}
	r = p.e.v.Do("POST", p.e.base(kind)+"/submit", nil)
	require.Equal(p.t, http.StatusOK, r.Status, "%s: %s", kind, r.Raw)
	return int(r.Body["version"].(float64))
}

// decide has the reviewer decide version n of kind.
func (p *pipelineRun) decide(kind string, n int, decision, reason string) {
	p.t.Helper()
	body := map[string]any{"decision": decision}
	if reason != "" {
		body["reason"] = reason
	}
	r := p.rev.Do("POST", "/admin/models/"+p.e.model+"/submissions/"+kind+"/versions/"+itoa(n)+"/decision", body)
	require.Equal(p.t, http.StatusOK, r.Status, "%s v%d: %s", kind, n, r.Raw)
}

func itoa(n int) string { return strconv.Itoa(n) }

// timeline settles the engines (the workflow's steps run asynchronously) and reads the model's
// timeline as its vendor, checking that no internals leak.
func (p *pipelineRun) timeline() timelineView {
	p.t.Helper()
	p.c.Clock.Settle()
	r := p.e.v.Do("GET", "/models/"+p.e.model+"/timeline", nil)
	require.Equal(p.t, http.StatusOK, r.Status, string(r.Raw))
	for _, leak := range []string{"arn:", "rita", "MODEL#", "taskToken", "executionArn"} {
		assert.NotContains(p.t, string(r.Raw), leak, "the vendor's timeline shows no internals")
	}
	return timelineView{t: p.t, raw: string(r.Raw), body: r.Body}
}

type timelineView struct {
	t    *testing.T
	raw  string
	body map[string]any
}

func (v timelineView) stage() string { return v.body["stage"].(string) }

func (v timelineView) track(name string) map[string]any {
	for _, tr := range v.body["tracks"].([]any) {
		if tr := tr.(map[string]any); tr["track"] == name {
			return tr
		}
	}
	v.t.Fatalf("no track %s in %s", name, v.raw)
	return nil
}

// statuses is every track's status by name.
func (v timelineView) statuses() map[string]string {
	out := map[string]string{}
	for _, tr := range v.body["tracks"].([]any) {
		tr := tr.(map[string]any)
		out[tr["track"].(string)] = tr["status"].(string)
	}
	return out
}

// waits is what the platform waits for, by track: from whom.
func (v timelineView) waits() map[string]string {
	out := map[string]string{}
	for _, w := range v.body["waiting"].([]any) {
		w := w.(map[string]any)
		out[w["track"].(string)] = w["from"].(string)
	}
	return out
}

// wait is the wait on track (nil when none).
func (v timelineView) wait(track string) map[string]any {
	w, _ := v.track(track)["waiting"].(map[string]any)
	return w
}

func parseTime(t *testing.T, s any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s.(string))
	require.NoError(t, err, "%v", s)
	return at
}
