package domain_test

// Unit tests of submission.go: versions, uploads, arrival, submit and decide.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

var (
	subNow      = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	subVendor   = domain.Caller{Subject: "alice", Org: "vendor-a", Role: domain.RoleVendor}
	subReviewer = domain.Caller{Subject: "rita", Role: domain.RoleReviewer}
)

func newSub() *domain.Submission {
	return &domain.Submission{ModelID: "mdl_1", VendorOrg: "vendor-a", Kind: domain.SubmissionCertificates}
}

// request asks for an upload of slot and returns its version.
func request(t *testing.T, s *domain.Submission, slot, uploadID string) *domain.SubmissionVersion {
	t.Helper()
	v, ch, err := s.RequestUpload(subVendor, domain.Artifact{Slot: slot, UploadID: uploadID, FileName: slot + ".pdf", SHA256: "ab", Size: 10}, subNow)
	require.NoError(t, err)
	assert.Equal(t, "upload_requested", ch.Action)
	return v
}

func receive(t *testing.T, v *domain.SubmissionVersion, slot, uploadID, reasonCode string) {
	t.Helper()
	ch, err := v.Receive(slot, domain.Arrival{UploadID: uploadID, VersionID: "s3v-" + uploadID, Size: 10, ReasonCode: reasonCode}, subNow)
	require.NoError(t, err)
	assert.Equal(t, "platform", ch.By)
}

func TestParseSubmissionKind(t *testing.T) {
	for _, k := range domain.SubmissionKinds() {
		got, err := domain.ParseSubmissionKind(string(k))
		require.NoError(t, err)
		assert.Equal(t, k, got)
	}
	_, err := domain.ParseSubmissionKind("deck")
	assert.Equal(t, "unknown_submission_kind", domain.CodeOf(err))
	assert.Equal(t, domain.NotFound, domain.KindOf(err))
}

func TestSubmission_FirstUploadOpensVersionOne(t *testing.T) {
	s := newSub()
	assert.Nil(t, s.Current())
	v := request(t, s, "certificate/3c", "up1")
	assert.Equal(t, 1, v.Number)
	assert.Equal(t, domain.VersionOpen, v.Status)
	assert.Equal(t, domain.ArtifactPending, v.Artifacts["certificate/3c"].Status)
	assert.Equal(t, "alice", v.Artifacts["certificate/3c"].RequestedBy)
	assert.Same(t, v, s.Current())
	_, err := s.Version(2)
	assert.Equal(t, "version_not_found", domain.CodeOf(err))
}

func TestSubmissionVersion_Receive(t *testing.T) {
	s := newSub()
	v := request(t, s, "certificate/3c", "up1")

	_, err := v.Receive("certificate/3c", domain.Arrival{UploadID: "other"}, subNow)
	assert.ErrorIs(t, err, domain.ErrStaleUpload, "another upload of the slot")
	_, err = v.Receive("certificate/srrc", domain.Arrival{UploadID: "up1"}, subNow)
	assert.ErrorIs(t, err, domain.ErrStaleUpload, "a slot without upload")

	receive(t, v, "certificate/3c", "up1", "")
	a := v.Artifacts["certificate/3c"]
	assert.Equal(t, domain.ArtifactReceived, a.Status)
	assert.Equal(t, "s3v-up1", a.VersionID)
	_, err = v.Receive("certificate/3c", domain.Arrival{UploadID: "up1"}, subNow)
	assert.ErrorIs(t, err, domain.ErrStaleUpload, "a redelivered notification changes nothing")

	v = request(t, s, "certificate/srrc", "up2")
	ch, err := v.Receive("certificate/srrc", domain.Arrival{UploadID: "up2", ReasonCode: "content_mismatch", Reason: "not a PDF"}, subNow)
	require.NoError(t, err)
	assert.Equal(t, "upload_rejected", ch.Action)
	assert.Equal(t, domain.ArtifactRejected, v.Artifacts["certificate/srrc"].Status)
	assert.Equal(t, "content_mismatch", v.Artifacts["certificate/srrc"].ReasonCode)
}

func TestSubmissionVersion_Submit(t *testing.T) {
	required := []string{"certificate/3c", "certificate/srrc"}
	var nilVersion *domain.SubmissionVersion
	_, err := nilVersion.Submit(subVendor, required, subNow)
	assert.Equal(t, "nothing_to_submit", domain.CodeOf(err))

	s := newSub()
	v := request(t, s, "certificate/3c", "up1")
	_, err = v.Submit(subVendor, required, subNow)
	assert.Equal(t, "upload_pending", domain.CodeOf(err))
	receive(t, v, "certificate/3c", "up1", "")
	_, err = v.Submit(subVendor, required, subNow)
	assert.Equal(t, "missing_files", domain.CodeOf(err))
	assert.Contains(t, domain.MessageOf(err), "certificate/srrc")

	request(t, s, "certificate/srrc", "up2")
	receive(t, v, "certificate/srrc", "up2", "content_mismatch")
	_, err = v.Submit(subVendor, required, subNow)
	assert.Equal(t, "missing_files", domain.CodeOf(err), "a rejected file does not count")

	request(t, s, "certificate/srrc", "up3")
	ch, err := v.Receive("certificate/srrc", domain.Arrival{UploadID: "up3", Prescreen: &domain.PrescreenResult{Passed: false}}, subNow)
	require.NoError(t, err)
	assert.Equal(t, "upload_received", ch.Action)
	_, err = v.Submit(subVendor, required, subNow)
	assert.Equal(t, "prescreen_failed", domain.CodeOf(err))

	request(t, s, "certificate/srrc", "up4")
	_, err = v.Receive("certificate/srrc", domain.Arrival{UploadID: "up4", Prescreen: &domain.PrescreenResult{Passed: true,
		Flags: []domain.PrescreenFinding{{Code: "stray_value"}}}}, subNow)
	require.NoError(t, err)
	ch, err = v.Submit(subVendor, required, subNow)
	require.NoError(t, err, "flags are for the reviewer: a flagged file may be submitted")
	assert.Equal(t, "submitted", ch.Action)
	assert.Equal(t, domain.VersionSubmitted, v.Status)

	_, _, err = s.RequestUpload(subVendor, domain.Artifact{Slot: "certificate/3c", UploadID: "up5"}, subNow)
	assert.Equal(t, "submission_under_review", domain.CodeOf(err))
	_, err = v.Receive("certificate/3c", domain.Arrival{UploadID: "up1"}, subNow)
	assert.ErrorIs(t, err, domain.ErrStaleUpload, "a frozen version takes nothing")
}

