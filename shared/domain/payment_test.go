package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The runtime check answers each reason; a model's standing is read at answer time.
func TestPaymentEligibility(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	passed := &Device{SN: "X", Status: DevicePassed}
	failed := &Device{SN: "X", Status: DeviceFailed}
	activeTest := &TestDevice{Status: TestDeviceActive, ClearAt: now.Add(time.Hour), ExpectedCompletion: "2026-12-02"}
	endedTest := &TestDevice{Status: TestDeviceActive, ClearAt: now.Add(-time.Hour), ExpectedCompletion: "2026-12-01"}
	clearedTest := &TestDevice{Status: TestDeviceCleared, ClearAt: now.Add(time.Hour), ExpectedCompletion: "2026-12-02"}
	mp := &ModelStanding{ModelID: "m", Stage: StageMP}
	pvt := &ModelStanding{ModelID: "m", Stage: StagePVT}
	dvt := &ModelStanding{ModelID: "m", Stage: StageDVT}
	restricted := &ModelStanding{ModelID: "m", Stage: StageRestricted, Reason: "the third-party inspection failed: backlight"}
	expired := &ModelStanding{ModelID: "m", Stage: StageExpired}
	for name, tt := range map[string]struct {
		d        *Device
		td       *TestDevice
		standing *ModelStanding
		allowed  bool
		reason   string
	}{
		"passed, model in MP":               {passed, nil, mp, true, ""},
		"passed, model in PVT":              {passed, nil, pvt, true, ""},
		"model unregistered":                {nil, nil, nil, false, ReasonModelUnregistered},
		"never factory-checked":             {nil, nil, mp, false, ReasonNotFactoryChecked},
		"factory check failed":              {failed, nil, mp, false, ReasonFactoryCheckFailed},
		"test device may pay unchecked":     {nil, activeTest, dvt, true, ""},
		"test device expired":               {nil, endedTest, dvt, false, ReasonTestDeviceExpired},
		"test device cleared early":         {nil, clearedTest, dvt, false, ReasonTestDeviceExpired},
		"model restricted":                  {passed, nil, restricted, false, ReasonModelRestricted},
		"restricted model's test device":    {nil, activeTest, restricted, false, ReasonModelRestricted},
		"passed device of an expired model": {passed, nil, expired, false, ReasonModelNotInService},
		"failed check, then a test device":  {failed, activeTest, dvt, true, ""},
	} {
		t.Run(name, func(t *testing.T) {
			a := PaymentEligibility("X", tt.d, tt.td, tt.standing, now)
			assert.Equal(t, tt.allowed, a.Allowed)
			assert.Equal(t, tt.reason, a.Reason)
			if tt.reason == ReasonModelRestricted {
				assert.Contains(t, a.Message, tt.standing.Reason)
			}
		})
	}
}
