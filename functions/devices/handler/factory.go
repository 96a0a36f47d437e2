package handler

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/store"
)

// DeviceReport is one device of a factory report, as the line sends it.
type DeviceReport struct {
	SN           string   `json:"sn" maxLength:"64"`
	CameraSN     string   `json:"cameraSn" maxLength:"64"`
	ModelID      string   `json:"modelId" maxLength:"100"`
	SoftwareMode string   `json:"softwareMode" maxLength:"16"`
	WiredMAC     string   `json:"wiredMac,omitempty" maxLength:"17"`
	WirelessMAC  string   `json:"wirelessMac,omitempty" maxLength:"17"`
	BluetoothMAC string   `json:"bluetoothMac,omitempty" maxLength:"17"`
	IMEI         string   `json:"imei,omitempty" maxLength:"15"`
	AppVersion   string   `json:"appVersion" maxLength:"32"`
	Result       string   `json:"result" maxLength:"16"`
	Errors       []string `json:"errors,omitempty" maxItems:"6" maxLength:"32"`
	Station      string   `json:"station" maxLength:"40"`
	CheckedAt    string   `json:"checkedAt" maxLength:"40"`
	Backfill     bool     `json:"backfill,omitempty"`
}

// CheckRequest is a factory report: one device or a batch of up to 500. Devices are decoded
// one by one, so a malformed device fails alone.
type CheckRequest struct {
	Devices []json.RawMessage `json:"devices" maxItems:"500"`
}

// DeviceResult is the answer for one reported device. Status reads like an HTTP status: 201 a
// device the platform did not know, 200 a known device (a repeated check, or the same report
// again), 4xx the device's input is wrong (Error says why; sending it again will not help),
// 409 a conflict for the vendor, 503 the platform could not record it (Retryable: send it again).
type DeviceResult struct {
	Index      int                  `json:"index"`
	SN         string               `json:"sn,omitempty"`
	Status     int                  `json:"status"`
	Result     domain.CheckResult   `json:"result,omitempty"`
	Errors     []ResultError        `json:"errors"`
	Warnings   []string             `json:"warnings"`
	Backfilled bool                 `json:"backfilled"`
	Error      *httpapi.ErrorDetail `json:"error,omitempty"`
	Retryable  bool                 `json:"retryable"`
}

// ResultError is one reason a check did not pass.
type ResultError struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// CheckResponse answers a factory report device by device.
type CheckResponse struct {
	Results []DeviceResult `json:"results"`
	Summary CheckSummary   `json:"summary"`
}

// CheckSummary counts the results.
type CheckSummary struct {
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
	Special   int `json:"special"`
	Invalid   int `json:"invalid"`
	Conflicts int `json:"conflicts"`
	Retryable int `json:"retryable"`
}

// factoryCaller checks the caller is a factory line whose code is still its vendor's current
// one: the authorizer's answer may come from API Gateway's cache, so a reset is enforced here,
// on every request (one GetItem), and takes effect at once.
func (h *handler) factoryCaller(ctx context.Context, c domain.Caller) error {
	if err := c.Require(domain.RoleFactory); err != nil {
		return err
	}
	id, _ := strings.CutPrefix(c.Subject, "factory-code:")
	fc, err := h.db.FactoryCode(ctx, c.Org)
	if domain.KindOf(err) == domain.NotFound || (err == nil && (fc.ID != id || !fc.Valid(h.now()))) {
		return domain.Errorf(domain.Unauthenticated, "factory_code_revoked", "the device authorization code was reset or expired; log in with the current code")
	}
	return err
}

type pending struct {
	index  int
	report domain.FactoryReport
	model  *domain.Model
	stage  domain.Stage
}

