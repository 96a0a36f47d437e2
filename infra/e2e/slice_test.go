// Package e2e drives the platform end to end through the local cloud's gateway, on the real
// engines: moto_server (DynamoDB), versitygw (S3) and the embedded executor.
package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

var (
	vendorA = cloud.Identity{Subject: "alice", Org: "vendor-a", Role: "vendor", AccountType: "service_provider"}
	vendorB = cloud.Identity{Subject: "bob", Org: "vendor-b", Role: "vendor", AccountType: "service_provider"}
)

// minimalPDF is a tiny but well-formed PDF.
var minimalPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

// The first vertical slice: draft → presigned upload → plain HTTP PUT → notification marks the
// attachment received → GET shows it; another vendor cannot see it.
func TestSlice_ApplicationWithDeck(t *testing.T) {
	c := cloudtest.Start(t, time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC))
	a := cloudtest.As(t, c, vendorA)

	created := a.Do("POST", "/applications", map[string]any{
		"partnerType": "device_vendor", "company": map[string]any{"name": "Vendor A Ltd"},
	})
	require.Equal(t, http.StatusCreated, created.Status, string(created.Raw))
	id := created.Body["id"].(string)
	assert.Equal(t, "draft", created.Body["status"])

	att := a.Do("PUT", "/applications/"+id+"/attachments/deck", map[string]any{
		"fileName": "deck.pdf", "contentType": "application/pdf", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF),
	})
	require.Equal(t, http.StatusOK, att.Status, string(att.Raw))
	upload := att.Body["upload"].(map[string]any)
	status, body := cloudtest.Put(t, upload, minimalPDF)
	require.Equal(t, http.StatusOK, status, body)

	var got cloudtest.Response
	cloudtest.Eventually(t, "the deck to be received", func() bool {
		got = a.Do("GET", "/applications/"+id, nil)
		deck, _ := got.Body["attachments"].(map[string]any)["deck"].(map[string]any)
		return deck != nil && deck["status"] == "received"
	})
	deck := got.Body["attachments"].(map[string]any)["deck"].(map[string]any)
	assert.Equal(t, "deck.pdf", deck["fileName"])
	assert.EqualValues(t, len(minimalPDF), deck["size"])
	assert.NotEmpty(t, deck["versionId"], "the S3 version of the upload is recorded")

	b := cloudtest.As(t, c, vendorB)
	assert.Equal(t, http.StatusNotFound, b.Do("GET", "/applications/"+id, nil).Status)
	assert.Equal(t, http.StatusNotFound, b.Do("PATCH", "/applications/"+id, map[string]any{"agreementAccepted": true}).Status)
	assert.Equal(t, http.StatusNotFound, b.Do("PUT", "/applications/"+id+"/attachments/deck", map[string]any{
		"fileName": "x.pdf", "contentType": "application/pdf", "size": 10, "sha256": strings.Repeat("0", 64),
	}).Status)

	hist := a.Do("GET", "/applications/"+id+"/history", nil)
	require.Equal(t, http.StatusOK, hist.Status)
	var actions []string
	for _, h := range hist.Body["items"].([]any) {
		actions = append(actions, h.(map[string]any)["action"].(string))
	}
	assert.Equal(t, []string{"created", "attachment_requested", "attachment_received"}, actions)
}

