// Package handler pre-screens one uploaded evidence spreadsheet (the camera checklist, the
// software pre-check results, the hardware test-case workbook) for process-upload, which
// invokes it synchronously for the slots that are screened. It is a function of its own so that
// the workbook readers (excelize, xlsReader) weigh only on its cold start, not on every upload
// notification's. It reads the object version it is given and changes nothing: a retry or a
// redelivery answers the same.
package handler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/evidence/prescreen"
	"github.com/facepay/platform/shared/lambdafn"
)

type handler struct{ http *http.Client }

// New builds the function. It has no settings: everything it reads comes with the request.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, evidence.PrescreenRequest) (evidence.PrescreenResponse, error), error) {
	h := &handler{http: &http.Client{Timeout: 20 * time.Second}}
	return h.handle, nil
}

func (h *handler) handle(ctx context.Context, r evidence.PrescreenRequest) (evidence.PrescreenResponse, error) {
	if r.URL == "" {
		return evidence.PrescreenResponse{}, fmt.Errorf("prescreen request for %q without a URL", r.Key)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return evidence.PrescreenResponse{}, fmt.Errorf("prescreen %s: %w", r.Key, err)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return evidence.PrescreenResponse{}, fmt.Errorf("get %s: %w", r.Key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return evidence.PrescreenResponse{}, fmt.Errorf("get %s: %s", r.Key, resp.Status)
	}
	// process-upload checked the size against the slot before asking; this bounds memory
	// should the two ever disagree.
	data, err := io.ReadAll(io.LimitReader(resp.Body, r.Slot.MaxSize()+1))
	if err != nil {
		return evidence.PrescreenResponse{}, fmt.Errorf("read %s: %w", r.Key, err)
	}
	if int64(len(data)) > r.Slot.MaxSize() {
		return evidence.PrescreenResponse{Refused: &evidence.Refusal{Code: "file_too_large",
			Message: fmt.Sprintf("the file is larger than the %s the slot takes", evidence.SizeText(r.Slot.MaxSize()))}}, nil
	}
	return Screen(r.Slot, bytes.NewReader(data), r.Format)
}

// Screen pre-screens a spreadsheet of slot s: the result, a refusal when the workbook is over
// what pre-screening reads, or an error when it could not be screened at all.
func Screen(s evidence.Slot, data io.Reader, format evidence.Format) (evidence.PrescreenResponse, error) {
	p, err := prescreen.Slot(s, data, format)
	if domain.KindOf(err) == domain.TooLarge {
		return evidence.PrescreenResponse{Refused: &evidence.Refusal{Code: domain.CodeOf(err), Message: domain.MessageOf(err)}}, nil
	}
	if err != nil {
		return evidence.PrescreenResponse{}, fmt.Errorf("prescreen: %w", err)
	}
	return evidence.PrescreenResponse{Prescreen: &p}, nil
}
