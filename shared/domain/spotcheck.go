package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// SpotCheck is a market sample a reviewer recorded (DOMAIN.md section 6: the platform has a lab
// sample devices in the field and may order the vendor to rectify, with a deadline). A failed
// one carries a rectification order; an order not closed by its deadline restricts the model
// (RestrictionSpotCheckOverdue) until a reviewer closes it.
type SpotCheck struct {
	ID         string              `json:"id"`
	ModelID    string              `json:"modelId"`
	VendorOrg  string              `json:"vendorOrg"`
	SN         string              `json:"sn"`
	Lab        string              `json:"lab"`
	Findings   string              `json:"findings"`
	Result     string              `json:"result"` // pass | fail
	Report     SpotCheckReport     `json:"report"`
	RecordedAt time.Time           `json:"recordedAt"`
	RecordedBy string              `json:"recordedBy,omitempty"` // the reviewer; never shown to the vendor
	Order      *RectificationOrder `json:"order,omitempty"`
	Version    int                 `json:"-"`
}

// SpotCheckReport is the lab's report, uploaded by the reviewer through a presigned URL.
type SpotCheckReport struct {
	FileName    string `json:"fileName" maxLength:"255"`
	ContentType string `json:"contentType" maxLength:"100"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256" maxLength:"64"`
}

// OrderStatus is where a rectification order is.
type OrderStatus string

// Order statuses: open (waiting for the vendor), responded (waiting for a reviewer), closed.
const (
	OrderOpen      OrderStatus = "open"
	OrderResponded OrderStatus = "responded"
	OrderClosed    OrderStatus = "closed"
)

// RectificationOrder is what a failed spot check orders the vendor to do, by a deadline.
type RectificationOrder struct {
	Deadline     time.Time   `json:"deadline"`
	Status       OrderStatus `json:"status"`
	Response     string      `json:"response,omitempty"`
	RespondedAt  *time.Time  `json:"respondedAt,omitempty"`
	ClosedAt     *time.Time  `json:"closedAt,omitempty"`
	ClosedReason string      `json:"closedReason,omitempty"`
}

// SpotCheckInput is what a reviewer records.
type SpotCheckInput struct {
	SN       string          `json:"sn" maxLength:"23"`
	Lab      string          `json:"lab" maxLength:"200"`
	Findings string          `json:"findings" maxLength:"4000"`
	Result   string          `json:"result" maxLength:"4"`
	Deadline time.Time       `json:"deadline,omitzero"` // a failed check's rectification deadline
	Report   SpotCheckReport `json:"report"`
}

// Spot-check limits (our choice).
const (
	maxSpotCheckReport = 20 << 20 // 20 MiB, as the evidence PDFs
	maxSpotCheckText   = 4000
)

// SpotCheckID is the id of the spot check of SN with this report: the same request again names
// the same spot check (a retry records nothing twice).
func SpotCheckID(modelID, sn, reportSHA256 string) string {
	sum := sha256.Sum256([]byte(modelID + "\n" + sn + "\n" + strings.ToLower(reportSHA256)))
	return "spc_" + hex.EncodeToString(sum[:10])
}

// NewSpotCheck validates a reviewer's record of a market sample of model m. The SN must be
// valid for the model's vendor and model codes and OS (ValidateSerialNumber). Error codes
// (Invalid): invalid_sn, sn_vendor_mismatch, sn_system_type_mismatch, sn_model_mismatch,
// invalid_lab, invalid_findings, invalid_result, invalid_deadline, invalid_report.
func NewSpotCheck(reviewer Caller, m *Model, in SpotCheckInput, now time.Time) (*SpotCheck, Change, error) {
	if _, err := ValidateSerialNumber(in.SN, m); err != nil {
		return nil, Change{}, err
	}
	lab, findings := strings.TrimSpace(in.Lab), strings.TrimSpace(in.Findings)
	r := in.Report
	sum, err := hex.DecodeString(r.SHA256)
	switch {
	case lab == "" || len(lab) > 200:
		return nil, Change{}, Errorf(Invalid, "invalid_lab", "lab must be 1 to 200 characters")
	case findings == "" || len(findings) > maxSpotCheckText:
		return nil, Change{}, Errorf(Invalid, "invalid_findings", "findings must be 1 to %d characters", maxSpotCheckText)
	case in.Result != "pass" && in.Result != "fail":
		return nil, Change{}, Errorf(Invalid, "invalid_result", `result must be "pass" or "fail"`)
	case in.Result == "fail" && !in.Deadline.After(now):
		return nil, Change{}, Errorf(Invalid, "invalid_deadline", "a failed spot check orders a rectification with a deadline in the future")
	case in.Result == "pass" && !in.Deadline.IsZero():
		return nil, Change{}, Errorf(Invalid, "invalid_deadline", "a passed spot check orders nothing; leave the deadline out")
	case r.ContentType != "application/pdf" || !strings.HasSuffix(strings.ToLower(r.FileName), ".pdf") || len(r.FileName) > 255 ||
		strings.ContainsAny(r.FileName, "/\\\x00"):
		return nil, Change{}, Errorf(Invalid, "invalid_report", "the lab report is a PDF (application/pdf) named *.pdf")
	case r.Size < 1 || r.Size > maxSpotCheckReport:
		return nil, Change{}, Errorf(Invalid, "invalid_report", "the lab report is 1 byte to 20 MiB")
	case err != nil || len(sum) != 32 || r.SHA256 != strings.ToLower(r.SHA256):
		return nil, Change{}, Errorf(Invalid, "invalid_report", "report.sha256 must be the file's SHA-256 as 64 lower-case hex digits")
	}
	s := &SpotCheck{ID: SpotCheckID(m.ID, in.SN, r.SHA256), ModelID: m.ID, VendorOrg: m.VendorOrg, SN: in.SN, Lab: lab,
		Findings: findings, Result: in.Result, Report: r, RecordedAt: now, RecordedBy: reviewer.Subject}
	ch := Change{At: now, By: reviewer.Subject, ByReviewer: true, Action: "spot_check_recorded", To: s.ID + " " + in.Result, Reason: findings}
	if in.Result == "fail" {
		s.Order = &RectificationOrder{Deadline: in.Deadline.UTC(), Status: OrderOpen}
	}
	return s, ch, nil
}