// factoryCheck records a factory report (POST /factory/checks). Each device is validated,
// checked and written on its own: one bad device never fails the others.
func (h *handler) factoryCheck(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := h.factoryCaller(ctx, c); err != nil {
		return httpapi.Response{}, err
	}
	var body CheckRequest
	if err := httpapi.Decode(req, &body); err != nil {
		return httpapi.Response{}, err
	}
	if len(body.Devices) == 0 {
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "no_devices", "devices lists 1 to %d devices", domain.MaxBatch)
	}
	now := h.now()
	results := make([]DeviceResult, len(body.Devices))
	fail := func(i int, err error) {
		r := &results[i]
		r.Status = http.StatusInternalServerError
		switch domain.KindOf(err) {
		case domain.Invalid:
			r.Status = http.StatusBadRequest
		case domain.NotFound:
			r.Status = http.StatusNotFound
		case domain.Conflict:
			r.Status = http.StatusConflict
		}
		if r.Status == http.StatusInternalServerError {
			slog.ErrorContext(ctx, "factory check of one device failed", "sn", r.SN, "err", err)
			r.Status, r.Retryable = http.StatusServiceUnavailable, true
			r.Error = &httpapi.ErrorDetail{Code: "platform_fault", Message: "the platform could not record this device; send it again"}
			return
		}
		r.Error = &httpapi.ErrorDetail{Code: domain.CodeOf(err), Message: domain.MessageOf(err)}
	}
	models := map[string]*pending{} // model id → its model and stage (loaded once per batch)
	seen := map[string]bool{}
	var todo []*pending
	for i, raw := range body.Devices {
		results[i] = DeviceResult{Index: i, Errors: []ResultError{}, Warnings: []string{}}
		var d DeviceReport
		if err := httpapi.Decode(httpapi.Request{Body: string(raw)}, &d); err != nil {
			fail(i, err)
			continue
		}
		results[i].SN = d.SN
		r, err := domain.NewFactoryReport(d.SN, d.CameraSN, d.ModelID, d.SoftwareMode, d.WiredMAC, d.WirelessMAC, d.BluetoothMAC,
			d.IMEI, d.AppVersion, d.Result, d.Errors, d.Station, d.CheckedAt, d.Backfill, now)
		if err != nil {
			fail(i, err)
			continue
		}
		if seen[r.SN] {
			fail(i, domain.Errorf(domain.Invalid, "duplicate_sn", "SN %s appears more than once in this report", r.SN))
			continue
		}
		seen[r.SN] = true
		mp, ok := models[r.ModelID]
		if !ok {
			mp = &pending{}
			m, err := h.db.Model(ctx, r.ModelID)
			switch {
			case err == nil && m.VendorOrg == c.Org:
				mp.model = m
				if mp.stage, err = h.stage(ctx, m.ID); err != nil {
					return httpapi.Response{}, err
				}
			case err == nil || domain.KindOf(err) == domain.NotFound:
			default:
				return httpapi.Response{}, err
			}
			models[r.ModelID] = mp
		}
		if mp.model == nil {
			fail(i, domain.Errorf(domain.NotFound, "model_not_found", "model %q is not one of this vendor's models", r.ModelID))
			continue
		}
		if _, err := domain.ValidateSerialNumber(r.SN, mp.model); err != nil {
			fail(i, err)
			continue
		}
		todo = append(todo, &pending{index: i, report: r, model: mp.model, stage: mp.stage})
	}
	// Read every known device at once, decide, write conditionally; a device that changed
	// meanwhile (another station won the race) is read again and decided again.
	consistent := false
	for attempt := 0; len(todo) > 0; attempt++ {
		sns := make([]string, len(todo))
		for i, p := range todo {
			sns[i] = p.report.SN
		}
		known, err := h.db.Devices(ctx, sns, consistent)
		if err != nil {
			for _, p := range todo {
				fail(p.index, err)
			}
			break
		}
		var writes []store.DeviceWrite
		var owners []*pending
		outcomes := map[int]domain.CheckOutcome{}
		for _, p := range todo {
			next, out, changes, err := domain.Check(known[p.report.SN], p.report, p.model, p.stage, now)
			if next != nil {
				writes = append(writes, store.DeviceWrite{Device: next, Changes: changes})
				owners = append(owners, p)
			}
			if err != nil {
				fail(p.index, err)
				if next == nil {
					continue
				}
			}
			outcomes[p.index] = out
			if next == nil {
				h.answer(&results[p.index], out, http.StatusOK)
				// A report sent again after a failure between the device's write and the PVT
				// mark (a separate write) still marks it.
				if prev := known[p.report.SN]; prev != nil && prev.PassedIn == domain.StagePVT && prev.FirstPassedAt != nil {
					if err := h.markPVTPass(ctx, prev); err != nil {
						slog.ErrorContext(ctx, "PVT pass not marked", "model", prev.ModelID, "err", err)
					}
				}
			}
		}
		errs := h.db.WriteDevices(ctx, writes)
		var again []*pending
		for i, err := range errs {
			p, w := owners[i], writes[i]
			switch {
			case errors.Is(err, domain.ErrConflict) && attempt < 3:
				results[p.index] = DeviceResult{Index: p.index, SN: p.report.SN, Errors: []ResultError{}, Warnings: []string{}}
				again = append(again, p)
			case err != nil:
				fail(p.index, err)
			default:
				if results[p.index].Error != nil {
					continue // a conflict recorded on the device: the 409 stands
				}
				status := http.StatusOK
				if outcomes[p.index].Created {
					status = http.StatusCreated
				}
				h.answer(&results[p.index], outcomes[p.index], status)
				if w.Device.PassedIn == domain.StagePVT && w.Device.FirstPassedAt != nil {
					if err := h.markPVTPass(ctx, w.Device); err != nil {
						slog.ErrorContext(ctx, "PVT pass not marked", "model", w.Device.ModelID, "err", err)
					}
				}
			}
		}
		todo, consistent = again, true
	}
	resp := CheckResponse{Results: results}
	for _, r := range results {
		switch {
		case r.Retryable:
			resp.Summary.Retryable++
		case r.Status == http.StatusConflict:
			resp.Summary.Conflicts++
		case r.Error != nil:
			resp.Summary.Invalid++
		case r.Result == domain.CheckPass:
			resp.Summary.Passed++
		case r.Result == domain.CheckFail:
			resp.Summary.Failed++
		case r.Result == domain.CheckSpecial:
			resp.Summary.Special++
		}
	}
	return httpapi.JSON(http.StatusOK, resp), nil
}

