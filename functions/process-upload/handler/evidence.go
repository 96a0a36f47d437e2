package handler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/precheck"
	"github.com/facepay/platform/shared/store"
)

// evidenceUpload checks one evidence file: its bytes against its name and slot (evidence.Sniff
// and Slot.Verify), its size and SHA-256 against what was declared, and, for spreadsheets, the
// machine pre-screening. A refused file is recorded with a stable reason code and moved to
// quarantine/, so nothing of it reaches the submission. Only the slot's pending upload is
// settled: a redelivered notification changes nothing (a rejected one is quarantined again,
// which is idempotent, in case the first attempt stopped before it), and an object no slot
// takes (a superseded upload, a second PUT through a used URL) is moved to quarantine/.
func (h *handler) evidenceUpload(ctx context.Context, k precheck.KeyParts, key, versionID string) error {
	// The bytes are read and checked once; a lost race only repeats the load and the save.
	// What follows a settled upload (metric, quarantine) runs once, after the save.
	var in *domain.Arrival
	var then func() error
	// settled is the settled upload's RequestedAt: its ticket is done with. A lost race (the
	// vendor changed another slot meanwhile) repeats only the load and the save.
	var settled *time.Time
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		then, settled = nil, nil
		m, err := h.subs.Model(ctx, k.ModelID)
		if domain.KindOf(err) == domain.NotFound {
			slog.WarnContext(ctx, "evidence for unknown model", "key", key)
			return nil
		}
		if err != nil {
			return err
		}
		sub, err := h.subs.Submission(ctx, m.ID, m.VendorOrg, k.Kind)
		if err != nil {
			return err
		}
		v, err := sub.Version(k.Version)
		if m.VendorOrg != k.Org || err != nil {
			slog.WarnContext(ctx, "evidence for no known submission version", "key", key)
			return h.unaccepted(ctx, key, versionID)
		}
		a := v.Artifacts[k.SlotID]
		if a == nil || a.UploadID != k.UploadID {
			return h.unaccepted(ctx, key, versionID) // superseded by a later upload to the slot
		}
		if a.Status == domain.ArtifactRejected {
			then, settled = func() error { return h.objects.Quarantine(ctx, key, a.VersionID) }, &a.RequestedAt
			return nil
		}
		if a.Status == domain.ArtifactReceived && versionID != "" && versionID != a.VersionID {
			return h.unaccepted(ctx, key, versionID) // a second PUT through a used URL
		}
		if a.Status != domain.ArtifactPending || v.Status != domain.VersionOpen {
			slog.InfoContext(ctx, "redelivered notification ignored", "key", key)
			if a.Status != domain.ArtifactPending {
				settled = &a.RequestedAt
			}
			return nil
		}
		slot, err := precheck.Slot(m, k.Kind, k.SlotID)
		if err != nil {
			return fmt.Errorf("slot of %s: %w", key, err)
		}
		if in == nil {
			got, err := h.inspectEvidence(ctx, slot, a, key, versionID)
			if err != nil {
				return err
			}
			in = &got
		}
		ch, err := v.Receive(k.SlotID, *in, h.now())
		if errors.Is(err, domain.ErrStaleUpload) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := h.subs.SaveArtifact(ctx, v, k.SlotID, ch); err != nil {
			return err
		}
		settled = &a.RequestedAt
		then = func() error {
			h.count(ctx, kindEvidence, in.ReasonCode)
			if in.ReasonCode != "" {
				slog.InfoContext(ctx, "evidence rejected", "key", key, "slot", k.SlotID, "code", in.ReasonCode)
				return h.objects.Quarantine(ctx, key, in.VersionID)
			}
			slog.InfoContext(ctx, "evidence received", "key", key, "slot", k.SlotID, "size", in.Size)
			return nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	if then != nil {
		if err := then(); err != nil {
			return err
		}
	}
	h.ticketDone(ctx, key, settled)
	return nil
}

// inspectEvidence reads the object and returns what the checks found.
func (h *handler) inspectEvidence(ctx context.Context, slot evidence.Slot, a *domain.Artifact, key, versionID string) (domain.Arrival, error) {
	obj, err := h.objects.Open(ctx, key, versionID)
	if err != nil {
		return domain.Arrival{}, err
	}
	defer obj.Body.Close()
	in := domain.Arrival{UploadID: a.UploadID, VersionID: obj.VersionID}
	reject := func(err error) (domain.Arrival, error) {
		in.ReasonCode, in.Reason = domain.CodeOf(err), domain.MessageOf(err)
		return in, nil
	}
	// Read one byte past the slot's limit: the signed checksum bounds the body, this bounds memory.
	data, err := io.ReadAll(io.LimitReader(obj.Body, slot.MaxSize()+1))
	if err != nil {
		return domain.Arrival{}, fmt.Errorf("read %s: %w", key, err)
	}
	in.Size = int64(len(data))
	if in.Size > slot.MaxSize() {
		return reject(domain.Errorf(domain.TooLarge, "file_too_large", "%s is larger than the %d bytes the slot takes", a.FileName, slot.MaxSize()))
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != a.SHA256 || in.Size != a.Size {
		return reject(domain.Errorf(domain.Invalid, "checksum_mismatch", "the file differs from the one declared when the upload was requested"))
	}
	d, err := evidence.Sniff(bytes.NewReader(data), in.Size)
	if err != nil {
		return domain.Arrival{}, fmt.Errorf("sniff %s: %w", key, err)
	}
	if err := slot.Verify(d, a.FileName); err != nil {
		return reject(err)
	}
	if slices.Contains(slot.Formats(), evidence.FormatZip) {
		l, err := evidence.InspectZip(bytes.NewReader(data), in.Size)
		in.Listing = precheck.Listing(l)
		if err != nil {
			return reject(err)
		}
	}
	if !precheck.Screened(slot) {
		return in, nil
	}
	get, err := h.objects.PresignDownload(ctx, key, in.VersionID, a.FileName, h.now())
	if err != nil {
		return domain.Arrival{}, err
	}
	res, err := h.prescreen.Prescreen(ctx, evidence.PrescreenRequest{Key: key, URL: get.URL, Slot: slot, Format: d.Format})
	if err != nil {
		return domain.Arrival{}, fmt.Errorf("prescreen %s: %w", key, err)
	}
	if res.Refused != nil {
		return reject(domain.Errorf(domain.TooLarge, res.Refused.Code, "%s", res.Refused.Message))
	}
	if res.Prescreen == nil {
		return domain.Arrival{}, fmt.Errorf("prescreen %s: an answer with neither result nor refusal", key)
	}
	p := *res.Prescreen
	in.Prescreen = precheck.Result(p)
	if !in.Prescreen.Acceptable() {
		f := p.Findings[0]
		in.ReasonCode = f.Code
		in.Reason = fmt.Sprintf("pre-screening found %d problem(s); first: %s", len(p.Findings), f.Message)
	}
	return in, nil
}