// Same reports whether in asks for what s recorded (a retry).
func (s *SpotCheck) Same(in SpotCheckInput) bool {
	deadline := time.Time{}
	if s.Order != nil {
		deadline = s.Order.Deadline
	}
	return s.SN == in.SN && s.Lab == strings.TrimSpace(in.Lab) && s.Findings == strings.TrimSpace(in.Findings) &&
		s.Result == in.Result && s.Report == in.Report && deadline.Equal(in.Deadline.UTC())
}

// Respond records the vendor's response to the rectification order; the same response again
// changes nothing (ok false). Error codes: no_rectification_order, order_closed (Conflict),
// invalid_response (Invalid).
func (s *SpotCheck) Respond(c Caller, text string, now time.Time) (Change, bool, error) {
	text = strings.TrimSpace(text)
	switch {
	case s.Order == nil:
		return Change{}, false, Errorf(Conflict, "no_rectification_order", "spot check %s passed; it ordered nothing", s.ID)
	case s.Order.Status == OrderClosed:
		return Change{}, false, Errorf(Conflict, "order_closed", "the rectification order of spot check %s is closed", s.ID)
	case text == "" || len(text) > maxSpotCheckText:
		return Change{}, false, Errorf(Invalid, "invalid_response", "response must be 1 to %d characters", maxSpotCheckText)
	case s.Order.Response == text:
		return Change{}, false, nil
	}
	at := now
	s.Order.Status, s.Order.Response, s.Order.RespondedAt = OrderResponded, text, &at
	return Change{At: now, By: c.Subject, Action: "rectification_responded", To: s.ID, Reason: text}, true, nil
}

// Close closes the rectification order once the vendor responded; the same close again
// changes nothing (ok false). Error codes: no_rectification_order, no_response_yet (Conflict),
// reason_required (Invalid).
func (s *SpotCheck) Close(reviewer Caller, reason string, now time.Time) (Change, bool, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case s.Order == nil:
		return Change{}, false, Errorf(Conflict, "no_rectification_order", "spot check %s passed; it ordered nothing", s.ID)
	case s.Order.Status == OrderClosed && s.Order.ClosedReason == reason:
		return Change{}, false, nil
	case s.Order.Status == OrderClosed:
		return Change{}, false, Errorf(Conflict, "order_closed", "the rectification order of spot check %s is closed", s.ID)
	case s.Order.Status != OrderResponded:
		return Change{}, false, Errorf(Conflict, "no_response_yet", "the vendor has not responded to the rectification order of spot check %s", s.ID)
	case reason == "" || len(reason) > 2000:
		return Change{}, false, Errorf(Invalid, "reason_required", "closing an order needs a reason (at most 2000 characters)")
	}
	at := now
	s.Order.Status, s.Order.ClosedAt, s.Order.ClosedReason = OrderClosed, &at, reason
	return Change{At: now, By: reviewer.Subject, ByReviewer: true, Action: "rectification_closed", To: s.ID, Reason: reason}, true, nil
}

// ForOwner is the spot check as its vendor reads it: never the reviewer's name.
func (s SpotCheck) ForOwner() SpotCheck {
	s.RecordedBy = ""
	return s
}
