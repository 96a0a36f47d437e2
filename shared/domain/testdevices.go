package domain

import (
	"strings"
	"time"
)

// businessZone is where the programme's dates are: a test device's expected pre-check
// completion date ends its test use at 00:00 there.
var businessZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// TestDeviceStatus is whether a vendor test device may still run face payment for debugging.
type TestDeviceStatus string

// Test device statuses.
const (
	TestDeviceActive  TestDeviceStatus = "active"
	TestDeviceCleared TestDeviceStatus = "cleared"
)

// Why a test device was cleared.
const (
	ClearedOnDate  = "expected pre-check completion date reached"
	ClearedByOwner = "cleared early by the vendor"
)

// TestDevice is a vendor test device (DOMAIN.md section 3): a device of a DVT model that may
// run face payment for debugging without a factory check, never commercially, until its
// expected pre-check completion date. Renewal is a new registration.
type TestDevice struct {
	SN                 string           `json:"sn"`
	ModelID            string           `json:"modelId"`
	VendorOrg          string           `json:"vendorOrg"`
	DeviceType         DeviceType       `json:"deviceType"`
	ExpectedCompletion string           `json:"expectedCompletion"` // YYYY-MM-DD, Asia/Shanghai
	ClearAt            time.Time        `json:"clearAt"`            // 00:00 of that date
	Status             TestDeviceStatus `json:"status"`
	RegisteredAt       time.Time        `json:"registeredAt"`
	Registration       int              `json:"registration"` // 1, then 2 after a renewal, ...
	ClearedAt          *time.Time       `json:"clearedAt,omitempty"`
	ClearedReason      string           `json:"clearedReason,omitempty"`
	Version            int              `json:"-"`
}

// RegisterTestDevice registers sn as a test device of model m (in stage) until completion
// (YYYY-MM-DD). prev is the device's earlier registration, if any (a renewal after it was
// cleared). Error codes: model_not_in_dvt, test_device_active (Conflict); invalid_sn,
// sn_vendor_mismatch, sn_system_type_mismatch, sn_model_mismatch, device_type_mismatch,
// invalid_completion_date (Invalid).
func RegisterTestDevice(c Caller, m *Model, stage Stage, sn, deviceType, completion string, prev *TestDevice, now time.Time) (*TestDevice, Change, error) {
	if stage != StageDVT {
		return nil, Change{}, Errorf(Conflict, "model_not_in_dvt", "test devices are for models in the prototype stage (DVT); model %s is in %s", m.ID, stage)
	}
	if _, err := ValidateSerialNumber(sn, m); err != nil {
		return nil, Change{}, err
	}
	if DeviceType(deviceType) != m.DeviceType {
		return nil, Change{}, Errorf(Invalid, "device_type_mismatch", "model %s is a %s, not a %s", m.Name, m.DeviceType, deviceType)
	}
	day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(completion), businessZone)
	if err != nil || !day.After(now) || day.After(now.AddDate(1, 0, 0)) {
		return nil, Change{}, Errorf(Invalid, "invalid_completion_date", "expectedCompletion must be a date (YYYY-MM-DD) after today and within a year")
	}
	reg := 1
	if prev != nil {
		if prev.Status == TestDeviceActive {
			return nil, Change{}, Errorf(Conflict, "test_device_active", "device %s is a test device until %s; clear it first", sn, prev.ExpectedCompletion)
		}
		reg = prev.Registration + 1
	}
	d := &TestDevice{SN: sn, ModelID: m.ID, VendorOrg: m.VendorOrg, DeviceType: m.DeviceType, ExpectedCompletion: day.Format(time.DateOnly),
		ClearAt: day.UTC(), Status: TestDeviceActive, RegisteredAt: now, Registration: reg}
	if prev != nil {
		d.Version = prev.Version
	}
	return d, Change{At: now, By: c.Subject, Action: "test_device_registered", To: d.ExpectedCompletion}, nil
}

// Same reports whether d is the registration these inputs would make (a repeated request).
func (d *TestDevice) Same(modelID, completion string) bool {
	return d.Status == TestDeviceActive && d.ModelID == modelID && d.ExpectedCompletion == strings.TrimSpace(completion)
}

// Clear ends the device's test use at now, for reason; clearing a cleared device changes
// nothing (false).
func (d *TestDevice) Clear(by, reason string, now time.Time) (Change, bool) {
	if d.Status == TestDeviceCleared {
		return Change{}, false
	}
	d.Status, d.ClearedAt, d.ClearedReason = TestDeviceCleared, &now, reason
	return Change{At: now, By: by, Action: "test_device_cleared", From: string(TestDeviceActive), To: string(TestDeviceCleared), Reason: reason}, true
}
