package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence/evidencetest"
)

const (
	xlsType  = "application/vnd.ms-excel"
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	pdfType  = "application/pdf"
	mp4Type  = "video/mp4"
	zipType  = "application/zip"
)

// evModel is a desktop cashier (all five hardware categories required), SDK mode only, Wi-Fi (3C + SRRC).
var evModel = map[string]any{"name": "K1", "deviceType": "desktop_single_screen", "os": "android",
	"softwareModes": []string{"sdk"}, "connectivity": []string{"wifi"}, "cameraModel": "C1"}

// expectedNames reads the file names the submission's slots require, by slot path, with .xlsx
// for spreadsheets (the API shows the first allowed extension, .xls).
func expectedNames(t *testing.T, e evidenceClient, kind string) map[string]string {
	t.Helper()
	r := e.v.Do("GET", e.base(kind), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	out := map[string]string{}
	for _, s := range r.Body["slots"].([]any) {
		s := s.(map[string]any)
		name := s["expectedFileName"].(string)
		if strings.HasSuffix(name, ".xls") {
			name += "x" // we upload .xlsx workbooks
		}
		out[s["path"].(string)] = name
	}
	return out
}

func validSoftware() map[string]struct {
	ct   string
	data []byte
} {
	return map[string]struct {
		ct   string
		data []byte
	}{
		"software.1":     {xlsxType, evidencetest.CameraChecklist()},
		"software.2.sdk": {xlsxType, evidencetest.SoftwareWorkbook()},
		"software.3.sdk": {mp4Type, evidencetest.MP4(90*time.Second, 2<<20)},
		"software.4":     {pdfType, evidencetest.PDF()},
	}
}

// A complete, valid software set uploaded through presigned URLs passes: every file received
// with its S3 version and checksum, spreadsheets pre-screened; submit; the reviewer downloads
// under the original names, rejects with feedback; the vendor fixes one file in a new version
// (the rejected one stays readable) and the reviewer approves it.
func TestEvidence_ValidSoftwareSetSubmitReviewResubmit(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	m := approvedModel(t, c, vendor(1), evModel)
	e := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(1)), model: m["id"].(string)}
	names := expectedNames(t, e, "software")
	require.Len(t, names, 4, "files 1-4 for the SDK mode")

	r := e.v.Do("POST", e.base("software")+"/submit", nil)
	assert.Equal(t, "nothing_to_submit", r.Code(), "nothing uploaded yet")

	first := e.ask("software", "software.4", names["software.4"], pdfType, evidencetest.PDF())
	again := e.ask("software", "software.4", names["software.4"], pdfType, evidencetest.PDF())
	require.Equal(t, http.StatusOK, again.Status, string(again.Raw))
	assert.Equal(t, first.Body["artifact"].(map[string]any)["uploadId"], again.Body["artifact"].(map[string]any)["uploadId"],
		"asking again for the same file reuses its upload")
	for slot, f := range validSoftware() {
		art, _ := e.upload("software", slot, names[slot], f.ct, f.data)
		assert.Equal(t, "received", art["status"], "%s: %v", slot, art)
		assert.NotEmpty(t, art["versionId"], slot)
		assert.Equal(t, cloudtest.SHA256(f.data), art["sha256"])
		assert.EqualValues(t, len(f.data), art["size"])
		if slot == "software.1" || slot == "software.2.sdk" {
			require.NotNil(t, art["prescreen"], slot)
			assert.Equal(t, true, art["prescreen"].(map[string]any)["passed"], slot)
		}
	}
	r = e.v.Do("POST", e.base("software")+"/submit", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "under_review", r.Body["status"])
	assert.Equal(t, http.StatusOK, e.v.Do("POST", e.base("software")+"/submit", nil).Status, "a repeated submit is harmless")
	r = e.ask("software", "software.4", names["software.4"], pdfType, evidencetest.PDF())
	assert.Equal(t, "submission_under_review", r.Code(), "a version under review is frozen")

	rev := cloudtest.As(t, c, reviewer)
	queue := rev.Do("GET", "/admin/submissions", nil)
	require.Equal(t, http.StatusOK, queue.Status, string(queue.Raw))
	require.Len(t, queue.Body["items"], 1)
	assert.Equal(t, e.model, queue.Body["items"].([]any)[0].(map[string]any)["modelId"])
	assert.Empty(t, rev.Do("GET", "/admin/submissions?minAgeDays=7", nil).Body["items"], "nothing overdue yet")
	assert.Equal(t, "forbidden_role", e.v.Do("GET", "/admin/submissions", nil).Code())
	admin := "/admin/models/" + e.model + "/submissions/software/versions/1"
	r = rev.Do("GET", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	downloads := r.Body["downloads"].(map[string]any)
	require.Len(t, downloads, 4)
	video := downloads["software/3/sdk"].(map[string]any)
	resp, err := http.Get(video["url"].(string))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, validSoftware()["software.3.sdk"].data, body, "the reviewer gets the bytes the vendor uploaded")
	assert.Equal(t, blob.ContentDisposition(names["software.3.sdk"]), resp.Header.Get("Content-Disposition"), "the original file name is kept")

	r = rev.Do("POST", admin+"/decision", map[string]any{"decision": "reject", "reason": "The video does not show the payment result."})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "rejected", r.Body["status"])
	assert.Empty(t, rev.Do("GET", "/admin/submissions", nil).Body["items"], "decided: off the queue")
	r = rev.Do("POST", admin+"/decision", map[string]any{"decision": "approve"})
	assert.Equal(t, http.StatusConflict, r.Status, "a decided version stays decided")
	assert.Equal(t, "not_under_review", r.Code())

	// The vendor sees the feedback at once, fixes the video: a new version carrying the rest over.
	got := e.v.Do("GET", e.base("software")+"/versions/1", nil)
	require.Equal(t, http.StatusOK, got.Status)
	assert.Equal(t, "rejected", got.Body["status"])
	assert.Equal(t, "The video does not show the payment result.", got.Body["outcome"].(map[string]any)["reason"])
	assertNoInternals(t, "the rejected version", string(got.Raw))
	assertNoInternals(t, "the submission", string(e.v.Do("GET", e.base("software"), nil).Raw))
	fixed := evidencetest.MP4(100*time.Second, 3<<20)
	art, up := e.upload("software", "software.3.sdk", names["software.3.sdk"], mp4Type, fixed)
	assert.Equal(t, "received", art["status"])
	assert.EqualValues(t, 2, up.Body["version"])
	r = e.v.Do("POST", e.base("software")+"/submit", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.EqualValues(t, 2, r.Body["version"])
	require.Equal(t, http.StatusOK, rev.Do("POST", "/admin/models/"+e.model+"/submissions/software/versions/2/decision", map[string]any{"decision": "approve"}).Status)

	// Version 1 is untouched and its files still downloadable; version 2 has the new video.
	v1 := rev.Do("GET", admin, nil)
	assert.Equal(t, "rejected", v1.Body["version"].(map[string]any)["status"])
	assert.Equal(t, cloudtest.SHA256(validSoftware()["software.3.sdk"].data),
		v1.Body["version"].(map[string]any)["artifacts"].(map[string]any)["software/3/sdk"].(map[string]any)["sha256"])
	v2 := rev.Do("GET", "/admin/models/"+e.model+"/submissions/software/versions/2", nil)
	assert.Len(t, v2.Body["downloads"], 4, "carried-over files are downloadable from version 2")
	resp, err = http.Get(v2.Body["downloads"].(map[string]any)["software/4"].(map[string]any)["url"].(string))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	view := e.v.Do("GET", e.base("software"), nil)
	assert.Len(t, view.Body["versions"], 2)
	assert.Equal(t, "approved", view.Body["current"].(map[string]any)["status"])
	msgs := e.v.Do("GET", "/messages", nil)
	assert.Len(t, msgs.Body["items"], 4, "application, model, v1 rejection, v2 approval")
}

