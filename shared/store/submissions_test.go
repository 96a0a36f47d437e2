package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines/enginestest"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/store/storetest"
)

func TestMain(m *testing.M) { enginestest.Main(m) }

func TestSubmissions_VersionsHistoryAndPreconditions(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	vendor := domain.Caller{Subject: "alice", Org: "vendor-a", Role: domain.RoleVendor}
	reviewer := domain.Caller{Subject: "rita", Role: domain.RoleReviewer}

	s, err := db.Submission(ctx, "mdl_1", "vendor-a", domain.SubmissionCertificates)
	require.NoError(t, err)
	assert.Empty(t, s.Versions, "no upload yet is no error")

	v, ch, err := s.RequestUpload(vendor, domain.Artifact{Slot: "certificate/3c", UploadID: "up1", FileName: "a.pdf", SHA256: "ab", Size: 3}, now)
	require.NoError(t, err)
	require.NoError(t, db.SaveSubmissionVersion(ctx, v, ch))
	assert.Equal(t, 1, v.Revision)

	// A racing first upload (read before the save) cannot create version 1 again.
	stale := &domain.Submission{ModelID: "mdl_1", VendorOrg: "vendor-a", Kind: domain.SubmissionCertificates}
	v0, ch0, err := stale.RequestUpload(vendor, domain.Artifact{Slot: "certificate/srrc", UploadID: "up0"}, now)
	require.NoError(t, err)
	assert.Equal(t, "conflict", domain.CodeOf(db.SaveSubmissionVersion(ctx, v0, ch0)))

	// Two writers of the same revision: one wins.
	a, err := db.Submission(ctx, "mdl_1", "vendor-a", domain.SubmissionCertificates)
	require.NoError(t, err)
	b, err := db.Submission(ctx, "mdl_1", "vendor-a", domain.SubmissionCertificates)
	require.NoError(t, err)
	chA, err := a.Current().Receive("certificate/3c", domain.Arrival{UploadID: "up1", VersionID: "s3v1", Size: 3,
		Prescreen: &domain.PrescreenResult{Passed: true, Findings: []domain.PrescreenFinding{}, Flags: []domain.PrescreenFinding{{Code: "no_pass", Message: "x"}}}}, now)
	require.NoError(t, err)
	chB, err := b.Current().Receive("certificate/3c", domain.Arrival{UploadID: "up1", VersionID: "s3v1", Size: 3}, now)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, w := range []struct {
		v  *domain.SubmissionVersion
		ch domain.Change
	}{{a.Current(), chA}, {b.Current(), chB}} {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = db.SaveArtifact(ctx, w.v, "certificate/3c", w.ch) }()
	}
	wg.Wait()
	assert.ElementsMatch(t, []string{"", "conflict"}, []string{codeOrEmpty(errs[0]), codeOrEmpty(errs[1])}, "exactly one writer wins")

	got, err := db.Submission(ctx, "mdl_1", "vendor-a", domain.SubmissionCertificates)
	require.NoError(t, err)
	require.Len(t, got.Versions, 1)
	cur := got.Current()
	assert.Equal(t, 1, cur.Revision, "a file's arrival leaves the version item alone")
	assert.Equal(t, 2, cur.Artifacts["certificate/3c"].Revision)
	assert.Equal(t, domain.ArtifactReceived, cur.Artifacts["certificate/3c"].Status)
	assert.Equal(t, "s3v1", cur.Artifacts["certificate/3c"].VersionID)

	// Submit, reject, and a new version: both versions readable, history complete and ordered.
	chS, err := cur.Submit(vendor, []string{"certificate/3c"}, now.Add(time.Minute))
	require.NoError(t, err)
	require.NoError(t, db.SaveSubmissionVersion(ctx, cur, chS))
	q, err := db.SubmissionQueue(ctx, store.QueueFilter{})
	require.NoError(t, err)
	require.Len(t, q.Items, 1, "under review: queued")
	assert.Equal(t, "mdl_1", q.Items[0].ModelID)
	q, err = db.SubmissionQueue(ctx, store.QueueFilter{SubmittedUntil: now})
	require.NoError(t, err)
	assert.Empty(t, q.Items, "submitted after the bound")
	chD, err := cur.Decide(reviewer, false, "expired", now.Add(2*time.Minute))
	require.NoError(t, err)
	require.NoError(t, db.Tx().SaveSubmissionVersion(cur, chD).Commit(ctx, "decision"))
	v2, chR, err := got.RequestUpload(vendor, domain.Artifact{Slot: "certificate/3c", UploadID: "up2"}, now.Add(3*time.Minute))
	require.NoError(t, err)
	require.NoError(t, db.SaveSubmissionVersion(ctx, v2, chR))

	q, err = db.SubmissionQueue(ctx, store.QueueFilter{})
	require.NoError(t, err)
	assert.Empty(t, q.Items, "decided: off the queue")

	got, err = db.Submission(ctx, "mdl_1", "vendor-a", domain.SubmissionCertificates)
	require.NoError(t, err)
	require.Len(t, got.Versions, 2)
	assert.Equal(t, domain.VersionRejected, got.Versions[0].Status)
	assert.Equal(t, "expired", got.Versions[0].Outcome.Reason)
	assert.Equal(t, "up1", got.Versions[0].Artifacts["certificate/3c"].UploadID)
	assert.Equal(t, domain.VersionOpen, got.Versions[1].Status)
	assert.Equal(t, "up2", got.Versions[1].Artifacts["certificate/3c"].UploadID)

	hist, err := db.SubmissionHistory(ctx, "mdl_1", domain.SubmissionCertificates)
	require.NoError(t, err)
	var actions []string
	for _, h := range hist {
		actions = append(actions, h.Action)
	}
	assert.Equal(t, []string{"upload_requested", "upload_received", "submitted", "decided", "upload_requested"}, actions)

	other, err := db.Submission(ctx, "mdl_1", "vendor-a", domain.SubmissionSoftware)
	require.NoError(t, err)
	assert.Empty(t, other.Versions, "kinds are separate")
	_, err = db.Submission(ctx, "bad#id", "vendor-a", domain.SubmissionSoftware)
	assert.Equal(t, "model_not_found", domain.CodeOf(err))
}

func codeOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return domain.CodeOf(err)
}

// newDB is a table of its own on the local engine (shared/store/storetest).
func newDB(t *testing.T) *store.DB { return storetest.NewDB(t) }

// The slots of one version never contend: a file arriving in one slot and the upload asked
// for in another, both read before either was written, are both saved. A submit read before
// a file changed fails, and no slot is added to a version once it is submitted.
func TestSubmissions_SlotsDoNotContend(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	vendor := domain.Caller{Subject: "alice", Org: "vendor-a", Role: domain.RoleVendor}
	load := func() *domain.Submission {
		s, err := db.Submission(ctx, "mdl_1", "vendor-a", domain.SubmissionCertificates)
		require.NoError(t, err)
		return s
	}
	v, ch, err := load().RequestUpload(vendor, domain.Artifact{Slot: "certificate/3c", UploadID: "up1"}, now)
	require.NoError(t, err)
	require.NoError(t, db.SaveSubmissionVersion(ctx, v, ch))

	arriving, asking, submitting := load(), load(), load()
	chA, err := arriving.Current().Receive("certificate/3c", domain.Arrival{UploadID: "up1", VersionID: "s3v1", Size: 3}, now)
	require.NoError(t, err)
	vB, chB, err := asking.RequestUpload(vendor, domain.Artifact{Slot: "certificate/srrc", UploadID: "up2"}, now)
	require.NoError(t, err)
	require.NoError(t, db.SaveArtifact(ctx, arriving.Current(), "certificate/3c", chA))
	require.NoError(t, db.SaveArtifact(ctx, vB, "certificate/srrc", chB), "another slot, read before the arrival was saved")
	got := load().Current()
	assert.Equal(t, domain.ArtifactReceived, got.Artifacts["certificate/3c"].Status)
	assert.Equal(t, domain.ArtifactPending, got.Artifacts["certificate/srrc"].Status)

	// submitting read the 3C file pending; a submit on that stale read fails.
	submitting.Current().Artifacts["certificate/3c"].Status = domain.ArtifactReceived
	delete(submitting.Current().Artifacts, "certificate/srrc")
	chS, err := submitting.Current().Submit(vendor, []string{"certificate/3c"}, now)
	require.NoError(t, err)
	assert.Equal(t, "conflict", codeOrEmpty(db.SaveSubmissionVersion(ctx, submitting.Current(), chS)), "a file changed under the submit")

	// Once submitted (on a fresh read), a slot read before cannot be added.
	late := load()
	fresh := load().Current()
	fresh.Artifacts["certificate/srrc"].Status = domain.ArtifactReceived
	chS, err = fresh.Submit(vendor, []string{"certificate/3c"}, now)
	require.NoError(t, err)
	require.NoError(t, db.SaveSubmissionVersion(ctx, fresh, chS))
	vC, chC, err := late.RequestUpload(vendor, domain.Artifact{Slot: "certificate/cta", UploadID: "up3"}, now)
	require.NoError(t, err)
	assert.Equal(t, "conflict", codeOrEmpty(db.SaveArtifact(ctx, vC, "certificate/cta", chC)), "the version is no longer open")
	vD, chD, err := late.RequestUpload(vendor, domain.Artifact{Slot: "certificate/3c", UploadID: "up4"}, now)
	require.NoError(t, err)
	assert.Equal(t, "conflict", codeOrEmpty(db.SaveArtifact(ctx, vD, "certificate/3c", chD)), "nor a submitted file replaced")
	assert.Equal(t, domain.VersionSubmitted, load().Current().Status)
	assert.Len(t, load().Current().Artifacts, 2)
}
