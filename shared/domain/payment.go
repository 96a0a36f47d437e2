package domain

import "time"

// The runtime check (DOMAIN.md "The factory check"): the payment app asks whether a device may
// take face payments now. The answer depends on the device's own record and its model's
// standing, read at answer time: a model's restriction never rewrites its devices.

// Reasons a device may not take face payments.
const (
	ReasonModelUnregistered  = "model_unregistered"
	ReasonNotFactoryChecked  = "not_factory_checked"
	ReasonTestDeviceExpired  = "test_device_expired"
	ReasonModelRestricted    = "model_restricted"
	ReasonModelNotInService  = "model_not_in_production" // the model's certification expired or was withdrawn
	ReasonFactoryCheckFailed = "factory_check_failed"
)

// PaymentAnswer is the runtime check's answer.
type PaymentAnswer struct {
	SN         string `json:"sn"`
	Allowed    bool   `json:"allowed"`
	Reason     string `json:"reason,omitempty"`
	Message    string `json:"message,omitempty"`
	TestDevice bool   `json:"testDevice"`
	ModelID    string `json:"modelId,omitempty"`
}

// ModelStanding is what the runtime check needs of a model: its stage and, when it may not take
// payments, why.
type ModelStanding struct {
	ModelID string
	Stage   Stage
	Reason  string // why the model is restricted, in words ("" when not)
}

// PaymentEligibility answers for sn: d is its production record (nil if never reported), td
// its test-device registration (nil if none), standing its model's (nil when the SN's codes
// name no registered model).
func PaymentEligibility(sn string, d *Device, td *TestDevice, standing *ModelStanding, now time.Time) PaymentAnswer {
	a := PaymentAnswer{SN: sn}
	if standing == nil {
		a.Reason, a.Message = ReasonModelUnregistered, "the SN's vendor and model codes name no registered model"
		return a
	}
	a.ModelID = standing.ModelID
	passed := d != nil && d.Status == DevicePassed
	activeTest := td != nil && td.Status == TestDeviceActive && now.Before(td.ClearAt)
	switch {
	case standing.Stage == StageRestricted:
		a.Reason, a.Message = ReasonModelRestricted, "the model is restricted"
		if standing.Reason != "" {
			a.Message += ": " + standing.Reason
		}
		return a
	case passed && (standing.Stage == StagePVT || standing.Stage == StageMP):
		a.Allowed = true
		return a
	case passed:
		a.Reason, a.Message = ReasonModelNotInService, "the model is "+string(standing.Stage)+", not in production"
		return a
	case activeTest:
		a.Allowed, a.TestDevice = true, true
		return a
	case td != nil:
		a.Reason, a.Message, a.TestDevice = ReasonTestDeviceExpired, "the test device's registration ended on "+td.ExpectedCompletion+" and it never passed a factory check", true
		return a
	case d != nil:
		a.Reason, a.Message = ReasonFactoryCheckFailed, "the device's last factory check did not pass ("+string(d.Status)+")"
		return a
	}
	a.Reason, a.Message = ReasonNotFactoryChecked, "the SN never passed a factory check"
	return a
}