// Each bad file is refused with its own stable code, before upload when the request shows it
// and on arrival otherwise; a refused file goes to quarantine and never counts for submitting.
func TestEvidence_BadFilesAreRejectedWithTheirOwnReason(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	m := approvedModel(t, c, vendor(1), evModel)
	e := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(1)), model: m["id"].(string)}
	sw, hw := expectedNames(t, e, "software"), expectedNames(t, e, "hardware")

	// Refused at request time.
	big := evidencetest.MP4(60*time.Second, 11<<20)
	r := e.ask("software", "software.3.sdk", sw["software.3.sdk"], mp4Type, big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "an 11 MB video")
	assert.Equal(t, "file_too_large", r.Code())
	assert.Contains(t, r.Body["error"].(map[string]any)["message"], "at most 10 MiB (10485760 bytes)", "the unit of the check")
	r = e.ask("software", "software.4", "manual.pdf", pdfType, evidencetest.PDF())
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "bad_file_name", r.Code(), "not the bracket pattern")
	r = e.ask("software", "software.4", strings.Replace(sw["software.4"], "vendor-1 Ltd", "Someone Else", 1), pdfType, evidencetest.PDF())
	assert.Equal(t, "wrong_vendor_name", r.Code())
	r = e.ask("software", "software.4", strings.Replace(sw["software.4"], "[K1]", "[K2]", 1), pdfType, evidencetest.PDF())
	assert.Equal(t, "wrong_model_name", r.Code())
	r = e.ask("software", "software.2.app", sw["software.2.sdk"], xlsxType, evidencetest.SoftwareWorkbook())
	assert.Equal(t, "slot_not_applicable", r.Code(), "K1 has no APP mode")
	r = e.ask("software", "hardware.workbook", hw["hardware.workbook"], xlsxType, evidencetest.SoftwareWorkbook())
	assert.Equal(t, "slot_not_applicable", r.Code(), "a hardware slot in the software submission")
	r = e.ask("software", "software.4", sw["software.4"], "text/html", evidencetest.PDF())
	assert.Equal(t, "wrong_content_type", r.Code())

	// Refused on arrival.
	std := domain.StandardDesktopCashier
	cases := []struct {
		name, kind, slot, ct string
		data                 []byte
		code                 string
	}{
		{"an executable renamed .pdf", "software", "software.4", pdfType, evidencetest.EXE(), "content_mismatch"},
		{"a workbook missing a required sheet", "hardware", "hardware.workbook", xlsxType,
			evidencetest.HardwareWorkbook(std, evidencetest.DropSheet(domain.CategoryPerformance.SheetName())), "missing_sheet"},
		{"a workbook with a required sheet left unmarked", "hardware", "hardware.workbook", xlsxType,
			evidencetest.HardwareWorkbook(std, evidencetest.UnmarkAll(domain.CategoryBasicFunction.SheetName())), "no_marked_entry"},
	}
	names := map[string]map[string]string{"software": sw, "hardware": hw}
	for _, tc := range cases {
		art, up := e.upload(tc.kind, tc.slot, names[tc.kind][tc.slot], tc.ct, tc.data)
		assert.Equal(t, "rejected", art["status"], tc.name)
		assert.Equal(t, tc.code, art["reasonCode"], "%s: %v", tc.name, art["reason"])
		if tc.kind == "hardware" {
			p := art["prescreen"].(map[string]any)
			assert.Equal(t, false, p["passed"], tc.name)
			assert.Equal(t, tc.code, p["findings"].([]any)[0].(map[string]any)["code"], tc.name)
		}
		// Nothing of it stays where submissions read: it is in quarantine only.
		key := keyOf(up.Body["upload"].(map[string]any)["url"].(string))
		bucket := aws.String(c.Template.Buckets[0].Name)
		cloudtest.Eventually(t, tc.name+" quarantined", func() bool {
			_, gone := c.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key)})
			_, kept := c.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("quarantine/" + key)})
			return gone != nil && kept == nil
		})
	}
	r = e.v.Do("POST", e.base("software")+"/submit", nil)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "missing_files", r.Code(), "a rejected file does not count")
	assert.Contains(t, r.Body["error"].(map[string]any)["message"], "software/4")

	rev := cloudtest.As(t, c, reviewer)
	r = rev.Do("GET", "/admin/models/"+e.model+"/submissions/hardware/versions/1", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Empty(t, r.Body["downloads"], "no link to a refused file")
	pre := r.Body["version"].(map[string]any)["artifacts"].(map[string]any)["hardware/workbook"].(map[string]any)["prescreen"]
	assert.NotNil(t, pre, "the reviewer sees the pre-screening too")

	// A complete, valid hardware set passes once the workbook is fixed.
	art, _ := e.upload("hardware", "hardware.workbook", hw["hardware.workbook"], xlsxType,
		evidencetest.HardwareWorkbook(std, evidencetest.MarkNoPass(domain.CategoryClimateReliability.SheetName(), 0)))
	assert.Equal(t, "received", art["status"], "%v", art)
	assert.Len(t, art["prescreen"].(map[string]any)["flags"], 1, "a no pass is flagged, not failed")
	r = e.v.Do("POST", e.base("hardware")+"/submit", nil)
	assert.Equal(t, "missing_files", r.Code(), "one zip per required category")
	for _, cat := range std.Categories() {
		slot := "hardware." + string(cat)
		art, _ := e.upload("hardware", slot, hw[slot], zipType, evidencetest.Zip(map[string][]byte{"report.pdf": evidencetest.PDF()}))
		assert.Equal(t, "received", art["status"], slot)
	}
	r = e.v.Do("POST", e.base("hardware")+"/submit", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
}

// The same notification delivered again (S3 delivers at least once) leaves one artifact record.
func TestEvidence_RedeliveredNotificationChangesNothing(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	m := approvedModel(t, c, vendor(1), evModel)
	e := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(1)), model: m["id"].(string)}
	names := expectedNames(t, e, "certificates")
	require.Len(t, names, 2, "3C always, SRRC for Wi-Fi")
	bad, badUp := e.upload("certificates", "certificate.srrc", names["certificate.srrc"], pdfType, evidencetest.EXE())
	require.Equal(t, "rejected", bad["status"])
	art, up := e.upload("certificates", "certificate.3c", names["certificate.3c"], pdfType, evidencetest.PDF())
	require.Equal(t, "received", art["status"])
	c.WaitNotifications()

	before := e.v.Do("GET", e.base("certificates"), nil)
	for _, u := range []struct {
		up  cloudtest.Response
		art map[string]any
	}{{up, art}, {badUp, bad}} {
		key := keyOf(u.up.Body["upload"].(map[string]any)["url"].(string))
		ev := events.S3Event{Records: []events.S3EventRecord{{EventSource: "aws:s3", EventName: "ObjectCreated:Put", AWSRegion: "us-east-1",
			S3: events.S3Entity{Bucket: events.S3Bucket{Name: c.Template.Buckets[0].Name},
				Object: events.S3Object{Key: key, VersionID: u.art["versionId"].(string)}}}}}
		payload, err := json.Marshal(ev)
		require.NoError(t, err)
		for range 2 {
			_, err := c.Invoke(context.Background(), "ProcessUploadFunction", payload)
			require.NoError(t, err)
		}
	}
	after := e.v.Do("GET", e.base("certificates"), nil)
	assert.Equal(t, before.Body["current"], after.Body["current"], "the artifacts are unchanged")
	counts := map[string]int{}
	for _, h := range after.Body["history"].([]any) {
		counts[h.(map[string]any)["action"].(string)]++
	}
	assert.Equal(t, map[string]int{"upload_requested": 2, "upload_received": 1, "upload_rejected": 1}, counts)

	r := e.v.Do("POST", e.base("certificates")+"/submit", nil)
	assert.Equal(t, "missing_files", r.Code())
	art, _ = e.upload("certificates", "certificate.srrc", names["certificate.srrc"], pdfType, evidencetest.PDF())
	require.Equal(t, "received", art["status"])
	require.Equal(t, http.StatusOK, e.v.Do("POST", e.base("certificates")+"/submit", nil).Status)
}