func TestGateway_Authentication(t *testing.T) {
	c := cloudtest.Start(t, time.Now())
	anon := cloudtest.As(t, c, cloud.Identity{})
	assert.Equal(t, http.StatusUnauthorized, anon.Do("GET", "/applications", nil).Status, "no token")
	assert.Equal(t, http.StatusUnauthorized, cloudtest.WithToken(t, c, "not.a.jwt").Do("GET", "/applications", nil).Status, "garbage token")

	tok, err := c.Token(vendorA)
	require.NoError(t, err)
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	assert.Equal(t, http.StatusUnauthorized, cloudtest.WithToken(t, c, tampered).Do("GET", "/applications", nil).Status, "tampered token")

	expired, err := c.Auth.Token(vendorA, -time.Minute)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, cloudtest.WithToken(t, c, expired).Do("GET", "/applications", nil).Status, "expired token")

	other, err := cloud.NewAuthority("", "https://someone-else.example/", "facepay-platform")
	require.NoError(t, err)
	foreign, err := other.Token(vendorA, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, cloudtest.WithToken(t, c, foreign).Do("GET", "/applications", nil).Status, "token from another issuer and key")

	a := cloudtest.As(t, c, vendorA)
	assert.Equal(t, http.StatusNotFound, a.Do("GET", "/nowhere", nil).Status, "route not in the API")
	assert.Equal(t, http.StatusMethodNotAllowed, a.Do("DELETE", "/applications", nil).Status, "method not in the API")

	reviewer := cloudtest.As(t, c, cloud.Identity{Subject: "rita", Role: "reviewer"})
	r := reviewer.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor"})
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, "forbidden_role", r.Code())

	merchant := cloudtest.As(t, c, cloud.Identity{Subject: "m", Org: "shop-1", Role: "merchant"})
	r = merchant.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor"})
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, "wrong_role", r.Code())
}

// Presigned uploads are enforced by the S3 engine itself: a tampered URL, an expired one and a
// body other than the declared one (another size) are refused.
func TestPresignedUploadsAreEnforcedByS3(t *testing.T) {
	c := cloudtest.Start(t, time.Now())
	a := cloudtest.As(t, c, vendorA)
	id := a.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor"}).Body["id"].(string)
	ask := func() map[string]any {
		r := a.Do("PUT", "/applications/"+id+"/attachments/deck", map[string]any{
			"fileName": "deck.pdf", "contentType": "application/pdf", "size": len(minimalPDF), "sha256": cloudtest.SHA256(minimalPDF),
		})
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		return r.Body["upload"].(map[string]any)
	}

	up := ask()
	tampered := map[string]any{"method": up["method"], "headers": up["headers"]}
	tampered["url"] = strings.Replace(up["url"].(string), "X-Amz-Signature=", "X-Amz-Signature=0", 1)
	status, _ := cloudtest.Put(t, tampered, minimalPDF)
	assert.Equal(t, http.StatusForbidden, status, "tampered signature")

	bigger := append(append([]byte{}, minimalPDF...), []byte("% padding\n")...)
	status, _ = cloudtest.Put(t, up, bigger)
	assert.Equal(t, http.StatusBadRequest, status, "a body of another size than declared")

	noChecksum := map[string]any{"method": up["method"], "url": up["url"], "headers": map[string]any{"Content-Type": "application/pdf"}}
	status, _ = cloudtest.Put(t, noChecksum, minimalPDF)
	assert.Equal(t, http.StatusForbidden, status, "without the signed checksum header")

	wrongType := map[string]any{"method": up["method"], "url": up["url"], "headers": map[string]any{
		"Content-Type": "application/octet-stream", "x-amz-checksum-sha256": up["headers"].(map[string]any)["x-amz-checksum-sha256"]}}
	status, _ = cloudtest.Put(t, wrongType, minimalPDF)
	assert.Equal(t, http.StatusForbidden, status, "another content type than signed")

	// Expiry is wall-clock time (S3 does not share the virtual clock): sign the same upload with
	// a one-second lifetime and use it after two.
	b64 := up["headers"].(map[string]any)["x-amz-checksum-sha256"].(string)
	short, err := s3.NewPresignClient(c.S3).PresignPutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(c.Template.Buckets[0].Name), Key: aws.String(keyOf(up["url"].(string))),
		ContentType: aws.String("application/pdf"), ChecksumSHA256: &b64,
	}, s3.WithPresignExpires(time.Second))
	require.NoError(t, err)
	time.Sleep(2100 * time.Millisecond)
	status, _ = cloudtest.Put(t, map[string]any{"method": "PUT", "url": short.URL, "headers": up["headers"]}, minimalPDF)
	assert.Equal(t, http.StatusForbidden, status, "expired")

	status, body := cloudtest.Put(t, up, minimalPDF)
	assert.Equal(t, http.StatusOK, status, body)
}

// keyOf is the object key of a path-style presigned URL (/bucket/key...).
func keyOf(raw string) string {
	u, _ := url.Parse(raw)
	_, key, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	return key
}
