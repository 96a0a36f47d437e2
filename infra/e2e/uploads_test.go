package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
	"github.com/facepay/platform/shared/evidence/evidencetest"
)

// versions lists the object versions S3 holds under exactly key.
func versions(t *testing.T, c *cloud.Cloud, key string) []string {
	t.Helper()
	out, err := c.S3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{
		Bucket: aws.String(c.Template.Buckets[0].Name), Prefix: aws.String(key)})
	require.NoError(t, err)
	var ids []string
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			ids = append(ids, aws.ToString(v.VersionId))
		}
	}
	return ids
}

func exists(c *cloud.Cloud, key string) bool {
	_, err := c.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(c.Template.Buckets[0].Name), Key: aws.String(key)})
	return err == nil
}

// An application attachment is checked against the object's real size on arrival, not the
// size declared when the upload was asked for: a 51 MiB PDF declared as 1 byte is refused
// and quarantined.
func TestUploads_AttachmentRealSizeIsChecked(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	v := cloudtest.As(t, c, vendor(1))
	r := v.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor", "company": map[string]any{"name": "vendor-1 Ltd"},
		"agreementAccepted": true, "survey": map[string]string{"plannedModels": "2", "annualVolume": "5000"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	appID := r.Body["id"].(string)
	big := append(bytes.Clone(minimalPDF[:len(minimalPDF)-6]), make([]byte, 51<<20)...)
	big = append(big, "%%EOF\n"...)
	r = v.Do("PUT", "/applications/"+appID+"/attachments/deck", map[string]any{
		"fileName": "deck.pdf", "contentType": "application/pdf", "size": 1, "sha256": cloudtest.SHA256(big)})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	key := keyOf(r.Body["upload"].(map[string]any)["url"].(string))
	status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), big)
	require.Equal(t, http.StatusOK, status, body)
	var deck map[string]any
	cloudtest.Eventually(t, "deck settled", func() bool {
		deck, _ = v.Do("GET", "/applications/"+appID, nil).Body["attachments"].(map[string]any)["deck"].(map[string]any)
		return deck["status"] != "pending"
	})
	assert.Equal(t, "rejected", deck["status"])
	assert.Contains(t, deck["reason"], "50 MiB")
	cloudtest.Eventually(t, "quarantined", func() bool { return !exists(c, key) && exists(c, "quarantine/"+key) })
	r = v.Do("POST", "/applications/"+appID+"/submit", nil)
	assert.Equal(t, "missing_deck", r.Code(), "a refused deck does not count")
}

// What S3 holds under the live prefix is what was checked: an object no slot takes (the
// upload of a superseded request, a second PUT through a URL already used) is moved to
// quarantine/, and the accepted object stays.
func TestUploads_ObjectsNoSlotTakesAreQuarantined(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	m := approvedModel(t, c, vendor(1), evModel)
	e := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(1)), model: m["id"].(string)}
	names := expectedNames(t, e, "certificates")

	// A second PUT through the URL that delivered the received 3C certificate.
	art, up := e.upload("certificates", "certificate.3c", names["certificate.3c"], pdfType, evidencetest.PDF())
	require.Equal(t, "received", art["status"])
	key := keyOf(up.Body["upload"].(map[string]any)["url"].(string))
	status, body := cloudtest.Put(t, up.Body["upload"].(map[string]any), evidencetest.PDF())
	require.Equal(t, http.StatusOK, status, body, "S3 takes the same bytes again through the same URL")
	cloudtest.Eventually(t, "second object quarantined", func() bool {
		return exists(c, "quarantine/"+key) && len(versions(t, c, key)) == 1
	})
	assert.Equal(t, []string{art["versionId"].(string)}, versions(t, c, key), "the accepted version stays")
	cur := e.v.Do("GET", e.base("certificates"), nil).Body["current"].(map[string]any)["artifacts"].(map[string]any)["certificate/3c"].(map[string]any)
	assert.Equal(t, "received", cur["status"])
	assert.Equal(t, art["versionId"], cur["versionId"])

	// An upload whose request was superseded by a later one for the same slot.
	first := e.ask("certificates", "certificate.srrc", names["certificate.srrc"], pdfType, evidencetest.PDF())
	require.Equal(t, http.StatusOK, first.Status, string(first.Raw))
	second := e.ask("certificates", "certificate.srrc", names["certificate.srrc"], pdfType, append(evidencetest.PDF(), '\n'))
	require.Equal(t, http.StatusOK, second.Status, string(second.Raw))
	stale := keyOf(first.Body["upload"].(map[string]any)["url"].(string))
	status, body = cloudtest.Put(t, first.Body["upload"].(map[string]any), evidencetest.PDF())
	require.Equal(t, http.StatusOK, status, body)
	cloudtest.Eventually(t, "superseded upload quarantined", func() bool { return !exists(c, stale) && exists(c, "quarantine/"+stale) })
	srrc := e.v.Do("GET", e.base("certificates"), nil).Body["current"].(map[string]any)["artifacts"].(map[string]any)["certificate/srrc"].(map[string]any)
	assert.Equal(t, "pending", srrc["status"], "the slot still waits for the second upload")
}