// A vendor reaches only its own models' evidence, and never the reviewer routes.
func TestEvidence_Authorization(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	m := approvedModel(t, c, vendor(1), evModel)
	other := approvedModel(t, c, vendor(2), map[string]any{"name": "V9", "deviceType": "vending_machine", "os": "linux",
		"softwareModes": []string{"app"}, "connectivity": []string{"4g"}, "cameraModel": "C2"})
	owner := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(1)), model: m["id"].(string)}
	names := expectedNames(t, owner, "certificates")
	_, _ = owner.upload("certificates", "certificate.3c", names["certificate.3c"], pdfType, evidencetest.PDF())
	require.Equal(t, http.StatusOK, cloudtest.As(t, c, vendor(2)).Do("GET", "/models/"+other["id"].(string)+"/submissions/certificates", nil).Status)

	intruder := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(2)), model: m["id"].(string)}
	r := intruder.ask("certificates", "certificate.3c", strings.Replace(names["certificate.3c"], "vendor-1", "vendor-2", 1), pdfType, evidencetest.PDF())
	assert.Equal(t, http.StatusNotFound, r.Status, "no upload link for another vendor's model")
	assert.Equal(t, "model_not_found", r.Code())
	assert.Equal(t, http.StatusNotFound, intruder.v.Do("GET", intruder.base("certificates"), nil).Status)
	assert.Equal(t, http.StatusNotFound, intruder.v.Do("GET", intruder.base("certificates")+"/versions/1", nil).Status)
	assert.Equal(t, http.StatusNotFound, intruder.v.Do("POST", intruder.base("certificates")+"/submit", nil).Status)

	admin := "/admin/models/" + m["id"].(string) + "/submissions/certificates/versions/1"
	for _, v := range []*cloudtest.Client{intruder.v, owner.v} {
		r = v.Do("GET", admin, nil)
		assert.Equal(t, http.StatusForbidden, r.Status, "no download links for vendors")
		assert.Equal(t, "forbidden_role", r.Code())
		r = v.Do("POST", admin+"/decision", map[string]any{"decision": "approve"})
		assert.Equal(t, http.StatusForbidden, r.Status)
		assert.Equal(t, "forbidden_role", r.Code())
	}
	r = cloudtest.As(t, c, reviewer).Do("PUT", owner.base("certificates")+"/slots/certificate.3c", map[string]any{
		"fileName": names["certificate.3c"], "contentType": pdfType, "size": 10, "sha256": strings.Repeat("0", 64)})
	assert.Equal(t, "forbidden_role", r.Code(), "reviewers own nothing")

	r = owner.v.Do("GET", "/models/"+m["id"].(string)+"/submissions/deck", nil)
	assert.Equal(t, "unknown_submission_kind", r.Code())

	// A model not yet approved shows its slots, so the vendor can prepare, but takes no evidence.
	pending := owner.v.Do("POST", "/models", map[string]any{"name": "K2", "deviceType": "handheld", "os": "android",
		"softwareModes": []string{"sdk"}, "cameraModel": "C1"})
	require.Equal(t, http.StatusCreated, pending.Status, string(pending.Raw))
	for kind, want := range map[string]string{
		"software":     "[3设备流程视频]-[vendor-1 Ltd][K2][SDK模式].mp4",
		"hardware":     "[1微信刷脸支付-桌面收银测试用例v1.4]-[vendor-1 Ltd][K2].xls",
		"certificates": "[3C证书]-[vendor-1 Ltd][K2].pdf",
	} {
		r = owner.v.Do("GET", fmt.Sprintf("/models/%s/submissions/%s", pending.Body["id"], kind), nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", kind, r.Raw)
		var names []any
		for _, s := range r.Body["slots"].([]any) {
			names = append(names, s.(map[string]any)["expectedFileName"])
			if kind == "software" && s.(map[string]any)["path"] == "software.3.sdk" {
				assert.EqualValues(t, 10<<20, s.(map[string]any)["maxSize"])
				assert.Equal(t, "10 MiB (10485760 bytes)", s.(map[string]any)["maxSizeText"])
			}
		}
		assert.Contains(t, names, want, kind)
		assert.Nil(t, r.Body["current"], kind)
	}
	r = intruder.v.Do("GET", fmt.Sprintf("/models/%s/submissions/software", pending.Body["id"]), nil)
	assert.Equal(t, http.StatusNotFound, r.Status, "another vendor's pending model stays hidden")
	r = owner.v.Do("PUT", fmt.Sprintf("/models/%s/submissions/certificates/slots/certificate.3c", pending.Body["id"]), map[string]any{
		"fileName": "[3C证书]-[vendor-1 Ltd][K2].pdf", "contentType": pdfType, "size": 10, "sha256": strings.Repeat("0", 64)})
	assert.Equal(t, http.StatusConflict, r.Status)
	assert.Equal(t, "model_not_approved", r.Code())
}