func (h *handler) answer(r *DeviceResult, out domain.CheckOutcome, status int) {
	r.Status, r.Result, r.Warnings, r.Backfilled = status, out.Result, out.Warnings, out.Backfilled
	r.Errors = []ResultError{}
	for _, e := range out.Errors {
		r.Errors = append(r.Errors, ResultError{Code: e, Message: domain.ErrorMessage(e)})
	}
}

// markPVTPass records, once per model, that a device passed in PVT (the MP gate reads it).
func (h *handler) markPVTPass(ctx context.Context, d *domain.Device) error {
	if _, done := h.pvt.Load(d.ModelID); done {
		return nil
	}
	if err := h.db.MarkPVTPass(ctx, d.ModelID, d.SN, *d.FirstPassedAt); err != nil {
		return err
	}
	h.pvt.Store(d.ModelID, true)
	return nil
}

// InspectionRecord is the closed-loop query's answer: the device's last factory check.
type InspectionRecord struct {
	SN           string                 `json:"sn"`
	ModelID      string                 `json:"modelId"`
	WiredMAC     string                 `json:"wiredMac"`
	WirelessMAC  string                 `json:"wirelessMac"`
	BluetoothMAC string                 `json:"bluetoothMac"`
	AppVersion   string                 `json:"appVersion"`
	CameraSN     string                 `json:"cameraSn"`
	IMEI         string                 `json:"imei"`
	SoftwareMode domain.SoftwareMode    `json:"softwareMode"`
	Result       domain.CheckResult     `json:"result"`
	Status       domain.DeviceStatus    `json:"status"`
	Errors       []ResultError          `json:"errors"`
	Warnings     []string               `json:"warnings"`
	Backfilled   bool                   `json:"backfilled"`
	Checks       int                    `json:"checks"`
	InspectedAt  string                 `json:"inspectedAt"`
	Conflict     *domain.CameraConflict `json:"conflict,omitempty"`
}

func recordOf(d *domain.Device) InspectionRecord {
	r := InspectionRecord{SN: d.SN, ModelID: d.ModelID, WiredMAC: d.WiredMAC, WirelessMAC: d.WirelessMAC, BluetoothMAC: d.BluetoothMAC,
		AppVersion: d.AppVersion, CameraSN: d.CameraSN, IMEI: d.IMEI, SoftwareMode: d.SoftwareMode, Result: d.Result, Status: d.Status,
		Errors: []ResultError{}, Warnings: d.Warnings, Backfilled: d.Backfilled, Checks: d.Checks,
		InspectedAt: d.CheckedAt.Format("2006-01-02T15:04:05Z07:00"), Conflict: d.Conflict}
	for _, e := range d.Errors {
		r.Errors = append(r.Errors, ResultError{Code: e, Message: domain.ErrorMessage(e)})
	}
	return r
}

// ownDevice loads sn for a caller of org: another vendor's device is not found.
func (h *handler) ownDevice(ctx context.Context, org, sn string) (*domain.Device, error) {
	d, err := h.db.Device(ctx, sn)
	if err != nil {
		return nil, err
	}
	if d.VendorOrg != org {
		return nil, domain.Errorf(domain.NotFound, "device_not_found", "device %s does not exist", sn)
	}
	return d, nil
}

// inspectionRecord answers the line's closed-loop query (GET /factory/devices/{sn}).
func (h *handler) inspectionRecord(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := h.factoryCaller(ctx, c); err != nil {
		return httpapi.Response{}, err
	}
	d, err := h.ownDevice(ctx, c.Org, req.PathParameters["sn"])
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, recordOf(d)), nil
}