// A category zip is opened through its central directory: a small zip of many MiB of zeros or
// one holding an executable is refused with its own code, and the reviewer sees what an
// accepted zip holds.
func TestUploads_ZipsAreOpened(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	m := approvedModel(t, c, vendor(1), evModel)
	e := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(1)), model: m["id"].(string)}
	name := "[2温升测试]-[vendor-1 Ltd][K1].zip"
	var zeros bytes.Buffer
	zw := zip.NewWriter(&zeros)
	w, err := zw.Create("温升测试/报告.pdf")
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 40<<20))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	for data, code := range map[*[]byte]string{
		ptr(zeros.Bytes()): "zip_compression_ratio",
		ptr(evidencetest.Zip(map[string][]byte{"温升测试/tool.exe": evidencetest.EXE()})): "zip_executable",
	} {
		art, _ := e.upload("hardware", "hardware.climate_reliability", name, zipType, *data)
		assert.Equal(t, "rejected", art["status"])
		assert.Equal(t, code, art["reasonCode"], "%v", art["reason"])
	}
	art, _ := e.upload("hardware", "hardware.climate_reliability", name, zipType,
		evidencetest.Zip(map[string][]byte{"温升测试/报告.pdf": evidencetest.PDF(), "温升测试/照片.jpg": []byte("\xff\xd8\xff\xe0")}))
	require.Equal(t, "received", art["status"], "%v", art)
	r := cloudtest.As(t, c, reviewer).Do("GET", "/admin/models/"+e.model+"/submissions/hardware/versions/1", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	listing := r.Body["version"].(map[string]any)["artifacts"].(map[string]any)["hardware/climate_reliability"].(map[string]any)["listing"].(map[string]any)
	assert.EqualValues(t, 2, listing["entries"])
	assert.EqualValues(t, len(evidencetest.PDF())+4, listing["unpacked"])
	assert.Len(t, listing["files"], 2)
}

func ptr(b []byte) *[]byte { return &b }

// Asking for the next slot's upload while the previous file is being checked never conflicts:
// each slot's file is an item of its own (shared/store/store.go).
func TestUploads_SlotsDoNotBlockEachOther(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	m := approvedModel(t, c, vendor(1), evModel)
	e := evidenceClient{t: t, v: cloudtest.As(t, c, vendor(1)), model: m["id"].(string)}
	names := expectedNames(t, e, "certificates")
	slots := []string{"certificate.3c", "certificate.srrc"}
	for i := range 20 {
		slot := slots[i%2]
		pdf := append(evidencetest.PDF(), bytes.Repeat([]byte{'\n'}, i)...) // a new file each time
		r := e.ask("certificates", slot, names[slot], pdfType, pdf)
		require.Equal(t, http.StatusOK, r.Status, "try %d: %s", i, r.Raw)
		status, body := cloudtest.Put(t, r.Body["upload"].(map[string]any), pdf)
		require.Equal(t, http.StatusOK, status, body)
		// No waiting: the next request races the notification of this PUT.
	}
	cloudtest.Eventually(t, "both last files received", func() bool {
		cur := e.v.Do("GET", e.base("certificates"), nil).Body["current"].(map[string]any)["artifacts"].(map[string]any)
		return cur["certificate/3c"].(map[string]any)["status"] == "received" && cur["certificate/srrc"].(map[string]any)["status"] == "received"
	})
}