// Once the software and hardware pre-checks and the certificates are all approved, the model's
// certification pipeline leaves its prototype-evidence step (the token never left the server).
func TestEvidence_AllApprovedCompletesThePipelineStep(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	m := approvedModel(t, c, vendor(1), evModel)
	e := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(1)), model: m["id"].(string)}
	std := domain.DeviceType(evModel["deviceType"].(string)).Standard()
	rev := cloudtest.As(t, c, reviewer)

	sets := map[string]map[string]struct {
		ct   string
		data []byte
	}{"software": validSoftware(), "hardware": {}, "certificates": {}}
	sets["hardware"]["hardware.workbook"] = struct {
		ct   string
		data []byte
	}{xlsxType, evidencetest.HardwareWorkbook(std)}
	for _, cat := range std.Categories() {
		sets["hardware"]["hardware."+string(cat)] = struct {
			ct   string
			data []byte
		}{zipType, evidencetest.Zip(map[string][]byte{"report.pdf": evidencetest.PDF()})}
	}
	for _, cert := range []string{"certificate.3c", "certificate.srrc"} {
		sets["certificates"][cert] = struct {
			ct   string
			data []byte
		}{pdfType, evidencetest.PDF()}
	}

	arn := pipelineARN(t, c, m["id"].(string))
	for i, kind := range []string{"software", "hardware", "certificates"} {
		names := expectedNames(t, e, kind)
		for slot, f := range sets[kind] {
			art, _ := e.upload(kind, slot, names[slot], f.ct, f.data)
			require.Equal(t, "received", art["status"], "%s %s: %v", kind, slot, art)
		}
		r := e.v.Do("POST", e.base(kind)+"/submit", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", kind, r.Raw)
		r = rev.Do("POST", "/admin/models/"+e.model+"/submissions/"+kind+"/versions/1/decision", map[string]any{"decision": "approve"})
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", kind, r.Raw)
		want := "RUNNING"
		if i == 2 {
			want = "SUCCEEDED"
		}
		assert.Equal(t, want, executionStatus(t, c, arn), "after approving %s", kind)
	}
	// A retried final decision is harmless: the step is no longer waiting.
	r := rev.Do("POST", "/admin/models/"+e.model+"/submissions/certificates/versions/1/decision", map[string]any{"decision": "approve"})
	assert.Equal(t, http.StatusOK, r.Status, string(r.Raw))
}