func TestSubmissionVersion_DecideAndResubmit(t *testing.T) {
	s := newSub()
	v := request(t, s, "certificate/3c", "up1")
	receive(t, v, "certificate/3c", "up1", "")
	request(t, s, "certificate/srrc", "up2")
	receive(t, v, "certificate/srrc", "up2", "")

	_, err := v.Decide(subReviewer, true, "", subNow)
	assert.Equal(t, "not_under_review", domain.CodeOf(err), "an open version cannot be decided")
	_, err = v.Submit(subVendor, []string{"certificate/3c"}, subNow)
	require.NoError(t, err)
	_, err = v.Decide(subReviewer, false, " ", subNow)
	assert.Equal(t, "reason_required", domain.CodeOf(err))
	ch, err := v.Decide(subReviewer, false, "The 3C certificate has expired.", subNow)
	require.NoError(t, err)
	assert.Equal(t, "decided", ch.Action)
	assert.Equal(t, domain.VersionRejected, v.Status)
	require.NotNil(t, v.Outcome)
	assert.Equal(t, "rita", v.Outcome.Reviewer)
	assert.NotNil(t, v.Outcome.ReleasedAt, "takes effect at once")
	_, err = v.Decide(subReviewer, true, "", subNow)
	assert.Equal(t, "not_under_review", domain.CodeOf(err))

	// The next upload opens version 2, carrying the received files over; version 1 is untouched.
	v2 := request(t, s, "certificate/3c", "up3")
	assert.Equal(t, 2, v2.Number)
	assert.Len(t, s.Versions, 2)
	assert.Equal(t, "up2", v2.Artifacts["certificate/srrc"].UploadID, "carried over")
	assert.Equal(t, domain.ArtifactPending, v2.Artifacts["certificate/3c"].Status)
	assert.Equal(t, domain.ArtifactReceived, v.Artifacts["certificate/3c"].Status, "version 1 keeps its files")
	assert.Equal(t, "up1", v.Artifacts["certificate/3c"].UploadID)
	v2.Artifacts["certificate/srrc"].FileName = "changed"
	assert.NotEqual(t, "changed", v.Artifacts["certificate/srrc"].FileName, "a copy, not shared")

	receive(t, v2, "certificate/3c", "up3", "")
	_, err = v2.Submit(subVendor, []string{"certificate/3c", "certificate/srrc"}, subNow)
	require.NoError(t, err)
	assert.Equal(t, "certificate_details_required", domain.CodeOf(v2.ConfirmCertificates(nil)), "a certificate needs its number and dates")
	v2.Artifacts["certificate/srrc"].Certificate = &domain.CertificateDetails{Number: "S-1", IssuedOn: "2025-01-01", ExpiresOn: "2030-01-01"}
	fix := map[domain.Certificate]domain.CertificateDetails{domain.Cert3C: {Number: "C-1", IssuedOn: "2025-02-01", ExpiresOn: "2030-02-01"}}
	assert.Equal(t, "invalid_certificate_details", domain.CodeOf(v2.ConfirmCertificates(map[domain.Certificate]domain.CertificateDetails{domain.CertCTA: fix[domain.Cert3C]})))
	require.NoError(t, v2.ConfirmCertificates(fix), "the reviewer gives the 3C's details")
	_, err = v2.Decide(subReviewer, true, "", subNow)
	require.NoError(t, err)
	assert.Equal(t, domain.VersionApproved, v2.Status)
	assert.Equal(t, map[domain.Certificate]domain.CertificateValidity{domain.Cert3C: {Number: "C-1", IssuedOn: "2025-02-01", ExpiresOn: "2030-02-01"},
		domain.CertSRRC: {Number: "S-1", IssuedOn: "2025-01-01", ExpiresOn: "2030-01-01"}}, v2.CertificateValidity())

	// Certificates expire: an approved certificates submission takes a renewal version.
	v3, _, err := s.RequestUpload(subVendor, domain.Artifact{Slot: "certificate/3c", UploadID: "up4"}, subNow)
	require.NoError(t, err)
	assert.Equal(t, 3, v3.Number)
	assert.True(t, v3.Artifacts["certificate/srrc"].Certificate.Confirmed, "the other certificates carry over confirmed")
	sw := &domain.Submission{ModelID: "m", Kind: domain.SubmissionSoftware, Versions: []*domain.SubmissionVersion{{Number: 1, Status: domain.VersionApproved}}}
	_, _, err = sw.RequestUpload(subVendor, domain.Artifact{Slot: "software/1", UploadID: "up5"}, subNow)
	assert.Equal(t, "submission_approved", domain.CodeOf(err))
}