// The hardware workbook as vendors send it: a real legacy .xls (BIFF8, written by xlwt) laid
// out as the programme's standard, one sheet per category with a result column, named with
// the standard's own name. Pre-screening reads it: all pass and partly blank are received,
// a missing required sheet and a required sheet with nothing marked are refused, stray values
// and no pass entries are flagged for the reviewer. Zips carry the vendor's own titles.
func TestEvidence_HardwareXLSWorkbook(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	m := approvedModel(t, c, vendor(1), evModel)
	e := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(1)), model: m["id"].(string)}
	view := e.v.Do("GET", e.base("hardware"), nil)
	require.Equal(t, http.StatusOK, view.Status, string(view.Raw))
	slots := map[string]map[string]any{}
	for _, s := range view.Body["slots"].([]any) {
		slots[s.(map[string]any)["path"].(string)] = s.(map[string]any)
	}
	workbook := "[1微信刷脸支付-桌面收银测试用例v1.4]-[vendor-1 Ltd][K1].xls"
	assert.Equal(t, workbook, slots["hardware.workbook"]["expectedFileName"], "the programme's standard name and version")
	assert.Equal(t, "[<n><title>]-[vendor-1 Ltd][K1].zip", slots["hardware.climate_reliability"]["namePattern"])

	tests := []struct {
		fixture, status, reason string
		flags                   []string
	}{
		{"hardware-all-pass", "received", "", nil},
		{"hardware-some-blank", "received", "", []string{"no_pass"}},
		{"hardware-missing-sheet", "rejected", "missing_sheet", nil},
		{"hardware-nothing-marked", "rejected", "no_marked_entry", nil},
		{"hardware-stray-value", "received", "", []string{"stray_value"}},
	}
	for _, tt := range tests {
		art, _ := e.upload("hardware", "hardware.workbook", workbook, xlsType, evidencetest.XLSFixture(tt.fixture))
		assert.Equal(t, tt.status, art["status"], "%s: %v", tt.fixture, art)
		assert.Equal(t, tt.reason, stringOr(art["reasonCode"]), tt.fixture)
		p := art["prescreen"].(map[string]any)
		assert.Equal(t, tt.status == "received", p["passed"], tt.fixture)
		var flags []string
		for _, f := range p["flags"].([]any) {
			flags = append(flags, f.(map[string]any)["code"].(string))
		}
		assert.Equal(t, tt.flags, flags, tt.fixture)
	}

	// The stray-value workbook is the last received: with one zip per category, titled as
	// the vendor likes (the programme's own example among them), the set is submitted and
	// the reviewer sees the flag.
	titles := map[string]string{"climate_reliability": "2温升测试", "mechanical_reliability": "3跌落与振动",
		"coating_reliability": "4涂层附着力", "basic_function": "5基本功能", "performance": "6性能报告"}
	for cat, title := range titles {
		name := fmt.Sprintf("[%s]-[vendor-1 Ltd][K1].zip", title)
		art, _ := e.upload("hardware", "hardware."+cat, name, zipType, evidencetest.Zip(map[string][]byte{"report.pdf": evidencetest.PDF()}))
		assert.Equal(t, "received", art["status"], "%s: %v", name, art)
	}
	r := e.ask("hardware", "hardware.performance", "[性能报告]-[vendor-1 Ltd][K1].zip", zipType, evidencetest.PDF())
	assert.Equal(t, "wrong_slot_title", r.Code(), "a zip's title needs its number")
	r = e.v.Do("POST", e.base("hardware")+"/submit", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	rev := cloudtest.As(t, c, reviewer)
	r = rev.Do("GET", "/admin/models/"+e.model+"/submissions/hardware/versions/1", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	wb := r.Body["version"].(map[string]any)["artifacts"].(map[string]any)["hardware/workbook"].(map[string]any)
	flag := wb["prescreen"].(map[string]any)["flags"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"code": "stray_value", "sheet": "基本功能测试", "row": float64(5), "item": "扫码支付",
		"message": "基本功能测试 row 5: \"扫码支付\" is marked \"待复测\", which is neither pass nor no pass"}, flag)
}

func stringOr(v any) string {
	s, _ := v.(string)
	return s
}
